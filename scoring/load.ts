/**
 * Reads what a scoring pass needs: the per-pass context (thresholds, the directory of departed
 * or disabled people) once, then identities in keyset batches with their credentials,
 * entitlements, owners, claim and stored findings — one query per table and batch, read as COPY
 * text (docs/decisions/033) and kept as text until the pass reaches each identity (BatchRows,
 * docs/decisions/047).
 */
import { sql, type Kysely } from 'kysely'
import type pg from 'pg'
import { ACCESS_LEVELS, type AccessLevel, type AgentSignal, type EscalationPath, type UnreadablePart } from '../connectors/contract.js'
import { LeashError } from '../cli/errors.js'
import { poolOf } from '../db/connection.js'
import type { Database } from '../db/schema.js'
import { copyOut, copyOutLines, leadingInteger, lineFields, type CopyLines, type CopyOutRow } from '../jobs/ingest/copy.js'
import type { OwnerDirectory } from './owners.js'
import { ThresholdResolver, type ThresholdOverrideRow } from './thresholds.js'
import type { ClaimInput, CredentialInput, IdentityInput, OwnerHintInput, PostureInputs } from './types.js'

export const DEPARTED_OWNERS_SETTING = 'departed_owners'

export interface PassContext {
  thresholds: ThresholdResolver
  directory: OwnerDirectory
  /**
   * The database's time just before the settings were read (timestamptz text): the pass's
   * writes clear a reassessment mark made before it, never one made later (docs/decisions/037).
   */
  settingsReadAt: string
}

export async function loadPassContext(db: Kysely<Database>): Promise<PassContext> {
  // Its own statement, before the reads: they see every change committed before this time.
  const readAt = await sql<{ at: string }>`select statement_timestamp()::text as at`.execute(db)
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
  return { thresholds, directory: { disabled, departed: parseDepartedOwners(departed?.value) }, settingsReadAt: readAt.rows[0]!.at }
}

/** The 'departed_owners' setting, compared as the pass compares owners: trimmed, in lower case. */
export function parseDepartedOwners(value: unknown): Set<string> {
  return new Set(departedOwnerRefs(value).map((ref) => ref.toLowerCase()))
}

/**
 * The references of the 'departed_owners' setting as they were entered, trimmed: an array of
 * strings, or of objects with a `ref`. Anything else is refused with what to store instead.
 */
export function departedOwnerRefs(value: unknown): string[] {
  const departed: string[] = []
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
    departed.push(ref.trim())
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
  /** What the pass last wrote, to leave a finding untouched when nothing about it changed. */
  credentialId: number | null
  dimension: string
  severity: string
  nhi: string | null
  /** The evidence as stored: json keeps the text JSON.stringify wrote. */
  evidenceJson: string
}

/** The score columns of an identity as the last pass wrote them (see IDENTITY_UPDATE). */
export interface StoredPosture {
  needsScoring: boolean
  isAgent: boolean
  agentConfidence: number | null
  agentPlatform: string | null
  ownerRef: string | null
  ownerKind: string | null
  ownerSource: string | null
  ownerStatus: string | null
  risk: number | null
  ownership: number | null
  privilege: number | null
  credentialAge: number | null
  monitoring: number | null
  maxAccessLevel: string | null
  credentialCount: number | null
  oldestCredentialAt: number | null
}

export interface LoadedIdentity {
  identity: IdentityInput
  /** Row version when read: the write keeps needs_scoring set if the row changed meanwhile. */
  xmin: string
  previousClassifiedIsAgent: boolean
  scoredBefore: boolean
  /** identity_scores.breakdown as stored (json text), when scoredBefore. */
  storedBreakdown: string | null
  stored: StoredPosture
  existing: ExistingFinding[]
}

/**
 * An entitlement's level as its rank in ACCESS_LEVELS, from 1; null for a level Leash does not
 * know. A CASE, not array_position over an array: a fifth less of PostgreSQL's time for the
 * batch's 20,000 grants (docs/decisions/047).
 */
const ACCESS_RANK = `case e.access_level ${ACCESS_LEVELS.map((level, index) => `when '${level}' then ${index + 1}`).join(' ')} end`

/** Milliseconds since the epoch, as COPY writes an int8: no timestamp formatting or parsing. */
const ms = (column: string) => `(date_part('epoch', ${column}) * 1000)::int8`

