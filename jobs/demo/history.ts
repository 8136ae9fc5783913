/**
 * Scan history for the demo estate, so its trends are not flat on the first day: once per demo
 * source, after its first real scan, daily posture snapshots (and matching scan runs) for the
 * previous DEMO_HISTORY_DAYS days are derived from the real snapshot. Deterministic (a seeded
 * generator, no clock-dependent randomness) and shaped like a team that is slowly improving:
 * fewer identities and agents in the past, more findings, orphans and risk.
 *
 * Every derived row says what it is: snapshots carry `demoBackfill: true` in their aggregates,
 * runs carry trigger 'demo' and `summary.demoBackfill`. Nothing here touches a real source.
 */
import { sql, type Kysely, type Transaction } from 'kysely'
import { rng } from '../../connectors/saas-kit/seed.js'
import { json } from '../../db/connection.js'
import type { Database } from '../../db/schema.js'

export const DEMO_HISTORY_DAYS = 42
/** settings row: which demo sources (and whether the whole-estate series) already have history. */
export const DEMO_HISTORY_SETTING = 'demo_history'
export const DEMO_HISTORY_WORKER = 'demo-history'
const DAY = 86_400_000

interface HistoryState {
  sources: string[]
  estate: boolean
  days: number
}

/** How the past differs from today, for one day: multipliers applied to today's figures. */
export interface DayFactors {
  daysAgo: number
  identities: number
  agents: number
  findings: number
  orphans: number
  risk: number
  /** Minutes added to the day's scan time, so the history does not look machine-made. */
  minutes: number
}

/** The same factors for the same day, every time: the trend is shared by every source. */
export function historyFactors(days = DEMO_HISTORY_DAYS): DayFactors[] {
  const random = rng('leash-demo-history')
  const out: DayFactors[] = []
  for (let daysAgo = 1; daysAgo <= days; daysAgo++) {
    const p = daysAgo / days
    const wobble = () => (random() - 0.5) * 2
    // A clean-up sprint about three weeks ago: findings dropped faster then.
    const sprint = daysAgo > 18 && daysAgo <= 24 ? 0.12 * ((daysAgo - 18) / 6) : daysAgo > 24 ? 0.12 : 0
    out.push({
      daysAgo,
      identities: 1 - 0.1 * p + 0.01 * wobble(),
      agents: 1 - 0.3 * p + 0.02 * wobble(),
      findings: 1 + 0.4 * p + sprint + 0.04 * wobble(),
      orphans: 1 + 0.7 * p + sprint + 0.06 * wobble(),
      risk: 1 + 0.25 * p + sprint / 2 + 0.02 * wobble(),
      minutes: Math.floor(random() * 50),
    })
  }
  return out
}

type Aggregates = Record<string, unknown>

const scaleInt = (value: unknown, factor: number) => (typeof value === 'number' ? Math.max(0, Math.round(value * factor)) : value)
function scaleRecord(value: unknown, factor: number): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value
  return Object.fromEntries(Object.entries(value).map(([key, n]) => [key, scaleInt(n, factor)]))
}

