/**
 * The scan queue: pg-boss (10.x) in Leash's own database, schema `pgboss`, so any number of
 * worker processes on any number of machines share scans through PostgreSQL alone.
 *
 * - A job carries { scanRunId, sourceId }; scan_runs is the source of truth for state.
 * - Queue policy 'stately' with singletonKey = source id: at most one waiting and one active
 *   job per source. scan_runs_one_active_per_source (a unique partial index) makes "never
 *   scanned twice at once" hold even if the queue delivered a job twice.
 * - A worker that dies: its run's heartbeat stops; any worker's sweep marks the run failed in
 *   plain words and fails the job back to pg-boss, which retries it (retryLimit) on another
 *   worker as a new run linked by retry_of. pg-boss's own expiry is the backstop.
 */
import { hostname } from 'node:os'
import { sql, type Kysely } from 'kysely'
import PgBoss from 'pg-boss'
import type pg from 'pg'
import type { Database } from '../db/schema.js'
import { RunNoLongerActiveError } from './ingest/ingest.js'
import { executeScanRun, type RunnerDependencies, type ScanRunResult } from './runner.js'
import {
  claimQueuedRun,
  failStaleRuns,
  getScanRun,
  requestScanRun,
  startRunNow,
  WORKER_LOST_OPERATION,
  type RequestScanInput,
  type RequestScanResult,
  type ScanRunError,
} from './runs.js'

export const SCAN_QUEUE = 'leash-scan'

export interface QueueTimings {
  /** A run with no heartbeat for this long is failed and retried (default 120 s; env LEASH_SCAN_STALE_SECONDS). */
  staleAfterSeconds: number
  /** Heartbeat interval (default 10 s). */
  heartbeatMs: number
  /** How often each worker sweeps for stale runs and unqueued runs (default 15 s). */
  sweepMs: number
  /** pg-boss expiry of an active job: the longest a scan may take (default 6 h; env LEASH_SCAN_TIMEOUT_SECONDS). */
  expireInSeconds: number
  /** Retries of a job whose worker died (default 2). */
  retryLimit: number
}

export function queueTimings(overrides: Partial<QueueTimings> = {}): QueueTimings {
  const env = (name: string, fallback: number) => {
    const value = Number(process.env[name])
    return Number.isFinite(value) && value > 0 ? value : fallback
  }
  return {
    staleAfterSeconds: env('LEASH_SCAN_STALE_SECONDS', 120),
    heartbeatMs: env('LEASH_SCAN_HEARTBEAT_MS', 10_000),
    sweepMs: env('LEASH_SCAN_SWEEP_MS', 15_000),
    expireInSeconds: env('LEASH_SCAN_TIMEOUT_SECONDS', 6 * 3600),
    retryLimit: 2,
    ...overrides,
  }
}

export function newWorkerId(role = 'worker'): string {
  return `${role}@${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`
}

interface ScanJobData {
  scanRunId: string
  sourceId: string
}

export interface ScanQueue {
  boss: PgBoss
  timings: QueueTimings
  /** Puts a queued run on the job queue and records the job id on the run. */
  enqueue(run: { id: string; sourceId: string }): Promise<string | null>
  stop(): Promise<void>
}