/** The fields toLoaded reads: the record `r` and the posture row `p`, read from the tables rather than the view. */
const IDENTITY_FIELDS = `r.id, p.xmin::text, r.source_id, r.provider, r.kind, r.external_id, r.display_name, r.account_id,
  r.tags, r.status, ${ms('r.created_at')}, ${ms('r.last_used_at')}, r.last_used_known,
  r.posture_inputs, r.agent_reasons, p.agent_override, p.classified_is_agent,
  p.needs_scoring, p.is_agent, p.agent_confidence, p.agent_platform, p.owner_ref, p.owner_kind, p.owner_source, p.owner_status,
  p.risk_score, p.score_ownership, p.score_privilege, p.score_credential_age, p.score_monitoring, p.max_access_level,
  p.credential_count, ${ms('p.oldest_credential_at')}`

/**
 * The identities whose ids the query `ids` (one column) yields, in id order. The ids drive the
 * join, so each identity costs two primary-key lookups: joined on their own, the two tables were
 * merge-joined from the first id on every batch, which made a pass quadratic. The posture row's
 * version is the pass's guard (scoring/write.ts): every change that matters to scoring flags the
 * identity, and a flag always writes that row.
 */
const identitiesIn = (ids: string) => `select ${IDENTITY_FIELDS}
  from (${ids}) as pending (identity_id)
  join identity_records r on r.id = pending.identity_id
  join identity_posture p on p.identity_id = pending.identity_id
  order by pending.identity_id`

/**
 * Every identity from `low` through `high`, in id order: PostgreSQL merges two index range scans,
 * about half the cost of two primary-key lookups per identity (docs/decisions/045). For a dense
 * batch, which a full pass reads.
 */
const identitiesBetween = (low: number, high: number) => `select ${IDENTITY_FIELDS}
  from identity_records r join identity_posture p on p.identity_id = r.id
  where r.id between ${int(low)} and ${int(high)} and p.identity_id between ${int(low)} and ${int(high)}
  order by r.id`

/** Whether a batch's ids are close enough together that reading their whole range costs less than looking each one up. */
const isDense = (ids: number[]) => ids[ids.length - 1]! - ids[0]! + 1 <= ids.length * 2

/** COPY takes no parameters: only whole numbers checked here are written into its text. */
function int(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error(`Expected a whole number for a scoring query, got ${String(value)}.`)
  return String(value)
}

/** An int8[] literal of checked ids, for `= any(…)`. */
function idArray(ids: number[]): string {
  return `'{${ids.map(int).join(',')}}'::int8[]`
}

function poolFor(db: Kysely<Database>): pg.Pool {
  const pool = poolOf(db)
  if (!pool) throw new Error('The scoring pass needs a database opened with connectDatabase (db/connection.ts), not a transaction.')
  return pool
}

/** A batch of pending identities, and where the next one starts. */
export interface PendingBatch {
  /** The batch's identities that still exist (one deleted since it was found pending is left out). */
  identities: LoadedIdentity[]
  /** The last pending id the batch covered, after which the next batch starts; null when none was pending. */
  lastId: number | null
  /** Whether as many were pending as the batch takes, so more may be pending after `lastId`. */
  full: boolean
}

/** A batch of pending identities as read, each built when the pass reaches it (see BatchRows). */
export interface PendingRows extends Omit<PendingBatch, 'identities'> {
  identities: BatchRows
}

/**
 * The next batch of identities to score after `afterId`: those flagged needs_scoring (keyset on
 * the partial index); with `dueBefore`, those last scored before it (keyset on the scores'
 * primary key); with `reassess`, those a change to thresholds or owners marked (keyset on
 * their partial index, docs/decisions/037). Each side yields at most `limit` ids past the key, so a batch
 * never reads more.
 */
export async function fetchPendingBatch(
  db: Kysely<Database>,
  /** `throughId` (inclusive) bounds the id range one of a parallel pass's threads reads (scoring/threads.ts). */
  batch: { afterId: number; limit: number; dueBefore: Date | null; reassess?: boolean; throughId?: number },
): Promise<PendingBatch> {
  const rows = await readPendingBatch(db, batch)
  return { ...rows, identities: [...rows.identities] }
}

