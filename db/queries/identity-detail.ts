/**
 * Everything the identity page shows about one identity, in a handful of indexed queries,
 * plus the owner hints the Orphans page lists for a page of identities.
 */
import { sql, type Kysely } from 'kysely'
import { readStoredBreakdown, type StoredBreakdown } from '../../scoring/breakdown.js'
import type { ChangeType, Database, Dimension, FindingStatus, Severity } from '../schema.js'
import { ACCESS_LEVELS } from './identity-filter.js'

type Db = Kysely<Database>

/** How many entitlements per access level the page lists (the rest are counted). */
export const ENTITLEMENTS_PER_LEVEL = 100

export interface AgentReason {
  /** Stable signal id, e.g. `aws.trust.bedrock`. */
  signal: string
  /** The reason in plain words. */
  detail: string | null
  weight: number | null
  /** False for signals the classifier saw but did not count (look-alike names). */
  counted: boolean
  /** Who found the signal: the connector, or Leash from normalized data; null when not known. */
  source: 'connector' | 'leash' | null
}

/** Reads one stored agent signal (connectors/contract.ts AgentSignal, plus the classifier's `counted`). */
function toReason(raw: unknown): AgentReason {
  if (typeof raw === 'string') return { signal: raw, detail: raw, weight: null, counted: true, source: 'connector' }
  const value = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>
  const text = (key: string) => (typeof value[key] === 'string' ? (value[key] as string) : null)
  const number = (key: string) => (typeof value[key] === 'number' ? (value[key] as number) : null)
  return {
    signal: text('id') ?? text('signal') ?? text('kind') ?? 'signal',
    detail: text('reason') ?? text('detail') ?? text('description') ?? text('message'),
    weight: number('weight'),
    counted: value.counted !== false,
    source: 'connector',
  }
}

/**
 * The signals the classifier weighed, as the last scoring pass stored them in the breakdown:
 * Leash's own with their reasons, the connector's with the reason texts kept in agent_reasons,
 * each marked counted or not. Before a first pass, the connector's signals alone.
 */
function classifierSignals(breakdown: StoredBreakdown | null, connectorReasons: AgentReason[]): AgentReason[] {
  if (!breakdown) return connectorReasons
  const connector = new Map(connectorReasons.map((reason) => [reason.signal, reason]))
  return breakdown.classification.signals.map((signal) => ({
    signal: signal.id,
    detail: signal.reason ?? connector.get(signal.id)?.detail ?? null,
    weight: signal.weight,
    counted: signal.counted,
    source: signal.source,
  }))
}

