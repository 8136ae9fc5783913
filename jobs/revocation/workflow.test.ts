import { sql } from 'kysely'
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestDatabase } from '../../test/db.js'
import {
  approveRevocation,
  cancelRevocation,
  executeRevocation,
  expireStaleRevocations,
  previewRevocation,
  rejectRevocation,
  requestRevocation,
  retryRevocation,
  undoRevocation,
  WorkflowError,
  type WorkflowDeps,
} from './index.js'
import { actorOf, createUser, seedIdentity, tokenActorOf, type TestUser } from './test-fixtures.js'
import { createTestProvider, createTestProviderState, type TestProviderState } from './test-provider.js'

const database = useTestDatabase({ max: 10 })

let state: TestProviderState
let deps: WorkflowDeps
let operator: TestUser
let operator2: TestUser
let lead: TestUser
let owner: TestUser
let viewer: TestUser

function freshDeps(now?: () => Date): WorkflowDeps {
  const provider = createTestProvider(state)
  return { resolveProvider: () => provider, now }
}

beforeAll(async () => {
  const db = database.current.db
  operator = await createUser(db, 'operator')
  operator2 = await createUser(db, 'operator')
  lead = await createUser(db, 'security_lead')
  owner = await createUser(db, 'owner')
  viewer = await createUser(db, 'viewer')
})

function newKey(): string {
  return `AKIA${Math.random().toString(36).slice(2, 14).toUpperCase().padEnd(12, 'X')}`
}

async function auditActions(revocationId: string): Promise<string[]> {
  const rows = await database.current.db
    .selectFrom('audit_events')
    .select('action')
    .where('object_type', '=', 'revocation')
    .where('object_id', '=', revocationId)
    .orderBy('seq')
    .execute()
  return rows.map((r) => r.action)
}

async function expectWorkflowError(promise: Promise<unknown>, status: number, message: RegExp): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(WorkflowError)
  expect((error as WorkflowError).status).toBe(status)
  expect((error as WorkflowError).message).toMatch(message)
}

