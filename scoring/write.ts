/**
 * Writes what a scoring batch decided, in one transaction per batch: new findings, findings
 * seen again (reopened when they had been resolved), findings to resolve, score breakdowns,
 * the score columns of identities, and classification changes.
 *
 * The common case — findings and scores the database does not hold yet — goes in with COPY,
 * which is several times cheaper for PostgreSQL than INSERT … ON CONFLICT over a JSON document
 * (docs/decisions/029-scoring-write-path.md). A scorer running at the same moment for the same
 * identity (a claim rescoring one identity while a pass runs) can make a COPY hit a unique key;
 * the batch is then rolled back and written again with upserts from staging tables, which are
 * correct whatever else is written meanwhile.
 *
 * A batch is encoded to binary COPY rows as the pass decides it (BatchEncoder), before it
 * waits for a connection: a batch in flight is then a few buffers, not tens of thousands of
 * small objects that every young-generation collection would copy (docs/decisions/032, 040);
 * binary spares PostgreSQL parsing numbers and timestamps back from text (docs/decisions/047).
 */
import type pg from 'pg'
import { BinaryCopyBuffer, fieldBlock } from '../jobs/ingest/binary-copy.js'
import { copyRows } from '../jobs/ingest/copy.js'
import type { FindingRef } from './types.js'

/** A finding as the pass produced it. */
export interface FindingRow {
  identityId: number
  credentialId: number | null
  subjectKey: string
  ruleId: string
  dimension: string
  severity: string
  nhi: string | null
  status: string
  evidence: unknown
  /** The evidence as JSON text, when the pass already made it (to compare with what is stored). */
  evidenceJson?: string
}

export interface ScoredIdentity {
  id: number
  /** The posture row's version (xmin) when the pass read the identity. */
  xmin: string
  classifiedIsAgent: boolean
  agentConfidence: number
  agentPlatform: string | null
  ownerRef: string | null
  ownerKind: string | null
  ownerSource: string | null
  ownerStatus: string
  risk: number
  ownership: number
  privilege: number
  credentialAge: number
  monitoring: number
  maxAccessLevel: string | null
  credentialCount: number
  oldestCredentialAt: Date | null
}

export interface BatchPlan {
  /** Findings with no row yet (by identity, rule and subject). */
  newFindings: FindingRow[]
  /** Findings that have a row (open, accepted, unknown or resolved) and changed: updated by id. */
  seenFindings: (FindingRow & { id: number })[]
  /** Stored findings the pass no longer produced. */
  resolved: FindingRef[]
  scores: { identityId: number; risk: number; breakdown: Record<string, unknown>; breakdownJson?: string }[]
  /** Identities that already have a row in identity_scores. */
  rescoredIds: number[]
  /** Identities whose stored breakdown is still right: only their computed_at moves on. */
  touchedScoreIds: number[]
  /** The score columns of each identity, with the row version read (see IDENTITY_UPDATE). */
  identities: ScoredIdentity[]
  changes: { identityId: number; sourceId: string; details: Record<string, unknown> }[]
}

const UNIQUE_VIOLATION = '23505'

/** A batch as it goes to PostgreSQL: binary COPY rows and id lists, nothing left to take apart. */
export interface EncodedBatch {
  /** Rows for FINDING_COLUMNS. */
  newFindings: BinaryCopyBuffer
  /** Rows for SEEN_STAGE: the finding's id, then FINDING_COLUMNS. */
  seenFindings: BinaryCopyBuffer
  /** Findings to resolve, as the parallel arrays FINDING_RESOLVE takes. */
  resolved: { identityIds: number[]; findingIds: number[] }
  /** Rows for SCORE_COLUMNS. */
  scores: BinaryCopyBuffer
  rescoredIds: number[]
  touchedScoreIds: number[]
  /** Rows for the identity staging table (IDENTITY_STAGE_SHAPE). */
  identities: BinaryCopyBuffer
  /** Classification changes as a JSON document for CHANGES_INSERT, or null when none. */
  changes: string | null
  /**
   * When the settings the batch was assessed with were read (PassContext.settingsReadAt): its
   * score writes clear a reassessment mark made before then and keep a later one. '-infinity'
   * (unknown) keeps every mark.
   */
  settingsReadAt: string
}

