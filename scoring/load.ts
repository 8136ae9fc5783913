/**
 * Reads what a scoring pass needs: the per-pass context (thresholds, the directory of departed
 * or disabled people) once, then identities in keyset batches with their credentials,
 * entitlements, owners, claim and open findings — one query per batch, child rows aggregated
 * to JSON in PostgreSQL so the driver parses one string per identity instead of many rows.
 */
import { sql, type Kysely } from 'kysely'
import { ACCESS_LEVELS, type AccessLevel, type AgentSignal, type EscalationPath, type UnreadablePart } from '../connectors/contract.js'
import { LeashError } from '../cli/errors.js'
import type { Database } from '../db/schema.js'
import type { OwnerDirectory } from './owners.js'
import { ThresholdResolver, type ThresholdOverrideRow } from './thresholds.js'
import type { ClaimInput, CredentialInput, IdentityInput, OwnerHintInput, PostureInputs } from './types.js'

export const DEPARTED_OWNERS_SETTING = 'departed_owners'

export interface PassContext {
  thresholds: ThresholdResolver
  directory: OwnerDirectory
}

export async function loadPassContext(db: Kysely<Database>): Promise<PassContext> {
  const [sources, overrides, disabledUsers, departed] = await Promise.all([
    db.selectFrom('sources').select(['id', 'name', 'thresholds']).execute(),
    db.selectFrom('threshold_overrides').select(['scope_type', 'scope_value', 'threshold', 'value']).orderBy('id').execute(),
    db.selectFrom('users').select(['email', 'username']).where('disabled_at', 'is not', null).execute(),
    db.selectFrom('settings').select('value').where('key', '=', DEPARTED_OWNERS_SETTING).executeTakeFirst(),
  ])
  const thresholds = new ThresholdResolver(
    sources.map((source) => ({
      sourceId: source.id,
      sourceName: source.name,
      settings: (source.thresholds ?? {}) as Record<string, unknown>,
    })),
    overrides as ThresholdOverrideRow[],
  )
  const disabled = new Set<string>()
  for (const user of disabledUsers) {
    if (user.email) disabled.add(user.email.trim().toLowerCase())
    disabled.add(user.username.trim().toLowerCase())
  }
  return { thresholds, directory: { disabled, departed: parseDepartedOwners(departed?.value) } }
}

/** The 'departed_owners' setting: an array of references (strings, or objects with a `ref`). */
export function parseDepartedOwners(value: unknown): Set<string> {
  const departed = new Set<string>()
  if (value === undefined || value === null) return departed
  if (!Array.isArray(value)) {
    throw new LeashError(
      `The setting "${DEPARTED_OWNERS_SETTING}" is not a list.`,
      'Store a JSON array of owner references, e.g. ["alice@example.com", "bob"].',
    )
  }
  for (const entry of value) {
    const ref =
      typeof entry === 'string'
        ? entry
        : entry && typeof entry === 'object' && typeof (entry as { ref?: unknown }).ref === 'string'
          ? (entry as { ref: string }).ref
          : null
    if (ref === null) {
      throw new LeashError(
        `The setting "${DEPARTED_OWNERS_SETTING}" contains ${JSON.stringify(entry)}, which is not an owner reference.`,
        'Each entry must be a string (email, UPN or login) or an object with a "ref" string.',
      )
    }
    departed.add(ref.trim().toLowerCase())
  }
  return departed
}

/**
 * A finding already stored for an identity in the batch, resolved ones included: a finding that
 * comes back reopens its row (one row per identity, rule and subject), so the pass must know
 * it is there rather than insert it again.
 */
export interface ExistingFinding {
  id: number
  ruleId: string
  subjectKey: string
  status: 'open' | 'accepted' | 'unknown' | 'resolved'
  acceptedUntil: number | null
}

export interface LoadedIdentity {
  identity: IdentityInput
  /** Row version when read: the write keeps needs_scoring set if the row changed meanwhile. */
  xmin: string
  previousClassifiedIsAgent: boolean
  scoredBefore: boolean
  existing: ExistingFinding[]
}

interface IdentityRow {
  id: number
  xmin: string
  source_id: string
  provider: string
  kind: string
  external_id: string
  display_name: string
  account_id: string
  tags: Record<string, string> | null
  status: IdentityInput['status']
  created_ms: number | null
  last_used_ms: number | null
  last_used_known: boolean
  posture_inputs: Record<string, unknown> | null
  agent_reasons: unknown
  agent_override: 'agent' | 'not_agent' | null
  classified_is_agent: boolean
}

const ms = (column: string) => sql.raw(`(date_part('epoch', ${column}) * 1000)::int8`)

const IDENTITY_COLUMNS = sql`i.id, i.xmin::text as xmin, i.source_id, i.provider, i.kind, i.external_id, i.display_name, i.account_id,
  i.tags, i.status, ${ms('i.created_at')} as created_ms, ${ms('i.last_used_at')} as last_used_ms, i.last_used_known,
  i.posture_inputs, i.agent_reasons, i.agent_override, i.classified_is_agent`