describe('revocation of one credential with normal impact', () => {
  it('names a credential by its name, with its type only when the name does not already say it', async () => {
    const db = database.current.db
    const key = newKey()
    state = createTestProviderState({ [key]: 'Active' })
    deps = freshDeps()
    const seeded = await seedIdentity(db, { keys: [key], accessLevel: 'read' })
    const selection = { identityId: seeded.identityId, credentialId: seeded.credentialIds[0] }
    const labelNow = async () => (await previewRevocation(db, deps, actorOf(operator), selection)).items[0]!.label

    expect(await labelNow()).toBe(`access key ${key}`)
    await db.updateTable('credentials').set({ display_name: 'Access key 1 (created 2026-04-20)' }).where('id', '=', seeded.credentialIds[0]!).execute()
    expect(await labelNow()).toBe('Access key 1 (created 2026-04-20)')
    await db.updateTable('credentials').set({ display_name: 'deploy bot' }).where('id', '=', seeded.credentialIds[0]!).execute()
    expect(await labelNow()).toBe('access key deploy bot')
  })

  it('plans, executes at once, records the provider call, verifies, and audits every step', async () => {
    const db = database.current.db
    const key = newKey()
    state = createTestProviderState({ [key]: 'Active' })
    deps = freshDeps()
    const seeded = await seedIdentity(db, { keys: [key], accessLevel: 'read' })

    const preview = await previewRevocation(db, deps, actorOf(operator), { identityId: seeded.identityId, credentialId: seeded.credentialIds[0] })
    expect(preview.assessment).toEqual({ impact: 'normal', reasons: [], approvalRequired: false })
    expect(preview.items).toHaveLength(1)
    expect(preview.items[0]!.action.id).toBe('test.key.deactivate')
    expect(preview.items[0]!.plan.providerPlan.calls[0]!.operation).toBe('iam:UpdateAccessKey')
    expect(preview.items[0]!.plan.stopsWorking.join(' ')).toMatch(/last used 2 days ago/)
    expect(preview.options.map((o) => [o.id, o.available])).toEqual([
      ['test.key.deactivate', true],
      ['test.key.delete', false],
    ])

    const outcome = await requestRevocation(db, deps, actorOf(operator), {
      identityId: seeded.identityId,
      credentialId: seeded.credentialIds[0],
      reason: 'Key found in a public repository',
    })
    expect(outcome.created).toBe(true)
    const [row] = outcome.revocations
    expect(row!.status).toBe('verified')
    expect(row!.approval_required).toBe(false)
    expect(state.keys.get(key)).toBe('Inactive')
    expect(state.mutations).toHaveLength(1)
    expect(row!.provider_calls).toEqual([expect.objectContaining({ operation: 'iam:UpdateAccessKey', ok: true, attempt: 1 })])
    expect(row!.verification).toMatchObject({ verified: true, observed: `Access key ${key} is Inactive.` })
    expect(row!.undo_until!.getTime() - Date.now()).toBeGreaterThan(6.9 * 86_400_000)
    expect(await auditActions(row!.id)).toEqual(['revocation.requested', 'revocation.approved', 'revocation.executing', 'revocation.provider_call', 'revocation.verified'])
  })

  it('returns the same request for the same idempotency key, even when sent twice at once', async () => {
    const db = database.current.db
    const key = newKey()
    state = createTestProviderState({ [key]: 'Active' })
    deps = freshDeps()
    const seeded = await seedIdentity(db, { keys: [key] })
    const request = { identityId: seeded.identityId, credentialId: seeded.credentialIds[0], reason: 'Leaked key', idempotencyKey: `form-${key}` }
    const [a, b] = await Promise.all([requestRevocation(db, deps, actorOf(operator), request), requestRevocation(db, deps, actorOf(operator), request)])
    expect(a.revocations[0]!.id).toBe(b.revocations[0]!.id)
    expect([a.created, b.created].sort()).toEqual([false, true])
    const again = await requestRevocation(db, deps, actorOf(operator), request)
    expect(again.created).toBe(false)
    expect(again.revocations[0]!.id).toBe(a.revocations[0]!.id)
    expect(state.mutations).toHaveLength(1)
    expect(await db.selectFrom('revocations').select('id').where('identity_id', '=', seeded.identityId).execute()).toHaveLength(1)
  })

  it('refuses people without the permission, and lets an owner revoke only what they own', async () => {
    const db = database.current.db
    const key = newKey()
    state = createTestProviderState({ [key]: 'Active' })
    deps = freshDeps()
    const seeded = await seedIdentity(db, { keys: [key] })
    const request = { identityId: seeded.identityId, credentialId: seeded.credentialIds[0], reason: 'No longer needed' }
    await expectWorkflowError(requestRevocation(db, deps, actorOf(viewer), request), 403, /may not request/)
    await expectWorkflowError(requestRevocation(db, deps, actorOf(owner), request), 403, /may not request/)
    await db.updateTable('identities').set({ owner_ref: owner.email }).where('id', '=', seeded.identityId).execute()
    const outcome = await requestRevocation(db, deps, actorOf(owner), request)
    expect(outcome.revocations[0]!.status).toBe('verified')
  })

  it('names what is wrong with bad input', async () => {
    const db = database.current.db
    state = createTestProviderState()
    deps = freshDeps()
    const seeded = await seedIdentity(db, { keys: [newKey()] })
    await expectWorkflowError(requestRevocation(db, deps, actorOf(operator), { identityId: seeded.identityId, reason: ' ' }), 400, /reason is required/)
    await expectWorkflowError(requestRevocation(db, deps, actorOf(operator), { identityId: 999999, reason: 'gone' }), 404, /Identity 999999 does not exist/)
    await expectWorkflowError(
      requestRevocation(db, deps, actorOf(operator), { identityId: seeded.identityId, credentialId: seeded.credentialIds[0], actionId: 'test.nope', reason: 'x-y-z' }),
      400,
      /action "test.nope" does not exist/,
    )
    // A user has no identity-level action in the test provider.
    await expectWorkflowError(requestRevocation(db, deps, actorOf(operator), { identityId: seeded.identityId, reason: 'whole identity' }), 409, /No revocation action/)
  })
})

