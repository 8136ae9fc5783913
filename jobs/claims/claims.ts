/**
 * Ownership claims and handovers.
 *
 *  claim:    pending → confirmed (a security lead, or automatically with `claims.auto_confirm`)
 *                    → rejected | cancelled (by the claimant)
 *  handover: pending → accepted (by the person asked) → declined | cancelled (by the giver)
 *
 * A confirmed claim or an accepted handover makes that person the owner: one current owner by
 * claim per identity (enforced by a unique index), written to `identity_owners` with source
 * 'claim' (which ingest keeps across rescans) and to the identity's owner columns, then the
 * identity is rescored so its ownership finding resolves. When ownership moves on, the old
 * claim gets `ended_at`; the history stays. Every step is in the audit trail, written in the
 * same transaction as the change.
 */
import type { Kysely } from 'kysely'
import { appendAuditEvent } from '../../db/audit.js'
import type { Claim, Database } from '../../db/schema.js'
import { loadWorkflowSettings } from '../revocation/settings.js'
import { WorkflowError, auditActor, requireReason, type Db, type WorkflowActor } from '../revocation/types.js'
import { currentClaimOwners, isIdentityOwner, ownerRefOf } from './ownership.js'

export interface ClaimDeps {
  now?: () => Date
  ip?: string | null
  /** Rescores identities after their owner changed (scoring/index.ts scoreIdentities). */
  scoreIdentities?: (db: Kysely<Database>, identityIds: number[]) => Promise<unknown>
}

export const CLAIM_AUDIT_ACTIONS = [
  'claim.requested',
  'claim.confirmed',
  'claim.rejected',
  'claim.cancelled',
  'claim.ended',
  'claim.handover_requested',
  'claim.handover_accepted',
  'claim.handover_declined',
] as const
type ClaimAuditAction = (typeof CLAIM_AUDIT_ACTIONS)[number]

function nowOf(deps: ClaimDeps): Date {
  return deps.now ? deps.now() : new Date()
}

async function audit(db: Db, deps: ClaimDeps, actor: WorkflowActor | null, action: ClaimAuditAction, claim: Pick<Claim, 'id' | 'identity_id' | 'kind'>, before: unknown, after: unknown, reason: string | null) {
  await appendAuditEvent(db, {
    actor: auditActor(actor),
    action,
    object: { type: 'claim', id: claim.id },
    before,
    after: after && typeof after === 'object' ? { identityId: claim.identity_id, kind: claim.kind, ...after } : after,
    reason,
    ip: actor ? (deps.ip ?? null) : null,
  })
}

function assertPerson(actor: WorkflowActor, what: string): void {
  if (actor.kind === 'token') throw new WorkflowError(403, `An API token cannot ${what}.`, 'Ownership is a person’s: sign in to do this.')
}

async function loadClaim(db: Db, id: string): Promise<Claim> {
  const claim = await db.selectFrom('claims').selectAll().where('id', '=', id).executeTakeFirst()
  if (!claim) throw new WorkflowError(404, `Claim ${id} does not exist.`, 'Open it from My identities or the Claims page.')
  return claim
}

async function loadIdentity(db: Db, identityId: number) {
  const identity = await db
    .selectFrom('identities')
    .select(['id', 'display_name', 'status', 'owner_ref', 'owner_source', 'owner_status'])
    .where('id', '=', identityId)
    .executeTakeFirst()
  if (!identity) throw new WorkflowError(404, `Identity ${identityId} does not exist.`, 'Pick the identity from the Identities or Orphans page.')
  return identity
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as { code?: string; constraint?: string }
  return e?.code === '23505' && e.constraint === constraint
}

async function rescore(db: Kysely<Database>, deps: ClaimDeps, identityId: number): Promise<void> {
  if (!deps.scoreIdentities) return
  try {
    await deps.scoreIdentities(db, [identityId])
  } catch (error) {
    // The ownership change is committed; scoring catches up at the next scan at the latest.
    console.warn(`leash: rescoring identity ${identityId} after an ownership change failed: ${error instanceof Error ? error.message : String(error)}`)
  }
}

