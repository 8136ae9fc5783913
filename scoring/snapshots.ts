/**
 * Posture history: after each scan, one row for the whole estate (source_id null) and one per
 * source, with the aggregates the dashboard charts. Every figure comes from a handful of
 * aggregate queries grouped by source (the global row is their sum), never from per-identity
 * work, so a snapshot of a million identities takes seconds. Snapshots older than the
 * retention (400 days: "at least a year", with a margin for year-on-year charts) are pruned.
 */
import { sql, type Kysely } from 'kysely'
import type { Database, Dimension, Severity } from '../db/schema.js'

export const SNAPSHOT_RETENTION_DAYS = 400
const TOP_OWNERS = 20
/** Credential-age histogram buckets, in days since creation or last rotation. */
export const CREDENTIAL_AGE_BUCKETS = ['0-30', '31-90', '91-180', '181-365', '366-730', '731+', 'unknown'] as const
export const RISK_BANDS = ['0', '1-24', '25-49', '50-74', '75-100'] as const

export interface SnapshotAggregates {
  byDimension: Record<Dimension, number>
  bySeverity: Record<Severity, number>
  byRule: Record<string, number>
  findingsByStatus: Record<'open' | 'accepted' | 'unknown', number>
  byProvider: Record<string, { identities: number; agents: number; openFindings: number; meanRisk: number }>
  byAgentPlatform: Record<string, number>
  byOwnerStatus: Record<string, number>
  topOwners: { owner: string; identities: number; agents: number; meanRisk: number }[]
  byTeam: { team: string; identities: number; agents: number; meanRisk: number }[]
  orphans: number
  unowned: number
  riskBands: Record<(typeof RISK_BANDS)[number], number>
  credentialAge: Record<(typeof CREDENTIAL_AGE_BUCKETS)[number], number>
  mttr: {
    windowDays: number
    resolved: number
    meanHours: number | null
    bySeverity: Partial<Record<Severity, { resolved: number; meanHours: number }>>
  }
}

interface Bucket {
  identities: number
  agents: number
  orphans: number
  riskSum: number
  aggregates: SnapshotAggregates
}

function emptyBucket(): Bucket {
  return {
    identities: 0,
    agents: 0,
    orphans: 0,
    riskSum: 0,
    aggregates: {
      byDimension: { ownership: 0, privilege: 0, credential_age: 0, monitoring: 0 },
      bySeverity: { critical: 0, high: 0, medium: 0, low: 0, info: 0 },
      byRule: {},
      findingsByStatus: { open: 0, accepted: 0, unknown: 0 },
      byProvider: {},
      byAgentPlatform: {},
      byOwnerStatus: {},
      topOwners: [],
      byTeam: [],
      orphans: 0,
      unowned: 0,
      riskBands: { '0': 0, '1-24': 0, '25-49': 0, '50-74': 0, '75-100': 0 },
      credentialAge: { '0-30': 0, '31-90': 0, '91-180': 0, '181-365': 0, '366-730': 0, '731+': 0, unknown: 0 },
      mttr: { windowDays: 90, resolved: 0, meanHours: null, bySeverity: {} },
    },
  }
}

const MTTR_WINDOW_DAYS = 90