/** fetchPendingBatch for the pass: the identities are built one at a time as they are assessed. */
export async function readPendingBatch(
  db: Kysely<Database>,
  batch: { afterId: number; limit: number; dueBefore: Date | null; reassess?: boolean; throughId?: number },
): Promise<PendingRows> {
  const pool = poolFor(db)
  const after = int(batch.afterId)
  const limit = int(batch.limit)
  const through = (column: string) => (batch.throughId === undefined ? '' : ` and ${column} <= ${int(batch.throughId)}`)
  const sides = [
    `(select identity_id from identity_posture where needs_scoring and identity_id > ${after}${through('identity_id')} order by identity_id limit ${limit})`,
  ]
  if (batch.dueBefore)
    sides.push(`(select identity_id from identity_scores where computed_at < to_timestamp(${int(batch.dueBefore.getTime())} / 1000.0)
          and identity_id > ${after}${through('identity_id')} order by identity_id limit ${limit})`)
  if (batch.reassess)
    sides.push(
      `(select identity_id from identity_scores where reassess_after is not null and identity_id > ${after}${through('identity_id')} order by identity_id limit ${limit})`,
    )
  const pending =
    sides.length > 1
      ? `select identity_id from (${sides.join('\n        union\n        ')}) pending order by identity_id limit ${limit}`
      : sides[0]!
  // The ids first, then their rows: a dense batch's rows are cheaper to read as a range (readIdentities).
  const ids = (await copyOut(pool, pending)).map(([id]) => Number(id))
  return {
    identities: await readBatch(pool, ids),
    lastId: ids.length > 0 ? ids[ids.length - 1]! : null,
    full: ids.length === batch.limit,
  }
}

export async function fetchIdentitiesById(db: Kysely<Database>, ids: number[]): Promise<LoadedIdentity[]> {
  return [...(await readIdentitiesById(db, ids))]
}

/** fetchIdentitiesById for the pass: the identities are built one at a time as they are assessed. */
export async function readIdentitiesById(db: Kysely<Database>, ids: number[]): Promise<BatchRows> {
  const distinct = [...new Set(ids)].sort((a, b) => a - b)
  return readBatch(poolFor(db), distinct)
}

/**
 * The rows of the identities of `ids` (ascending, distinct) that still exist, and their child
 * rows, one query per table, read as COPY text (docs/decisions/033). A dense batch (the usual
 * case: a full pass, or a scan that touched most of a source) reads an id range, which
 * PostgreSQL serves with one index range scan instead of thousands of lookups; a sparse batch
 * reads by id list. The range may hold identities that are not due: only the batch's own are
 * built.
 */
