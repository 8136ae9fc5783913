/**
 * The Sources page: each source with its schedule, next run, latest and active scan, progress
 * and errors. A source whose latest scan failed or was partial is never reported healthy.
 */
import cron from 'node-cron'
import { sql, type Kysely } from 'kysely'
import type { Database, ScanStatus } from '../schema.js'

type Db = Kysely<Database>

export interface ScanError {
  scope: string | null
  operation: string | null
  permission: string | null
  message: string
  remedy: string | null
  fatalForScope: boolean
}

export interface ScanRunSummary {
  id: string
  status: ScanStatus
  trigger: string
  requestedBy: string | null
  queuedAt: Date
  startedAt: Date | null
  finishedAt: Date | null
  heartbeatAt: Date | null
  identitiesSeen: number
  credentialsSeen: number
  apiCalls: number
  identitiesNew: number
  identitiesRetired: number
  errors: ScanError[]
  retireWarning: Record<string, unknown> | null
  scopes: { accountId: string; status: string; identitiesSeen: number }[]
}

/** healthy: last scan complete; incomplete: partial; unknown: failed, cancelled or never scanned. */
export type SourceHealth = 'healthy' | 'incomplete' | 'unknown' | 'scanning' | 'never_scanned' | 'disabled'

export interface SourceStatus {
  id: string
  name: string
  provider: string
  schedule: string
  enabled: boolean
  isDemo: boolean
  origin: string
  nextRunAt: Date | null
  scheduleValid: boolean
  identities: number
  /** The run in progress (queued or running), if any. */
  active: ScanRunSummary | null
  /** The latest finished run. */
  last: ScanRunSummary | null
  /** The latest run that succeeded, for "last known good". */
  lastSucceededAt: Date | null
  health: SourceHealth
}

function toError(raw: unknown): ScanError {
  const value = (raw && typeof raw === 'object' ? raw : { message: String(raw) }) as Record<string, unknown>
  const str = (key: string) => (typeof value[key] === 'string' ? (value[key] as string) : null)
  return {
    scope: str('scope'),
    operation: str('operation'),
    permission: str('permission'),
    message: str('message') ?? 'The scan reported an error without a message.',
    remedy: str('remedy'),
    fatalForScope: value.fatalForScope === true,
  }
}

/** The next time a 5-field cron expression fires after `from` (UTC), or null when it never does within a year. */
export function nextCronRun(expression: string, from: Date = new Date()): Date | null {
  if (!cron.validate(expression)) return null
  const fields = cron.parse(expression)
  const restrictedDom = fields.dayOfMonth.length < 31
  const restrictedDow = fields.dayOfWeek.length < 7
  const start = new Date(from.getTime())
  start.setUTCSeconds(0, 0)
  start.setUTCMinutes(start.getUTCMinutes() + 1)
  const day = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()))
  for (let d = 0; d < 400; d++) {
    const date = new Date(day.getTime() + d * 86_400_000)
    const domOk = fields.dayOfMonth.includes(date.getUTCDate())
    const dowOk = fields.dayOfWeek.includes(date.getUTCDay())
    // Cron semantics: when both day fields are restricted, either may match.
    const dayOk = restrictedDom && restrictedDow ? domOk || dowOk : domOk && dowOk
    if (!fields.month.includes(date.getUTCMonth() + 1) || !dayOk) continue
    for (const hour of fields.hour) {
      for (const minute of fields.minute) {
        const candidate = new Date(date.getTime() + hour * 3_600_000 + minute * 60_000)
        if (candidate >= start) return candidate
      }
    }
  }
  return null
}

type RunRow = {
  id: string
  source_id: string
  status: ScanStatus
  trigger: string
  requested_by: string | null
  queued_at: Date
  started_at: Date | null
  finished_at: Date | null
  heartbeat_at: Date | null
  identities_seen: number
  credentials_seen: number
  api_calls: number
  identities_new: number
  identities_retired: number
  errors: unknown
  retire_warning: Record<string, unknown> | null
}

function summarize(run: RunRow, scopes: Map<string, ScanRunSummary['scopes']>): ScanRunSummary {
  return {
    id: run.id,
    status: run.status,
    trigger: run.trigger,
    requestedBy: run.requested_by,
    queuedAt: run.queued_at,
    startedAt: run.started_at,
    finishedAt: run.finished_at,
    heartbeatAt: run.heartbeat_at,
    identitiesSeen: run.identities_seen,
    credentialsSeen: run.credentials_seen,
    apiCalls: run.api_calls,
    identitiesNew: run.identities_new,
    identitiesRetired: run.identities_retired,
    errors: Array.isArray(run.errors) ? run.errors.map(toError) : [],
    retireWarning: run.retire_warning,
    scopes: scopes.get(run.id) ?? [],
  }
}

