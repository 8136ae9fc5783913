/**
 * Executing an approved revocation, exactly once.
 *
 * Idempotence is the database's job, not the caller's: a revocation moves to `executing`
 * only through one conditional UPDATE (`status = 'approved'`, or an `executing` row whose
 * lease has run out because its worker died), so of two clicks, two retries or two workers
 * exactly one gets the row back and acts; the others read the state and return. The provider
 * actions are idempotent too (a retry after a crash acts once at the provider).
 *
 * Order of writes: the `executing` audit event commits before any provider call, so nothing
 * happens at the provider without a trace; each provider call and its answer is recorded
 * (revocations.provider_calls and one audit event each); the provider is then re-read to
 * verify, and the request ends as verified, partial (what remains is stored) or failed (the
 * provider's error in plain words; retry moves it back to approved).
 */
import type { Kysely } from 'kysely'
import { sql } from 'kysely'
import type { ExecutedCall, ExecutionResult, VerificationResult } from '../../connectors/contract.js'
import { json } from '../../db/connection.js'
import type { Database, Revocation } from '../../db/schema.js'
import { auditRevocation, revocationSnapshot } from './audit.js'
import { loadWorkflowSettings } from './settings.js'
import { describeProviderError, findAction, loadIdentityContext, providerFor, type StoredPlan } from './targets.js'
import { WorkflowError, clock, requireReason, type WorkflowActor, type WorkflowDeps } from './types.js'

/** How long an execution may hold a revocation before another worker may take it over. */
export const EXECUTION_LEASE_MS = 5 * 60_000

export interface RecordedCall extends ExecutedCall {
  attempt: number
}

async function loadRevocation(db: Kysely<Database>, id: string): Promise<Revocation> {
  const row = await db.selectFrom('revocations').selectAll().where('id', '=', id).executeTakeFirst()
  if (!row) throw new WorkflowError(404, `Revocation ${id} does not exist.`, 'Open it from the Revocations page.')
  return row
}

/**
 * Takes the revocation for execution. Returns null when someone else has it, it is already
 * done, or its approval expired (then it is marked expired).
 */
async function claimForExecution(db: Kysely<Database>, deps: WorkflowDeps, actor: WorkflowActor | null, id: string): Promise<Revocation | null> {
  const now = clock(deps)
  return db.transaction().execute(async (trx) => {
    const claimed = await trx
      .updateTable('revocations')
      .set({
        status: 'executing',
        attempts: sql`attempts + 1`,
        lease_until: new Date(now.getTime() + EXECUTION_LEASE_MS),
        error: null,
        updated_at: now,
      })
      .where('id', '=', id)
      .where((eb) =>
        eb.or([eb('status', '=', 'approved'), eb.and([eb('status', '=', 'executing'), eb('lease_until', '<', now)])]),
      )
      .where((eb) => eb.or([eb('approval_required', '=', false), eb('approval_expires_at', '>', now)]))
      .returningAll()
      .executeTakeFirst()
    if (!claimed) {
      // An approved request whose approval ran out is expired, not executed.
      const expired = await trx
        .updateTable('revocations')
        .set({ status: 'expired', updated_at: now })
        .where('id', '=', id)
        .where('status', '=', 'approved')
        .where('approval_required', '=', true)
        .where('approval_expires_at', '<=', now)
        .returningAll()
        .executeTakeFirst()
      if (expired) {
        await auditRevocation(trx, {
          actor: null,
          action: 'revocation.expired',
          revocationId: id,
          before: { status: 'approved' },
          after: { status: 'expired', approvalExpiredAt: expired.approval_expires_at },
          reason: 'The approval expired before the revocation ran.',
        })
      }
      return null
    }
    await auditRevocation(trx, {
      actor,
      action: 'revocation.executing',
      revocationId: id,
      before: { status: claimed.attempts > 1 ? 'approved (retry)' : 'approved' },
      after: { status: 'executing', attempt: claimed.attempts },
      ip: deps.ip,
    })
    return claimed
  })
}

function failedResult(error: unknown, operation: string): ExecutionResult {
  const message = describeProviderError(error)
  return { ok: false, error: message, calls: [{ operation, parameters: {}, ok: false, response: null, error: message, at: new Date().toISOString() }] }
}

/**
 * Executes one approved revocation and returns it as it ended. Safe to call any number of
 * times, from any number of processes: only one acts.
 */
