/**
 * The scoring pass: identities flagged needs_scoring, those a change to thresholds or owners
 * marked for reassessment (marked first, scoring/scope-changes.ts), and those whose last scoring is older
 * than the re-evaluation interval (scoring/reevaluation.ts), or given ids, are read in keyset batches,
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
import { packBreakdown } from './breakdown.js'
import {
  loadPassContext,
  readIdentitiesById,
  readPendingBatch,
  type ExistingFinding,
  type LoadedIdentity,
  type PassContext,
  type PendingRows,
  type StoredPosture,
} from './load.js'
import { reevaluationIntervalMs } from './reevaluation.js'
import { markRecordedScopeChanges } from './scope-changes.js'
import { scoreRangesInThreads, splitIdRange, threadsFor } from './threads.js'
import {
  BatchEncoder,
  collectInto,
  emptyPlan,
  writeEncodedBatch,
  type BatchPlan,
  type EncodedBatch,
  type FindingRow,
  type PlanSink,
  type ScoredIdentity,
} from './write.js'

export const BATCH_SIZE = 2000

export interface ScoreOptions {
  signal?: AbortSignal
  /** `total` is the number flagged when the pass started (identities flagged later wait for the next pass). */
  onProgress?: (scored: number, total: number) => void
  now?: Date
  batchSize?: number
  /** Identities last scored longer ago are scored again (default: LEASH_REEVALUATE_HOURS, 24 h). */
  reevaluateAfterMs?: number
  /**
   * How many threads a large pass spreads over, each scoring its own id range (scoring/threads.ts;
   * default: LEASH_SCORING_THREADS, else the machine's cores, at most 4).
   */
  threads?: number
  /** A pass uses no more threads than it has this many identities per thread (default 20,000). */
  minIdentitiesPerThread?: number
}

/** Flags identities whose accepted findings reached their accepted-until date, so they reopen. */
export async function flagExpiredAcceptances(db: Kysely<Database>, now: Date): Promise<number> {
  const result = await sql`
    update identity_posture set needs_scoring = true
    where not needs_scoring and identity_id in (select identity_id from findings where status = 'accepted' and accepted_until <= ${now})`.execute(
    db,
  )
  return Number(result.numAffectedRows ?? 0)
}

export async function scorePendingIdentities(db: Kysely<Database>, options: ScoreOptions = {}): Promise<{ scored: number }> {
  const now = options.now ?? new Date()
  const batchSize = options.batchSize ?? BATCH_SIZE
  options.signal?.throwIfAborted()
  const dueBefore = new Date(now.getTime() - (options.reevaluateAfterMs ?? reevaluationIntervalMs()))
  await flagExpiredAcceptances(db, now)
  await markRecordedScopeChanges(db)
  const context = await loadPassContext(db)
  const pending = await countPending(db, dueBefore)
  // Most passes find nothing due or marked: they then read the flagged identities alone.
  const work: PendingWork = { now, batchSize, dueBefore: pending.due > 0 ? dueBefore : null, reassess: pending.reassess > 0 }
  let scored = 0
  const onWritten = (count: number) => {
    scored += count
    options.onProgress?.(scored, Math.max(pending.total, scored))
  }
  const threads = threadsFor(pending.total, options, db)
  if (threads <= 1) await scoreRange(db, context, work, { afterId: 0 }, onWritten, options.signal)
  else {
    const ranges = await splitIdRange(db, threads)
    await scoreRangesInThreads(db, context, work, ranges, onWritten, options.signal)
  }
  return { scored }
}

/** What one pass scores: the same for every range of it, whichever thread reads the range. */
export interface PendingWork {
  now: Date
  batchSize: number
  /** Identities last scored before this are due for re-evaluation; null when none is. */
  dueBefore: Date | null
  /** Whether any scored identity is marked for reassessment. */
  reassess: boolean
}