/** Ends the current ownership by claim (before another one starts). Inside the caller's transaction. */
async function endCurrentOwnership(trx: Db, deps: ClaimDeps, claim: Pick<Claim, 'id' | 'identity_id' | 'kind'>, now: Date): Promise<void> {
  const ended = await trx
    .updateTable('claims')
    .set({ ended_at: now, ended_reason: claim.kind === 'handover' ? 'Handed over' : 'Another claim was confirmed' })
    .where('identity_id', '=', claim.identity_id)
    .where('status', 'in', ['confirmed', 'accepted'])
    .where('ended_at', 'is', null)
    .where('id', '!=', claim.id)
    .returningAll()
    .execute()
  for (const old of ended) {
    await audit(trx, deps, null, 'claim.ended', old, { ended: false }, { ended: true, by: claim.id }, old.ended_reason)
  }
}

/** Makes `userId` the owner by claim. Inside the caller's transaction, after endCurrentOwnership. */
async function applyOwnership(trx: Db, claim: Claim, userId: string): Promise<void> {
  const user = await trx.selectFrom('users').select(['id', 'username', 'email', 'display_name', 'disabled_at']).where('id', '=', userId).executeTakeFirstOrThrow()
  await trx.deleteFrom('identity_owners').where('identity_id', '=', claim.identity_id).where('source', '=', 'claim').execute()
  const ref = ownerRefOf(user)
  await trx
    .insertInto('identity_owners')
    .values({ identity_id: claim.identity_id, owner_ref: ref, role: 'owner', kind: 'person', source: 'claim', display_name: user.display_name, active: user.disabled_at === null, can_add_credentials: false })
    .execute()
  await trx
    .updateTable('identities')
    .set({ owner_ref: ref, owner_kind: 'person', owner_source: 'claim', owner_status: user.disabled_at === null ? 'valid' : 'invalid', needs_scoring: true })
    .where('id', '=', claim.identity_id)
    .execute()
}

/** An owner claims an identity (typically an orphan) with a reason. */
export async function claimIdentity(db: Kysely<Database>, deps: ClaimDeps, actor: WorkflowActor, input: { identityId: number; reason: string }): Promise<Claim> {
  assertPerson(actor, 'claim an identity')
  if (!actor.can('claim:identity:any')) throw new WorkflowError(403, 'You may not claim identities.', 'Ask an administrator for the owner role.')
  const reason = requireReason(input.reason, 'claim an identity')
  const identity = await loadIdentity(db, input.identityId)
  if (identity.status === 'gone') throw new WorkflowError(409, `${identity.display_name} no longer exists upstream.`, 'There is nothing to own; it was not seen in the last scan.')
  const current = (await currentClaimOwners(db, [identity.id])).get(identity.id)
  if (current?.userId === actor.userId) throw new WorkflowError(409, `You already own ${identity.display_name}.`, 'It is listed under My identities.')
  if (current) {
    throw new WorkflowError(409, `${identity.display_name} is already owned by ${current.displayName} (confirmed claim).`, `Ask ${current.displayName} to hand it over to you.`)
  }
  const settings = await loadWorkflowSettings(db)
  const now = nowOf(deps)
  let claim: Claim
  try {
    claim = await db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('claims')
        .values({ identity_id: identity.id, kind: 'claim', requested_by: actor.userId, reason, created_at: now })
        .returningAll()
        .executeTakeFirstOrThrow()
      await audit(trx, deps, actor, 'claim.requested', row, { owner: identity.owner_ref, ownerStatus: identity.owner_status }, { status: 'pending' }, reason)
      if (!settings['claims.auto_confirm']) return row
      await endCurrentOwnership(trx, deps, row, now)
      const confirmed = await trx
        .updateTable('claims')
        .set({ status: 'confirmed', decided_at: now, decision_reason: 'Confirmed automatically (setting claims.auto_confirm).' })
        .where('id', '=', row.id)
        .returningAll()
        .executeTakeFirstOrThrow()
      await applyOwnership(trx, confirmed, actor.userId)
      await audit(trx, deps, null, 'claim.confirmed', confirmed, { status: 'pending' }, { status: 'confirmed', owner: actor.userId, automatic: true }, confirmed.decision_reason)
      return confirmed
    })
  } catch (error) {
    if (isUniqueViolation(error, 'claims_one_pending_claim_per_user')) {
      throw new WorkflowError(409, `You already have a pending claim on ${identity.display_name}.`, 'Wait for a security lead to decide on it.')
    }
    if (isUniqueViolation(error, 'claims_one_current_owner')) {
      throw new WorkflowError(409, `${identity.display_name} was claimed by someone else at the same moment.`, 'Reload the page to see its owner.')
    }
    throw error
  }
  if (claim.status === 'confirmed') await rescore(db, deps, claim.identity_id)
  return claim
}