/**
 * In the order the binary rows are written: what differs from one finding to the next first,
 * then the fields every finding of a rule and status shares in a batch (the rule's columns and
 * the pass's time), which BatchEncoder encodes once and copies in.
 */
const FINDING_COLUMNS = [
  'identity_id',
  'credential_id',
  'subject_key',
  'evidence',
  'rule_id',
  'dimension',
  'severity',
  'nhi',
  'status',
  'first_seen_at',
  'last_seen_at',
] as const
const SCORE_COLUMNS = ['identity_id', 'risk_score', 'breakdown', 'computed_at'] as const

/**
 * Session-local staging tables that empty at commit: the identity score columns go through one
 * on every batch; findings and scores only when they must be upserted.
 */
const FINDING_STAGE = 'leash_scored_findings'
const SEEN_STAGE = 'leash_seen_findings'
const SCORE_STAGE = 'leash_scored_breakdowns'
const IDENTITY_STAGE = 'leash_scored_identities'
/** Column name and type, in the order the COPY rows are written. */
const IDENTITY_STAGE_SHAPE = [
  ['id', 'int8'],
  ['x', 'xid'],
  ['ca', 'boolean'],
  ['cf', 'real'],
  ['pl', 'text'],
  ['own_ref', 'text'],
  ['own_kind', 'text'],
  ['own_source', 'text'],
  ['st', 'text'],
  ['rk', 'int2'],
  ['so', 'int2'],
  ['sp', 'int2'],
  ['sc', 'int2'],
  ['sm', 'int2'],
  ['ml', 'text'],
  ['cc', 'int4'],
  ['oc', 'timestamptz'],
] as const
const IDENTITY_STAGE_COLUMNS = IDENTITY_STAGE_SHAPE.map(([name]) => name)
const STAGE_CREATE = [
  `create temp table if not exists ${IDENTITY_STAGE} (${IDENTITY_STAGE_SHAPE.map(([name, type]) => `${name} ${type}`).join(', ')}) on commit delete rows`,
  // Same columns and types as the real tables, without their defaults, keys or checks: the
  // upsert into the real table applies those.
  `create temp table if not exists ${FINDING_STAGE} on commit delete rows as select ${FINDING_COLUMNS.join(', ')} from findings with no data`,
  `create temp table if not exists ${SEEN_STAGE} on commit delete rows as select id, ${FINDING_COLUMNS.join(', ')} from findings with no data`,
  `create temp table if not exists ${SCORE_STAGE} on commit delete rows as select ${SCORE_COLUMNS.join(', ')} from identity_scores with no data`,
]
/** Pooled connections that already have the staging tables (they live as long as the session). */
const staged = new WeakSet<pg.PoolClient>()

/**
 * How a finding seen again updates its row `f` from the new values in `from`. $1: now. An
 * accepted finding stays accepted until its date; a resolved one that came back opens again
 * with a new first_seen_at (its time to remediate restarts).
 */
const findingSeenAgain = (from: string) => `
    credential_id = ${from}.credential_id,
    dimension = ${from}.dimension,
    severity = ${from}.severity,
    nhi = ${from}.nhi,
    evidence = ${from}.evidence,
    last_seen_at = ${from}.last_seen_at,
    status = case when f.status = 'accepted' and f.accepted_until > $1 then 'accepted' else ${from}.status end,
    first_seen_at = case when f.status = 'resolved' then ${from}.first_seen_at else f.first_seen_at end,
    resolved_at = null`

const FINDING_UPSERT = `
  insert into findings as f (${FINDING_COLUMNS.join(', ')})
  select ${FINDING_COLUMNS.join(', ')} from ${FINDING_STAGE}
  on conflict (identity_id, rule_id, subject_key) do update set ${findingSeenAgain('excluded')}`

