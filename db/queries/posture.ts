/**
 * The Posture page's numbers. Never a full scan of a million rows per request:
 *  - no filter, or only a source: the latest posture snapshot (written by scoring after each scan);
 *  - a filter that leaves at most LIVE_CAP identities: computed live, exactly;
 *  - a larger filtered set: estimated from a repeatable table sample, and labelled as such.
 * The trend always comes from snapshots.
 */
import { expressionBuilder, sql, type Kysely } from 'kysely'
import type { Database } from '../schema.js'
import { countIdentities, identitySource, identityWhere, listIdentities, type IdentityListRow, type PreparedFilter } from './identities.js'
import { DIMENSIONS, SEVERITIES, type IdentityFilter } from './identity-filter.js'
import { CREDENTIAL_AGE_BUCKETS, parseAggregates, type CountRow, type PostureBreakdown } from './posture-aggregates.js'

type Db = Kysely<Database>

export const LIVE_CAP = 20_000
export const POSTURE_SAMPLE_ROWS = 40_000

/** The filters the Posture page offers (a subset of the inventory's, so links carry them over). */
export type PostureFilter = Pick<IdentityFilter, 'source' | 'provider' | 'account' | 'owner' | 'agent'>

export interface PostureTotals {
  identities: number
  agents: number
  openFindings: number
  orphans: number
  meanRisk: number
  /** 0..100, higher is better. */
  postureScore: number
}

export type PostureBasis =
  | { kind: 'snapshot'; takenAt: Date; scanRunId: string | null }
  | { kind: 'live' }
  | { kind: 'estimated'; sampleRows: number }

export interface TrendPoint {
  takenAt: Date
  postureScore: number
  meanRisk: number
  openFindings: number
  orphans: number
  identities: number
  agents: number
}

export interface ChangeSummary {
  since: Date | null
  /** Counts by change type; `capped` when there were more changes than were counted. */
  counts: CountRow[]
  capped: boolean
  recent: { id: number; identityId: number; displayName: string; changeType: string; occurredAt: Date; details: Record<string, unknown> }[]
}

export interface PostureOverview {
  basis: PostureBasis
  totals: PostureTotals
  breakdown: PostureBreakdown
  trend: TrendPoint[]
  riskiest: IdentityListRow[]
  changes: ChangeSummary
  /** Whether any identity exists at all (drives the empty state). */
  empty: boolean
}

function onlySourceOrNothing(filter: PostureFilter): boolean {
  return !filter.provider && !filter.account && !filter.owner
}

/** The snapshots of one source, or the estate-wide ones (source_id null). */
function snapshotsOf(sourceId: string | null) {
  const eb = expressionBuilder<Database, 'posture_snapshots'>()
  return sourceId === null ? eb('source_id', 'is', null) : eb('source_id', '=', sourceId)
}

export async function latestSnapshot(db: Db, sourceId: string | null) {
  return db
    .selectFrom('posture_snapshots')
    .selectAll()
    .where(snapshotsOf(sourceId))
    .orderBy('taken_at', 'desc')
    .limit(1)
    .executeTakeFirst()
}

/** How far back the trend reaches: the Posture page's range switch (`?range=`). */
export const TREND_RANGES = { '30d': 30, '90d': 90, '1y': 365 } as const
export type TrendRange = keyof typeof TREND_RANGES
export const DEFAULT_TREND_RANGE: TrendRange = '90d'

export function isTrendRange(value: string): value is TrendRange {
  return Object.hasOwn(TREND_RANGES, value)
}

/**
 * One point per UTC day over the range that ends on the day of the latest snapshot: the day's
 * last snapshot, i.e. the estate as it stood at the end of that day. A snapshot is taken after
 * every scan, so a day can hold many (one per source and schedule); taking the last N snapshots
 * instead would shrink the chart to a few hours on a busy estate, and would show the partial
 * estates of a first run of several sources as a dip that never happened. Anchored on the data,
 * not the clock, so the same snapshots always draw the same chart.
 */
