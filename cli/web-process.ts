/**
 * One web process of `leash start`, forked by cli/web-processes.ts. It serves the built app on
 * the port the cluster shares, over its own connection pool and a pg-boss client that only
 * sends jobs ("Scan now"); the primary process keeps the scheduler, the scan worker and the
 * embedded database. It tells the primary when it listens, or why it could not.
 */
import { openDatabase } from '../db/open.js'
import { scanServices, startScanQueue } from '../jobs/queue.js'
import { describeError, LeashError } from './errors.js'
import { startWebServer } from './web-server.js'

export type WebProcessMessage = { type: 'listening'; port: number } | { type: 'failed'; message: string; remedy: string | null }

/** Connections per web process: several processes share the server's connection limit. */
const WEB_POOL_SIZE = 6

const send = (message: WebProcessMessage) => process.send?.(message)

async function main(): Promise<void> {
  const databaseUrl = process.env.LEASH_WEB_DATABASE_URL
  const port = Number(process.env.LEASH_WEB_PORT)
  const host = process.env.LEASH_WEB_HOST
  if (!databaseUrl || !Number.isInteger(port) || !host || !process.send) {
    throw new Error('cli/web-process.ts runs only as a web process forked by `leash start`.')
  }
  // The primary has migrated already; a web process only connects.
  const database = await openDatabase({ url: databaseUrl, migrate: false, applicationName: 'leash-web', poolSize: WEB_POOL_SIZE })
  const queue = await startScanQueue({ url: databaseUrl, db: database.db, supervise: false })
  const web = await startWebServer({ services: { db: database.db, ...scanServices(database.db, queue) }, port, host })
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    await web.close().catch(() => {})
    await queue.stop().catch(() => {})
    await database.close().catch(() => {})
    process.exit(0)
  }
  // The primary disconnects its web processes when it shuts down. A terminal's Ctrl-C reaches
  // every process of the group: a web process then simply ends, and the primary's shutdown
  // waits for it before the database stops.
  process.on('disconnect', () => void stop())
  process.on('SIGTERM', () => void stop())
  send({ type: 'listening', port: web.port })
}

try {
  await main()
} catch (error) {
  send({ type: 'failed', message: error instanceof LeashError ? error.message : describeError(error), remedy: error instanceof LeashError ? error.remedy : null })
  process.exit(1)
}