export function healthOf(source: { enabled: boolean }, active: ScanRunSummary | null, last: ScanRunSummary | null): SourceHealth {
  if (active) return 'scanning'
  if (!last) return source.enabled ? 'never_scanned' : 'disabled'
  if (last.status === 'succeeded') return last.errors.length > 0 ? 'incomplete' : 'healthy'
  if (last.status === 'partial') return 'incomplete'
  return 'unknown'
}

export async function listSourceStatuses(db: Db, now: Date = new Date()): Promise<SourceStatus[]> {
  const sources = await db.selectFrom('sources').selectAll().orderBy('name').execute()
  if (sources.length === 0) return []
  const ids = sources.map((source) => source.id)
  const runColumns = [
    'id',
    'source_id',
    'status',
    'trigger',
    'requested_by',
    'queued_at',
    'started_at',
    'finished_at',
    'heartbeat_at',
    'identities_seen',
    'credentials_seen',
    'api_calls',
    'identities_new',
    'identities_retired',
    'errors',
    'retire_warning',
  ] as const
  const [active, finished, succeeded, counts] = await Promise.all([
    db.selectFrom('scan_runs').select(runColumns).where('source_id', 'in', ids).where('status', 'in', ['queued', 'running']).execute(),
    db
      .selectFrom('scan_runs')
      .select(runColumns)
      .distinctOn('source_id')
      .where('source_id', 'in', ids)
      .where('status', 'in', ['succeeded', 'partial', 'failed', 'cancelled'])
      .orderBy('source_id')
      .orderBy('queued_at', 'desc')
      .execute(),
    db
      .selectFrom('scan_runs')
      .select(['source_id', (eb) => eb.fn.max('finished_at').as('at')])
      .where('source_id', 'in', ids)
      .where('status', '=', 'succeeded')
      .groupBy('source_id')
      .execute(),
    // Per-source identity counts from the latest snapshot of each source (cheap), else a capped count.
    sql<{ source_id: string; identities: number }>`
      select distinct on (source_id) source_id, identities from posture_snapshots
       where source_id in (${sql.join(ids)}) order by source_id, taken_at desc`.execute(db),
  ])
  const runIds = [...active, ...finished].map((run) => run.id)
  const scopeRows =
    runIds.length === 0
      ? []
      : await db
          .selectFrom('scan_scopes')
          .select(['scan_run_id', 'account_id', 'status', 'identities_seen'])
          .where('scan_run_id', 'in', runIds)
          .orderBy('account_id')
          .execute()
  const scopes = new Map<string, ScanRunSummary['scopes']>()
  for (const row of scopeRows) {
    const list = scopes.get(row.scan_run_id) ?? []
    list.push({ accountId: row.account_id, status: row.status, identitiesSeen: row.identities_seen })
    scopes.set(row.scan_run_id, list)
  }
  const snapshotCounts = new Map(counts.rows.map((row) => [row.source_id, Number(row.identities)]))
  const missing = ids.filter((id) => !snapshotCounts.has(id))
  if (missing.length > 0) {
    const live = await sql<{ source_id: string; identities: number }>`
      select s.id as source_id, (select count(*) from (select 1 from identity_records i where i.source_id = s.id and i.status <> 'gone' limit 100001) c) as identities
        from sources s where s.id in (${sql.join(missing)})`.execute(db)
    for (const row of live.rows) snapshotCounts.set(row.source_id, Number(row.identities))
  }
  const succeededAt = new Map(succeeded.map((row) => [row.source_id, row.at as Date | null]))

  return sources.map((source) => {
    const activeRun = active.find((run) => run.source_id === source.id)
    const lastRun = finished.find((run) => run.source_id === source.id)
    const activeSummary = activeRun ? summarize(activeRun as RunRow, scopes) : null
    const lastSummary = lastRun ? summarize(lastRun as RunRow, scopes) : null
    return {
      id: source.id,
      name: source.name,
      provider: source.provider,
      schedule: source.schedule,
      enabled: source.enabled,
      isDemo: source.is_demo,
      origin: source.origin,
      nextRunAt: source.enabled ? nextCronRun(source.schedule, now) : null,
      scheduleValid: cron.validate(source.schedule),
      identities: snapshotCounts.get(source.id) ?? 0,
      active: activeSummary,
      last: lastSummary,
      lastSucceededAt: succeededAt.get(source.id) ?? null,
      health: healthOf(source, activeSummary, lastSummary),
    }
  })
}
