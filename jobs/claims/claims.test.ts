import { beforeAll, describe, expect, it, vi } from 'vitest'
import { useTestDatabase } from '../../test/db.js'
import { WorkflowError } from '../revocation/types.js'
import { actorOf, createUser, seedIdentity, tokenActorOf, type TestUser } from '../revocation/test-fixtures.js'
import {
  acceptHandover,
  cancelClaim,
  claimIdentity,
  confirmClaim,
  currentClaimOwners,
  declineHandover,
  handOverIdentity,
  listClaimsOfUser,
  listMyIdentities,
  listPendingClaims,
  rejectClaim,
  type ClaimDeps,
} from './index.js'

const database = useTestDatabase()
let alice: TestUser
let bob: TestUser
let lead: TestUser
let lead2: TestUser
let viewer: TestUser

beforeAll(async () => {
  const db = database.current.db
  alice = await createUser(db, 'owner')
  bob = await createUser(db, 'owner')
  lead = await createUser(db, 'security_lead')
  lead2 = await createUser(db, 'security_lead')
  viewer = await createUser(db, 'viewer')
})

async function expectWorkflowError(promise: Promise<unknown>, status: number, message: RegExp): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(WorkflowError)
  expect((error as WorkflowError).status).toBe(status)
  expect((error as WorkflowError).message).toMatch(message)
}

async function auditOf(claimId: string) {
  return database.current.db.selectFrom('audit_events').select(['action', 'actor_id', 'reason']).where('object_type', '=', 'claim').where('object_id', '=', claimId).orderBy('seq').execute()
}

describe('claims', () => {
  it('an owner claims an orphan, a lead confirms, the owner sees it and the identity is rescored', async () => {
    const db = database.current.db
    const scoreIdentities = vi.fn(async () => undefined)
    const deps: ClaimDeps = { scoreIdentities }
    const { identityId } = await seedIdentity(db, { ownerStatus: 'none' })

    const claim = await claimIdentity(db, deps, actorOf(alice), { identityId, reason: 'My team runs this agent' })
    expect(claim.status).toBe('pending')
    expect((await listPendingClaims(db)).map((c) => c.id)).toContain(claim.id)
    expect(await listMyIdentities(db, alice)).toEqual([])
    await expectWorkflowError(claimIdentity(db, deps, actorOf(alice), { identityId, reason: 'again' }), 409, /already have a pending claim/)
    await expectWorkflowError(confirmClaim(db, deps, actorOf(bob), claim.id), 403, /may not confirm/)

    const confirmed = await confirmClaim(db, deps, actorOf(lead), claim.id, 'Checked with the team lead')
    expect(confirmed).toMatchObject({ status: 'confirmed', decided_by: lead.id })
    expect(scoreIdentities).toHaveBeenCalledWith(db, [identityId])
    const identity = await db.selectFrom('identities').selectAll().where('id', '=', identityId).executeTakeFirstOrThrow()
    expect(identity).toMatchObject({ owner_ref: alice.email, owner_source: 'claim', owner_status: 'valid', owner_kind: 'person' })
    const owners = await db.selectFrom('identity_owners').selectAll().where('identity_id', '=', identityId).execute()
    expect(owners).toEqual([expect.objectContaining({ owner_ref: alice.email, source: 'claim', role: 'owner', active: true })])
    expect((await listMyIdentities(db, alice)).map((i) => [i.id, i.via])).toEqual([[identityId, 'claim']])
    expect((await currentClaimOwners(db, [identityId])).get(identityId)).toMatchObject({ userId: alice.id, active: true })
    expect((await auditOf(claim.id)).map((e) => e.action)).toEqual(['claim.requested', 'claim.confirmed'])

    // Someone else's claim on an owned identity points them to a handover.
    await expectWorkflowError(claimIdentity(db, deps, actorOf(bob), { identityId, reason: 'Mine too' }), 409, /already owned by .*confirmed claim/)
  })

  it('refuses self-confirmation, tokens and viewers; a lead rejects with a reason; the claimant can withdraw', async () => {
    const db = database.current.db
    const deps: ClaimDeps = {}
    const { identityId } = await seedIdentity(db)
    const leadClaim = await claimIdentity(db, deps, actorOf(lead), { identityId, reason: 'I will own it' })
    await expectWorkflowError(confirmClaim(db, deps, actorOf(lead), leadClaim.id), 403, /You made this claim/)
    const token = await tokenActorOf(db, lead2, ['claim:identity:any'])
    await expectWorkflowError(claimIdentity(db, deps, token, { identityId, reason: 'token claim' }), 403, /API token cannot/)
    await expectWorkflowError(confirmClaim(db, deps, token, leadClaim.id), 403, /API token cannot/)
    await expectWorkflowError(claimIdentity(db, deps, actorOf(viewer), { identityId, reason: 'viewer claim' }), 403, /may not claim/)
    await expectWorkflowError(rejectClaim(db, deps, actorOf(lead2), leadClaim.id, ''), 400, /reason is required/)
    const rejected = await rejectClaim(db, deps, actorOf(lead2), leadClaim.id, 'Belongs to the data team')
    expect(rejected).toMatchObject({ status: 'rejected', decision_reason: 'Belongs to the data team' })

    const second = await claimIdentity(db, deps, actorOf(bob), { identityId, reason: 'Data team here' })
    await expectWorkflowError(cancelClaim(db, deps, actorOf(alice), second.id), 403, /Only the person/)
    expect((await cancelClaim(db, deps, actorOf(bob), second.id)).status).toBe('cancelled')
    await expectWorkflowError(confirmClaim(db, deps, actorOf(lead), second.id), 409, /not pending/)
  })

  it('confirming one claim settles the competing ones', async () => {
    const db = database.current.db
    const { identityId } = await seedIdentity(db)
    const a = await claimIdentity(db, {}, actorOf(alice), { identityId, reason: 'Alice claims' })
    const b = await claimIdentity(db, {}, actorOf(bob), { identityId, reason: 'Bob claims' })
    await confirmClaim(db, {}, actorOf(lead), a.id)
    const other = await db.selectFrom('claims').selectAll().where('id', '=', b.id).executeTakeFirstOrThrow()
    expect(other.status).toBe('rejected')
  })

  it('auto-confirms when the setting is on', async () => {
    const db = database.current.db
    const scoreIdentities = vi.fn(async () => undefined)
    await db.insertInto('settings').values({ key: 'claims.auto_confirm', value: 'true' }).execute()
    try {
      const { identityId } = await seedIdentity(db)
      const claim = await claimIdentity(db, { scoreIdentities }, actorOf(bob), { identityId, reason: 'Auto' })
      expect(claim.status).toBe('confirmed')
      expect(claim.decided_by).toBeNull()
      expect(scoreIdentities).toHaveBeenCalledWith(db, [identityId])
      const events = await auditOf(claim.id)
      expect(events.map((e) => [e.action, e.actor_id])).toEqual([
        ['claim.requested', bob.id],
        ['claim.confirmed', null],
      ])
    } finally {
      await db.deleteFrom('settings').where('key', '=', 'claims.auto_confirm').execute()
    }
  })
})

