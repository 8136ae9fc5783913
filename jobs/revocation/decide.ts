/**
 * Deciding on a request: approve (then execute), reject, cancel, and expiry.
 *
 * Separation of duties, enforced here and not only in the UI:
 *  - an API token never approves or rejects;
 *  - nobody approves a request they made, including one made with their own API token;
 *  - a request in a kill-switch batch is decided as a whole;
 *  - a request waits at most `revocation.approval_ttl_hours` for approval, and an approval is
 *    valid for that long again; after that it is expired, and a new request is needed.
 * Each decision is one conditional UPDATE from `pending_approval`, so two approvers racing
 * decide once.
 */
import type { Kysely } from 'kysely'
import type { Database, Revocation } from '../../db/schema.js'
import { auditRevocation } from './audit.js'
import { executeRevocations } from './execute.js'
import { loadWorkflowSettings } from './settings.js'
import { WorkflowError, clock, requireReason, type WorkflowActor, type WorkflowDeps } from './types.js'

async function batchOf(db: Kysely<Database>, id: string): Promise<Revocation[]> {
  const row = await db.selectFrom('revocations').selectAll().where('id', '=', id).executeTakeFirst()
  if (!row) throw new WorkflowError(404, `Revocation ${id} does not exist.`, 'Open it from the Revocations page.')
  if (!row.batch_id) return [row]
  return db.selectFrom('revocations').selectAll().where('batch_id', '=', row.batch_id).orderBy('idempotency_key').execute()
}

/** Whether this person (or their token) made the request. */
async function isRequester(db: Kysely<Database>, actor: WorkflowActor, row: Revocation): Promise<boolean> {
  if (row.requested_by_user_id && row.requested_by_user_id === actor.userId) return true
  if (row.requested_by_token_id) {
    const token = await db.selectFrom('api_tokens').select('created_by').where('id', '=', row.requested_by_token_id).executeTakeFirst()
    if (token?.created_by === actor.userId) return true
  }
  return false
}

function assertMayDecide(actor: WorkflowActor, verb: 'approve' | 'reject'): void {
  if (actor.kind === 'token') {
    throw new WorkflowError(403, `An API token cannot ${verb} a revocation.`, `A security lead or operator must sign in and ${verb} it on the Revocations page.`)
  }
  if (!actor.can('approve:revocation:any')) {
    throw new WorkflowError(403, `You may not ${verb} revocations.`, 'Ask a security lead or an operator.')
  }
}

async function expireIfDue(db: Kysely<Database>, deps: WorkflowDeps, rows: Revocation[]): Promise<boolean> {
  const now = clock(deps)
  const due = rows.filter((r) => r.status === 'pending_approval' && r.approval_expires_at && r.approval_expires_at <= now)
  if (due.length === 0) return false
  await expireStaleRevocations(db, deps, due.map((r) => r.id))
  return true
}

export async function approveRevocation(db: Kysely<Database>, deps: WorkflowDeps, actor: WorkflowActor, id: string, note?: string | null): Promise<Revocation[]> {
  assertMayDecide(actor, 'approve')
  const rows = await batchOf(db, id)
  const first = rows[0]!
  if (await isRequester(db, actor, first)) {
    throw new WorkflowError(403, 'You requested this revocation, so you cannot approve it.', 'A different security lead or operator must approve it.')
  }
  if (await expireIfDue(db, deps, rows)) {
    throw new WorkflowError(409, 'This request waited too long for approval and has expired.', 'Request the revocation again if it is still needed.')
  }
  const pending = rows.filter((r) => r.status === 'pending_approval')
  if (pending.length === 0) {
    throw new WorkflowError(409, `This revocation is ${first.status.replace('_', ' ')}, not waiting for approval.`, 'Reload the page to see its current state.')
  }
  const settings = await loadWorkflowSettings(db)
  const now = clock(deps)
  const approved = await db.transaction().execute(async (trx) => {
    const updated = await trx
      .updateTable('revocations')
      .set({
        status: 'approved',
        approved_by: actor.userId,
        approved_at: now,
        approval_expires_at: new Date(now.getTime() + settings['revocation.approval_ttl_hours'] * 3_600_000),
        updated_at: now,
      })
      .where('id', 'in', pending.map((r) => r.id))
      .where('status', '=', 'pending_approval')
      .returningAll()
      .execute()
    if (updated.length !== pending.length) {
      throw new WorkflowError(409, 'Someone else decided on this request at the same moment.', 'Reload the page to see the decision.')
    }
    for (const row of updated) {
      await auditRevocation(trx, {
        actor,
        action: 'revocation.approved',
        revocationId: row.id,
        before: { status: 'pending_approval', requestedBy: row.requested_by_user_id ?? `token ${row.requested_by_token_id}` },
        after: { status: 'approved', approvedBy: actor.userId, approvalExpiresAt: row.approval_expires_at },
        reason: note?.trim() || null,
        ip: deps.ip,
      })
    }
    return updated
  })
  return executeRevocations(db, deps, actor, approved.map((r) => r.id))
}