export async function postureTrend(db: Db, sourceId: string | null, range: TrendRange = DEFAULT_TREND_RANGE): Promise<TrendPoint[]> {
  const day = sql`date_trunc('day', taken_at at time zone 'UTC')`
  const latest = db.selectFrom('posture_snapshots').select((eb) => eb.fn.max('taken_at').as('at')).where(snapshotsOf(sourceId))
  const firstDay = sql<Date>`date_trunc('day', (${latest}) at time zone 'UTC') at time zone 'UTC' - make_interval(days => ${TREND_RANGES[range] - 1})`
  const rows = await db
    .selectFrom('posture_snapshots')
    .distinctOn(day)
    .select(['taken_at', 'posture_score', 'mean_risk', 'open_findings', 'orphans', 'identities', 'agents'])
    .where(snapshotsOf(sourceId))
    .where('taken_at', '>=', firstDay)
    .orderBy(day)
    .orderBy('taken_at', 'desc')
    .execute()
  return rows.map((row) => ({
    takenAt: row.taken_at,
    postureScore: Number(row.posture_score),
    meanRisk: Number(row.mean_risk),
    openFindings: row.open_findings,
    orphans: row.orphans,
    identities: row.identities,
    agents: row.agents,
  }))
}

/** Aggregates computed over the identities table (or a sample of it) for a filter. */
export async function computeBreakdown(
  db: Db,
  filter: PreparedFilter,
  sampleRows: number | null,
): Promise<{ totals: PostureTotals; breakdown: PostureBreakdown; sampled: boolean }> {
  const source = await identitySource(db, sampleRows)
  const where = identityWhere(filter)(expressionBuilder<Database, 'identities'>())
  const scale = (value: unknown) => Math.round(Number(value ?? 0) * source.scale)

  const grouped = await sql<Record<string, unknown>>`
    select grouping(provider) as g_provider, grouping(agent_platform) as g_platform, grouping(owner_status) as g_owner,
           grouping(owner_ref) as g_owner_ref,
           provider, agent_platform, owner_status, owner_ref,
           count(*) as identities,
           count(*) filter (where is_agent) as agents,
           count(*) filter (where is_agent and owner_status in ('none','invalid') and status = 'active') as orphans,
           coalesce(avg(risk_score), 0)::float8 as mean_risk
      from ${source.from} as identities
     where ${where}
     group by grouping sets ((), (provider), (agent_platform), (owner_status), (owner_ref))`.execute(db)

  const totals: PostureTotals = { identities: 0, agents: 0, openFindings: 0, orphans: 0, meanRisk: 0, postureScore: 100 }
  const breakdown: PostureBreakdown = {
    findings: [],
    findingsByDimension: [],
    findingsBySeverity: [],
    identitiesByProvider: [],
    agentsByProvider: [],
    agentsByPlatform: [],
    ownerStatus: [],
    topOwners: [],
    credentialAge: CREDENTIAL_AGE_BUCKETS.map((bucket) => ({ ...bucket, count: 0 })),
    mttrDays: null,
  }
  for (const row of grouped.rows) {
    const all = [row.g_provider, row.g_platform, row.g_owner, row.g_owner_ref].every((g) => Number(g) === 1)
    if (all) {
      totals.identities = scale(row.identities)
      totals.agents = scale(row.agents)
      totals.orphans = scale(row.orphans)
      totals.meanRisk = Math.round(Number(row.mean_risk) * 10) / 10
    } else if (Number(row.g_provider) === 0) {
      breakdown.identitiesByProvider.push({ value: String(row.provider), count: scale(row.identities) })
      if (Number(row.agents) > 0) breakdown.agentsByProvider.push({ value: String(row.provider), count: scale(row.agents) })
    } else if (Number(row.g_platform) === 0) {
      if (row.agent_platform !== null && Number(row.agents) > 0) {
        breakdown.agentsByPlatform.push({ value: String(row.agent_platform), count: scale(row.agents) })
      }
    } else if (Number(row.g_owner) === 0) {
      breakdown.ownerStatus.push({ value: String(row.owner_status), count: scale(row.identities) })
    } else if (Number(row.g_owner_ref) === 0 && row.owner_ref !== null) {
      breakdown.topOwners.push({ value: String(row.owner_ref), count: scale(row.identities) })
    }
  }
  totals.postureScore = Math.round((100 - totals.meanRisk) * 10) / 10

  const findings = await sql<{ dimension: string; severity: string; count: number }>`
    select f.dimension, f.severity, count(*) as count
      from ${source.from} as identities
      join findings f on f.identity_id = identities.id and f.status = 'open'
     where ${where}
     group by f.dimension, f.severity`.execute(db)
  breakdown.findings = findings.rows.map((row) => ({ dimension: row.dimension, severity: row.severity, count: scale(row.count) }))
  const sum = (key: 'dimension' | 'severity', value: string) =>
    breakdown.findings.filter((cell) => cell[key] === value).reduce((total, cell) => total + cell.count, 0)
  breakdown.findingsByDimension = DIMENSIONS.map((value) => ({ value, count: sum('dimension', value) }))
  breakdown.findingsBySeverity = SEVERITIES.map((value) => ({ value, count: sum('severity', value) }))
  totals.openFindings = breakdown.findings.reduce((total, cell) => total + cell.count, 0)

  // Active credentials by age since creation or last rotation, bucketed as scoring/snapshots.ts does.
  const ages = await sql<{ bucket: number | null; n: number }>`
    select width_bucket((date_part('epoch', now() - coalesce(c.last_rotated_at, c.created_at)) / 86400)::float8, array[31, 91, 181, 366, 731]::float8[]) as bucket,
           count(*) as n
      from ${source.from} as identities
      join credentials c on c.identity_id = identities.id and c.status = 'active'
     where ${where}
     group by 1`.execute(db)
  for (const row of ages.rows) {
    const bucket = breakdown.credentialAge[row.bucket === null ? CREDENTIAL_AGE_BUCKETS.length - 1 : Number(row.bucket)]
    if (bucket) bucket.count += scale(row.n)
  }
  breakdown.credentialAge = breakdown.credentialAge.filter((bucket) => bucket.key !== 'unknown' || bucket.count > 0)

  const mttr = await sql<{ days: number | null }>`
    select (avg(extract(epoch from (f.resolved_at - f.first_seen_at))) / 86400)::float8 as days
      from ${source.from} as identities
      join findings f on f.identity_id = identities.id and f.status = 'resolved' and f.resolved_at > now() - interval '90 days'
     where ${where}`.execute(db)
  const days = mttr.rows[0]?.days
  breakdown.mttrDays = days === null || days === undefined ? null : Math.round(Number(days) * 10) / 10

  const byCount = (a: CountRow, b: CountRow) => b.count - a.count || a.value.localeCompare(b.value)
  breakdown.identitiesByProvider.sort(byCount)
  breakdown.agentsByProvider.sort(byCount)
  breakdown.agentsByPlatform.sort(byCount)
  breakdown.topOwners = breakdown.topOwners.sort(byCount).slice(0, 10)
  const ownerOrder = ['valid', 'invalid', 'none', 'unknown']
  breakdown.ownerStatus.sort((a, b) => ownerOrder.indexOf(a.value) - ownerOrder.indexOf(b.value))
  return { totals, breakdown, sampled: source.sampled }
}