function assertMayDecideClaim(actor: WorkflowActor, claim: Claim, verb: string): void {
  assertPerson(actor, `${verb} a claim`)
  if (!actor.can('confirm:claim:any')) throw new WorkflowError(403, `You may not ${verb} claims.`, 'Ask a security lead.')
  if (claim.kind !== 'claim') throw new WorkflowError(409, 'This is a handover; the person it is handed to accepts or declines it.', 'Open it from My identities.')
  if (claim.requested_by === actor.userId) throw new WorkflowError(403, `You made this claim, so you cannot ${verb} it.`, 'A different security lead must decide on it.')
}

export async function confirmClaim(db: Kysely<Database>, deps: ClaimDeps, actor: WorkflowActor, claimId: string, note?: string | null): Promise<Claim> {
  const claim = await loadClaim(db, claimId)
  assertMayDecideClaim(actor, claim, 'confirm')
  const now = nowOf(deps)
  let confirmed: Claim
  try {
    confirmed = await db.transaction().execute(async (trx) => {
      await endCurrentOwnership(trx, deps, claim, now)
      const row = await trx
        .updateTable('claims')
        .set({ status: 'confirmed', decided_by: actor.userId, decided_at: now, decision_reason: note?.trim() || null })
        .where('id', '=', claimId)
        .where('status', '=', 'pending')
        .returningAll()
        .executeTakeFirst()
      if (!row) throw new WorkflowError(409, `This claim is ${claim.status}, not pending.`, 'Reload the page to see its current state.')
      await applyOwnership(trx, row, row.requested_by)
      await audit(trx, deps, actor, 'claim.confirmed', row, { status: 'pending' }, { status: 'confirmed', owner: row.requested_by }, row.decision_reason)
      // Other people's open claims on the same identity are settled by this decision.
      const others = await trx
        .updateTable('claims')
        .set({ status: 'rejected', decided_by: actor.userId, decided_at: now, decision_reason: 'Another claim on this identity was confirmed.' })
        .where('identity_id', '=', row.identity_id)
        .where('kind', '=', 'claim')
        .where('status', '=', 'pending')
        .returningAll()
        .execute()
      for (const other of others) await audit(trx, deps, actor, 'claim.rejected', other, { status: 'pending' }, { status: 'rejected' }, other.decision_reason)
      return row
    })
  } catch (error) {
    if (isUniqueViolation(error, 'claims_one_current_owner')) {
      throw new WorkflowError(409, 'This identity got an owner at the same moment.', 'Reload the page to see its owner.')
    }
    throw error
  }
  await rescore(db, deps, confirmed.identity_id)
  return confirmed
}

export async function rejectClaim(db: Kysely<Database>, deps: ClaimDeps, actor: WorkflowActor, claimId: string, reasonInput: string): Promise<Claim> {
  const claim = await loadClaim(db, claimId)
  assertMayDecideClaim(actor, claim, 'reject')
  const reason = requireReason(reasonInput, 'reject a claim')
  return closePending(db, deps, actor, claim, 'rejected', reason)
}

/** The claimant withdraws a pending claim, or the giver a pending handover. */
export async function cancelClaim(db: Kysely<Database>, deps: ClaimDeps, actor: WorkflowActor, claimId: string): Promise<Claim> {
  assertPerson(actor, 'cancel a claim')
  const claim = await loadClaim(db, claimId)
  if (claim.requested_by !== actor.userId) throw new WorkflowError(403, 'Only the person who made it can cancel this request.', 'A security lead can reject a claim instead.')
  return closePending(db, deps, actor, claim, 'cancelled', 'Withdrawn by the requester.')
}

async function closePending(db: Kysely<Database>, deps: ClaimDeps, actor: WorkflowActor, claim: Claim, status: 'rejected' | 'cancelled' | 'declined', reason: string): Promise<Claim> {
  const now = nowOf(deps)
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('claims')
      .set({ status, decided_by: actor.userId, decided_at: now, decision_reason: reason })
      .where('id', '=', claim.id)
      .where('status', '=', 'pending')
      .returningAll()
      .executeTakeFirst()
    if (!row) throw new WorkflowError(409, `This request is ${claim.status}, not pending.`, 'Reload the page to see its current state.')
    const action: ClaimAuditAction = status === 'declined' ? 'claim.handover_declined' : status === 'rejected' ? 'claim.rejected' : 'claim.cancelled'
    await audit(trx, deps, actor, action, row, { status: 'pending' }, { status }, reason)
    return row
  })
}

