/**
 * The web server the dashboard benchmark measures, in processes of its own so their memory is
 * their own: the built app over the benchmark database, on as many web processes as
 * `leash start` runs (cli/web-processes.ts), and nothing else (no scheduler, no scan worker).
 * Prints "ready <url> pids <pid,…>" when listening. Started by bench/dashboard.ts.
 */
import { startWebProcesses, webProcessCount } from '../cli/web-processes.js'

const url = process.env.LEASH_BENCH_DATABASE_URL
if (!url) throw new Error('LEASH_BENCH_DATABASE_URL is not set')
const web = await startWebProcesses({ count: webProcessCount(), port: 0, host: '127.0.0.1', databaseUrl: url, log: (line) => console.error(line) })
console.log(`ready ${web.url.replace('localhost', '127.0.0.1')} pids ${web.pids().join(',')}`)
const stop = async () => {
  await web.close()
  process.exit(0)
}
process.on('SIGTERM', () => void stop())
process.on('SIGINT', () => void stop())
