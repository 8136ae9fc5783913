/**
 * scan_runs: requesting, claiming, finishing and recovering scan runs. Query functions in
 * Kysely's habit: `fn(db, …)`.
 *
 * "A source is never scanned twice at once" is the database's job: the unique partial index
 * scan_runs_one_active_per_source allows one queued-or-running run per source, and every
 * state change below is a conditional UPDATE that only one process can win.
 */
import { sql, type Kysely } from 'kysely'
import { LeashError } from '../cli/errors.js'
import type { ScanProblem } from '../connectors/contract.js'
import { json } from '../db/connection.js'
import type { Database, ScanRun } from '../db/schema.js'

export type ScanTrigger = 'schedule' | 'manual' | 'cli' | 'demo' | 'retry'

/** One entry of scan_runs.errors: what failed, which permission, what to do. */
export interface ScanRunError {
  scope: string | null
  operation: string
  permission: string | null
  message: string
  remedy: string
  fatalForScope: boolean
}

/** errors[].operation of a run failed because its worker stopped; the queue retries such runs. */
export const WORKER_LOST_OPERATION = 'leash:worker'

export function problemToError(problem: ScanProblem): ScanRunError {
  return {
    scope: problem.scope?.accountId ?? null,
    operation: problem.operation,
    permission: problem.permission,
    message: problem.message,
    remedy: problem.remedy,
    fatalForScope: problem.fatalForScope,
  }
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as { code?: string; constraint?: string }
  return e?.code === '23505' && e.constraint === constraint
}

export async function getSource(db: Kysely<Database>, sourceId: string) {
  return db.selectFrom('sources').selectAll().where('id', '=', sourceId).executeTakeFirst()
}

export async function getScanRun(db: Kysely<Database>, scanRunId: string): Promise<ScanRun | undefined> {
  return db.selectFrom('scan_runs').selectAll().where('id', '=', scanRunId).executeTakeFirst()
}

export async function getActiveRun(db: Kysely<Database>, sourceId: string): Promise<ScanRun | undefined> {
  return db.selectFrom('scan_runs').selectAll().where('source_id', '=', sourceId).where('status', 'in', ['queued', 'running']).executeTakeFirst()
}

/** Recent runs, newest first (the Sources page and `leash scan` history). */
export async function listScanRuns(db: Kysely<Database>, filter: { sourceId?: string; limit?: number } = {}): Promise<ScanRun[]> {
  let query = db.selectFrom('scan_runs').selectAll().orderBy('queued_at', 'desc').limit(filter.limit ?? 50)
  if (filter.sourceId) query = query.where('source_id', '=', filter.sourceId)
  return query.execute()
}

export interface RequestScanInput {
  sourceId: string
  requestedBy: string | null
  trigger: ScanTrigger
}

export interface RequestScanResult {
  scanRunId: string
  /** true when the source already had a queued or running scan; that run's id is returned. */
  alreadyActive: boolean
}

/**
 * Queues a scan of a source (status 'queued'). A source already queued or running gets no
 * second run: its active run is returned with alreadyActive=true. The caller (or the worker's
 * dispatch sweep) puts the run on the job queue.
 */
export async function requestScanRun(db: Kysely<Database>, input: RequestScanInput): Promise<RequestScanResult> {
  const source = await getSource(db, input.sourceId)
  if (!source) throw new LeashError(`There is no source with id ${input.sourceId}.`, 'Pick a source from the Sources page or `leash scan --all`.')
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const row = await db
        .insertInto('scan_runs')
        .values({ source_id: input.sourceId, status: 'queued', trigger: input.trigger, requested_by: input.requestedBy })
        .returning('id')
        .executeTakeFirstOrThrow()
      return { scanRunId: row.id, alreadyActive: false }
    } catch (error) {
      if (!isUniqueViolation(error, 'scan_runs_one_active_per_source')) throw error
      const active = await getActiveRun(db, input.sourceId)
      // The active run may have finished between the insert and this read: try again.
      if (active) return { scanRunId: active.id, alreadyActive: true }
    }
  }
  throw new Error(`Could not queue a scan of source ${input.sourceId}: it kept changing state.`)
}