/**
 * What a score write leaves of a reassessment mark on row `s` (docs/decisions/037): the mark
 * stays if it was made after the batch's settings were read ($param), as a pass that was
 * running with the old limits must leave the identity for the next one.
 */
const reassessKept = (row: string, param: string) =>
  `case when ${row}.reassess_after > ${param}::timestamptz then ${row}.reassess_after end`

// An unchanged breakdown keeps its row (and its TOASTed text): only the time it was confirmed moves.
const SCORE_TOUCH = `update identity_scores as s set computed_at = $2, reassess_after = ${reassessKept('s', '$3')} where identity_id = any($1::int8[])`

// A changed breakdown is a new row (COPY); a mark made after the settings were read ($2) is
// handed back to be set on it again (SCORE_MARKS_RESTORE).
const SCORE_DELETE = `
  with gone as (delete from identity_scores where identity_id = any($1::int8[]) returning identity_id, reassess_after)
  select identity_id, reassess_after::text from gone where reassess_after > $2::timestamptz`
const SCORE_MARKS_RESTORE = `
  update identity_scores as s set reassess_after = k.t
  from unnest($1::int8[], $2::timestamptz[]) as k(id, t) where s.identity_id = k.id`

// A finding seen again that changed, by its key and id: an UPDATE never inserts, so it cannot
// leave a row behind for an identity deleted meanwhile (the posture row need not be locked for it).
const SEEN_FINDING_UPDATE = `
  update findings as f set ${findingSeenAgain('u')}
  from ${SEEN_STAGE} as u
  where f.identity_id = u.identity_id and f.rule_id = u.rule_id and f.subject_key = u.subject_key and f.id = u.id`

// By identity and id: the identity leads the primary key (docs/decisions/046), the id picks its row.
const FINDING_RESOLVE = `
  update findings as f set status = 'resolved', resolved_at = $3
  from unnest($1::int8[], $2::int8[]) as k(identity_id, id)
  where f.identity_id = k.identity_id and f.id = k.id and f.status <> 'resolved'`

const SCORE_UPSERT = `
  insert into identity_scores as s (${SCORE_COLUMNS.join(', ')})
  select ${SCORE_COLUMNS.join(', ')} from ${SCORE_STAGE}
  on conflict (identity_id) do update set risk_score = excluded.risk_score, breakdown = excluded.breakdown, computed_at = excluded.computed_at,
    reassess_after = ${reassessKept('s', '$1')}`

// The row version guard: if anything flagged the identity after the pass read it (ingest, a
// claim, a decision: every such write gives the posture row a new version), it stays flagged for
// the next pass. Only the narrow posture row is written (docs/decisions/043).
const IDENTITY_UPDATE = `
  update identity_posture as p set
    classified_is_agent = x.ca,
    agent_confidence = x.cf,
    agent_platform = x.pl,
    is_agent = case p.agent_override when 'agent' then true when 'not_agent' then false else x.ca end,
    owner_ref = x.own_ref,
    owner_kind = x.own_kind,
    owner_source = x.own_source,
    owner_status = x.st,
    risk_score = x.rk,
    score_ownership = x.so,
    score_privilege = x.sp,
    score_credential_age = x.sc,
    score_monitoring = x.sm,
    max_access_level = x.ml,
    credential_count = x.cc,
    oldest_credential_at = x.oc,
    needs_scoring = not (p.xmin = x.x)
  from ${IDENTITY_STAGE} as x
  where p.identity_id = x.id`

const DELETE_ROWS_OF_DELETED_IDENTITIES = `
  with gone as (select x.id from ${IDENTITY_STAGE} as x where not exists (select 1 from identity_posture p where p.identity_id = x.id)),
  findings_gone as (delete from findings f using gone where f.identity_id = gone.id)
  delete from identity_scores s using gone where s.identity_id = gone.id`

const CHANGES_INSERT = `
  insert into identity_changes (identity_id, source_id, change_type, details, occurred_at)
  select x.i, x.s, 'agent_classification_changed', x.d, $2
  from json_to_recordset($1::json) as x(i int8, s uuid, d jsonb)
  where exists (select 1 from identity_records r where r.id = x.i)`