async function readBatch(pool: pg.Pool, ids: number[]): Promise<BatchRows> {
  if (ids.length === 0) return BatchRows.EMPTY
  const low = ids[0]!
  const high = ids[ids.length - 1]!
  const dense = isDense(ids)
  const match = (column: string) => (dense ? `${column} between ${int(low)} and ${int(high)}` : `${column} = any(${idArray(ids)})`)
  const [identities, credentials, entitlements, accessRanks, owners, claims, findings, scored] = await Promise.all([
    copyOutLines(pool, dense ? identitiesBetween(low, high) : identitiesIn(`select unnest(${idArray(ids)})`)),
    copyOutLines(
      pool,
      `select c.identity_id, c.id, c.external_id, c.type, c.status, ${ms('c.created_at')}, ${ms('c.expires_at')}, ${ms('c.last_used_at')},
        c.last_used_known, ${ms('c.last_rotated_at')}, c.rotation_enabled, c.is_static
      from credentials c where ${match('c.identity_id')}`,
    ),
    // Only the grants a rule or the classifier reads (entitlements.notable); the rest count only
    // towards the highest level, read from the (identity_id, access_level) index (docs/decisions/044).
    copyOutLines(
      pool,
      `select e.identity_id, e.id, e.action, e.resource, e.access_level, e.source_kind, e.source_ref, e.conditional
      from entitlements e where ${match('e.identity_id')} and e.notable`,
    ),
    copyOutLines(pool, `select e.identity_id, max(${ACCESS_RANK}) from entitlements e where ${match('e.identity_id')} group by e.identity_id`),
    copyOutLines(
      pool,
      `select o.identity_id, o.owner_ref, o.role, o.kind, o.source, o.display_name, o.active, o.can_add_credentials
      from identity_owners o where ${match('o.identity_id')} order by o.identity_id, o.owner_ref, o.role, o.source`,
    ),
    // The current owner decided in Leash: a confirmed claim or an accepted handover, not ended.
    copyOutLines(
      pool,
      `select distinct on (c.identity_id) c.identity_id, c.kind, coalesce(u.email, u.username), u.display_name,
        u.disabled_at is not null, ${ms('c.decided_at')}
      from claims c join users u on u.id = case when c.kind = 'handover' then c.to_user_id else c.requested_by end
      where ${match('c.identity_id')} and c.status in ('confirmed', 'accepted') and c.ended_at is null
      order by c.identity_id, coalesce(c.decided_at, c.created_at) desc, c.created_at desc`,
    ),
    copyOutLines(
      pool,
      `select f.identity_id, f.id, f.rule_id, f.subject_key, f.status, ${ms('f.accepted_until')}, f.credential_id, f.dimension, f.severity, f.nhi, f.evidence
      from findings f where ${match('f.identity_id')}`,
    ),
    copyOutLines(pool, `select s.identity_id, s.breakdown from identity_scores s where ${match('s.identity_id')}`),
  ])
  // Only the batch's own identities: the range may hold others.
  const wanted = new Set(ids)
  const own: number[] = []
  for (let line = 0; line < identities.count; line += 1) if (!dense || wanted.has(leadingInteger(identities, line))) own.push(line)
  return new BatchRows(identities, Int32Array.from(own), {
    // Rules see an identity's credentials and grants in row-id order, so evidence that lists
    // them is the same from one pass to the next whatever the physical order of the rows.
    credentials: groupByIdentity(credentials, true),
    entitlements: groupByIdentity(entitlements, true),
    accessRanks: groupByIdentity(accessRanks, false),
    owners: groupByIdentity(owners, false),
    claims: groupByIdentity(claims, false),
    findings: groupByIdentity(findings, false),
    scored: groupByIdentity(scored, false),
  })
}

/** A child table's lines, grouped by identity: `order` lists line numbers, `identityIds` the identity of each. */
export interface GroupedLines {
  lines: CopyLines
  order: Int32Array
  identityIds: Float64Array
}

/**
 * A child table's lines in ascending identity order; within an identity, by row id (the second
 * field) when `byRowId`, else as read. The queries leave out ORDER BY: sorting a batch's 20,000
 * entitlement rows was half of PostgreSQL's time for that read (docs/decisions/039). The lines
 * are sorted here only when some are out of that order, after updates moved rows.
 */
export function groupByIdentity(lines: CopyLines, byRowId: boolean): GroupedLines {
  const count = lines.count
  const identities = new Float64Array(count)
  const rowIds = byRowId ? new Float64Array(count) : null
  let inOrder = true
  for (let line = 0; line < count; line += 1) {
    identities[line] = leadingInteger(lines, line)
    if (rowIds) rowIds[line] = leadingInteger(lines, line, 1)
    if (line > 0 && inOrder) {
      const previous = identities[line - 1]!
      const current = identities[line]!
      if (current < previous || (rowIds && current === previous && rowIds[line]! <= rowIds[line - 1]!)) inOrder = false
    }
  }
  const order = new Int32Array(count)
  for (let line = 0; line < count; line += 1) order[line] = line
  if (inOrder) return { lines, order, identityIds: identities }
  // TimSort (stable: lines of one identity keep the order they were read in) merges the sorted
  // runs a heap scan returns in a few passes.
  const sorted = Array.from(order).sort((a, b) => identities[a]! - identities[b]! || (rowIds ? rowIds[a]! - rowIds[b]! : 0))
  const identityIds = new Float64Array(count)
  for (let index = 0; index < count; index += 1) {
    order[index] = sorted[index]!
    identityIds[index] = identities[sorted[index]!]!
  }
  return { lines, order, identityIds }
}

interface ChildTables {
  credentials: GroupedLines
  entitlements: GroupedLines
  accessRanks: GroupedLines
  owners: GroupedLines
  claims: GroupedLines
  findings: GroupedLines
  scored: GroupedLines
}

