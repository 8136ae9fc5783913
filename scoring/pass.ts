/**
 * The scoring pass: identities flagged needs_scoring (or given ids) are read in keyset batches,
 * assessed in memory (scoring/assess.ts), and written back set-based: one statement per table
 * per batch, rows passed as one JSON document (json_to_recordset), each batch in a transaction.
 * The next batch is read while the current one is written, so PostgreSQL and Node overlap.
 * Memory is bounded by two batches, whatever the size of the estate.
 */
import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/schema.js'
import { assessIdentity, findingKey, type Assessment } from './assess.js'
import { fetchIdentitiesById, fetchPendingBatch, loadPassContext, type LoadedIdentity, type PassContext } from './load.js'

export const BATCH_SIZE = 2000

export interface ScoreOptions {
  signal?: AbortSignal
  /** `total` is the number flagged when the pass started (identities flagged later wait for the next pass). */
  onProgress?: (scored: number, total: number) => void
  now?: Date
  batchSize?: number
}

/** Flags identities whose accepted findings reached their accepted-until date, so they reopen. */
export async function flagExpiredAcceptances(db: Kysely<Database>, now: Date): Promise<number> {
  const result = await sql`
    update identities set needs_scoring = true
    where not needs_scoring and id in (select identity_id from findings where status = 'accepted' and accepted_until <= ${now})`.execute(db)
  return Number(result.numAffectedRows ?? 0)
}

export async function scorePendingIdentities(db: Kysely<Database>, options: ScoreOptions = {}): Promise<{ scored: number }> {
  const now = options.now ?? new Date()
  const batchSize = options.batchSize ?? BATCH_SIZE
  options.signal?.throwIfAborted()
  await flagExpiredAcceptances(db, now)
  const context = await loadPassContext(db)
  const pending = await sql<{ n: number }>`select count(*)::int as n from identities where needs_scoring`.execute(db)
  const total = pending.rows[0]?.n ?? 0
  let scored = 0
  let next: Promise<LoadedIdentity[]> | null = fetchPendingBatch(db, 0, batchSize)
  try {
    while (next) {
      const batch: LoadedIdentity[] = await next
      next = null
      if (batch.length === 0) break
      if (batch.length === batchSize) {
        next = fetchPendingBatch(db, batch[batch.length - 1]!.identity.id, batchSize)
        // Awaited on the next turn; this only keeps an early failure from being "unhandled".
        next.catch(() => {})
      }
      options.signal?.throwIfAborted()
      await writeBatch(db, planBatch(batch, context, now), now)
      scored += batch.length
      options.onProgress?.(scored, Math.max(total, scored))
    }
  } finally {
    await next?.catch(() => {})
  }
  return { scored }
}

/** Scores the given identities now (after a claim, an override, an acceptance). */
export async function scoreIdentities(
  db: Kysely<Database>,
  identityIds: number[],
  options: ScoreOptions = {},
): Promise<{ scored: number }> {
  const now = options.now ?? new Date()
  const batchSize = options.batchSize ?? BATCH_SIZE
  const ids = [...new Set(identityIds)].sort((a, b) => a - b)
  if (ids.length === 0) return { scored: 0 }
  const context = await loadPassContext(db)
  let scored = 0
  for (let start = 0; start < ids.length; start += batchSize) {
    options.signal?.throwIfAborted()
    const batch = await fetchIdentitiesById(db, ids.slice(start, start + batchSize))
    await writeBatch(db, planBatch(batch, context, now), now)
    scored += batch.length
    options.onProgress?.(scored, ids.length)
  }
  return { scored }
}

interface BatchPlan {
  findings: Record<string, unknown>[]
  resolveIds: number[]
  scores: Record<string, unknown>[]
  identities: Record<string, unknown>[]
  changes: Record<string, unknown>[]
}

export function planBatch(batch: LoadedIdentity[], context: PassContext, now: Date): BatchPlan {
  const plan: BatchPlan = { findings: [], resolveIds: [], scores: [], identities: [], changes: [] }
  const nowMs = now.getTime()
  for (const loaded of batch) {
    const { identity } = loaded
    let acceptedKeys: Set<string> | undefined
    for (const existing of loaded.existing) {
      if (existing.status === 'accepted' && existing.acceptedUntil !== null && existing.acceptedUntil > nowMs) {
        ;(acceptedKeys ??= new Set()).add(findingKey(existing.ruleId, existing.subjectKey))
      }
    }
    const assessment: Assessment = assessIdentity(identity, {
      now,
      thresholds: context.thresholds.resolve(identity.sourceId, identity.tags),
      directory: context.directory,
      acceptedKeys,
    })
    const produced = new Set<string>()
    for (const finding of assessment.findings) {
      produced.add(findingKey(finding.ruleId, finding.subjectKey))
      plan.findings.push({
        i: identity.id,
        c: finding.credentialId,
        s: finding.subjectKey,
        r: finding.ruleId,
        d: finding.dimension,
        v: finding.severity,
        n: finding.nhi,
        t: finding.status,
        e: finding.evidence,
      })
    }
    for (const existing of loaded.existing) {
      if (!produced.has(findingKey(existing.ruleId, existing.subjectKey))) plan.resolveIds.push(existing.id)
    }
    const { classification, ownership, score } = assessment
    plan.scores.push({ i: identity.id, r: score.risk, b: compactBreakdown(assessment, identity.agentOverride) })
    const primary = ownership.primary
    plan.identities.push({
      id: identity.id,
      x: loaded.xmin,
      ca: classification.isAgent,
      cf: classification.confidence,
      pl: classification.platform,
      or: primary?.ref ?? null,
      ok: primary?.kind ?? null,
      os: primary?.source ?? null,
      st: ownership.status,
      rk: score.risk,
      so: score.dimensions.ownership,
      sp: score.dimensions.privilege,
      sc: score.dimensions.credential_age,
      sm: score.dimensions.monitoring,
      ml: assessment.maxAccessLevel,
      cc: assessment.credentialCount,
      oc: assessment.oldestCredentialAt?.getTime() ?? null,
    })
    if (loaded.scoredBefore && loaded.previousClassifiedIsAgent !== classification.isAgent) {
      plan.changes.push({
        i: identity.id,
        s: identity.sourceId,
        d: {
          from: loaded.previousClassifiedIsAgent,
          to: classification.isAgent,
          confidence: classification.confidence,
          platform: classification.platform,
          reasons: classification.reasons.filter((reason) => reason.counted).map((reason) => reason.id),
        },
      })
    }
  }
  return plan
}