export async function executeRevocation(db: Kysely<Database>, deps: WorkflowDeps, actor: WorkflowActor | null, id: string): Promise<Revocation> {
  const claimed = await claimForExecution(db, deps, actor, id)
  if (!claimed) return loadRevocation(db, id)
  const attempt = claimed.attempts
  const plan = claimed.plan as unknown as StoredPlan

  let result: ExecutionResult
  let verification: VerificationResult
  let sourceId: string | null = null
  try {
    const context = await loadIdentityContext(db, claimed.identity_id)
    sourceId = context.source.id
    const handle = providerFor(context, deps)
    const action = findAction(handle.provider, claimed.action_id)
    try {
      // Exactly the target that was planned and approved, not whatever the inventory says now.
      result = await action.execute(handle.context(), plan.target)
    } catch (error) {
      result = failedResult(error, action.id)
    }
    await recordCalls(db, deps, claimed, attempt, result.calls)
    try {
      verification = await action.verify(handle.context(), plan.target)
    } catch (error) {
      verification = { verified: false, observed: `Leash could not re-read the provider to verify: ${describeProviderError(error)}` }
    }
  } catch (error) {
    // The workflow itself could not run (source removed, settings invalid): nothing was called.
    const message = error instanceof WorkflowError ? `${error.message} ${error.remedy}` : describeProviderError(error)
    result = { ok: false, error: message, calls: [] }
    verification = { verified: false, observed: 'Not verified: the revocation did not run.' }
  }

  const finished = await finish(db, deps, actor, claimed, attempt, result, verification)
  if (finished.status === 'verified' && sourceId && deps.requestScan) {
    // The next scan re-reads the provider, so the inventory shows the result without waiting for the schedule.
    await deps.requestScan({ sourceId, requestedBy: actor ? actor.displayName : 'revocation', trigger: 'manual' }).catch((error: unknown) => {
      console.warn(`leash: could not request a rescan after revocation ${id}: ${error instanceof Error ? error.message : String(error)}`)
    })
  }
  return finished
}

async function recordCalls(db: Kysely<Database>, deps: WorkflowDeps, row: Revocation, attempt: number, calls: ExecutedCall[]): Promise<void> {
  if (calls.length === 0) return
  const recorded: RecordedCall[] = calls.map((call) => ({ ...call, attempt }))
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('revocations')
      .set({ provider_calls: sql`provider_calls || ${json(recorded)}::jsonb`, updated_at: clock(deps) })
      .where('id', '=', row.id)
      .execute()
    for (const call of recorded) {
      await auditRevocation(trx, {
        actor: null,
        action: 'revocation.provider_call',
        revocationId: row.id,
        after: { attempt, operation: call.operation, parameters: call.parameters, ok: call.ok, response: call.response, error: call.error, at: call.at },
      })
    }
  })
}

async function finish(
  db: Kysely<Database>,
  deps: WorkflowDeps,
  actor: WorkflowActor | null,
  claimed: Revocation,
  attempt: number,
  result: ExecutionResult,
  verification: VerificationResult,
): Promise<Revocation> {
  const now = clock(deps)
  const settings = await loadWorkflowSettings(db)
  const plan = claimed.plan as unknown as StoredPlan
  // Partly done means something changed at the provider: reads that succeeded do not count.
  const anyOk = result.calls.some((c) => c.ok && !isReadOperation(c.operation))
  const status: Revocation['status'] = verification.verified ? 'verified' : anyOk ? 'partial' : 'failed'
  const failedCalls = result.calls.filter((c) => !c.ok)
  const error =
    status === 'verified'
      ? null
      : (result.error ?? failedCalls.map((c) => `${c.operation}: ${c.error}`).join('; ')) || `The provider accepted the calls, but re-reading it shows: ${verification.observed}`
  const remaining =
    status === 'partial'
      ? {
          calls: failedCalls.map((c) => ({ operation: c.operation, parameters: c.parameters, error: c.error })),
          observed: verification.observed,
          summary: `${failedCalls.length || 'Some'} of the planned changes did not take effect; the provider now reports: ${verification.observed}`,
        }
      : null
  const undoUntil =
    status === 'verified' && plan.providerPlan.reversible && plan.providerPlan.undoActionId && !claimed.undo_of_revocation_id
      ? new Date(now.getTime() + settings['revocation.undo_grace_days'] * 86_400_000)
      : null

  return db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('revocations')
      .set({
        status,
        error,
        remaining: remaining ? json(remaining) : null,
        verification: json({ ...verification, at: now.toISOString(), attempt }),
        executed_at: now,
        verified_at: status === 'verified' ? now : null,
        undo_until: undoUntil,
        lease_until: null,
        updated_at: now,
      })
      .where('id', '=', claimed.id)
      .where('status', '=', 'executing')
      .where('attempts', '=', attempt)
      .returningAll()
      .executeTakeFirst()
    if (!row) return loadRevocation(db, claimed.id) // another worker took over after our lease ran out
    await auditRevocation(trx, {
      actor: null,
      action: status === 'verified' ? 'revocation.verified' : status === 'partial' ? 'revocation.partial' : 'revocation.failed',
      revocationId: row.id,
      before: { status: 'executing', attempt },
      after: { status, observed: verification.observed, error, remaining, undoUntil },
    })
    if (status === 'verified' && row.undo_of_revocation_id) {
      const original = await trx
        .updateTable('revocations')
        .set({ status: 'undone', undone_by_revocation_id: row.id, undo_until: null, updated_at: now })
        .where('id', '=', row.undo_of_revocation_id)
        .where('status', '=', 'verified')
        .returningAll()
        .executeTakeFirst()
      if (original) {
        await auditRevocation(trx, {
          actor,
          action: 'revocation.undone',
          revocationId: original.id,
          before: revocationSnapshot({ ...original, status: 'verified' }),
          after: { ...revocationSnapshot(original), undoneBy: row.id, observed: verification.observed },
          reason: row.reason,
          ip: deps.ip,
        })
      }
    }
    return row
  })
}