describe('approval of high-impact revocations', () => {
  it('refuses self-approval and approval by an API token; a second person approves and it runs', async () => {
    const db = database.current.db
    const key = newKey()
    state = createTestProviderState({ [key]: 'Active' })
    deps = freshDeps()
    const seeded = await seedIdentity(db, { keys: [key], accessLevel: 'admin', tags: { Env: 'Prod' } })
    const outcome = await requestRevocation(db, deps, actorOf(operator), { identityId: seeded.identityId, credentialId: seeded.credentialIds[0], reason: 'Admin key of a retired agent' })
    const [row] = outcome.revocations
    expect(row!.status).toBe('pending_approval')
    expect(row!.impact).toBe('high')
    expect(row!.impact_reasons).toEqual(['The identity has administrator rights.', 'The identity is tagged as production (Env=Prod).'])
    expect(state.mutations).toHaveLength(0)

    await expectWorkflowError(approveRevocation(db, deps, actorOf(operator), row!.id), 403, /You requested this revocation/)
    const leadToken = await tokenActorOf(db, lead, ['approve:revocation:any', 'create:revocation:any'])
    await expectWorkflowError(approveRevocation(db, deps, leadToken, row!.id), 403, /API token cannot approve/)
    await expectWorkflowError(approveRevocation(db, deps, actorOf(viewer), row!.id), 403, /may not approve/)
    expect(state.mutations).toHaveLength(0)

    const [approved] = await approveRevocation(db, deps, actorOf(lead), row!.id, 'Confirmed with the team')
    expect(approved!.status).toBe('verified')
    expect(approved!.approved_by).toBe(lead.id)
    expect(state.keys.get(key)).toBe('Inactive')
    expect(await auditActions(row!.id)).toEqual(['revocation.requested', 'revocation.approved', 'revocation.executing', 'revocation.provider_call', 'revocation.verified'])
    const approval = await db.selectFrom('audit_events').selectAll().where('object_id', '=', row!.id).where('action', '=', 'revocation.approved').executeTakeFirstOrThrow()
    expect(approval.actor_id).toBe(lead.id)
    expect(approval.reason).toBe('Confirmed with the team')
    // A decided request cannot be approved again.
    await expectWorkflowError(approveRevocation(db, deps, actorOf(operator2), row!.id), 409, /not waiting for approval/)
  })

  it('lets a token request, and never lets the token owner approve that request', async () => {
    const db = database.current.db
    const key = newKey()
    state = createTestProviderState({ [key]: 'Active' })
    deps = freshDeps()
    const seeded = await seedIdentity(db, { keys: [key], accessLevel: 'permissions_management' })
    const token = await tokenActorOf(db, operator2, ['create:revocation:any'])
    const outcome = await requestRevocation(db, deps, token, { identityId: seeded.identityId, credentialId: seeded.credentialIds[0], reason: 'SOAR playbook 12' })
    const [row] = outcome.revocations
    expect(row!.requested_by_token_id).toBe(token.tokenId)
    expect(row!.requested_by_user_id).toBeNull()
    expect(row!.status).toBe('pending_approval')
    const requested = await db.selectFrom('audit_events').selectAll().where('object_id', '=', row!.id).where('action', '=', 'revocation.requested').executeTakeFirstOrThrow()
    expect(requested.actor_type).toBe('token')
    await expectWorkflowError(approveRevocation(db, deps, actorOf(operator2), row!.id), 403, /You requested this revocation/)
    const noScope = await tokenActorOf(db, operator2, ['read:revocation:any'])
    await expectWorkflowError(requestRevocation(db, deps, noScope, { identityId: seeded.identityId, credentialId: seeded.credentialIds[0], reason: 'no scope' }), 403, /may not request/)
    const [done] = await approveRevocation(db, deps, actorOf(operator), row!.id)
    expect(done!.status).toBe('verified')
  })

  it('expires a request nobody approved in time, and refuses to approve it', async () => {
    const db = database.current.db
    const key = newKey()
    state = createTestProviderState({ [key]: 'Active' })
    const start = Date.now()
    let now = start
    deps = freshDeps(() => new Date(now))
    const seeded = await seedIdentity(db, { keys: [key], accessLevel: 'admin' })
    const { revocations } = await requestRevocation(db, deps, actorOf(operator), { identityId: seeded.identityId, credentialId: seeded.credentialIds[0], reason: 'Expiry test' })
    expect(revocations[0]!.approval_expires_at!.getTime()).toBe(start + 24 * 3_600_000)
    now = start + 25 * 3_600_000
    await expectWorkflowError(approveRevocation(db, deps, actorOf(lead), revocations[0]!.id), 409, /expired/)
    const row = await db.selectFrom('revocations').selectAll().where('id', '=', revocations[0]!.id).executeTakeFirstOrThrow()
    expect(row.status).toBe('expired')
    expect(state.mutations).toHaveLength(0)
    expect(await auditActions(row.id)).toEqual(['revocation.requested', 'revocation.expired'])

    // The sweep expires the others; the TTL is a setting.
    await db.insertInto('settings').values({ key: 'revocation.approval_ttl_hours', value: '2' }).execute()
    try {
      now = start
      const other = await seedIdentity(db, { keys: [newKey()], accessLevel: 'admin' })
      const second = await requestRevocation(db, deps, actorOf(operator), { identityId: other.identityId, credentialId: other.credentialIds[0], reason: 'Sweep test' })
      expect(second.revocations[0]!.approval_expires_at!.getTime()).toBe(start + 2 * 3_600_000)
      now = start + 3 * 3_600_000
      expect(await expireStaleRevocations(db, deps)).toBeGreaterThanOrEqual(1)
      const swept = await db.selectFrom('revocations').select('status').where('id', '=', second.revocations[0]!.id).executeTakeFirstOrThrow()
      expect(swept.status).toBe('expired')
    } finally {
      await db.deleteFrom('settings').where('key', '=', 'revocation.approval_ttl_hours').execute()
    }
  })

  it('lets another approver reject with a reason, and the requester cancel', async () => {
    const db = database.current.db
    state = createTestProviderState()
    deps = freshDeps()
    const a = await seedIdentity(db, { keys: [newKey()], accessLevel: 'admin' })
    const first = await requestRevocation(db, deps, actorOf(operator), { identityId: a.identityId, credentialId: a.credentialIds[0], reason: 'Reject me' })
    await expectWorkflowError(rejectRevocation(db, deps, actorOf(lead), first.revocations[0]!.id, ''), 400, /reason is required/)
    const [rejected] = await rejectRevocation(db, deps, actorOf(lead), first.revocations[0]!.id, 'The agent is still in use')
    expect(rejected).toMatchObject({ status: 'rejected', decided_by: lead.id, decision_reason: 'The agent is still in use' })
    const b = await seedIdentity(db, { keys: [newKey()], accessLevel: 'admin' })
    const second = await requestRevocation(db, deps, actorOf(operator), { identityId: b.identityId, credentialId: b.credentialIds[0], reason: 'Cancel me' })
    await expectWorkflowError(cancelRevocation(db, deps, actorOf(viewer), second.revocations[0]!.id, 'not mine'), 403, /may not cancel/)
    const [cancelled] = await cancelRevocation(db, deps, actorOf(operator), second.revocations[0]!.id, 'Wrong key')
    expect(cancelled!.status).toBe('cancelled')
    expect(state.mutations).toHaveLength(0)
  })
})