/** Today's aggregates as they would have looked `f.daysAgo` days ago. Unknown keys are kept as they are. */
export function deriveAggregates(aggregates: Aggregates, f: DayFactors): Aggregates {
  const out: Aggregates = { ...aggregates }
  for (const key of ['byDimension', 'bySeverity', 'byRule', 'findingsByStatus']) out[key] = scaleRecord(aggregates[key], f.findings)
  for (const key of ['byOwnerStatus', 'riskBands', 'credentialAge']) out[key] = scaleRecord(aggregates[key], f.identities)
  out.byAgentPlatform = scaleRecord(aggregates.byAgentPlatform, f.agents)
  if (aggregates.byProvider && typeof aggregates.byProvider === 'object') {
    out.byProvider = Object.fromEntries(
      Object.entries(aggregates.byProvider as Record<string, Record<string, number>>).map(([provider, v]) => [
        provider,
        {
          ...v,
          identities: scaleInt(v.identities, f.identities),
          agents: scaleInt(v.agents, f.agents),
          openFindings: scaleInt(v.openFindings, f.findings),
          meanRisk: riskOf(v.meanRisk, f),
        },
      ]),
    )
  }
  for (const key of ['topOwners', 'byTeam']) {
    const list = aggregates[key]
    if (Array.isArray(list)) {
      out[key] = list.map((row: Record<string, unknown>) => ({
        ...row,
        identities: scaleInt(row.identities, f.identities),
        agents: scaleInt(row.agents, f.agents),
        meanRisk: riskOf(row.meanRisk, f),
      }))
    }
  }
  out.orphans = scaleInt(aggregates.orphans, f.orphans)
  out.unowned = scaleInt(aggregates.unowned, f.orphans)
  out.demoBackfill = true
  out.demoBackfillNote = `Synthetic demo history: derived from the first real demo scan, as of ${f.daysAgo} day(s) earlier.`
  return out
}

function riskOf(value: unknown, f: DayFactors): unknown {
  return typeof value === 'number' ? Math.min(100, Math.round(value * f.risk * 10) / 10) : value
}

interface SnapshotRow {
  id: number
  taken_at: Date
  source_id: string | null
  identities: number
  agents: number
  open_findings: number
  orphans: number
  mean_risk: number
  posture_score: number
  aggregates: unknown
}

function deriveSnapshot(base: SnapshotRow, f: DayFactors, takenAt: Date, scanRunId: string | null) {
  const meanRisk = Math.min(100, Math.round(Number(base.mean_risk) * f.risk * 10) / 10)
  return {
    taken_at: takenAt,
    source_id: base.source_id,
    scan_run_id: scanRunId,
    identities: Math.round(base.identities * f.identities),
    agents: Math.min(Math.round(base.identities * f.identities), Math.round(base.agents * f.agents)),
    open_findings: Math.round(base.open_findings * f.findings),
    orphans: Math.round(base.orphans * f.orphans),
    mean_risk: meanRisk,
    posture_score: Math.round((100 - meanRisk) * 10) / 10,
    aggregates: json(deriveAggregates((base.aggregates ?? {}) as Aggregates, f)),
  }
}

/** The day's scan time: the anchor's time of day, `daysAgo` days earlier, plus a few minutes. */
function dayTime(anchor: Date, f: DayFactors): Date {
  return new Date(anchor.getTime() - f.daysAgo * DAY - 5 * 60_000 + f.minutes * 60_000 - 55 * 60_000)
}

/**
 * Backfills history for demo sources that have a real snapshot and no history yet, and once for
 * the whole estate while only demo sources exist. Returns what it added. Safe to call from
 * several processes: the settings row is locked for the duration.
 */