/** Provider calls that only read (iam:ListAccessKeys, GetLoginProfile, Describe…): they change nothing. */
export function isReadOperation(operation: string): boolean {
  return /(^|[:./])(List|Get|Describe|Read|Head|Lookup|Search)[A-Z_]/.test(operation)
}

/** Executes several revocations (a kill-switch batch) one after another; returns them as they ended. */
export async function executeRevocations(db: Kysely<Database>, deps: WorkflowDeps, actor: WorkflowActor | null, ids: string[]): Promise<Revocation[]> {
  const out: Revocation[] = []
  for (const id of ids) out.push(await executeRevocation(db, deps, actor, id))
  return out
}

function assertMayExecute(actor: WorkflowActor, what: string): void {
  if (!actor.can('execute:revocation:any')) {
    throw new WorkflowError(403, `You may not ${what}.`, 'Ask an operator: retrying and undoing revocations needs the operator role.')
  }
}

/**
 * Retries a failed or partial revocation (the whole batch when it belongs to one). The
 * provider actions are idempotent, so what already took effect is not done twice. An expired
 * approval is not renewed by a retry: the request must be approved again.
 */
export async function retryRevocation(db: Kysely<Database>, deps: WorkflowDeps, actor: WorkflowActor, id: string): Promise<Revocation[]> {
  assertMayExecute(actor, 'retry a revocation')
  const row = await loadRevocation(db, id)
  const now = clock(deps)
  const ids = await db.transaction().execute(async (trx) => {
    let query = trx.selectFrom('revocations').selectAll().where('status', 'in', ['failed', 'partial']).forUpdate()
    query = row.batch_id ? query.where('batch_id', '=', row.batch_id) : query.where('id', '=', id)
    const retryable = await query.execute()
    if (retryable.length === 0) {
      throw new WorkflowError(409, `Revocation ${id} is ${row.status.replace('_', ' ')}; only failed or partial revocations can be retried.`, 'Reload the page to see its current state.')
    }
    for (const r of retryable) {
      if (r.approval_required && (!r.approval_expires_at || r.approval_expires_at <= now)) {
        throw new WorkflowError(409, `The approval of revocation ${r.id} expired on ${r.approval_expires_at?.toISOString() ?? '(unknown)'}.`, 'Request the revocation again; it needs a fresh approval.')
      }
    }
    for (const r of retryable) {
      await trx.updateTable('revocations').set({ status: 'approved', updated_at: now }).where('id', '=', r.id).execute()
      await auditRevocation(trx, {
        actor,
        action: 'revocation.retry_requested',
        revocationId: r.id,
        before: { status: r.status, error: r.error },
        after: { status: 'approved' },
        ip: deps.ip,
      })
    }
    return retryable.map((r) => r.id)
  })
  return executeRevocations(db, deps, actor, ids)
}