describe('execution', () => {
  it('acts once when many callers execute the same approved revocation at the same time', async () => {
    const db = database.current.db
    const key = newKey()
    state = createTestProviderState({ [key]: 'Active' })
    state.delayMs = 150
    deps = freshDeps()
    const seeded = await seedIdentity(db, { keys: [key], accessLevel: 'admin' })
    const { revocations } = await requestRevocation(db, deps, actorOf(operator), { identityId: seeded.identityId, credentialId: seeded.credentialIds[0], reason: 'Race' })
    const id = revocations[0]!.id
    // Approved but not yet executed (as if the approver's process died right after approving).
    await db.updateTable('revocations').set({ status: 'approved', approved_by: lead.id, approved_at: new Date() }).where('id', '=', id).execute()

    const results = await Promise.all(Array.from({ length: 6 }, () => executeRevocation(db, deps, actorOf(operator2), id)))
    expect(state.mutations).toHaveLength(1)
    const final = await db.selectFrom('revocations').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
    expect(final.status).toBe('verified')
    expect(final.attempts).toBe(1)
    expect(final.provider_calls).toHaveLength(1)
    expect(results.every((r) => ['executing', 'verified'].includes(r.status))).toBe(true)
    expect((await auditActions(id)).filter((a) => a === 'revocation.executing')).toHaveLength(1)
    // And once more afterwards: nothing happens.
    expect((await executeRevocation(db, deps, actorOf(operator2), id)).status).toBe('verified')
    expect(state.mutations).toHaveLength(1)
  })

  it('decides once when two approvers click at the same moment', async () => {
    const db = database.current.db
    const key = newKey()
    state = createTestProviderState({ [key]: 'Active' })
    deps = freshDeps()
    const seeded = await seedIdentity(db, { keys: [key], accessLevel: 'admin' })
    const { revocations } = await requestRevocation(db, deps, actorOf(operator), { identityId: seeded.identityId, credentialId: seeded.credentialIds[0], reason: 'Two approvers' })
    const settled = await Promise.allSettled([approveRevocation(db, deps, actorOf(lead), revocations[0]!.id), approveRevocation(db, deps, actorOf(operator2), revocations[0]!.id)])
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1)
    expect(state.mutations).toHaveLength(1)
  })

  it('takes over an execution whose worker died once its lease has passed', async () => {
    const db = database.current.db
    const key = newKey()
    state = createTestProviderState({ [key]: 'Active' })
    deps = freshDeps()
    const seeded = await seedIdentity(db, { keys: [key] })
    const { revocations } = await requestRevocation(db, deps, actorOf(operator), { identityId: seeded.identityId, credentialId: seeded.credentialIds[0], reason: 'Lease', })
    const id = revocations[0]!.id
    // Simulate a worker that took it and died.
    await db.updateTable('revocations').set({ status: 'executing', lease_until: new Date(Date.now() + 60_000) }).where('id', '=', id).execute()
    expect((await executeRevocation(db, deps, actorOf(operator), id)).status).toBe('executing')
    await db.updateTable('revocations').set({ lease_until: new Date(Date.now() - 1000) }).where('id', '=', id).execute()
    expect((await executeRevocation(db, deps, actorOf(operator), id)).status).toBe('verified')
  })

  it('ends as failed with the provider error in plain words, and a retry completes it', async () => {
    const db = database.current.db
    const key = newKey()
    state = createTestProviderState({ [key]: 'Active' })
    const denied = Object.assign(new Error('User: arn:aws:iam::123456789012:user/leash is not authorized to perform: iam:UpdateAccessKey'), { name: 'AccessDenied' })
    state.failures.set('iam:UpdateAccessKey', { error: denied, times: 1 })
    deps = freshDeps()
    const seeded = await seedIdentity(db, { keys: [key] })
    const { revocations } = await requestRevocation(db, deps, actorOf(operator), { identityId: seeded.identityId, credentialId: seeded.credentialIds[0], reason: 'Retry test' })
    const failed = revocations[0]!
    expect(failed.status).toBe('failed')
    expect(failed.error).toMatch(/not authorized to perform: iam:UpdateAccessKey/)
    expect(failed.verification).toMatchObject({ verified: false, observed: `Access key ${key} is Active.` })
    expect(await auditActions(failed.id)).toContain('revocation.failed')

    await expectWorkflowError(retryRevocation(db, deps, actorOf(lead), failed.id), 403, /may not retry/)
    const [retried] = await retryRevocation(db, deps, actorOf(operator), failed.id)
    expect(retried!.status).toBe('verified')
    expect(retried!.attempts).toBe(2)
    expect(retried!.error).toBeNull()
    expect(retried!.provider_calls).toEqual([expect.objectContaining({ ok: false, attempt: 1 }), expect.objectContaining({ ok: true, attempt: 2 })])
    await expectWorkflowError(retryRevocation(db, deps, actorOf(operator), failed.id), 409, /only failed or partial/)
  })

  it('does not run an action when its audit event cannot be written', async () => {
    const db = database.current.db
    const key = newKey()
    state = createTestProviderState({ [key]: 'Active' })
    deps = freshDeps()
    const seeded = await seedIdentity(db, { keys: [key] })
    await sql`create function fail_audit() returns trigger language plpgsql as $$ begin raise exception 'audit store unavailable'; end $$`.execute(db)
    await sql`create trigger fail_audit before insert on audit_events for each row execute function fail_audit()`.execute(db)
    try {
      await expect(requestRevocation(db, deps, actorOf(operator), { identityId: seeded.identityId, credentialId: seeded.credentialIds[0], reason: 'No audit' })).rejects.toThrow(/audit store unavailable/)
    } finally {
      await sql`drop trigger fail_audit on audit_events`.execute(db)
      await sql`drop function fail_audit()`.execute(db)
    }
    expect(await db.selectFrom('revocations').select('id').where('identity_id', '=', seeded.identityId).execute()).toHaveLength(0)
    expect(state.mutations).toHaveLength(0)
  })
})

