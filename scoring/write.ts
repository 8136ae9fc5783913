/**
 * Writes what a scoring batch decided, in one transaction per batch: new findings, findings
 * seen again (reopened when they had been resolved), findings to resolve, score breakdowns,
 * the score columns of identities, and classification changes.
 *
 * The common case — findings and scores the database does not hold yet — goes in with COPY,
 * which is several times cheaper for PostgreSQL than INSERT … ON CONFLICT over a JSON document
 * (docs/decisions/029-scoring-write-path.md). A scorer running at the same moment for the same
 * identity (a claim rescoring one identity while a pass runs) can make a COPY hit a unique key;
 * the batch is then rolled back and written again with upserts, which are correct whatever
 * else is written meanwhile.
 */
import type pg from 'pg'
import { copyField, copyJson, copyRows, CopyBuffer } from '../jobs/ingest/copy.js'

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
}

export interface ScoredIdentity {
  id: number
  /** The row version (xmin) when the pass read the identity. */
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
  /** Findings that have a row (open, accepted, unknown or resolved): updated in place. */
  seenFindings: FindingRow[]
  /** Stored findings the pass no longer produced. */
  resolveIds: number[]
  scores: { identityId: number; risk: number; breakdown: Record<string, unknown> }[]
  /** Identities that already have a row in identity_scores. */
  rescoredIds: number[]
  /** The score columns of each identity, with the row version read (see IDENTITY_UPDATE). */
  identities: ScoredIdentity[]
  changes: { identityId: number; sourceId: string; details: Record<string, unknown> }[]
}

const UNIQUE_VIOLATION = '23505'

const FINDING_COLUMNS = [
  'identity_id',
  'credential_id',
  'subject_key',
  'rule_id',
  'dimension',
  'severity',
  'nhi',
  'status',
  'evidence',
  'first_seen_at',
  'last_seen_at',
] as const

// $1: rows as JSON; $2: now. An accepted finding stays accepted until its date; a resolved
// one that came back opens again with a new first_seen_at (its time to remediate restarts).
const FINDING_UPSERT = `
  insert into findings as f (identity_id, credential_id, subject_key, rule_id, dimension, severity, nhi, status, evidence, first_seen_at, last_seen_at)
  select x.i, x.c, x.s, x.r, x.d, x.v, x.n, x.t, x.e, $2, $2
  from json_to_recordset($1::json) as x(i int8, c int8, s text, r text, d text, v text, n text, t text, e jsonb)
  on conflict (identity_id, rule_id, subject_key) do update set
    credential_id = excluded.credential_id,
    dimension = excluded.dimension,
    severity = excluded.severity,
    nhi = excluded.nhi,
    evidence = excluded.evidence,
    last_seen_at = excluded.last_seen_at,
    status = case when f.status = 'accepted' and f.accepted_until > $2 then 'accepted' else excluded.status end,
    first_seen_at = case when f.status = 'resolved' then excluded.first_seen_at else f.first_seen_at end,
    resolved_at = null`

const FINDING_RESOLVE = `update findings set status = 'resolved', resolved_at = $2 where id = any($1::int8[]) and status <> 'resolved'`

const SCORE_UPSERT = `
  insert into identity_scores as s (identity_id, risk_score, breakdown, computed_at)
  select x.i, x.r, x.b, $2
  from json_to_recordset($1::json) as x(i int8, r int2, b json)
  on conflict (identity_id) do update set risk_score = excluded.risk_score, breakdown = excluded.breakdown, computed_at = excluded.computed_at`

// The score columns of the batch's identities, COPYed into a session-local table that empties
// at commit: cheaper for PostgreSQL than taking them apart from a JSON document.
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
const IDENTITY_STAGE_CREATE = `create temp table if not exists ${IDENTITY_STAGE} (${IDENTITY_STAGE_SHAPE.map(([name, type]) => `${name} ${type}`).join(', ')}) on commit delete rows`
/** Pooled connections that already have the staging table (it lives as long as the session). */
const staged = new WeakSet<pg.PoolClient>()

// The row version guard: if ingest changed the identity after the pass read it, the identity
// stays flagged for the next pass.
const IDENTITY_UPDATE = `
  update identities as i set
    classified_is_agent = x.ca,
    agent_confidence = x.cf,
    agent_platform = x.pl,
    is_agent = case i.agent_override when 'agent' then true when 'not_agent' then false else x.ca end,
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
    needs_scoring = not (i.xmin = x.x)
  from ${IDENTITY_STAGE} as x
  where i.id = x.id`

const DELETE_ROWS_OF_DELETED_IDENTITIES = `
  with gone as (select x.id from ${IDENTITY_STAGE} as x where not exists (select 1 from identities i where i.id = x.id)),
  findings_gone as (delete from findings f using gone where f.identity_id = gone.id)
  delete from identity_scores s using gone where s.identity_id = gone.id`

