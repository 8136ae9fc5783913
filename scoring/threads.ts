/**
 * A large scoring pass spread over threads (docs/decisions/038). Each thread scores its own
 * slice of the id space with the ordinary keyset loop (scoreRange in scoring/pass.ts), on its own
 * connections; this thread scores the first slice itself. Slices never share an identity, so no
 * two threads write the same rows, and every write stays what it is in a pass on one thread.
 * Why threads: reading, assessing and encoding a batch is Node work on one main thread, and
 * on a machine where PostgreSQL has cores to spare that thread sets the pace of the pass.
 */
import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { sql, type Kysely } from 'kysely'
import { LeashError } from '../cli/errors.js'
import { poolOf } from '../db/connection.js'
import type { Database } from '../db/schema.js'
import type { PassContext } from './load.js'
import { scoreRange, type IdRange, type PendingWork } from './pass.js'

/** Below this many identities per thread, starting a thread (~1 s to load the code) costs more than it saves. */
export const MIN_IDENTITIES_PER_THREAD = 20_000
const MAX_THREADS = 16
const DEFAULT_MAX_THREADS = 4

/** What a thread is given: where the database is, its slice, and the pass it belongs to (dates survive the structured clone). */
export interface ThreadData {
  url: string
  applicationName: string
  range: IdRange
  work: PendingWork
}

/** What a thread reports: batches written (for progress), then done or failed. */
export type ThreadMessage = { kind: 'written'; count: number } | { kind: 'done' } | { kind: 'failed'; error: SerializedError }

export interface SerializedError {
  name: string
  message: string
  stack?: string
  /** The error's own text fields: what the pg driver puts on a server error, a LeashError's remedy. */
  fields: Record<string, string>
}

const BOOTSTRAP = new URL('./thread-bootstrap.mjs', import.meta.url)

/**
 * How many threads a pass of `total` identities uses: what was asked (the option, else
 * LEASH_SCORING_THREADS, else the cores, at most 4), fewer when there is too little work to share.
 * One when the code runs from a bundle (the web server), where the thread's bootstrap file is not.
 */
export function threadsFor(total: number, options: { threads?: number; minIdentitiesPerThread?: number }, db: Kysely<Database>): number {
  const requested = options.threads ?? configuredThreads()
  const perThread = options.minIdentitiesPerThread ?? MIN_IDENTITIES_PER_THREAD
  const threads = Math.max(1, Math.min(requested, Math.floor(total / Math.max(1, perThread))))
  if (threads === 1) return 1
  if (!poolOf(db)?.options.connectionString || BOOTSTRAP.protocol !== 'file:' || !existsSync(fileURLToPath(BOOTSTRAP))) return 1
  return threads
}

/** LEASH_SCORING_THREADS, checked: a whole number from 1 to 16, or unset for the default. */
export function configuredThreads(value: string | undefined = process.env.LEASH_SCORING_THREADS): number {
  if (value === undefined || value.trim() === '') return Math.min(DEFAULT_MAX_THREADS, availableParallelism())
  const threads = Number(value)
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS)
    throw new LeashError(
      `LEASH_SCORING_THREADS is "${value}", not a whole number of threads from 1 to ${MAX_THREADS}.`,
      "Unset it to let a large scoring pass use the machine's cores (at most 4), or set a number, e.g. LEASH_SCORING_THREADS=1 to score on one thread.",
    )
  return threads
}

/**
 * `count` slices of equal id width, from the lowest identity id to the highest. The last one
 * has no upper bound, so identities added during the pass are scored as on one thread.
 */
export async function splitIdRange(db: Kysely<Database>, count: number): Promise<IdRange[]> {
  const bounds = await sql<{ low: number | null; high: number | null }>`select min(id) as low, max(id) as high from identity_records`.execute(db)
  const { low, high } = bounds.rows[0] ?? { low: null, high: null }
  if (low === null || high === null || count <= 1) return [{ afterId: 0 }]
  const width = Math.ceil((high - low + 1) / count)
  const ranges: IdRange[] = []
  let afterId = 0
  for (let index = 0; index < count - 1; index++) {
    const throughId = low - 1 + width * (index + 1)
    if (throughId >= high) break
    ranges.push({ afterId, throughId })
    afterId = throughId
  }
  ranges.push({ afterId })
  return ranges
}