/** A slice of the id space: ids after `afterId`, through `throughId` (no bound when absent). */
export interface IdRange {
  afterId: number
  throughId?: number
}

/**
 * Scores the pending identities of one id range in keyset batches: the next batch is read
 * while the current one is assessed, and up to two batches are written at once.
 */
export async function scoreRange(
  db: Kysely<Database>,
  context: PassContext,
  work: PendingWork,
  range: IdRange,
  onWritten: (count: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  const { now, batchSize, dueBefore, reassess } = work
  const fetch = (afterId: number) => readPendingBatch(db, { afterId, limit: batchSize, dueBefore, reassess, throughId: range.throughId })
  const writes = new BatchWriters(db, MAX_CONCURRENT_WRITES, onWritten)
  let next: Promise<PendingRows> | null = fetch(range.afterId)
  try {
    while (next) {
      const batch: PendingRows = await next
      next = null
      if (batch.lastId === null) break
      if (batch.full) {
        next = fetch(batch.lastId)
        // Awaited on the next turn; this only keeps an early failure from being "unhandled".
        next.catch(() => {})
      }
      signal?.throwIfAborted()
      if (batch.identities.length > 0) await writes.add(planAndEncode(batch.identities, context, now), batch.identities.length, now)
    }
    await writes.drain()
  } finally {
    await next?.catch(() => {})
    await writes.settle()
  }
}

/**
 * How many identities the pass will score: those due for re-evaluation, those a change to
 * thresholds or owners marked for reassessment, and all of them.
 */
async function countPending(db: Kysely<Database>, dueBefore: Date): Promise<{ due: number; reassess: number; total: number }> {
  const counts = await sql<{ due: number; reassess: number; flagged: number }>`
    select (select count(*) from identity_scores where computed_at < ${dueBefore})::int as due,
           (select count(*) from identity_scores where reassess_after is not null)::int as reassess,
           (select count(*) from identity_posture where needs_scoring)::int as flagged`.execute(db)
  const { due, reassess, flagged } = counts.rows[0] ?? { due: 0, reassess: 0, flagged: 0 }
  if (due === 0 && reassess === 0) return { due, reassess, total: flagged }
  // All kinds: an identity can be flagged, due and marked at once, and is scored once.
  const all = await sql<{ total: number }>`
    select count(*)::int as total from (
      select identity_id from identity_posture where needs_scoring
      union select identity_id from identity_scores where computed_at < ${dueBefore} or reassess_after is not null) pending`.execute(db)
  return { due, reassess, total: all.rows[0]?.total ?? due + reassess + flagged }
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
    const batch = await readIdentitiesById(db, ids.slice(start, start + batchSize))
    await writeEncoded(db, planAndEncode(batch, context, now), now)
    scored += batch.length
    options.onProgress?.(scored, ids.length)
  }
  return { scored }
}

/**
 * A batch's plan, encoded row by row as it is made, so its objects die young
 * (docs/decisions/032, 040 and 047: a BatchRows builds each identity as it is reached).
 */
export function planAndEncode(batch: Iterable<LoadedIdentity>, context: PassContext, now: Date): EncodedBatch {
  const encoder = new BatchEncoder(now, context.settingsReadAt)
  planInto(batch, context, now, encoder)
  return encoder.finish()
}

/** What a batch writes, collected (for tests and callers that inspect it). */
export function planBatch(batch: Iterable<LoadedIdentity>, context: PassContext, now: Date): BatchPlan {
  const plan = emptyPlan()
  planInto(batch, context, now, collectInto(plan))
  return plan
}