const CHANGES_INSERT = `
  insert into identity_changes (identity_id, source_id, change_type, details, occurred_at)
  select x.i, x.s, 'agent_classification_changed', x.d, $2
  from json_to_recordset($1::json) as x(i int8, s uuid, d jsonb)
  where exists (select 1 from identities i where i.id = x.i)`

/** Writes one batch; COPY first, upserts if a concurrent scorer got there first. */
export async function writeBatch(pool: pg.Pool, plan: BatchPlan, now: Date): Promise<void> {
  const client = await pool.connect()
  let broken = false
  try {
    // Outside the batch's transaction, so a rolled-back batch cannot take the table with it.
    if (!staged.has(client)) {
      await client.query(IDENTITY_STAGE_CREATE)
      staged.add(client)
    }
    try {
      await inTransaction(client, () => writeWithCopy(client, plan, now))
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error
      await inTransaction(client, () => writeWithUpserts(client, plan, now))
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

async function writeWithCopy(client: pg.PoolClient, plan: BatchPlan, now: Date): Promise<void> {
  const stamp = now.toISOString()
  if (plan.newFindings.length > 0) {
    const rows = new CopyBuffer()
    for (const f of plan.newFindings) {
      rows.row([
        String(f.identityId),
        copyField(f.credentialId),
        copyField(f.subjectKey),
        f.ruleId,
        f.dimension,
        f.severity,
        copyField(f.nhi),
        f.status,
        copyJson(f.evidence),
        stamp,
        stamp,
      ])
    }
    await copyRows(client, 'findings', FINDING_COLUMNS, rows)
  }
  // Findings seen again are few outside a first pass: the upsert updates them in place.
  if (plan.seenFindings.length > 0) await client.query(FINDING_UPSERT, [findingsDocument(plan.seenFindings), now])
  await writeCommon(client, plan, now, async () => {
    if (plan.rescoredIds.length > 0)
      await client.query('delete from identity_scores where identity_id = any($1::int8[])', [plan.rescoredIds])
    const rows = new CopyBuffer()
    for (const s of plan.scores) rows.row([String(s.identityId), String(s.risk), copyJson(s.breakdown), stamp])
    await copyRows(client, 'identity_scores', ['identity_id', 'risk_score', 'breakdown', 'computed_at'], rows)
  })
}

async function writeWithUpserts(client: pg.PoolClient, plan: BatchPlan, now: Date): Promise<void> {
  const findings = [...plan.newFindings, ...plan.seenFindings]
  if (findings.length > 0) await client.query(FINDING_UPSERT, [findingsDocument(findings), now])
  await writeCommon(client, plan, now, async () => {
    if (plan.scores.length === 0) return
    const rows = plan.scores.map((s) => ({ i: s.identityId, r: s.risk, b: s.breakdown }))
    await client.query(SCORE_UPSERT, [JSON.stringify(rows), now])
  })
}

function findingsDocument(findings: FindingRow[]): string {
  return JSON.stringify(
    findings.map((f) => ({
      i: f.identityId,
      c: f.credentialId,
      s: f.subjectKey,
      r: f.ruleId,
      d: f.dimension,
      v: f.severity,
      n: f.nhi,
      t: f.status,
      e: f.evidence,
    })),
  )
}

/** Resolutions, scores (written by `writeScores`), identity columns and changes. */
async function writeCommon(client: pg.PoolClient, plan: BatchPlan, now: Date, writeScores: () => Promise<void>): Promise<void> {
  if (plan.resolveIds.length > 0) await client.query(FINDING_RESOLVE, [plan.resolveIds, now])
  if (plan.scores.length > 0) await writeScores()
  if (plan.identities.length > 0) {
    const rows = new CopyBuffer()
    for (const i of plan.identities) {
      rows.row([
        String(i.id),
        i.xmin,
        copyField(i.classifiedIsAgent),
        String(i.agentConfidence),
        copyField(i.agentPlatform),
        copyField(i.ownerRef),
        copyField(i.ownerKind),
        copyField(i.ownerSource),
        i.ownerStatus,
        String(i.risk),
        String(i.ownership),
        String(i.privilege),
        String(i.credentialAge),
        String(i.monitoring),
        copyField(i.maxAccessLevel),
        String(i.credentialCount),
        copyField(i.oldestCredentialAt),
      ])
    }
    await copyRows(client, IDENTITY_STAGE, IDENTITY_STAGE_COLUMNS, rows)
    const updated = await client.query(IDENTITY_UPDATE)
    // Findings and scores have no foreign key to identities (docs/decisions/031): the update
    // has locked every identity still there, so rows written for one deleted meanwhile go now.
    if ((updated.rowCount ?? 0) < plan.identities.length) await client.query(DELETE_ROWS_OF_DELETED_IDENTITIES)
  }
  if (plan.changes.length > 0) {
    const rows = plan.changes.map((c) => ({ i: c.identityId, s: c.sourceId, d: c.details }))
    await client.query(CHANGES_INSERT, [JSON.stringify(rows), now])
  }
}