export async function getIdentityDetail(db: Db, id: number) {
  const identity = await db
    .selectFrom('identities')
    .innerJoin('sources', 'sources.id', 'identities.source_id')
    .selectAll('identities')
    .select(['sources.name as source_name', 'sources.is_demo as source_is_demo'])
    .where('identities.id', '=', id)
    .executeTakeFirst()
  if (!identity) return null

  const [owners, credentials, entitlementRows, findings, score, changes] = await Promise.all([
    db
      .selectFrom('identity_owners')
      .selectAll()
      .where('identity_id', '=', id)
      .orderBy(sql`case role when 'owner' then 0 when 'sponsor' then 1 when 'creator' then 2 else 3 end`)
      .orderBy('owner_ref')
      .execute(),
    db
      .selectFrom('credentials')
      .select([
        'id',
        'external_id',
        'type',
        'display_name',
        'status',
        'created_at',
        'expires_at',
        'last_used_at',
        'last_used_known',
        'last_rotated_at',
        'rotation_enabled',
        'is_static',
      ])
      .where('identity_id', '=', id)
      .orderBy(sql`case status when 'active' then 0 else 1 end`)
      .orderBy('created_at', 'asc')
      .execute(),
    sql<{
      id: number
      action: string
      resource: string
      access_level: string
      source_kind: string
      source_ref: string
      conditional: boolean
      level_total: number
    }>`
      select id, action, resource, access_level, source_kind, source_ref, conditional, level_total from (
        select e.*, row_number() over (partition by access_level order by source_ref, action, resource) as rn,
               count(*) over (partition by access_level) as level_total
          from entitlements e where identity_id = ${id}) ranked
       where rn <= ${ENTITLEMENTS_PER_LEVEL}
       order by access_level, source_ref, action, resource`.execute(db),
    db
      .selectFrom('findings')
      .leftJoin('credentials', 'credentials.id', 'findings.credential_id')
      .select([
        'findings.id',
        'findings.rule_id',
        'findings.dimension',
        'findings.severity',
        'findings.nhi',
        'findings.status',
        'findings.evidence',
        'findings.subject_key',
        'findings.first_seen_at',
        'findings.last_seen_at',
        'findings.resolved_at',
        'findings.accepted_until',
        'findings.accepted_reason',
        'findings.accepted_by',
        'credentials.external_id as credential_external_id',
      ])
      .where('findings.identity_id', '=', id)
      .orderBy(sql`case findings.status when 'open' then 0 when 'unknown' then 1 when 'accepted' then 2 else 3 end`)
      .orderBy(sql`case findings.severity when 'critical' then 0 when 'high' then 1 when 'medium' then 2 when 'low' then 3 else 4 end`)
      .orderBy('findings.first_seen_at', 'asc')
      .limit(500)
      .execute(),
    db.selectFrom('identity_scores').selectAll().where('identity_id', '=', id).executeTakeFirst(),
    db
      .selectFrom('identity_changes')
      .select(['id', 'change_type', 'details', 'occurred_at', 'scan_run_id'])
      .where('identity_id', '=', id)
      .orderBy('occurred_at', 'desc')
      .orderBy('id', 'desc')
      .limit(100)
      .execute(),
  ])

  const levels = ACCESS_LEVELS.map((level) => {
    const rows = entitlementRows.rows.filter((row) => row.access_level === level)
    return {
      level,
      total: rows[0] ? Number(rows[0].level_total) : 0,
      entitlements: rows.map(({ level_total: _total, ...row }) => row),
    }
  }).filter((group) => group.total > 0)

  const agentReasons = (Array.isArray(identity.agent_reasons) ? identity.agent_reasons : []).map(toReason)
  const breakdown = score ? readStoredBreakdown(score.breakdown) : null
  return {
    identity: { ...identity, agent_reasons: agentReasons },
    agentSignals: classifierSignals(breakdown, agentReasons),
    owners,
    credentials,
    entitlements: levels,
    findings: findings.map((finding) => ({
      ...finding,
      // A finding still present was seen by the last evaluation, which leaves an unchanged row
      // as it is (docs/decisions/035): its last sighting is that evaluation.
      last_seen_at: finding.status !== 'resolved' && score && score.computed_at > finding.last_seen_at ? score.computed_at : finding.last_seen_at,
      dimension: finding.dimension as Dimension,
      severity: finding.severity as Severity,
      status: finding.status as FindingStatus,
    })),
    score: score ? { riskScore: score.risk_score, breakdown, computedAt: score.computed_at } : null,
    changes: changes.map((change) => ({ ...change, change_type: change.change_type as ChangeType })),
  }
}

export type IdentityDetail = NonNullable<Awaited<ReturnType<typeof getIdentityDetail>>>

export interface OwnerHint {
  ownerRef: string
  displayName: string | null
  role: string
  source: string
  active: boolean | null
}

/** Tag keys that commonly name an owner, creator or team. */
const OWNER_TAG_KEYS = /^(owner|owners|owned[-_]?by|team|squad|contact|created[-_]?by|creator|maintainer|responsible|cost[-_]?center|project)$/i

/** The hints at who owns each identity: owner records of any role (creator, last user…) and owner-like tags. */
export async function ownerHints(db: Db, identityIds: number[]): Promise<Map<number, { people: OwnerHint[]; tags: [string, string][] }>> {
  const result = new Map<number, { people: OwnerHint[]; tags: [string, string][] }>()
  if (identityIds.length === 0) return result
  const [owners, tags] = await Promise.all([
    db
      .selectFrom('identity_owners')
      .select(['identity_id', 'owner_ref', 'display_name', 'role', 'source', 'active'])
      .where('identity_id', 'in', identityIds)
      .execute(),
    db.selectFrom('identities').select(['id', 'tags']).where('id', 'in', identityIds).execute(),
  ])
  for (const id of identityIds) result.set(id, { people: [], tags: [] })
  for (const row of owners) {
    result.get(row.identity_id)?.people.push({
      ownerRef: row.owner_ref,
      displayName: row.display_name,
      role: row.role,
      source: row.source,
      active: row.active,
    })
  }
  for (const row of tags) {
    const entries = Object.entries((row.tags ?? {}) as Record<string, unknown>)
      .filter(([key]) => OWNER_TAG_KEYS.test(key))
      .map(([key, value]) => [key, String(value)] as [string, string])
    const entry = result.get(row.id)
    if (entry) entry.tags = entries
  }
  return result
}
