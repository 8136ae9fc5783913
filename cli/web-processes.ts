/**
 * The web app on several processes (node:cluster), so page rendering can use every core. One
 * Node process renders at most one core's worth of pages, and under load the dashboard is bound
 * by server-side rendering rather than by PostgreSQL (docs/decisions/032). The web processes
 * share one port and hold no state of their own: sessions, rate limits, sign-in state and the
 * audit chain live in PostgreSQL. The primary process keeps the scheduler, the scan worker and
 * the embedded database, and restarts a web process that dies.
 */
import cluster, { type Worker } from 'node:cluster'
import os from 'node:os'
import path from 'node:path'
import { LeashError } from './errors.js'
import type { WebProcessMessage } from './web-process.js'
import { PROJECT_ROOT, type WebServer } from './web-server.js'

const MAX_WEB_PROCESSES = 64
/** A web process that keeps dying is not restarted faster than this. */
const RESTART_DELAY_MS = 1_000

/**
 * More web processes than this by default would mostly add database connections: each holds a
 * pool (WEB_POOL_SIZE) and a pg-boss client, and PostgreSQL allows 100 connections by default.
 */
const DEFAULT_MAX_WEB_PROCESSES = 4

/** LEASH_WEB_PROCESSES, or one web process per core (at most DEFAULT_MAX_WEB_PROCESSES). */
export function webProcessCount(value: string | undefined = process.env.LEASH_WEB_PROCESSES): number {
  if (value === undefined || value.trim() === '') return Math.min(Math.max(os.availableParallelism(), 1), DEFAULT_MAX_WEB_PROCESSES)
  const count = Number(value)
  if (!Number.isInteger(count) || count < 1 || count > MAX_WEB_PROCESSES) {
    throw new LeashError(
      `LEASH_WEB_PROCESSES is "${value}", not a whole number from 1 to ${MAX_WEB_PROCESSES}.`,
      'Unset it for one web process per core, or set a number, e.g. LEASH_WEB_PROCESSES=2.',
    )
  }
  return count
}

export interface WebProcesses extends WebServer {
  /** The process ids of the web processes running now. */
  pids(): number[]
}

export async function startWebProcesses(options: {
  count: number
  port: number
  host: string
  databaseUrl: string
  log: (line: string) => void
}): Promise<WebProcesses> {
  cluster.setupPrimary({ exec: path.join(PROJECT_ROOT, 'bin', 'web-process.js'), args: [] })
  const workers = new Set<Worker>()
  let stopping = false

  // Every process asks for the same port: node:cluster shares one listening socket per
  // requested address, and with port 0 all of them get the one port the first was given.
  const fork = (): Promise<number> => {
    const worker = cluster.fork({ LEASH_WEB_DATABASE_URL: options.databaseUrl, LEASH_WEB_PORT: String(options.port), LEASH_WEB_HOST: options.host })
    workers.add(worker)
    return new Promise((resolve, reject) => {
      let listening = false
      worker.on('message', (message: WebProcessMessage) => {
        if (message.type === 'listening') {
          listening = true
          resolve(message.port)
        } else if (message.type === 'failed') {
          reject(message.remedy === null ? new Error(message.message) : new LeashError(message.message, message.remedy))
        }
      })
      worker.once('exit', (code, signal) => {
        workers.delete(worker)
        if (!listening) {
          reject(new Error(`A web process exited (${signal ?? `code ${code}`}) before it listened.`))
        } else if (!stopping) {
          options.log(`web process ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting another`)
          setTimeout(() => {
            if (!stopping) fork().catch((error: unknown) => options.log(`web process failed to start: ${String(error)}`))
          }, RESTART_DELAY_MS).unref()
        }
      })
    })
  }

  const close = async () => {
    stopping = true
    await Promise.all(
      [...workers].map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve()
            worker.once('exit', () => resolve())
            worker.disconnect()
            // A process that does not finish its requests in time is stopped.
            setTimeout(() => worker.process.kill('SIGKILL'), 10_000).unref()
          }),
      ),
    )
  }

  try {
    // The first process alone, so a port in use fails once, with one message.
    const port = await fork()
    await Promise.all(Array.from({ length: options.count - 1 }, () => fork()))
    return { url: `http://localhost:${port}`, port, close, pids: () => [...workers].flatMap((worker) => (worker.process.pid ? [worker.process.pid] : [])) }
  } catch (error) {
    await close()
    throw error
  }
}