/** The owner hands an identity to someone else, who must accept. Security leads may reassign. */
export async function handOverIdentity(db: Kysely<Database>, deps: ClaimDeps, actor: WorkflowActor, input: { identityId: number; toUserId: string; reason: string }): Promise<Claim> {
  assertPerson(actor, 'hand over an identity')
  const reason = requireReason(input.reason, 'hand over an identity')
  const identity = await loadIdentity(db, input.identityId)
  const owns = await isIdentityOwner(db, actor.userId, identity.id)
  if (!(owns && actor.can('update:claim:own')) && !actor.can('confirm:claim:any')) {
    throw new WorkflowError(403, `You do not own ${identity.display_name}, so you cannot hand it over.`, 'Only its owner or a security lead can hand it over.')
  }
  if (input.toUserId === actor.userId) throw new WorkflowError(400, 'You cannot hand an identity over to yourself.', 'Pick the person who should own it.')
  const to = await db.selectFrom('users').select(['id', 'display_name', 'role', 'disabled_at']).where('id', '=', input.toUserId).executeTakeFirst()
  if (!to || to.disabled_at) throw new WorkflowError(400, 'The person to hand over to does not exist or is disabled.', 'Pick an active Leash user.')
  if (to.role === 'viewer') throw new WorkflowError(400, `${to.display_name} is a viewer and cannot own identities.`, 'Pick someone with the owner role (or above), or ask an administrator to change their role.')
  const current = (await currentClaimOwners(db, [identity.id])).get(identity.id)
  if (current?.userId === to.id) throw new WorkflowError(409, `${to.display_name} already owns ${identity.display_name}.`, 'Nothing to hand over.')
  const now = nowOf(deps)
  try {
    return await db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('claims')
        .values({ identity_id: identity.id, kind: 'handover', requested_by: actor.userId, to_user_id: to.id, reason, created_at: now })
        .returningAll()
        .executeTakeFirstOrThrow()
      await audit(trx, deps, actor, 'claim.handover_requested', row, { owner: current?.userId ?? identity.owner_ref }, { status: 'pending', to: to.id }, reason)
      return row
    })
  } catch (error) {
    if (isUniqueViolation(error, 'claims_one_pending_handover')) {
      throw new WorkflowError(409, `A handover of ${identity.display_name} is already waiting to be accepted.`, 'Cancel it first, or wait for the answer.')
    }
    throw error
  }
}

export async function acceptHandover(db: Kysely<Database>, deps: ClaimDeps, actor: WorkflowActor, claimId: string, note?: string | null): Promise<Claim> {
  assertPerson(actor, 'accept a handover')
  const claim = await loadClaim(db, claimId)
  if (claim.kind !== 'handover' || claim.to_user_id !== actor.userId) {
    throw new WorkflowError(403, 'This handover is not addressed to you.', 'Only the person it is handed to can accept it.')
  }
  const now = nowOf(deps)
  const accepted = await db.transaction().execute(async (trx) => {
    if (claim.status === 'pending') await endCurrentOwnership(trx, deps, claim, now)
    const row = await trx
      .updateTable('claims')
      .set({ status: 'accepted', decided_by: actor.userId, decided_at: now, decision_reason: note?.trim() || null })
      .where('id', '=', claimId)
      .where('status', '=', 'pending')
      .returningAll()
      .executeTakeFirst()
    if (!row) throw new WorkflowError(409, `This handover is ${claim.status}, not pending.`, 'Reload the page to see its current state.')
    await applyOwnership(trx, row, actor.userId)
    await audit(trx, deps, actor, 'claim.handover_accepted', row, { status: 'pending', from: row.requested_by }, { status: 'accepted', owner: actor.userId }, row.decision_reason)
    return row
  })
  await rescore(db, deps, accepted.identity_id)
  return accepted
}

export async function declineHandover(db: Kysely<Database>, deps: ClaimDeps, actor: WorkflowActor, claimId: string, reasonInput: string): Promise<Claim> {
  assertPerson(actor, 'decline a handover')
  const claim = await loadClaim(db, claimId)
  if (claim.kind !== 'handover' || claim.to_user_id !== actor.userId) {
    throw new WorkflowError(403, 'This handover is not addressed to you.', 'Only the person it is handed to can decline it.')
  }
  return closePending(db, deps, actor, claim, 'declined', requireReason(reasonInput, 'decline a handover'))
}