/**
 * Undoes a verified, reversible revocation within its grace period by running the provider's
 * undo action (e.g. reactivating an access key). The undo is a revocation row of its own
 * (undo_of_revocation_id), so it has a plan, provider calls, verification and audit events.
 */
export async function undoRevocation(db: Kysely<Database>, deps: WorkflowDeps, actor: WorkflowActor, id: string, reasonInput: string): Promise<Revocation> {
  if (actor.kind === 'token') throw new WorkflowError(403, 'An API token cannot undo a revocation.', 'Sign in as an operator to undo it.')
  assertMayExecute(actor, 'undo a revocation')
  const reason = requireReason(reasonInput, 'undo a revocation')
  const original = await loadRevocation(db, id)
  const now = clock(deps)
  const plan = original.plan as unknown as StoredPlan
  if (original.status !== 'verified' || original.undo_of_revocation_id) {
    throw new WorkflowError(409, `Revocation ${id} is ${original.status}; only a verified revocation can be undone.`, 'Reload the page to see its current state.')
  }
  if (!plan.providerPlan.reversible || !plan.providerPlan.undoActionId) {
    throw new WorkflowError(409, `"${plan.action.title}" cannot be undone.`, 'Restore the access in the provider console if it is needed.')
  }
  if (!original.undo_until || original.undo_until <= now) {
    throw new WorkflowError(409, `The undo period of revocation ${id} ended on ${original.undo_until?.toISOString() ?? '(unknown)'}.`, 'Restore the access in the provider console, or request a new credential.')
  }
  const context = await loadIdentityContext(db, original.identity_id)
  const handle = providerFor(context, deps)
  const undoAction = findAction(handle.provider, plan.providerPlan.undoActionId)
  // The revocation took the credential out of service: the undo acts on it as it is now.
  const undoTarget = plan.target.credential ? { ...plan.target, credential: { ...plan.target.credential, status: 'inactive' } } : plan.target
  let providerPlan
  try {
    providerPlan = await undoAction.plan(handle.context(), undoTarget)
  } catch (error) {
    throw new WorkflowError(400, `The provider could not plan the undo: ${describeProviderError(error)}`, 'Check the source connection, then try again.')
  }
  const undoPlan: StoredPlan = {
    ...plan,
    target: undoTarget,
    action: { id: undoAction.id, title: undoAction.title, reversible: undoAction.reversible, destructive: undoAction.destructive },
    providerPlan,
    stopsWorking: ['Undo restores the access the revocation removed.'],
  }
  let undoRow: Revocation
  try {
    undoRow = await db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('revocations')
        .values({
          identity_id: original.identity_id,
          credential_id: original.credential_id,
          action_id: undoAction.id,
          batch_id: null,
          requested_by_user_id: actor.userId,
          requested_by_token_id: null,
          reason,
          plan: json(undoPlan),
          impact: 'normal',
          impact_reasons: json([]),
          approval_required: false,
          status: 'approved',
          approval_expires_at: new Date(now.getTime() + 3_600_000),
          idempotency_key: `undo:${original.id}`,
          undo_of_revocation_id: original.id,
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow()
      await auditRevocation(trx, {
        actor,
        action: 'revocation.requested',
        revocationId: row.id,
        after: { ...revocationSnapshot(row), undoOf: original.id, calls: providerPlan.calls.map((c) => c.operation) },
        reason,
        ip: deps.ip,
      })
      return row
    })
  } catch (error) {
    if ((error as { code?: string }).code !== '23505') throw error
    // A second click, or an undo that failed before: run the existing undo again (idempotent).
    const existing = await db.selectFrom('revocations').selectAll().where('idempotency_key', '=', `undo:${original.id}`).executeTakeFirstOrThrow()
    if (existing.status === 'failed' || existing.status === 'partial') {
      await db.transaction().execute(async (trx) => {
        const retried = await trx
          .updateTable('revocations')
          .set({ status: 'approved', approval_expires_at: new Date(now.getTime() + 3_600_000), updated_at: now })
          .where('id', '=', existing.id)
          .where('status', 'in', ['failed', 'partial'])
          .returningAll()
          .executeTakeFirst()
        if (retried) {
          await auditRevocation(trx, { actor, action: 'revocation.retry_requested', revocationId: existing.id, before: { status: existing.status }, after: { status: 'approved' }, reason, ip: deps.ip })
        }
      })
    }
    undoRow = existing
  }
  return executeRevocation(db, deps, actor, undoRow.id)
}