/**
 * Where planning a batch puts what it decided, one row at a time: a BatchPlan that collects
 * the rows (for tests and callers that look at them), or a BatchEncoder that turns each into
 * COPY text at once, so a finding's objects die while the next identity is assessed instead of
 * waiting for the whole batch in the young generation (docs/decisions/040).
 */
export interface PlanSink {
  newFinding(row: FindingRow): void
  seenFinding(row: FindingRow & { id: number }): void
  resolve(finding: FindingRef): void
  score(score: BatchPlan['scores'][number], scoredBefore: boolean): void
  touchScore(identityId: number): void
  identity(posture: ScoredIdentity): void
  change(change: BatchPlan['changes'][number]): void
}

export function emptyPlan(): BatchPlan {
  return { newFindings: [], seenFindings: [], resolved: [], scores: [], rescoredIds: [], touchedScoreIds: [], identities: [], changes: [] }
}

/** A sink that collects the rows into `plan`. */
export function collectInto(plan: BatchPlan): PlanSink {
  return {
    newFinding: (row) => plan.newFindings.push(row),
    seenFinding: (row) => plan.seenFindings.push(row),
    resolve: (finding) => plan.resolved.push(finding),
    score: (score, scoredBefore) => {
      plan.scores.push(score)
      if (scoredBefore) plan.rescoredIds.push(score.identityId)
    },
    touchScore: (id) => plan.touchedScoreIds.push(id),
    identity: (posture) => plan.identities.push(posture),
    change: (change) => plan.changes.push(change),
  }
}

/**
 * Encodes a batch row by row into binary COPY rows and id lists. `settingsReadAt`: see EncodedBatch.
 */
export class BatchEncoder implements PlanSink {
  private readonly nowMs: number
  /** The pass's time as a timestamptz field, and twice (first and last seen). */
  private readonly stamp: Buffer
  private readonly stampTwice: Buffer
  /** Per rule: the fields from rule_id to last_seen_at of its findings, by what they hold. */
  private readonly ruleBlocks = new Map<string, RuleBlock[]>()
  private readonly batch: EncodedBatch
  private readonly changes: { i: number; s: string; d: Record<string, unknown> }[] = []

  constructor(now: Date, settingsReadAt = '-infinity') {
    this.nowMs = now.getTime()
    this.stamp = fieldBlock((fields) => fields.timestamptz(this.nowMs))
    this.stampTwice = Buffer.concat([this.stamp, this.stamp])
    this.batch = {
      newFindings: new BinaryCopyBuffer(),
      seenFindings: new BinaryCopyBuffer(),
      resolved: { identityIds: [], findingIds: [] },
      scores: new BinaryCopyBuffer(),
      rescoredIds: [],
      touchedScoreIds: [],
      identities: new BinaryCopyBuffer(),
      changes: null,
      settingsReadAt,
    }
  }

  newFinding(row: FindingRow): void {
    this.findingFields(this.batch.newFindings.row(FINDING_COLUMNS.length), row)
  }

  seenFinding(row: FindingRow & { id: number }): void {
    this.findingFields(this.batch.seenFindings.row(FINDING_COLUMNS.length + 1).int8(row.id), row)
  }

  resolve(finding: FindingRef): void {
    this.batch.resolved.identityIds.push(finding.identityId)
    this.batch.resolved.findingIds.push(finding.findingId)
  }

  score(score: BatchPlan['scores'][number], scoredBefore: boolean): void {
    this.batch.scores
      .row(SCORE_COLUMNS.length)
      .int8(score.identityId)
      .int2(score.risk)
      .text(score.breakdownJson ?? jsonText(score.breakdown))
      .block(this.stamp)
    if (scoredBefore) this.batch.rescoredIds.push(score.identityId)
  }

  touchScore(identityId: number): void {
    this.batch.touchedScoreIds.push(identityId)
  }