/**
 * What identity_scores.breakdown stores (docs/scoring.md): the score, every finding's points,
 * what was left out and why, and the classification with its signals. Severity and dimension of
 * a finding come from the rule catalogue; reason texts of connector signals stay in agent_reasons.
 */
export function compactBreakdown(assessment: Assessment, override: 'agent' | 'not_agent' | null): Record<string, unknown> {
  const { score, classification } = assessment
  return {
    version: score.version,
    risk: score.risk,
    dimensions: score.dimensions,
    exposure: score.exposure,
    findings: score.findings.map((finding) => ({
      rule: finding.ruleId,
      subject: finding.subjectKey,
      points: finding.riskPoints,
      dimensionPoints: finding.dimensionPoints,
    })),
    excluded: assessment.excluded.map((item) => ({ rule: item.ruleId, subject: item.subjectKey, reason: item.reason })),
    classification: {
      isAgent: classification.isAgent,
      confidence: classification.confidence,
      platform: classification.platform,
      override,
      signals: classification.reasons.map((reason) =>
        reason.source === 'leash'
          ? { id: reason.id, weight: reason.weight, counted: reason.counted, source: reason.source, reason: reason.reason }
          : { id: reason.id, weight: reason.weight, counted: reason.counted, source: reason.source },
      ),
    },
  }
}

async function writeBatch(db: Kysely<Database>, plan: BatchPlan, now: Date): Promise<void> {
  await db.transaction().execute(async (trx) => {
    // Safe without waiting for the WAL flush: everything a batch writes is derived, in one
    // transaction with the needs_scoring reset, so a crash can only leave the batch flagged.
    await sql`set local synchronous_commit = off`.execute(trx)
    if (plan.findings.length > 0) {
      await sql`
        insert into findings as f (identity_id, credential_id, subject_key, rule_id, dimension, severity, nhi, status, evidence, first_seen_at, last_seen_at)
        select x.i, x.c, x.s, x.r, x.d, x.v, x.n, x.t, x.e, ${now}, ${now}
        from json_to_recordset(${JSON.stringify(plan.findings)}::json)
          as x(i int8, c int8, s text, r text, d text, v text, n text, t text, e jsonb)
        on conflict (identity_id, rule_id, subject_key) do update set
          credential_id = excluded.credential_id,
          dimension = excluded.dimension,
          severity = excluded.severity,
          nhi = excluded.nhi,
          evidence = excluded.evidence,
          last_seen_at = excluded.last_seen_at,
          status = case when f.status = 'accepted' and f.accepted_until > ${now} then 'accepted' else excluded.status end,
          first_seen_at = case when f.status = 'resolved' then excluded.first_seen_at else f.first_seen_at end,
          resolved_at = null`.execute(trx)
    }
    if (plan.resolveIds.length > 0) {
      await sql`
        update findings set status = 'resolved', resolved_at = ${now}
        where id = any(${plan.resolveIds}::int8[]) and status <> 'resolved'`.execute(trx)
    }
    if (plan.scores.length > 0) {
      await sql`
        insert into identity_scores as s (identity_id, risk_score, breakdown, computed_at)
        select x.i, x.r, x.b, ${now}
        from json_to_recordset(${JSON.stringify(plan.scores)}::json) as x(i int8, r int2, b jsonb)
        on conflict (identity_id) do update set risk_score = excluded.risk_score, breakdown = excluded.breakdown, computed_at = excluded.computed_at`.execute(
        trx,
      )
    }
    if (plan.identities.length > 0) {
      // The row version guard: if ingest changed the identity after we read it, it stays flagged.
      await sql`
        update identities as i set
          classified_is_agent = x.ca,
          agent_confidence = x.cf,
          agent_platform = x.pl,
          is_agent = case i.agent_override when 'agent' then true when 'not_agent' then false else x.ca end,
          owner_ref = x."or",
          owner_kind = x.ok,
          owner_source = x.os,
          owner_status = x.st,
          risk_score = x.rk,
          score_ownership = x.so,
          score_privilege = x.sp,
          score_credential_age = x.sc,
          score_monitoring = x.sm,
          max_access_level = x.ml,
          credential_count = x.cc,
          oldest_credential_at = to_timestamp(x.oc / 1000.0),
          needs_scoring = not (i.xmin = x.x::xid)
        from json_to_recordset(${JSON.stringify(plan.identities)}::json)
          as x(id int8, x text, ca boolean, cf real, pl text, "or" text, ok text, os text, st text, rk int2, so int2, sp int2, sc int2, sm int2, ml text, cc int4, oc float8)
        where i.id = x.id`.execute(trx)
    }
    if (plan.changes.length > 0) {
      await sql`
        insert into identity_changes (identity_id, source_id, change_type, details, occurred_at)
        select x.i, x.s, 'agent_classification_changed', x.d, ${now}
        from json_to_recordset(${JSON.stringify(plan.changes)}::json) as x(i int8, s uuid, d jsonb)`.execute(trx)
    }
  })
}