export async function takePostureSnapshot(
  db: Kysely<Database>,
  options: { sourceId?: string | null; scanRunId?: string | null; takenAt?: Date } = {},
): Promise<void> {
  const takenAt = options.takenAt ?? new Date()
  const sources = await db.selectFrom('sources').select('id').execute()
  const buckets = new Map<string, Bucket>([['', emptyBucket()]])
  for (const source of sources) buckets.set(source.id, emptyBucket())
  const each = (sourceId: string, apply: (bucket: Bucket) => void) => {
    apply(buckets.get('')!)
    let bucket = buckets.get(sourceId)
    if (!bucket) buckets.set(sourceId, (bucket = emptyBucket()))
    apply(bucket)
  }

  const [identityRows, findingRows, ageRows, mttrRows, ownerRows, teamRows] = await Promise.all([
    sql<{
      source_id: string
      provider: string
      agent_platform: string | null
      owner_status: string
      band: number
      n: number
      agents: number
      orphans: number
      risk_sum: number
    }>`
      select i.source_id, i.provider, case when i.is_agent then coalesce(i.agent_platform, 'unknown') end as agent_platform, i.owner_status,
        width_bucket(i.risk_score::int, array[1, 25, 50, 75]) as band,
        count(*)::int as n, count(*) filter (where i.is_agent)::int as agents,
        count(*) filter (where i.is_agent and i.owner_status in ('none', 'invalid') and i.status = 'active')::int as orphans,
        sum(i.risk_score)::int8 as risk_sum
      from identities i where i.status in ('active', 'disabled')
      group by 1, 2, 3, 4, 5`.execute(db),
    sql<{
      source_id: string
      provider: string
      rule_id: string
      dimension: Dimension
      severity: Severity
      status: 'open' | 'accepted' | 'unknown'
      n: number
    }>`
      select i.source_id, i.provider, f.rule_id, f.dimension, f.severity, f.status, count(*)::int as n
      from findings f join identities i on i.id = f.identity_id
      where f.status <> 'resolved' and i.status in ('active', 'disabled')
      group by 1, 2, 3, 4, 5, 6`.execute(db),
    sql<{ source_id: string; bucket: number | null; n: number }>`
      select i.source_id,
        width_bucket((date_part('epoch', ${takenAt}::timestamptz - coalesce(c.last_rotated_at, c.created_at)) / 86400)::float8, array[31, 91, 181, 366, 731]::float8[]) as bucket,
        count(*)::int as n
      from credentials c join identities i on i.id = c.identity_id
      where c.status = 'active' and i.status in ('active', 'disabled')
      group by 1, 2`.execute(db),
    sql<{ source_id: string; severity: Severity; n: number; hours_sum: number }>`
      select i.source_id, f.severity, count(*)::int as n, sum(extract(epoch from (f.resolved_at - f.first_seen_at)) / 3600)::float8 as hours_sum
      from findings f join identities i on i.id = f.identity_id
      where f.status = 'resolved' and f.resolved_at > ${takenAt}::timestamptz - make_interval(days => ${MTTR_WINDOW_DAYS})
      group by 1, 2`.execute(db),
    sql<{ source_id: string | null; owner_ref: string; n: number; agents: number; risk_sum: number }>`
      select source_id, owner_ref, n, agents, risk_sum from (
        select g.*, row_number() over (partition by g.source_id order by g.n desc, g.owner_ref) as rank from (
          select i.source_id, i.owner_ref, count(*)::int as n, count(*) filter (where i.is_agent)::int as agents, sum(i.risk_score)::int8 as risk_sum
          from identities i where i.owner_ref is not null and i.status in ('active', 'disabled')
          group by grouping sets ((i.source_id, i.owner_ref), (i.owner_ref))) g) ranked
      where rank <= ${TOP_OWNERS}`.execute(db),
    sql<{ source_id: string | null; team: string; n: number; agents: number; risk_sum: number }>`
      select source_id, team, n, agents, risk_sum from (
        select g.*, row_number() over (partition by g.source_id order by g.n desc, g.team) as rank from (
          select i.source_id, t.team, count(*)::int as n, count(*) filter (where i.is_agent)::int as agents, sum(i.risk_score)::int8 as risk_sum
          from identities i
          left join lateral (
            select coalesce(
              (select u.team from users u where u.team is not null and (lower(u.email) = lower(i.owner_ref) or lower(u.username) = lower(i.owner_ref)) limit 1),
              case when i.owner_kind in ('team', 'group') then i.owner_ref end,
              case when i.owner_ref is null then '(no owner)' else '(no team)' end) as team) t on true
          where i.status in ('active', 'disabled')
          group by grouping sets ((i.source_id, t.team), (t.team))) g) ranked
      where rank <= ${TOP_OWNERS}`.execute(db),
  ])

  for (const row of identityRows.rows) {
    each(row.source_id, (bucket) => {
      const a = bucket.aggregates
      bucket.identities += row.n
      bucket.agents += row.agents
      bucket.orphans += row.orphans
      bucket.riskSum += Number(row.risk_sum)
      a.orphans += row.orphans
      if (row.owner_status === 'none' || row.owner_status === 'invalid') a.unowned += row.n
      a.byOwnerStatus[row.owner_status] = (a.byOwnerStatus[row.owner_status] ?? 0) + row.n
      if (row.agent_platform) a.byAgentPlatform[row.agent_platform] = (a.byAgentPlatform[row.agent_platform] ?? 0) + row.agents
      const provider = (a.byProvider[row.provider] ??= { identities: 0, agents: 0, openFindings: 0, meanRisk: 0 })
      provider.identities += row.n
      provider.agents += row.agents
      provider.meanRisk += Number(row.risk_sum) // a sum until normalised below
      a.riskBands[RISK_BANDS[row.band]!] += row.n
    })
  }
  for (const row of findingRows.rows) {
    each(row.source_id, (bucket) => {
      const a = bucket.aggregates
      a.findingsByStatus[row.status] += row.n
      if (row.status !== 'open') return
      a.byDimension[row.dimension] += row.n
      a.bySeverity[row.severity] += row.n
      a.byRule[row.rule_id] = (a.byRule[row.rule_id] ?? 0) + row.n
      const provider = (a.byProvider[row.provider] ??= { identities: 0, agents: 0, openFindings: 0, meanRisk: 0 })
      provider.openFindings += row.n
    })
  }
  for (const row of ageRows.rows) {
    const bucketName = row.bucket === null ? 'unknown' : CREDENTIAL_AGE_BUCKETS[row.bucket]!
    each(row.source_id, (bucket) => {
      bucket.aggregates.credentialAge[bucketName] += row.n
    })
  }
  const mttrHours = new Map<Bucket, Partial<Record<Severity, { n: number; hours: number }>>>()
  for (const row of mttrRows.rows) {
    each(row.source_id, (bucket) => {
      const entry = mttrHours.get(bucket) ?? {}
      const severity = (entry[row.severity] ??= { n: 0, hours: 0 })
      severity.n += row.n
      severity.hours += row.hours_sum
      mttrHours.set(bucket, entry)
    })
  }
  for (const [bucket, entry] of mttrHours) {
    let n = 0
    let hours = 0
    for (const [severity, value] of Object.entries(entry) as [Severity, { n: number; hours: number }][]) {
      n += value.n
      hours += value.hours
      bucket.aggregates.mttr.bySeverity[severity] = { resolved: value.n, meanHours: round1(value.hours / value.n) }
    }
    bucket.aggregates.mttr.resolved = n
    bucket.aggregates.mttr.meanHours = n > 0 ? round1(hours / n) : null
  }
  for (const row of ownerRows.rows) {
    const bucket = buckets.get(row.source_id ?? '')
    bucket?.aggregates.topOwners.push({
      owner: row.owner_ref,
      identities: row.n,
      agents: row.agents,
      meanRisk: round1(Number(row.risk_sum) / row.n),
    })
  }
  for (const row of teamRows.rows) {
    const bucket = buckets.get(row.source_id ?? '')
    bucket?.aggregates.byTeam.push({
      team: row.team,
      identities: row.n,
      agents: row.agents,
      meanRisk: round1(Number(row.risk_sum) / row.n),
    })
  }

  const rows = [...buckets]
    .filter(([sourceId]) => sourceId === '' || !options.sourceId || sourceId === options.sourceId)
    .map(([sourceId, bucket]) => {
      for (const provider of Object.values(bucket.aggregates.byProvider)) {
        provider.meanRisk = provider.identities > 0 ? round1(provider.meanRisk / provider.identities) : 0
      }
      const meanRisk = bucket.identities > 0 ? bucket.riskSum / bucket.identities : 0
      return {
        taken_at: takenAt,
        source_id: sourceId === '' ? null : sourceId,
        scan_run_id: options.scanRunId ?? null,
        identities: bucket.identities,
        agents: bucket.agents,
        open_findings: bucket.aggregates.findingsByStatus.open,
        orphans: bucket.orphans,
        mean_risk: round1(meanRisk),
        posture_score: round1(100 - meanRisk),
        aggregates: JSON.stringify(bucket.aggregates),
      }
    })
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('posture_snapshots').values(rows).execute()
    await pruneSnapshots(trx, takenAt)
  })
}

export async function pruneSnapshots(db: Kysely<Database>, now: Date = new Date()): Promise<number> {
  const result = await db
    .deleteFrom('posture_snapshots')
    .where('taken_at', '<', new Date(now.getTime() - SNAPSHOT_RETENTION_DAYS * 86_400_000))
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}

function round1(value: number): number {
  return Math.round(value * 10) / 10
}