  identity(i: ScoredIdentity): void {
    this.batch.identities
      .row(IDENTITY_STAGE_SHAPE.length)
      .int8(i.id)
      .xid(Number(i.xmin))
      .bool(i.classifiedIsAgent)
      .float4(i.agentConfidence)
      .text(i.agentPlatform)
      .text(i.ownerRef)
      .text(i.ownerKind)
      .text(i.ownerSource)
      .text(i.ownerStatus)
      .int2(i.risk)
      .int2(i.ownership)
      .int2(i.privilege)
      .int2(i.credentialAge)
      .int2(i.monitoring)
      .text(i.maxAccessLevel)
      .int4(i.credentialCount)
      .timestamptz(i.oldestCredentialAt?.getTime() ?? null)
  }

  change(change: BatchPlan['changes'][number]): void {
    this.changes.push({ i: change.identityId, s: change.sourceId, d: change.details })
  }

  finish(): EncodedBatch {
    if (this.changes.length > 0) this.batch.changes = JSON.stringify(this.changes)
    return this.batch
  }

  /** FINDING_COLUMNS of one finding, after the row's start (and the id of a seen finding). */
  private findingFields(fields: BinaryCopyBuffer, f: FindingRow): void {
    fields
      .int8(f.identityId)
      .int8(f.credentialId)
      .text(f.subjectKey)
      .text(f.evidenceJson ?? jsonText(f.evidence))
      .block(this.ruleBlock(f))
  }

  /** rule_id to last_seen_at of a finding: the same for every finding of its rule and status in the batch. */
  private ruleBlock(f: FindingRow): Buffer {
    let blocks = this.ruleBlocks.get(f.ruleId)
    if (blocks === undefined) this.ruleBlocks.set(f.ruleId, (blocks = []))
    for (const block of blocks)
      if (block.status === f.status && block.dimension === f.dimension && block.severity === f.severity && block.nhi === f.nhi) return block.bytes
    const bytes = fieldBlock((fields) => fields.text(f.ruleId).text(f.dimension).text(f.severity).text(f.nhi).text(f.status).block(this.stampTwice))
    blocks.push({ status: f.status, dimension: f.dimension, severity: f.severity, nhi: f.nhi, bytes })
    return bytes
  }
}

interface RuleBlock {
  status: string
  dimension: string
  severity: string
  nhi: string | null
  bytes: Buffer
}

/** A json field's text: SQL NULL when the value has no JSON form (undefined), as COPY text wrote it. */
const jsonText = (value: unknown): string | null => JSON.stringify(value ?? null) ?? null

/** Turns a collected plan into what goes over the wire. `settingsReadAt`: see EncodedBatch. */
export function encodeBatch(plan: BatchPlan, now: Date, settingsReadAt = '-infinity'): EncodedBatch {
  const encoder = new BatchEncoder(now, settingsReadAt)
  for (const row of plan.newFindings) encoder.newFinding(row)
  for (const row of plan.seenFindings) encoder.seenFinding(row)
  for (const finding of plan.resolved) encoder.resolve(finding)
  for (const score of plan.scores) encoder.score(score, false)
  for (const id of plan.touchedScoreIds) encoder.touchScore(id)
  for (const posture of plan.identities) encoder.identity(posture)
  for (const change of plan.changes) encoder.change(change)
  const encoded = encoder.finish()
  encoded.rescoredIds.push(...plan.rescoredIds)
  return encoded
}

/** Writes one batch; COPY first, upserts if a concurrent scorer got there first. */
export async function writeBatch(pool: pg.Pool, plan: BatchPlan, now: Date, settingsReadAt?: string): Promise<void> {
  await writeEncodedBatch(pool, encodeBatch(plan, now, settingsReadAt), now)
}

export async function writeEncodedBatch(pool: pg.Pool, batch: EncodedBatch, now: Date): Promise<void> {
  const client = await pool.connect()
  let broken = false
  try {
    // Outside the batch's transaction, so a rolled-back batch cannot take the tables with it.
    if (!staged.has(client)) {
      for (const statement of STAGE_CREATE) await client.query(statement)
      staged.add(client)
    }
    try {
      await inTransaction(client, () => writeWithCopy(client, batch, now))
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error
      await inTransaction(client, () => writeWithUpserts(client, batch, now))
    }
  } catch (error) {
    // A connection that failed mid-COPY may be unusable: let the pool discard it.
    broken = true
    throw error
  } finally {
    client.release(broken)
  }
}