/**
 * A batch's rows as read: each query's COPY text with where its lines start, and its child rows
 * grouped by identity. An identity's objects (its rows split into fields, its credentials,
 * grants, owners and stored findings) are built only when iteration reaches it, just before it
 * is assessed, so they die young; a batch read ahead is then a few large strings and typed arrays,
 * which the garbage collector does not copy (docs/decisions/047). Iterate it once per use: each
 * iteration builds every identity again.
 */
export class BatchRows implements Iterable<LoadedIdentity> {
  static readonly EMPTY = new BatchRows({ text: '', count: 0, starts: new Int32Array(1) }, new Int32Array(0), null)

  constructor(
    private readonly identities: CopyLines,
    /** The lines of `identities` that belong to the batch, in id order. */
    private readonly own: Int32Array,
    private readonly children: ChildTables | null,
  ) {}

  get length(): number {
    return this.own.length
  }

  *[Symbol.iterator](): Iterator<LoadedIdentity> {
    const children = this.children
    if (!children) return
    const cursors = {
      credentials: new ChildCursor(children.credentials),
      entitlements: new ChildCursor(children.entitlements),
      accessRanks: new ChildCursor(children.accessRanks),
      owners: new ChildCursor(children.owners),
      claims: new ChildCursor(children.claims),
      findings: new ChildCursor(children.findings),
      scored: new ChildCursor(children.scored),
    }
    for (let index = 0; index < this.own.length; index += 1) {
      const loaded = toLoaded(lineFields(this.identities, this.own[index]!))
      const id = loaded.identity.id
      const identity = loaded.identity
      for (const row of cursors.credentials.rowsOf(id)) identity.credentials.push(credentialOf(row))
      for (const row of cursors.entitlements.rowsOf(id)) {
        const entitlement = entitlementOf(row)
        if (entitlement) identity.entitlements.push(entitlement)
      }
      for (const [, rank] of cursors.accessRanks.rowsOf(id))
        if (rank !== null && rank !== undefined) identity.maxAccessLevel = ACCESS_LEVELS[Number(rank) - 1] ?? null
      for (const row of cursors.owners.rowsOf(id)) identity.owners.push(ownerOf(row))
      for (const row of cursors.claims.rowsOf(id)) identity.claim = claimOf(row)
      for (const row of cursors.findings.rowsOf(id)) loaded.existing.push(existingFindingOf(row))
      for (const [, breakdown] of cursors.scored.rowsOf(id)) {
        loaded.scoredBefore = true
        loaded.storedBreakdown = breakdown ?? null
      }
      yield loaded
    }
  }
}

/** Walks a child table's grouped lines forward, identity by identity, in ascending id order. */
class ChildCursor {
  private at = 0
  constructor(private readonly grouped: GroupedLines) {}

  /** The rows of identity `id`, split into fields; rows of lower ids (identities not in the batch) are passed over. */
  rowsOf(id: number): CopyOutRow[] {
    const { order, identityIds, lines } = this.grouped
    while (this.at < order.length && identityIds[this.at]! < id) this.at += 1
    const rows: CopyOutRow[] = []
    while (this.at < order.length && identityIds[this.at] === id) rows.push(lineFields(lines, order[this.at++]!))
    return rows
  }
}

function credentialOf(row: CopyOutRow): CredentialInput {
  const [, id, externalId, type, status, created, expires, lastUsed, lastUsedKnown, rotated, rotationEnabled, isStatic] = row
  return {
    id: Number(id),
    externalId: externalId!,
    type: type!,
    status: status as CredentialInput['status'],
    createdAt: dateOf(created),
    expiresAt: dateOf(expires),
    lastUsedAt: dateOf(lastUsed),
    lastUsedKnown: lastUsedKnown === 't',
    lastRotatedAt: dateOf(rotated),
    rotationEnabled: booleanOf(rotationEnabled),
    isStatic: isStatic === 't',
  }
}

/** A grant, or null for an access level Leash does not know. */
function entitlementOf(row: CopyOutRow): IdentityInput['entitlements'][number] | null {
  const [, , action, resource, accessLevel, sourceKind, sourceRef, conditional] = row
  if (!ACCESS.has(accessLevel!)) return null
  return {
    action: action!,
    resource: resource!,
    accessLevel: accessLevel as AccessLevel,
    sourceKind: sourceKind!,
    sourceRef: sourceRef!,
    conditional: conditional === 't',
  }
}

