/**
 * Human decisions the scoring pass honours on every rescan: confirming or rejecting an AI-agent
 * classification, and accepting a finding as a risk until a date. Both live in columns the
 * scan never writes (agent_override*, findings.accepted_*), so a rescan cannot undo them.
 * The app records these decisions in the audit log; these functions change the data and rescore.
 */
import type { Kysely, Transaction, Updateable } from 'kysely'
import { LeashError } from '../cli/errors.js'
import type { Database, Finding, FindingsTable } from '../db/schema.js'
import { scoreIdentities } from './pass.js'
import type { FindingRef } from './types.js'

export type { FindingRef }

/** Longest a risk can be accepted for before someone must decide again. */
export const MAX_ACCEPTANCE_DAYS = 365

export async function setAgentOverride(
  db: Kysely<Database>,
  identityId: number,
  decision: { decision: 'agent' | 'not_agent' | null; by: string; reason: string },
  options: { now?: Date } = {},
): Promise<{ isAgent: boolean; classifiedIsAgent: boolean }> {
  const now = options.now ?? new Date()
  if (decision.decision !== null && decision.decision !== 'agent' && decision.decision !== 'not_agent') {
    throw new LeashError(
      `"${String(decision.decision)}" is not a classification decision.`,
      'Use "agent", "not_agent", or null to return to the classifier.',
    )
  }
  if (!decision.by.trim())
    throw new LeashError('An agent classification decision needs the person who made it.', 'Pass the user name as "by".')
  if (decision.decision !== null && !decision.reason.trim()) {
    throw new LeashError(
      'Confirming or rejecting an agent classification needs a reason.',
      'Say why, e.g. "CI deploy role, no model access".',
    )
  }
  const updated = await db.transaction().execute(async (trx) => {
    const before = await trx
      .selectFrom('identities')
      .select(['id', 'source_id', 'is_agent', 'classified_is_agent', 'agent_override'])
      .where('id', '=', identityId)
      .forUpdate()
      .executeTakeFirst()
    if (!before) throw new LeashError(`Identity ${identityId} does not exist.`, 'Reload the page: it may have been removed by a rescan.')
    const isAgent = decision.decision === 'agent' ? true : decision.decision === 'not_agent' ? false : before.classified_is_agent
    await trx
      .updateTable('identities')
      .set({
        agent_override: decision.decision,
        agent_override_by: decision.decision === null ? null : decision.by,
        agent_override_at: decision.decision === null ? null : now,
        agent_override_reason: decision.decision === null ? null : decision.reason.trim(),
        is_agent: isAgent,
      })
      .where('id', '=', identityId)
      .execute()
    await trx
      .insertInto('identity_changes')
      .values({
        identity_id: identityId,
        source_id: before.source_id,
        change_type: 'agent_classification_changed',
        details: JSON.stringify({
          from: before.is_agent,
          to: isAgent,
          override: decision.decision,
          previousOverride: before.agent_override,
          by: decision.by,
          reason: decision.reason.trim() || null,
        }),
        occurred_at: now,
      })
      .execute()
    return { isAgent, classifiedIsAgent: before.classified_is_agent }
  })
  // Agent-only rules and the agent weighting change with the decision: rescore now.
  await scoreIdentities(db, [identityId], { now })
  return updated
}

/**
 * Writes what a decision on a finding changed in the caller's record (the app's audit trail),
 * inside the transaction that makes the change: if the record cannot be written, nothing is.
 */
export type RecordFindingDecision = (trx: Transaction<Database>, change: { before: Finding; after: Finding }) => Promise<void>

export async function acceptFinding(
  db: Kysely<Database>,
  { identityId, findingId }: FindingRef,
  acceptance: { until: Date; reason: string; by: string },
  options: { now?: Date; record?: RecordFindingDecision } = {},
): Promise<Finding> {
  const now = options.now ?? new Date()
  if (!(acceptance.until instanceof Date) || Number.isNaN(acceptance.until.getTime())) {
    throw new LeashError('The accepted-until date is not a valid date.', 'Pick a date in the future, at most a year from today.')
  }
  if (acceptance.until.getTime() <= now.getTime()) {
    throw new LeashError('A risk can only be accepted until a date in the future.', 'Pick a later date.')
  }
  if (acceptance.until.getTime() > now.getTime() + MAX_ACCEPTANCE_DAYS * 86_400_000) {
    throw new LeashError(
      `A risk can be accepted for at most ${MAX_ACCEPTANCE_DAYS} days.`,
      'Pick an earlier date; accept it again when it expires if it still applies.',
    )
  }
  if (!acceptance.reason.trim())
    throw new LeashError('Accepting a risk needs a reason.', 'Say why the risk is acceptable and what limits it.')
  if (!acceptance.by.trim()) throw new LeashError('Accepting a risk needs the person who accepts it.', 'Pass the user name as "by".')
  const finding = await db.transaction().execute(async (trx) => {
    const before = await lockFinding(trx, { identityId, findingId })
    if (!before)
      throw new LeashError(`Identity ${identityId} has no finding ${findingId}.`, 'Reload the page: it may have been removed with its identity.')
    if (before.status === 'resolved') throw new LeashError(`Finding ${findingId} is already resolved.`, 'Nothing to accept: its condition no longer holds.')
    const after = await updateFinding(
      trx,
      { identityId, findingId },
      { status: 'accepted', accepted_until: acceptance.until, accepted_reason: acceptance.reason.trim(), accepted_by: acceptance.by },
    )
    await options.record?.(trx, { before, after })
    return after
  })
  await scoreIdentities(db, [finding.identity_id], { now })
  return finding
}

/** Ends an acceptance early: the finding counts again from the next score (done now). */
export async function revokeAcceptance(
  db: Kysely<Database>,
  { identityId, findingId }: FindingRef,
  options: { now?: Date; record?: RecordFindingDecision } = {},
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const before = await lockFinding(trx, { identityId, findingId })
    if (!before || before.status !== 'accepted')
      throw new LeashError(`Finding ${findingId} is not an accepted risk.`, 'Reload the page to see its current state.')
    const after = await updateFinding(trx, { identityId, findingId }, { status: 'open', accepted_until: null })
    await options.record?.(trx, { before, after })
  })
  await scoreIdentities(db, [identityId], { now: options.now })
}

/** The finding a decision is about, locked until the decision's transaction ends; undefined when its identity has none by that id. */
function lockFinding(trx: Transaction<Database>, { identityId, findingId }: FindingRef): Promise<Finding | undefined> {
  return trx.selectFrom('findings').selectAll().where('identity_id', '=', identityId).where('id', '=', findingId).forUpdate().executeTakeFirst()
}

/** Writes what a decision changes on the finding, and returns the row as it now is. */
function updateFinding(trx: Transaction<Database>, { identityId, findingId }: FindingRef, change: Updateable<FindingsTable>): Promise<Finding> {
  return trx.updateTable('findings').set(change).where('identity_id', '=', identityId).where('id', '=', findingId).returningAll().executeTakeFirstOrThrow()
}