async function inTransaction(client: pg.PoolClient, work: () => Promise<void>): Promise<void> {
  await client.query('begin')
  try {
    // Safe without waiting for the WAL flush: everything a batch writes is derived, in one
    // transaction with the needs_scoring reset, so a crash can only leave the batch flagged.
    await client.query('set local synchronous_commit = off')
    await work()
    await client.query('commit')
  } catch (error) {
    await client.query('rollback').catch(() => {})
    throw error
  }
}

async function writeWithCopy(client: pg.PoolClient, batch: EncodedBatch, now: Date): Promise<void> {
  await copyRows(client, 'findings', FINDING_COLUMNS, batch.newFindings)
  await updateSeenFindings(client, batch.seenFindings, now)
  await writeCommon(client, batch, now, async () => {
    const kept = batch.rescoredIds.length > 0 ? (await client.query<{ identity_id: string; reassess_after: string }>(SCORE_DELETE, [batch.rescoredIds, batch.settingsReadAt])).rows : []
    await copyRows(client, 'identity_scores', SCORE_COLUMNS, batch.scores)
    if (kept.length > 0) await client.query(SCORE_MARKS_RESTORE, [kept.map((row) => row.identity_id), kept.map((row) => row.reassess_after)])
  })
}

async function writeWithUpserts(client: pg.PoolClient, batch: EncodedBatch, now: Date): Promise<void> {
  await upsertFindings(client, batch.newFindings, now)
  await updateSeenFindings(client, batch.seenFindings, now)
  await writeCommon(client, batch, now, async () => {
    await copyRows(client, SCORE_STAGE, SCORE_COLUMNS, batch.scores)
    await client.query(SCORE_UPSERT, [batch.settingsReadAt])
  })
}

async function upsertFindings(client: pg.PoolClient, rows: BinaryCopyBuffer, now: Date): Promise<void> {
  if (rows.length === 0) return
  await copyRows(client, FINDING_STAGE, FINDING_COLUMNS, rows)
  await client.query(FINDING_UPSERT, [now])
}

async function updateSeenFindings(client: pg.PoolClient, rows: BinaryCopyBuffer, now: Date): Promise<void> {
  if (rows.length === 0) return
  // The stage empties at commit; a batch retried with upserts after a rollback finds it empty.
  await copyRows(client, SEEN_STAGE, ['id', ...FINDING_COLUMNS], rows)
  await client.query(SEEN_FINDING_UPDATE, [now])
}

/** Resolutions, scores (written by `writeScores`), identity columns and changes. */
async function writeCommon(client: pg.PoolClient, batch: EncodedBatch, now: Date, writeScores: () => Promise<void>): Promise<void> {
  const { resolved } = batch
  if (resolved.findingIds.length > 0) await client.query(FINDING_RESOLVE, [resolved.identityIds, resolved.findingIds, now])
  if (batch.scores.length > 0) await writeScores()
  if (batch.touchedScoreIds.length > 0) await client.query(SCORE_TOUCH, [batch.touchedScoreIds, now, batch.settingsReadAt])
  if (batch.identities.length > 0) {
    await copyRows(client, IDENTITY_STAGE, IDENTITY_STAGE_COLUMNS, batch.identities)
    const updated = await client.query(IDENTITY_UPDATE)
    // Findings and scores have no foreign key to identities (docs/decisions/031): the update
    // has locked every identity still there, so rows written for one deleted meanwhile go now.
    if ((updated.rowCount ?? 0) < batch.identities.length) await client.query(DELETE_ROWS_OF_DELETED_IDENTITIES)
  }
  if (batch.changes !== null) await client.query(CHANGES_INSERT, [batch.changes, now])
}