export async function startScanQueue(options: {
  url: string
  db: Kysely<Database>
  timings?: Partial<QueueTimings>
  /** Only processes that run workers supervise (expire jobs, archive). */
  supervise?: boolean
  log?: (line: string) => void
}): Promise<ScanQueue> {
  const timings = queueTimings(options.timings)
  const boss = new PgBoss({
    connectionString: options.url,
    schema: 'pgboss',
    max: 3,
    application_name: 'leash-queue',
    supervise: options.supervise ?? true,
    schedule: false,
    migrate: true,
  })
  boss.on('error', (error) => options.log?.(`queue: ${error.message}`))
  const queue = { name: SCAN_QUEUE, policy: 'stately' as const, retryLimit: timings.retryLimit, retryDelay: 5, expireInSeconds: timings.expireInSeconds }
  // Several processes (web, workers on other machines) start at once. pg-boss's create_queue
  // creates a partition and its indexes, and two of them running together deadlock on the
  // catalog; so starting and declaring the queue is one process at a time, across the cluster.
  await options.db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(hashtext('leash.scan-queue.setup'))`.execute(connection)
    try {
      await boss.start()
      if (!(await boss.getQueue(SCAN_QUEUE))) await boss.createQueue(SCAN_QUEUE, queue)
      await boss.updateQueue(SCAN_QUEUE, queue)
    } finally {
      await sql`select pg_advisory_unlock(hashtext('leash.scan-queue.setup'))`.execute(connection)
    }
  })
  return {
    boss,
    timings,
    async enqueue(run) {
      const jobId = await boss.send(SCAN_QUEUE, { scanRunId: run.id, sourceId: run.sourceId } satisfies ScanJobData, {
        singletonKey: run.sourceId,
        retryLimit: timings.retryLimit,
        retryDelay: 5,
        expireInSeconds: timings.expireInSeconds,
      })
      // null: a job for this source is already waiting; the sweep sends this run's job once it is taken.
      if (jobId) await options.db.updateTable('scan_runs').set({ job_id: jobId }).where('id', '=', run.id).where('job_id', 'is', null).execute()
      return jobId
    },
    async stop() {
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 })
    },
  }
}

/**
 * Fails runs whose worker stopped and hands their jobs back to the queue for a retry; sends
 * jobs for queued runs that have none (queued while no queue was reachable, e.g. by the web
 * app of another process).
 */
export async function requestScan(
  db: Kysely<Database>,
  queue: ScanQueue | null,
  input: RequestScanInput,
): Promise<RequestScanResult> {
  const result = await requestScanRun(db, input)
  // Without a queue in this process, a worker's sweep sends the job within LEASH_SCAN_SWEEP_MS.
  if (!result.alreadyActive && queue) await queue.enqueue({ id: result.scanRunId, sourceId: input.sourceId })
  return result
}

/** The scan services the web app gets (LeashServices.requestScan). Without a queue, a worker's sweep sends the job. */
export function scanServices(db: Kysely<Database>, queue: ScanQueue | null = null) {
  return {
    requestScan: (input: RequestScanInput) => requestScan(db, queue, input),
  }
}

export async function sweepRuns(db: Kysely<Database>, queue: ScanQueue | null, staleAfterSeconds: number): Promise<{ failed: number; enqueued: number }> {
  const stale = await failStaleRuns(db, { staleAfterSeconds })
  for (const run of stale) {
    if (run.jobId && queue) await queue.boss.fail(SCAN_QUEUE, run.jobId, { reason: 'worker stopped' }).catch(() => {})
  }
  let enqueued = 0
  if (queue) {
    const orphans = await db
      .selectFrom('scan_runs')
      .select(['id', 'source_id'])
      .where('status', '=', 'queued')
      .where('job_id', 'is', null)
      .orderBy('queued_at')
      .limit(100)
      .execute()
    for (const run of orphans) if (await queue.enqueue({ id: run.id, sourceId: run.source_id })) enqueued += 1
  }
  return { failed: stale.length, enqueued }
}

export interface ScanWorkers {
  workerId: string
  stop(): Promise<void>
}

/**
 * Starts `concurrency` scan workers on the queue in this process, plus the periodic sweep.
 * Each job: claim its queued run (or, for a retry after a lost worker, start a new run linked
 * by retry_of), execute it, and finish. A job whose run is taken or finished is a no-op.
 */
export async function startScanWorkers(options: {
  handle: { db: Kysely<Database>; pool: pg.Pool }
  queue: ScanQueue
  concurrency?: number
  deps?: RunnerDependencies
  log?: (line: string) => void
  onResult?: (result: ScanRunResult) => void
}): Promise<ScanWorkers> {
  const { handle, queue } = options
  const { db } = handle
  const log = options.log ?? (() => {})
  const workerId = newWorkerId()
  const controller = new AbortController()
  const running = new Set<Promise<unknown>>()

  const handleJob = async (job: PgBoss.JobWithMetadata<ScanJobData>): Promise<void> => {
    const { scanRunId, sourceId } = job.data
    let runId: string | null = null
    // A redelivered job (pg-boss expiry) whose worker died: fail that run first, then retry below.
    await failStaleRuns(db, { staleAfterSeconds: queue.timings.staleAfterSeconds })
    const run = await getScanRun(db, scanRunId)
    if (!run) return
    if (run.status === 'queued') {
      if (await claimQueuedRun(db, scanRunId, workerId, job.id)) runId = scanRunId
    } else if (run.status === 'failed' && (run.errors as ScanRunError[]).some((e) => e.operation === WORKER_LOST_OPERATION)) {
      // The worker that ran it died: retry as a new run, unless the source has moved on.
      const newer = await db
        .selectFrom('scan_runs')
        .select('id')
        .where('source_id', '=', sourceId)
        .where('id', '<>', run.id)
        // Compared in SQL: JavaScript dates lose PostgreSQL's microseconds.
        .where('queued_at', '>', (eb) => eb.selectFrom('scan_runs as r').select('r.queued_at').where('r.id', '=', run.id))
        .executeTakeFirst()
      if (!newer) {
        try {
          runId = await startRunNow(db, {
            sourceId,
            requestedBy: run.requested_by,
            trigger: 'retry',
            workerId,
            jobId: job.id,
            retryOf: run.id,
            attempt: run.attempt + 1,
          })
          log(`retrying scan ${run.id} of source ${sourceId} as run ${runId} (attempt ${run.attempt + 1})`)
        } catch {
          runId = null // the source is being scanned already
        }
      }
    }
    // Otherwise (running with a live heartbeat, finished, cancelled): nothing to do for this job.
    if (!runId) return
    log(`scanning source ${sourceId} (run ${runId})`)
    try {
      const result = await executeScanRun(handle, runId, { workerId, signal: controller.signal, deps: options.deps, heartbeatMs: queue.timings.heartbeatMs })
      log(`scan ${runId} ${result.status}: ${result.identities.seen} identities, ${result.changes} changes, ${result.durationMs} ms`)
      options.onResult?.(result)
    } catch (error) {
      if (error instanceof RunNoLongerActiveError) {
        log(error.message)
        return
      }
      throw error
    }
  }

  const concurrency = Math.max(1, options.concurrency ?? 1)
  for (let i = 0; i < concurrency; i++) {
    await queue.boss.work<ScanJobData>(SCAN_QUEUE, { batchSize: 1, pollingIntervalSeconds: 2, includeMetadata: true }, async (jobs) => {
      for (const job of jobs) {
        const promise = handleJob(job)
        running.add(promise)
        try {
          await promise
        } catch (error) {
          // pg-boss retries the job (retryLimit); say why it failed.
          log(`scan job ${job.id} failed: ${error instanceof Error ? error.message : String(error)}`)
          throw error
        } finally {
          running.delete(promise)
        }
      }
    })
  }

  const sweep = async () => {
    try {
      const { failed, enqueued } = await sweepRuns(db, queue, queue.timings.staleAfterSeconds)
      if (failed) log(`marked ${failed} scan(s) failed: their worker stopped`)
      if (enqueued) log(`queued ${enqueued} waiting scan(s)`)
    } catch (error) {
      log(`sweep failed: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  await sweep()
  const timer = setInterval(() => void sweep(), queue.timings.sweepMs)
  timer.unref()

  return {
    workerId,
    async stop() {
      clearInterval(timer)
      controller.abort(new Error('Leash is shutting down.'))
      await queue.boss.offWork(SCAN_QUEUE).catch(() => {})
      await Promise.allSettled([...running])
    },
  }
}