/** The next batch of identities flagged needs_scoring, after `afterId` (keyset on the partial index). */
export async function fetchPendingBatch(db: Kysely<Database>, afterId: number, limit: number): Promise<LoadedIdentity[]> {
  const identities = await sql<IdentityRow>`
    select ${IDENTITY_COLUMNS} from identities i
    where i.needs_scoring and i.id > ${afterId} order by i.id limit ${limit}`.execute(db)
  return attachChildren(db, identities.rows)
}

export async function fetchIdentitiesById(db: Kysely<Database>, ids: number[]): Promise<LoadedIdentity[]> {
  if (ids.length === 0) return []
  const identities = await sql<IdentityRow>`
    select ${IDENTITY_COLUMNS} from identities i where i.id = any(${ids}::int8[]) order by i.id`.execute(db)
  return attachChildren(db, identities.rows)
}

/**
 * Child rows of a batch, one query per table. A dense batch (the usual case: a full pass, or
 * a scan that touched most of a source) reads an id range, which PostgreSQL serves with one
 * index range scan instead of thousands of lookups; a sparse batch reads by id list.
 */
async function attachChildren(db: Kysely<Database>, rows: IdentityRow[]): Promise<LoadedIdentity[]> {
  if (rows.length === 0) return []
  const ids = rows.map((row) => row.id)
  const low = ids[0]!
  const high = ids[ids.length - 1]!
  const dense = high - low + 1 <= ids.length * 2
  const match = (column: string) =>
    dense ? sql`${sql.ref(column)} between ${low} and ${high}` : sql`${sql.ref(column)} = any(${ids}::int8[])`
  const [credentials, entitlements, owners, claims, findings, scored] = await Promise.all([
    // Credentials and entitlements (most of the rows) come as one JSON array per identity:
    // JSON.parse in V8 is far cheaper than the driver building an object per row.
    sql<{ identity_id: number; rows: CredentialTuple[] }>`
      select c.identity_id, json_agg(json_build_array(c.id, c.external_id, c.type, c.status, ${ms('c.created_at')}, ${ms('c.expires_at')},
        ${ms('c.last_used_at')}, c.last_used_known, ${ms('c.last_rotated_at')}, c.rotation_enabled, c.is_static) order by c.id) as rows
      from credentials c where ${match('c.identity_id')} group by c.identity_id`.execute(db),
    sql<{ identity_id: number; rows: EntitlementTuple[] }>`
      select e.identity_id, json_agg(json_build_array(e.action, e.resource, e.access_level, e.source_kind, e.source_ref, e.conditional) order by e.id) as rows
      from entitlements e where ${match('e.identity_id')} group by e.identity_id`.execute(db),
    sql<{
      identity_id: number
      owner_ref: string
      role: OwnerHintInput['role']
      kind: OwnerHintInput['kind']
      source: OwnerHintInput['source']
      display_name: string | null
      active: boolean | null
      can_add_credentials: boolean
    }>`
      select o.identity_id, o.owner_ref, o.role, o.kind, o.source, o.display_name, o.active, o.can_add_credentials
      from identity_owners o where ${match('o.identity_id')} order by o.identity_id, o.owner_ref, o.role, o.source`.execute(db),
    // The current owner decided in Leash: a confirmed claim or an accepted handover, not ended.
    sql<{
      identity_id: number
      kind: ClaimInput['kind']
      user_ref: string
      display_name: string
      disabled: boolean
      decided_ms: number | null
    }>`
      select distinct on (c.identity_id) c.identity_id, c.kind, coalesce(u.email, u.username) as user_ref, u.display_name,
        u.disabled_at is not null as disabled, ${ms('c.decided_at')} as decided_ms
      from claims c join users u on u.id = case when c.kind = 'handover' then c.to_user_id else c.requested_by end
      where ${match('c.identity_id')} and c.status in ('confirmed', 'accepted') and c.ended_at is null
      order by c.identity_id, coalesce(c.decided_at, c.created_at) desc, c.created_at desc`.execute(db),
    sql<{
      identity_id: number
      id: number
      rule_id: string
      subject_key: string
      status: ExistingFinding['status']
      accepted_ms: number | null
    }>`
      select f.identity_id, f.id, f.rule_id, f.subject_key, f.status, ${ms('f.accepted_until')} as accepted_ms
      from findings f where ${match('f.identity_id')}`.execute(db),
    sql<{ identity_id: number }>`select s.identity_id from identity_scores s where ${match('s.identity_id')}`.execute(db),
  ])
  const loaded = new Map<number, LoadedIdentity>()
  for (const row of rows) loaded.set(row.id, toLoaded(row))
  for (const group of credentials.rows) {
    const target = loaded.get(group.identity_id)?.identity.credentials
    if (!target) continue
    for (const [
      id,
      externalId,
      type,
      status,
      created,
      expires,
      lastUsed,
      lastUsedKnown,
      rotated,
      rotationEnabled,
      isStatic,
    ] of group.rows) {
      target.push({
        id,
        externalId,
        type,
        status,
        createdAt: dateOf(created),
        expiresAt: dateOf(expires),
        lastUsedAt: dateOf(lastUsed),
        lastUsedKnown,
        lastRotatedAt: dateOf(rotated),
        rotationEnabled,
        isStatic,
      })
    }
  }
  for (const group of entitlements.rows) {
    const target = loaded.get(group.identity_id)?.identity.entitlements
    if (!target) continue
    for (const [action, resource, accessLevel, sourceKind, sourceRef, conditional] of group.rows) {
      if (!ACCESS.has(accessLevel)) continue
      target.push({ action, resource, accessLevel, sourceKind, sourceRef, conditional })
    }
  }
  for (const o of owners.rows) {
    loaded.get(o.identity_id)?.identity.owners.push({
      ref: o.owner_ref,
      role: o.role,
      kind: o.kind,
      source: o.source,
      displayName: o.display_name,
      active: o.active,
      canAddCredentials: o.can_add_credentials,
    })
  }
  for (const c of claims.rows) {
    const target = loaded.get(c.identity_id)
    if (target)
      target.identity.claim = {
        kind: c.kind,
        userRef: c.user_ref,
        displayName: c.display_name,
        disabled: c.disabled,
        decidedAt: dateOf(c.decided_ms),
      }
  }
  for (const f of findings.rows) {
    loaded
      .get(f.identity_id)
      ?.existing.push({ id: f.id, ruleId: f.rule_id, subjectKey: f.subject_key, status: f.status, acceptedUntil: f.accepted_ms })
  }
  for (const s of scored.rows) {
    const target = loaded.get(s.identity_id)
    if (target) target.scoredBefore = true
  }
  return [...loaded.values()]
}

