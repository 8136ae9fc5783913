/**
 * The scoring pass: identities flagged needs_scoring (or given ids) are read in keyset batches,
 * assessed in memory (scoring/assess.ts), and written back set-based, each batch in one
 * transaction (scoring/write.ts). Reading, assessing and writing overlap: the next batch is read
 * while the current one is assessed, and up to two batches are written at once on their own
 * connections, so Node and PostgreSQL (on both cores) work at the same time. Batches never
 * share an identity, so concurrent writers never touch the same rows.
 * Memory is bounded by a handful of batches, whatever the size of the estate.
 */
import { sql, type Kysely } from 'kysely'
import { poolOf } from '../db/connection.js'
import type { Database } from '../db/schema.js'
import { assessIdentity, findingKey, type Assessment } from './assess.js'
import {
  fetchIdentitiesById,
  fetchPendingBatch,
  loadPassContext,
  type ExistingFinding,
  type LoadedIdentity,
  type PassContext,
} from './load.js'
import { encodeBatch, writeEncodedBatch, type BatchPlan, type EncodedBatch } from './write.js'

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
  const writes = new BatchWriters(db, MAX_CONCURRENT_WRITES, (count) => {
    scored += count
    options.onProgress?.(scored, Math.max(total, scored))
  })
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
      await writes.add(planAndEncode(batch, context, now), batch.length, now)
    }
    await writes.drain()
  } finally {
    await next?.catch(() => {})
    await writes.settle()
  }
  return { scored }
}

/** Two writers keep PostgreSQL busy on both cores while Node assesses the next batch. */
const MAX_CONCURRENT_WRITES = 2

/**
 * Batches being written, at most `limit` at once. A failed write fails the pass at the next
 * add() or drain(); settle() waits for every write still running, so none outlives the pass.
 */
class BatchWriters {
  private readonly running = new Set<Promise<void>>()
  private failure: unknown = null

  constructor(
    private readonly db: Kysely<Database>,
    private readonly limit: number,
    private readonly onWritten: (count: number) => void,
  ) {}

  async add(batch: EncodedBatch, count: number, now: Date): Promise<void> {
    this.throwIfFailed()
    while (this.running.size >= this.limit) {
      await Promise.race(this.running)
      this.throwIfFailed()
    }
    const write: Promise<void> = writeEncoded(this.db, batch, now).then(
      () => {
        this.running.delete(write)
        this.onWritten(count)
      },
      (error: unknown) => {
        this.running.delete(write)
        this.failure ??= error
      },
    )
    this.running.add(write)
  }

  async drain(): Promise<void> {
    await this.settle()
    this.throwIfFailed()
  }

  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.race(this.running)
  }

  private throwIfFailed(): void {
    if (this.failure !== null) throw this.failure
  }
}

async function writeEncoded(db: Kysely<Database>, batch: EncodedBatch, now: Date): Promise<void> {
  const pool = poolOf(db)
  if (!pool) throw new Error('The scoring pass needs a database opened with connectDatabase (db/connection.ts), not a transaction.')
  await writeEncodedBatch(pool, batch, now)
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
    await writeEncoded(db, planAndEncode(batch, context, now), now)
    scored += batch.length
    options.onProgress?.(scored, ids.length)
  }
  return { scored }
}

/** A batch's plan, encoded at once so its objects die young (docs/decisions/032). */
function planAndEncode(batch: LoadedIdentity[], context: PassContext, now: Date): EncodedBatch {
  return encodeBatch(planBatch(batch, context, now), now)
}

export function planBatch(batch: LoadedIdentity[], context: PassContext, now: Date): BatchPlan {
  const plan: BatchPlan = { newFindings: [], seenFindings: [], resolveIds: [], scores: [], rescoredIds: [], identities: [], changes: [] }
  const nowMs = now.getTime()
  for (const loaded of batch) {
    const { identity } = loaded
    let acceptedKeys: Set<string> | undefined
    let stored: Map<string, ExistingFinding> | undefined
    for (const existing of loaded.existing) {
      const key = findingKey(existing.ruleId, existing.subjectKey)
      ;(stored ??= new Map()).set(key, existing)
      if (existing.status === 'accepted' && existing.acceptedUntil !== null && existing.acceptedUntil > nowMs) {
        ;(acceptedKeys ??= new Set()).add(key)
      }
    }
    const assessment: Assessment = assessIdentity(identity, {
      now,
      thresholds: context.thresholds.resolve(identity.sourceId, identity.tags),
      directory: context.directory,
      acceptedKeys,
    })
    for (const finding of assessment.findings) {
      const row = {
        identityId: identity.id,
        credentialId: finding.credentialId,
        subjectKey: finding.subjectKey,
        ruleId: finding.ruleId,
        dimension: finding.dimension,
        severity: finding.severity,
        nhi: finding.nhi,
        status: finding.status,
        evidence: finding.evidence,
      }
      const key = stored && findingKey(finding.ruleId, finding.subjectKey)
      const existing = key ? stored?.get(key) : undefined
      if (existing) {
        plan.seenFindings.push(row)
        stored!.delete(key!)
      } else plan.newFindings.push(row)
    }
    // Stored findings not produced this time are resolved (unless they already are).
    for (const existing of stored?.values() ?? []) if (existing.status !== 'resolved') plan.resolveIds.push(existing.id)
    const { classification, ownership, score } = assessment
    plan.scores.push({ identityId: identity.id, risk: score.risk, breakdown: compactBreakdown(assessment, identity.agentOverride) })
    if (loaded.scoredBefore) plan.rescoredIds.push(identity.id)
    const primary = ownership.primary
    plan.identities.push({
      id: identity.id,
      xmin: loaded.xmin,
      classifiedIsAgent: classification.isAgent,
      agentConfidence: classification.confidence,
      agentPlatform: classification.platform,
      ownerRef: primary?.ref ?? null,
      ownerKind: primary?.kind ?? null,
      ownerSource: primary?.source ?? null,
      ownerStatus: ownership.status,
      risk: score.risk,
      ownership: score.dimensions.ownership,
      privilege: score.dimensions.privilege,
      credentialAge: score.dimensions.credential_age,
      monitoring: score.dimensions.monitoring,
      maxAccessLevel: assessment.maxAccessLevel,
      credentialCount: assessment.credentialCount,
      oldestCredentialAt: assessment.oldestCredentialAt,
    })
    if (loaded.scoredBefore && loaded.previousClassifiedIsAgent !== classification.isAgent) {
      plan.changes.push({
        identityId: identity.id,
        sourceId: identity.sourceId,
        details: {
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