/**
 * Scores the first range here and every other range in a thread of its own. The first failure
 * stops the others (at their next batch) and is what the pass throws, once all have stopped.
 */
export async function scoreRangesInThreads(
  db: Kysely<Database>,
  context: PassContext,
  work: PendingWork,
  ranges: IdRange[],
  onWritten: (count: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  const pool = poolOf(db)
  const url = pool?.options.connectionString
  if (!url) throw new Error('A pass over threads needs a database opened with connectDatabase (db/connection.ts), from a connection URL.')
  const applicationName = `${pool.options.application_name ?? 'leash'}-scoring-thread`
  const stop = new AbortController()
  const forward = () => stop.abort(signal?.reason)
  signal?.addEventListener('abort', forward, { once: true })
  if (signal?.aborted) forward()
  let firstFailure: unknown
  const failed = (error: unknown) => {
    if (firstFailure === undefined) firstFailure = error
    stop.abort(error)
  }
  const [own, ...others] = ranges
  try {
    await Promise.all([
      scoreRange(db, context, work, own ?? { afterId: 0 }, onWritten, stop.signal).catch(failed),
      ...others.map((range) => runThread({ url, applicationName, range, work }, onWritten, stop.signal).catch(failed)),
    ])
  } finally {
    signal?.removeEventListener('abort', forward)
  }
  // A cancelled pass says so, whichever thread noticed first.
  signal?.throwIfAborted()
  if (firstFailure !== undefined) throw firstFailure
}

/**
 * One thread scoring one range, started through scoring/thread-bootstrap.mjs, which registers
 * tsx's loader in the new thread (docs/decisions/002).
 */
function runThread(data: ThreadData, onWritten: (count: number) => void, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(BOOTSTRAP, { workerData: data })
    let outcome: { done: true } | { error: unknown } | undefined
    const abort = () => worker.postMessage({ kind: 'abort' })
    signal.addEventListener('abort', abort, { once: true })
    if (signal.aborted) abort()
    worker.on('message', (message: ThreadMessage) => {
      if (message.kind === 'written') onWritten(message.count)
      else if (message.kind === 'done') outcome = { done: true }
      else outcome = { error: reviveError(message.error) }
    })
    // An error the thread did not catch (it failed to load, say).
    worker.on('error', (error) => {
      outcome ??= { error }
    })
    // Every message is delivered before 'exit'.
    worker.on('exit', (code) => {
      signal.removeEventListener('abort', abort)
      if (outcome && 'done' in outcome) resolve()
      else
        reject(
          outcome?.error ??
            new Error(
              `A scoring thread stopped (exit code ${code}) before it finished identities ${describeRange(data.range)}; run the pass again.`,
            ),
        )
    })
  })
}

function describeRange(range: IdRange): string {
  return range.throughId === undefined ? `after id ${range.afterId}` : `${range.afterId + 1} to ${range.throughId}`
}

/** An error as a message can carry it: its text fields (a server error's code and hint, a LeashError's remedy). */
export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), fields: {} }
  const fields: Record<string, string> = {}
  for (const [key, value] of Object.entries(error)) if (typeof value === 'string') fields[key] = value
  return { name: error.name, message: error.message, stack: error.stack, fields }
}

/** The error again on this side; a LeashError stays one, so the CLI still prints its remedy. */
export function reviveError(serialized: SerializedError): Error {
  const { remedy, ...fields } = serialized.fields
  const base =
    serialized.name === 'LeashError' && remedy !== undefined ? new LeashError(serialized.message, remedy) : new Error(serialized.message)
  const error = Object.assign(base, fields)
  error.name = serialized.name
  if (serialized.stack) error.stack = `${serialized.stack}\n    (in a scoring thread)`
  return error
}