/** What changed in the latest finished scan of each source in scope. */
export async function changesSinceLastScan(db: Db, filter: PostureFilter, cap = 50_000): Promise<ChangeSummary> {
  const runs = await db
    .selectFrom('scan_runs')
    .select(['id', 'source_id', 'finished_at'])
    .distinctOn('source_id')
    .where('status', 'in', ['succeeded', 'partial'])
    .where('finished_at', 'is not', null)
    .$if(filter.source !== undefined, (qb) => qb.where('source_id', '=', filter.source!))
    .orderBy('source_id')
    .orderBy('finished_at', 'desc')
    .execute()
  if (runs.length === 0) return { since: null, counts: [], capped: false, recent: [] }
  const runIds = runs.map((run) => run.id)
  const since = runs.reduce<Date | null>((earliest, run) => (run.finished_at && (!earliest || run.finished_at < earliest) ? run.finished_at : earliest), null)
  const scoped = !onlySourceOrNothing(filter) || filter.agent !== undefined
  const scope = scoped
    ? sql`and exists (select 1 from identities where identities.id = c.identity_id and ${identityWhere(filter)(expressionBuilder<Database, 'identities'>())})`
    : sql``
  const counted = await sql<{ change_type: string; count: number }>`
    select change_type, count(*) as count from (
      select c.change_type from identity_changes c
       where c.scan_run_id in (${sql.join(runIds)}) ${scope}
       limit ${cap + 1}) as capped
     group by change_type order by count(*) desc`.execute(db)
  const total = counted.rows.reduce((sum, row) => sum + Number(row.count), 0)
  const recent = await sql<{ id: number; identity_id: number; display_name: string; change_type: string; occurred_at: Date; details: Record<string, unknown> }>`
    select c.id, c.identity_id, i.display_name, c.change_type, c.occurred_at, c.details
      from identity_changes c join identities i on i.id = c.identity_id
     where c.scan_run_id in (${sql.join(runIds)}) ${scope}
     order by c.occurred_at desc, c.id desc limit 10`.execute(db)
  return {
    since,
    counts: counted.rows.map((row) => ({ value: row.change_type, count: Number(row.count) })),
    capped: total > cap,
    recent: recent.rows.map((row) => ({
      id: row.id,
      identityId: row.identity_id,
      displayName: row.display_name,
      changeType: row.change_type,
      occurredAt: row.occurred_at,
      details: row.details,
    })),
  }
}