describe('kill switch', () => {
  it('revokes every credential in one batch that needs approval, and reports what remains', async () => {
    const db = database.current.db
    const [k1, k2] = [newKey(), newKey()]
    state = createTestProviderState({ [k1]: 'Active', [k2]: 'Active' })
    state.failures.set('iam:UpdateAccessKey', { error: Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }), times: 1 })
    deps = freshDeps()
    const seeded = await seedIdentity(db, { keys: [k1, k2], accessLevel: 'read' })
    const preview = await previewRevocation(db, deps, actorOf(operator), { identityId: seeded.identityId, killSwitch: true })
    expect(preview.items.map((i) => i.action.id)).toEqual(['test.key.deactivate', 'test.key.deactivate'])
    expect(preview.assessment.impact).toBe('high')
    expect(preview.assessment.reasons).toEqual(['The request revokes 2 credentials or access paths at once.'])

    const outcome = await requestRevocation(db, deps, actorOf(operator), { identityId: seeded.identityId, killSwitch: true, reason: 'Compromised agent' })
    expect(outcome.batchId).toBeTruthy()
    expect(outcome.revocations.map((r) => r.status)).toEqual(['pending_approval', 'pending_approval'])
    expect(new Set(outcome.revocations.map((r) => r.batch_id))).toEqual(new Set([outcome.batchId]))

    // Approving one approves the batch.
    const done = await approveRevocation(db, deps, actorOf(lead), outcome.revocations[1]!.id)
    expect(done.map((r) => r.status)).toEqual(['failed', 'verified'])
    expect(done[0]!.error).toMatch(/Rate exceeded/)
    const retried = await retryRevocation(db, deps, actorOf(operator), done[1]!.id)
    expect(retried.map((r) => r.status)).toEqual(['verified'])
    expect([state.keys.get(k1), state.keys.get(k2)]).toEqual(['Inactive', 'Inactive'])
  })

  it('includes identity-level actions such as revoking a role session', async () => {
    const db = database.current.db
    state = createTestProviderState()
    deps = freshDeps()
    const seeded = await seedIdentity(db, { kind: 'role', keys: [], accessLevel: 'read' })
    const outcome = await requestRevocation(db, deps, actorOf(operator), { identityId: seeded.identityId, killSwitch: true, reason: 'Cut the role off' })
    expect(outcome.revocations.map((r) => [r.action_id, r.status])).toEqual([['test.role.revoke_sessions', 'verified']])
  })
})