/** A credential row as json_build_array in attachChildren lays it out (times in ms since the epoch). */
type CredentialTuple = [
  id: number,
  externalId: string,
  type: string,
  status: CredentialInput['status'],
  createdMs: number | null,
  expiresMs: number | null,
  lastUsedMs: number | null,
  lastUsedKnown: boolean,
  rotatedMs: number | null,
  rotationEnabled: boolean | null,
  isStatic: boolean,
]
type EntitlementTuple = [
  action: string,
  resource: string,
  accessLevel: AccessLevel,
  sourceKind: string,
  sourceRef: string,
  conditional: boolean,
]

const dateOf = (value: number | null | undefined): Date | null => (typeof value === 'number' ? new Date(value) : null)

function isoDate(value: unknown): Date | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? null : date
}

const array = <T>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : [])

/** posture_inputs as written by ingest; missing parts get their "nothing known" defaults. */
export function parsePostureInputs(raw: Record<string, unknown> | null): PostureInputs {
  const value = raw ?? {}
  const monitoring = (value.monitoring ?? {}) as { usageData?: unknown; runtimeLogging?: unknown }
  const usageData = monitoring.usageData === 'available' || monitoring.usageData === 'unavailable' ? monitoring.usageData : 'unknown'
  const unusedGrants = Array.isArray(value.unusedGrants)
    ? (value.unusedGrants as { name?: unknown; lastUsedAt?: unknown }[]).map((grant) => ({
        name: String(grant.name ?? ''),
        lastUsedAt: isoDate(grant.lastUsedAt),
      }))
    : null
  return {
    escalationPaths: array<EscalationPath>(value.escalationPaths),
    unusedGrants,
    environments: array<string>(value.environments).filter(
      (env): env is 'production' | 'non_production' => env === 'production' || env === 'non_production',
    ),
    workloads: array<string>(value.workloads).map(String),
    monitoring: { usageData, runtimeLogging: typeof monitoring.runtimeLogging === 'boolean' ? monitoring.runtimeLogging : null },
    federationPossible: value.federationPossible === true,
    unreadable: array<UnreadablePart>(value.unreadable),
  }
}

const ACCESS = new Set<string>(ACCESS_LEVELS)

function toLoaded(row: IdentityRow): LoadedIdentity {
  return {
    xmin: row.xmin,
    previousClassifiedIsAgent: row.classified_is_agent,
    scoredBefore: false,
    existing: [],
    identity: {
      id: row.id,
      sourceId: row.source_id,
      provider: row.provider,
      kind: row.kind,
      externalId: row.external_id,
      displayName: row.display_name,
      accountId: row.account_id,
      tags: row.tags ?? {},
      status: row.status,
      createdAt: dateOf(row.created_ms),
      lastUsedAt: dateOf(row.last_used_ms),
      lastUsedKnown: row.last_used_known,
      credentials: [],
      entitlements: [],
      owners: [],
      claim: null,
      agentSignals: array<AgentSignal>(row.agent_reasons),
      agentOverride: row.agent_override,
      posture: parsePostureInputs(row.posture_inputs),
    },
  }
}