describe('handover', () => {
  it('moves ownership only when the new owner accepts, and keeps the history', async () => {
    const db = database.current.db
    const scoreIdentities = vi.fn(async () => undefined)
    const deps: ClaimDeps = { scoreIdentities }
    const { identityId } = await seedIdentity(db)
    const claim = await claimIdentity(db, deps, actorOf(alice), { identityId, reason: 'Mine' })
    await confirmClaim(db, deps, actorOf(lead), claim.id)

    await expectWorkflowError(handOverIdentity(db, deps, actorOf(bob), { identityId, toUserId: bob.id, reason: 'Give it to me' }), 403, /do not own/)
    await expectWorkflowError(handOverIdentity(db, deps, actorOf(alice), { identityId, toUserId: viewer.id, reason: 'To a viewer' }), 400, /viewer/)
    await expectWorkflowError(handOverIdentity(db, deps, actorOf(alice), { identityId, toUserId: alice.id, reason: 'Myself' }), 400, /yourself/)
    const handover = await handOverIdentity(db, deps, actorOf(alice), { identityId, toUserId: bob.id, reason: 'Moving teams' })
    expect(handover).toMatchObject({ kind: 'handover', status: 'pending', to_user_id: bob.id })
    await expectWorkflowError(handOverIdentity(db, deps, actorOf(alice), { identityId, toUserId: bob.id, reason: 'Twice' }), 409, /already waiting/)
    // Still Alice's until Bob accepts; nobody else can accept for him.
    expect((await currentClaimOwners(db, [identityId])).get(identityId)?.userId).toBe(alice.id)
    await expectWorkflowError(acceptHandover(db, deps, actorOf(lead), handover.id), 403, /not addressed to you/)
    expect((await listClaimsOfUser(db, bob.id)).map((c) => c.id)).toContain(handover.id)

    const accepted = await acceptHandover(db, deps, actorOf(bob), handover.id)
    expect(accepted.status).toBe('accepted')
    expect((await currentClaimOwners(db, [identityId])).get(identityId)?.userId).toBe(bob.id)
    expect((await listMyIdentities(db, bob)).map((i) => [i.id, i.via])).toContainEqual([identityId, 'handover'])
    expect((await listMyIdentities(db, alice)).map((i) => i.id)).not.toContain(identityId)
    const old = await db.selectFrom('claims').selectAll().where('id', '=', claim.id).executeTakeFirstOrThrow()
    expect(old.status).toBe('confirmed')
    expect(old.ended_reason).toBe('Handed over')
    const owners = await db.selectFrom('identity_owners').select(['owner_ref', 'source']).where('identity_id', '=', identityId).execute()
    expect(owners).toEqual([{ owner_ref: bob.email, source: 'claim' }])
    expect((await auditOf(claim.id)).map((e) => e.action)).toEqual(['claim.requested', 'claim.confirmed', 'claim.ended'])
    expect((await auditOf(handover.id)).map((e) => e.action)).toEqual(['claim.handover_requested', 'claim.handover_accepted'])
    expect(scoreIdentities).toHaveBeenCalledTimes(2)

    // Bob hands it back; Alice declines; Bob stays the owner.
    const back = await handOverIdentity(db, deps, actorOf(bob), { identityId, toUserId: alice.id, reason: 'Back to you' })
    expect((await declineHandover(db, deps, actorOf(alice), back.id, 'I left that team')).status).toBe('declined')
    expect((await currentClaimOwners(db, [identityId])).get(identityId)?.userId).toBe(bob.id)
  })
})