export async function backfillDemoHistory(
  db: Kysely<Database>,
  options: { days?: number } = {},
): Promise<{ sources: number; snapshots: number; runs: number }> {
  const days = options.days ?? DEMO_HISTORY_DAYS
  return db.transaction().execute(async (trx) => {
    await trx
      .insertInto('settings')
      .values({ key: DEMO_HISTORY_SETTING, value: json({ sources: [], estate: false, days } satisfies HistoryState), updated_by: 'demo' })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute()
    const row = await trx
      .selectFrom('settings')
      .select('value')
      .where('key', '=', DEMO_HISTORY_SETTING)
      .forUpdate()
      .executeTakeFirstOrThrow()
    const state = normalizeState(row.value, days)
    const demo = await trx.selectFrom('sources').select(['id', 'name']).where('is_demo', '=', true).orderBy('name').execute()
    const pending = demo.filter((s) => !state.sources.includes(s.id))
    const factors = historyFactors(state.days)
    let snapshots = 0
    let runs = 0
    let sources = 0
    for (const source of pending) {
      const first = await firstAndLatest(trx, source.id)
      if (!first) continue // not scanned yet: its history comes after its first scan
      const lastRun = await trx
        .selectFrom('scan_runs')
        .select(['api_calls', 'credentials_seen', 'entitlements_seen'])
        .where('source_id', '=', source.id)
        .where('status', 'in', ['succeeded', 'partial'])
        .where('worker_id', 'is distinct from', DEMO_HISTORY_WORKER)
        .orderBy('finished_at', 'desc')
        .executeTakeFirst()
      for (const f of factors) {
        const takenAt = dayTime(first.earliest, f)
        const snapshot = deriveSnapshot(first.latest, f, takenAt, null)
        const run = await trx
          .insertInto('scan_runs')
          .values({
            source_id: source.id,
            status: 'succeeded',
            trigger: 'demo',
            requested_by: 'demo history',
            queued_at: new Date(takenAt.getTime() - 42_000),
            started_at: new Date(takenAt.getTime() - 40_000),
            finished_at: new Date(takenAt.getTime() - 1_000),
            heartbeat_at: new Date(takenAt.getTime() - 1_000),
            worker_id: DEMO_HISTORY_WORKER,
            identities_seen: snapshot.identities,
            credentials_seen: Math.round((lastRun?.credentials_seen ?? 0) * f.identities),
            entitlements_seen: Math.round((lastRun?.entitlements_seen ?? 0) * f.identities),
            api_calls: Math.round((lastRun?.api_calls ?? 0) * f.identities),
            summary: json({
              demoBackfill: true,
              note: 'Synthetic demo history, derived from the first real demo scan.',
              totals: { identities: snapshot.identities, agents: snapshot.agents },
            }),
          })
          .returning('id')
          .executeTakeFirstOrThrow()
        await trx
          .insertInto('posture_snapshots')
          .values({ ...snapshot, scan_run_id: run.id })
          .execute()
        runs++
        snapshots++
      }
      state.sources.push(source.id)
      sources++
    }
    if (!state.estate && sources > 0) {
      const realSources = await trx.selectFrom('sources').select('id').where('is_demo', '=', false).executeTakeFirst()
      const first = realSources ? null : await firstAndLatest(trx, null)
      if (first) {
        for (const f of factors) {
          await trx
            .insertInto('posture_snapshots')
            .values(deriveSnapshot(first.latest, f, dayTime(first.earliest, f), null))
            .execute()
          snapshots++
        }
        state.estate = true
      }
    }
    await trx
      .updateTable('settings')
      .set({ value: json(state), updated_at: new Date(), updated_by: 'demo' })
      .where('key', '=', DEMO_HISTORY_SETTING)
      .execute()
    return { sources, snapshots, runs }
  })
}

function normalizeState(value: unknown, days: number): HistoryState {
  const v = (value ?? {}) as Partial<HistoryState>
  return {
    sources: Array.isArray(v.sources) ? v.sources.filter((s): s is string => typeof s === 'string') : [],
    estate: v.estate === true,
    days: typeof v.days === 'number' && v.days > 0 ? v.days : days,
  }
}

/** The earliest real snapshot's time (history goes before it) and the latest real snapshot (what history is derived from). */
async function firstAndLatest(
  trx: Transaction<Database>,
  sourceId: string | null,
): Promise<{ earliest: Date; latest: SnapshotRow } | null> {
  const real = trx
    .selectFrom('posture_snapshots')
    .selectAll()
    .$if(sourceId === null, (qb) => qb.where('source_id', 'is', null))
    .$if(sourceId !== null, (qb) => qb.where('source_id', '=', sourceId!))
    .where(sql<boolean>`coalesce((aggregates->>'demoBackfill')::boolean, false) = false`)
  const latest = await real.orderBy('taken_at', 'desc').limit(1).executeTakeFirst()
  if (!latest) return null
  const earliest = await real.orderBy('taken_at', 'asc').limit(1).executeTakeFirstOrThrow()
  return { earliest: earliest.taken_at, latest: latest as unknown as SnapshotRow }
}