describe('undo and deletion after the grace period', () => {
  it('undoes a deactivation within the grace period, then offers deletion only after it', async () => {
    const db = database.current.db
    const key = newKey()
    state = createTestProviderState({ [key]: 'Active' })
    const start = Date.now()
    let now = start
    deps = freshDeps(() => new Date(now))
    const seeded = await seedIdentity(db, { keys: [key] })
    const request = { identityId: seeded.identityId, credentialId: seeded.credentialIds[0]! }
    const first = await requestRevocation(db, deps, actorOf(operator), { ...request, reason: 'Deactivate' })
    const original = first.revocations[0]!
    expect(original.status).toBe('verified')

    await expectWorkflowError(undoRevocation(db, deps, actorOf(lead), original.id, 'Broke prod'), 403, /may not undo/)
    const undo = await undoRevocation(db, deps, actorOf(operator), original.id, 'It broke the nightly export')
    expect(undo.status).toBe('verified')
    expect(undo.undo_of_revocation_id).toBe(original.id)
    expect(state.keys.get(key)).toBe('Active')
    const after = await db.selectFrom('revocations').selectAll().where('id', '=', original.id).executeTakeFirstOrThrow()
    expect(after.status).toBe('undone')
    expect(after.undone_by_revocation_id).toBe(undo.id)
    expect(await auditActions(original.id)).toContain('revocation.undone')
    // A second undo click changes nothing.
    await expectWorkflowError(undoRevocation(db, deps, actorOf(operator), original.id, 'again'), 409, /only a verified revocation/)

    // Deactivate again; deletion stays unavailable until the grace period ends.
    await db.updateTable('credentials').set({ status: 'active' }).where('id', '=', request.credentialId).execute()
    const second = await requestRevocation(db, deps, actorOf(operator), { ...request, reason: 'Deactivate again' })
    expect(second.revocations[0]!.status).toBe('verified')
    await db.updateTable('credentials').set({ status: 'inactive' }).where('id', '=', request.credentialId).execute()
    await expectWorkflowError(requestRevocation(db, deps, actorOf(operator), { ...request, actionId: 'test.key.delete', reason: 'Delete' }), 409, /not offered yet/)
    now = start + 8 * 86_400_000
    await expectWorkflowError(undoRevocation(db, deps, actorOf(operator), second.revocations[0]!.id, 'late'), 409, /undo period/)
    const deletion = await requestRevocation(db, deps, actorOf(operator), { ...request, actionId: 'test.key.delete', reason: 'Delete after grace' })
    // Destructive: always high impact, so it waits for a second person.
    expect(deletion.revocations[0]).toMatchObject({ status: 'pending_approval', impact: 'high' })
    const [deleted] = await approveRevocation(db, deps, actorOf(lead), deletion.revocations[0]!.id)
    expect(deleted!.status).toBe('verified')
    expect(deleted!.undo_until).toBeNull()
    expect(state.keys.get(key)).toBe('Deleted')
  })
})