function snapshotTotals(snapshot: NonNullable<Awaited<ReturnType<typeof latestSnapshot>>>): PostureTotals {
  return {
    identities: snapshot.identities,
    agents: snapshot.agents,
    openFindings: snapshot.open_findings,
    orphans: snapshot.orphans,
    meanRisk: Math.round(Number(snapshot.mean_risk) * 10) / 10,
    postureScore: Math.round(Number(snapshot.posture_score) * 10) / 10,
  }
}

export async function getPostureOverview(db: Db, filter: PostureFilter, range: TrendRange = DEFAULT_TREND_RANGE): Promise<PostureOverview> {
  const sourceId = filter.source ?? null
  const prepared: PreparedFilter = { ...filter }
  const [trend, riskiestPage, changes] = await Promise.all([
    postureTrend(db, sourceId, range),
    listIdentities(db, prepared, { sort: 'risk' }, 10),
    changesSinceLastScan(db, filter),
  ])

  let basis: PostureBasis | null = null
  let totals: PostureTotals | null = null
  let breakdown: PostureBreakdown | null = null
  if (onlySourceOrNothing(filter)) {
    const snapshot = await latestSnapshot(db, sourceId)
    if (snapshot) {
      // Snapshots cover all NHIs of the estate or a source; an agents-only view is computed instead.
      if (filter.agent === undefined) {
        basis = { kind: 'snapshot', takenAt: snapshot.taken_at, scanRunId: snapshot.scan_run_id }
        breakdown = parseAggregates(snapshot.aggregates)
        totals = snapshotTotals(snapshot)
      }
    }
  }
  if (!basis || !totals || !breakdown) {
    const count = await countIdentities(db, prepared, LIVE_CAP)
    const computed = await computeBreakdown(db, prepared, count.exact ? null : POSTURE_SAMPLE_ROWS)
    basis = computed.sampled ? { kind: 'estimated', sampleRows: POSTURE_SAMPLE_ROWS } : { kind: 'live' }
    totals = computed.totals
    breakdown = computed.breakdown
  }
  const empty = totals.identities === 0 && riskiestPage.rows.length === 0
  return { basis, totals, breakdown, trend, riskiest: riskiestPage.rows, changes, empty }
}