export async function rejectRevocation(db: Kysely<Database>, deps: WorkflowDeps, actor: WorkflowActor, id: string, reasonInput: string): Promise<Revocation[]> {
  assertMayDecide(actor, 'reject')
  const reason = requireReason(reasonInput, 'reject a revocation')
  const rows = await batchOf(db, id)
  if (await isRequester(db, actor, rows[0]!)) {
    throw new WorkflowError(403, 'You requested this revocation; cancel it instead of rejecting it.', 'Use Cancel request.')
  }
  return decideClosed(db, deps, actor, rows, 'rejected', reason, ['pending_approval'])
}

/** The requester, or anyone who may approve, withdraws a request that has not started. */
export async function cancelRevocation(db: Kysely<Database>, deps: WorkflowDeps, actor: WorkflowActor, id: string, reasonInput: string): Promise<Revocation[]> {
  const reason = requireReason(reasonInput, 'cancel a revocation')
  const rows = await batchOf(db, id)
  const mayCancel = (await isRequester(db, actor, rows[0]!)) || (actor.kind === 'user' && actor.can('approve:revocation:any'))
  if (!mayCancel) throw new WorkflowError(403, 'You may not cancel this revocation.', 'The requester or a security lead or operator can cancel it.')
  return decideClosed(db, deps, actor, rows, 'cancelled', reason, ['pending_approval', 'approved'])
}

async function decideClosed(
  db: Kysely<Database>,
  deps: WorkflowDeps,
  actor: WorkflowActor,
  rows: Revocation[],
  status: 'rejected' | 'cancelled',
  reason: string,
  from: Revocation['status'][],
): Promise<Revocation[]> {
  const now = clock(deps)
  const open = rows.filter((r) => from.includes(r.status))
  if (open.length === 0) {
    throw new WorkflowError(409, `This revocation is ${rows[0]!.status.replace('_', ' ')}; there is nothing to ${status === 'rejected' ? 'reject' : 'cancel'}.`, 'Reload the page to see its current state.')
  }
  return db.transaction().execute(async (trx) => {
    const updated = await trx
      .updateTable('revocations')
      .set({ status, decided_by: actor.userId, decided_at: now, decision_reason: reason, updated_at: now })
      .where('id', 'in', open.map((r) => r.id))
      .where('status', 'in', from)
      .returningAll()
      .execute()
    if (updated.length !== open.length) throw new WorkflowError(409, 'The request changed at the same moment.', 'Reload the page to see its current state.')
    for (const row of updated) {
      const before = open.find((r) => r.id === row.id)!
      await auditRevocation(trx, {
        actor,
        action: status === 'rejected' ? 'revocation.rejected' : 'revocation.cancelled',
        revocationId: row.id,
        before: { status: before.status },
        after: { status },
        reason,
        ip: deps.ip,
      })
    }
    return updated
  })
}

/**
 * Marks requests whose approval window passed as expired: pending ones never approved, and
 * approved ones never executed. Run by the scheduler and before each decision; returns how
 * many it expired. `ids` limits it to those requests.
 */
export async function expireStaleRevocations(db: Kysely<Database>, deps: WorkflowDeps = {}, ids?: string[]): Promise<number> {
  const now = clock(deps)
  return db.transaction().execute(async (trx) => {
    let query = trx
      .updateTable('revocations')
      .set({ status: 'expired', updated_at: now })
      .where((eb) =>
        eb.or([eb('status', '=', 'pending_approval'), eb.and([eb('status', '=', 'approved'), eb('approval_required', '=', true)])]),
      )
      .where('approval_expires_at', '<=', now)
    if (ids) query = query.where('id', 'in', ids.length ? ids : ['00000000-0000-0000-0000-000000000000'])
    const expired = await query.returning(['id', 'approval_expires_at', 'approved_at']).execute()
    for (const row of expired) {
      await auditRevocation(trx, {
        actor: null,
        action: 'revocation.expired',
        revocationId: row.id,
        before: { status: row.approved_at ? 'approved' : 'pending_approval' },
        after: { status: 'expired', expiredAt: row.approval_expires_at },
        reason: row.approved_at ? 'The approval expired before the revocation ran.' : 'Nobody approved the request in time.',
      })
    }
    return expired.length
  })
}