function ownerOf(row: CopyOutRow): OwnerHintInput {
  const [, ref, role, kind, source, displayName, active, canAddCredentials] = row
  return {
    ref: ref!,
    role: role as OwnerHintInput['role'],
    kind: kind as OwnerHintInput['kind'],
    source: source as OwnerHintInput['source'],
    displayName: displayName ?? null,
    active: booleanOf(active),
    canAddCredentials: canAddCredentials === 't',
  }
}

function claimOf(row: CopyOutRow): ClaimInput {
  const [, kind, userRef, displayName, disabled, decided] = row
  return {
    kind: kind as ClaimInput['kind'],
    userRef: userRef!,
    displayName: displayName!,
    disabled: disabled === 't',
    decidedAt: dateOf(decided),
  }
}

function existingFindingOf(row: CopyOutRow): ExistingFinding {
  const [, id, ruleId, subjectKey, status, accepted, credentialId, dimension, severity, nhi, evidence] = row
  return {
    id: Number(id),
    ruleId: ruleId!,
    subjectKey: subjectKey!,
    status: status as ExistingFinding['status'],
    acceptedUntil: numberOf(accepted),
    credentialId: numberOf(credentialId),
    dimension: dimension!,
    severity: severity!,
    nhi: nhi ?? null,
    evidenceJson: evidence!,
  }
}

/** A COPY field holding milliseconds since the epoch (see ms), or NULL. */
const dateOf = (field: string | null | undefined): Date | null => (field === null || field === undefined ? null : new Date(Number(field)))
const booleanOf = (field: string | null | undefined): boolean | null => (field === null || field === undefined ? null : field === 't')
const numberOf = (field: string | null | undefined): number | null => (field === null || field === undefined ? null : Number(field))
const jsonOf = (field: string | null | undefined): unknown => (field === null || field === undefined ? null : JSON.parse(field))

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

/** A row of identitiesIn as it comes from COPY. */
function toLoaded(row: CopyOutRow): LoadedIdentity {
  const [id, xmin, sourceId, provider, kind, externalId, displayName, accountId, tags, status, created, lastUsed, lastUsedKnown] = row
  const [
    posture,
    agentReasons,
    agentOverride,
    classifiedIsAgent,
    needsScoring,
    isAgent,
    confidence,
    platform,
    ownerRef,
    ownerKind,
    ownerSource,
    ownerStatus,
  ] = row.slice(13)
  const [risk, ownership, privilege, credentialAge, monitoring, maxAccessLevel, credentialCount, oldestCredential] = row.slice(25)
  return {
    xmin: xmin!,
    previousClassifiedIsAgent: classifiedIsAgent === 't',
    scoredBefore: false,
    storedBreakdown: null,
    stored: {
      needsScoring: needsScoring === 't',
      isAgent: isAgent === 't',
      agentConfidence: numberOf(confidence),
      agentPlatform: platform ?? null,
      ownerRef: ownerRef ?? null,
      ownerKind: ownerKind ?? null,
      ownerSource: ownerSource ?? null,
      ownerStatus: ownerStatus ?? null,
      risk: numberOf(risk),
      ownership: numberOf(ownership),
      privilege: numberOf(privilege),
      credentialAge: numberOf(credentialAge),
      monitoring: numberOf(monitoring),
      maxAccessLevel: maxAccessLevel ?? null,
      credentialCount: numberOf(credentialCount),
      oldestCredentialAt: numberOf(oldestCredential),
    },
    existing: [],
    identity: {
      id: Number(id),
      sourceId: sourceId!,
      provider: provider!,
      kind: kind!,
      externalId: externalId!,
      displayName: displayName!,
      accountId: accountId!,
      tags: (jsonOf(tags) ?? {}) as Record<string, string>,
      status: status as IdentityInput['status'],
      createdAt: dateOf(created),
      lastUsedAt: dateOf(lastUsed),
      lastUsedKnown: lastUsedKnown === 't',
      credentials: [],
      entitlements: [],
      maxAccessLevel: null,
      owners: [],
      claim: null,
      agentSignals: array<AgentSignal>(jsonOf(agentReasons)),
      agentOverride: agentOverride as 'agent' | 'not_agent' | null,
      posture: parsePostureInputs(jsonOf(posture) as Record<string, unknown> | null),
    },
  }
}