/** Assesses each identity of a batch and hands what must be written to `sink`. */
function planInto(batch: Iterable<LoadedIdentity>, context: PassContext, now: Date, sink: PlanSink): void {
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
    // Whether this identity's batch writes rows that need it to exist (see quiet, below).
    let inserts = false
    for (const finding of assessment.findings) {
      const row: FindingRow = {
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
        stored!.delete(key!)
        row.evidenceJson = JSON.stringify(finding.evidence)
        // Updated by id, never inserted: it needs no lock on the identity (SEEN_FINDING_UPDATE).
        if (!unchangedFinding(existing, row, nowMs)) sink.seenFinding({ ...row, id: existing.id })
      } else {
        sink.newFinding(row)
        inserts = true
      }
    }
    // Stored findings not produced this time are resolved (unless they already are).
    for (const existing of stored?.values() ?? []) if (existing.status !== 'resolved') sink.resolve({ identityId: identity.id, findingId: existing.id })
    const { classification, ownership, score } = assessment
    const breakdown = packBreakdown(assessment, identity.agentOverride)
    const breakdownJson = JSON.stringify(breakdown)
    if (loaded.scoredBefore && loaded.storedBreakdown === breakdownJson) sink.touchScore(identity.id)
    else {
      sink.score({ identityId: identity.id, risk: score.risk, breakdown, breakdownJson }, loaded.scoredBefore)
      inserts = true
    }
    const primary = ownership.primary
    const posture: ScoredIdentity = {
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
    }
    const changedClassification = loaded.scoredBefore && loaded.previousClassifiedIsAgent !== classification.isAgent
    // A quiet identity (nothing new to insert, its columns as stored, not flagged) is not
    // rewritten: a re-evaluation that finds nothing new then costs reads, not row versions
    // in every index (docs/decisions/035). The posture update is what locks the identity against
    // a concurrent delete (which cascades to that row), so an identity whose rows are inserted
    // is always updated.
    const quiet =
      !inserts && !changedClassification && !loaded.stored.needsScoring && samePosture(loaded.stored, posture, identity.agentOverride)
    if (!quiet) sink.identity(posture)
    if (changedClassification) {
      sink.change({
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
}

/**
 * Whether writing a finding seen again would change its row: the same credential, dimension,
 * severity, NHI item and evidence, and the status the upsert would give it (an acceptance
 * still running stays accepted; FINDING_UPSERT in scoring/write.ts).
 */
function unchangedFinding(existing: ExistingFinding, row: FindingRow, nowMs: number): boolean {
  if (existing.status === 'resolved') return false
  const accepted = existing.status === 'accepted' && existing.acceptedUntil !== null && existing.acceptedUntil > nowMs
  return (
    (accepted ? 'accepted' : row.status) === existing.status &&
    existing.credentialId === row.credentialId &&
    existing.dimension === row.dimension &&
    existing.severity === row.severity &&
    existing.nhi === row.nhi &&
    existing.evidenceJson === row.evidenceJson
  )
}

/** Whether IDENTITY_UPDATE (scoring/write.ts) would write what the posture row already holds. */
function samePosture(stored: StoredPosture, next: ScoredIdentity, override: 'agent' | 'not_agent' | null): boolean {
  const isAgent = override === 'agent' ? true : override === 'not_agent' ? false : next.classifiedIsAgent
  return (
    stored.isAgent === isAgent &&
    // agent_confidence is a real (float4): compare at that precision.
    stored.agentConfidence !== null &&
    Math.fround(stored.agentConfidence) === Math.fround(next.agentConfidence) &&
    stored.agentPlatform === next.agentPlatform &&
    stored.ownerRef === next.ownerRef &&
    stored.ownerKind === next.ownerKind &&
    stored.ownerSource === next.ownerSource &&
    stored.ownerStatus === next.ownerStatus &&
    stored.risk === next.risk &&
    stored.ownership === next.ownership &&
    stored.privilege === next.privilege &&
    stored.credentialAge === next.credentialAge &&
    stored.monitoring === next.monitoring &&
    stored.maxAccessLevel === next.maxAccessLevel &&
    stored.credentialCount === next.credentialCount &&
    stored.oldestCredentialAt === (next.oldestCredentialAt?.getTime() ?? null)
  )
}
