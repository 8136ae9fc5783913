/**
 * The web server the dashboard benchmark measures, in a process of its own so its memory is
 * its own: the built app over the benchmark database, nothing else (no scheduler, no worker).
 * Prints "ready <url>" when listening. Started by bench/dashboard.ts.
 */
import { startWebServer } from '../cli/web-server.js'
import { connectDatabase } from '../db/connection.js'
import { scanServices } from '../jobs/queue.js'

const url = process.env.LEASH_BENCH_DATABASE_URL
if (!url) throw new Error('LEASH_BENCH_DATABASE_URL is not set')
const handle = connectDatabase(url, { max: Number(process.env.LEASH_BENCH_POOL ?? 12), applicationName: 'leash-bench-web' })
const web = await startWebServer({ services: { db: handle.db, ...scanServices(handle.db, null) }, port: 0, host: '127.0.0.1' })
console.log(`ready ${web.url.replace('localhost', '127.0.0.1')}`)
const stop = async () => {
  await web.close()
  await handle.close()
  process.exit(0)
}
process.on('SIGTERM', () => void stop())
process.on('SIGINT', () => void stop())