/** queued → running for this worker. false when another worker took it or it was cancelled. */
export async function claimQueuedRun(db: Kysely<Database>, scanRunId: string, workerId: string, jobId?: string | null): Promise<boolean> {
  const result = await db
    .updateTable('scan_runs')
    .set({ status: 'running', worker_id: workerId, started_at: sql`now()`, heartbeat_at: sql`now()`, ...(jobId ? { job_id: jobId } : {}) })
    .where('id', '=', scanRunId)
    .where('status', '=', 'queued')
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/**
 * A run that starts as running right away (the CLI, a retry after a lost worker). Takes over a
 * queued run of the source if there is one; refuses when the source is already being scanned.
 */
export async function startRunNow(
  db: Kysely<Database>,
  input: RequestScanInput & { workerId: string; jobId?: string | null; retryOf?: string | null; attempt?: number },
): Promise<string> {
  const queued = await db.selectFrom('scan_runs').select('id').where('source_id', '=', input.sourceId).where('status', '=', 'queued').executeTakeFirst()
  if (queued && (await claimQueuedRun(db, queued.id, input.workerId, input.jobId))) return queued.id
  try {
    const row = await db
      .insertInto('scan_runs')
      .values({
        source_id: input.sourceId,
        status: 'running',
        trigger: input.trigger,
        requested_by: input.requestedBy,
        worker_id: input.workerId,
        started_at: sql<Date>`now()`,
        heartbeat_at: sql<Date>`now()`,
        job_id: input.jobId ?? null,
        retry_of: input.retryOf ?? null,
        attempt: input.attempt ?? 1,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    return row.id
  } catch (error) {
    if (!isUniqueViolation(error, 'scan_runs_one_active_per_source')) throw error
    const active = await getActiveRun(db, input.sourceId)
    throw new LeashError(
      `Source is already being scanned (run ${active?.id ?? 'unknown'}, ${active?.status ?? 'active'}${active?.worker_id ? ` by ${active.worker_id}` : ''}).`,
      'Wait for that scan to finish (a source is never scanned twice at once), or see its progress on the Sources page.',
    )
  }
}

/** Heartbeat: true while the run is still running under this worker. */
export async function heartbeat(
  db: Kysely<Database>,
  scanRunId: string,
  workerId: string,
  apiCalls: { total: number; byOperation: Readonly<Record<string, number>> },
): Promise<boolean> {
  const result = await db
    .updateTable('scan_runs')
    .set({ heartbeat_at: sql`now()`, api_calls: apiCalls.total, api_calls_by_operation: json(apiCalls.byOperation) })
    .where('id', '=', scanRunId)
    .where('status', '=', 'running')
    .where('worker_id', '=', workerId)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/**
 * Marks runs whose worker stopped heartbeating as failed, in plain words. Runs at every worker,
 * scheduler and CLI start, and periodically in workers. Returns what it failed, with the queue
 * job of each so the caller can hand the job back for a retry.
 */
export async function failStaleRuns(db: Kysely<Database>, options: { staleAfterSeconds: number }): Promise<{ id: string; sourceId: string; jobId: string | null }[]> {
  const rows = await db
    .updateTable('scan_runs')
    .set({
      status: 'failed',
      finished_at: sql`now()`,
      errors: sql`errors || jsonb_build_array(jsonb_build_object(
        'scope', null, 'operation', ${WORKER_LOST_OPERATION}::text, 'permission', null, 'fatalForScope', true,
        'message', 'The worker running this scan stopped (no heartbeat since ' || to_char(heartbeat_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC, worker ' || coalesce(worker_id, 'unknown') || '). What it had stored is kept; nothing was retired.',
        'remedy', 'Leash retries the scan on another worker automatically when it ran from the queue. If this repeats, check the worker''s logs and memory limits.'))`,
    })
    .where('status', '=', 'running')
    .where('heartbeat_at', '<', sql<Date>`now() - make_interval(secs => ${options.staleAfterSeconds})`)
    .returning(['id', 'source_id', 'job_id'])
    .execute()
  await closeOpenScopes(db, rows.map((r) => r.id))
  return rows.map((r) => ({ id: r.id, sourceId: r.source_id, jobId: r.job_id }))
}

async function closeOpenScopes(db: Kysely<Database>, runIds: string[]): Promise<void> {
  if (runIds.length === 0) return
  await db
    .updateTable('scan_scopes')
    .set({ status: 'incomplete', finished_at: sql`now()` })
    .where('scan_run_id', 'in', runIds)
    .where('status', '=', 'running')
    .execute()
}

export interface FinishRunInput {
  status: 'succeeded' | 'partial' | 'failed' | 'cancelled'
  errors: ScanRunError[]
  apiCalls: { total: number; byOperation: Readonly<Record<string, number>> }
  summary: Record<string, unknown>
  retireWarning: Record<string, unknown> | null
}

/** running → final status, only while the run is still ours. */
export async function finishRun(db: Kysely<Database>, scanRunId: string, workerId: string, input: FinishRunInput): Promise<boolean> {
  const result = await db
    .updateTable('scan_runs')
    .set({
      status: input.status,
      finished_at: sql`now()`,
      heartbeat_at: sql`now()`,
      errors: json(input.errors),
      api_calls: input.apiCalls.total,
      api_calls_by_operation: json(input.apiCalls.byOperation),
      summary: json(input.summary),
      retire_warning: input.retireWarning === null ? null : json(input.retireWarning),
    })
    .where('id', '=', scanRunId)
    .where('status', '=', 'running')
    .where('worker_id', '=', workerId)
    .executeTakeFirst()
  await closeOpenScopes(db, [scanRunId])
  return Number(result.numUpdatedRows) === 1
}

/** Cancels a run that has not started yet (queued). A running scan stops at its next batch. */
export async function cancelQueuedRun(db: Kysely<Database>, scanRunId: string, by: string): Promise<boolean> {
  const result = await db
    .updateTable('scan_runs')
    .set({ status: 'cancelled', finished_at: sql`now()`, summary: json({ cancelledBy: by }) })
    .where('id', '=', scanRunId)
    .where('status', '=', 'queued')
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}
