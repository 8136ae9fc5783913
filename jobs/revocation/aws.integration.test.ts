/**
 * The whole workflow against the AWS stand-in with the official SDK: scan into PostgreSQL,
 * request a high-impact key deactivation, approve it, see the provider call and its
 * verification, rescan and find the key inactive; undo it; a denied call ends as failed and a
 * retry completes it. Also: a confirmed claim resolves the identity's ownership finding and
 * survives a rescan.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startAwsStandIn, type AwsStandIn } from '../../connectors/aws/stand-in/index.js'
import { TEST_ACCOUNTS } from '../../connectors/aws/stand-in/seeds/test.js'
import { useEnv } from '../../connectors/aws/test-support.js'
import { json } from '../../db/connection.js'
import { useTestDatabase } from '../../test/db.js'
import { scoreIdentities } from '../../scoring/index.js'
import { claimIdentity, confirmClaim } from '../claims/index.js'
import { executeScanRun } from '../runner.js'
import { startRunNow } from '../runs.js'
import { approveRevocation, requestRevocation, retryRevocation, undoRevocation, type WorkflowDeps } from './index.js'
import { actorOf, createUser, type TestUser } from './test-fixtures.js'

const database = useTestDatabase({ max: 8 })
let standIn: AwsStandIn
let restoreEnv: () => void
let sourceId: string
let operator: TestUser
let lead: TestUser
let owner: TestUser

async function scan(): Promise<void> {
  const handle = database.current
  const runId = await startRunNow(handle.db, { sourceId, requestedBy: 'test', trigger: 'cli', workerId: 'revocation-test' })
  const result = await executeScanRun(handle, runId, { workerId: 'revocation-test' })
  expect(result.status).toBe('succeeded')
}

/** Keys are known by user and slot (the credential report names no key id). */
async function keyOf(userName: string, slot: 1 | 2) {
  return database.current.db
    .selectFrom('credentials')
    .innerJoin('identities', 'identities.id', 'credentials.identity_id')
    .select(['credentials.id', 'credentials.status', 'credentials.identity_id', 'credentials.external_id'])
    .where('identities.display_name', '=', userName)
    .where('identities.account_id', '=', TEST_ACCOUNTS.management)
    .where('credentials.type', '=', 'access_key')
    .where('credentials.external_id', 'like', `%#access-key-${slot}@%`)
    .executeTakeFirstOrThrow()
}

beforeAll(async () => {
  standIn = await startAwsStandIn({ seed: 'test' })
  restoreEnv = useEnv(standIn.env)
  const db = database.current.db
  const source = await db.insertInto('sources').values({ provider: 'aws', name: 'aws-stand-in', settings: json(standIn.settings) }).returning('id').executeTakeFirstOrThrow()
  sourceId = source.id
  operator = await createUser(db, 'operator')
  lead = await createUser(db, 'security_lead')
  owner = await createUser(db, 'owner')
  await scan()
})

afterAll(async () => {
  restoreEnv?.()
  await standIn?.stop()
})

describe('revocation against the AWS stand-in', () => {
  it('deactivates a production key after a second person approves; the next scan shows it inactive; undo restores it', async () => {
    const db = database.current.db
    const scans: string[] = []
    const deps: WorkflowDeps = { requestScan: async (request) => void scans.push(request.sourceId) }
    const key = await keyOf('support-agent-bot', 1)
    expect(key.status).toBe('active')

    const { revocations } = await requestRevocation(db, deps, actorOf(operator), { identityId: key.identity_id, credentialId: key.id, reason: 'Key leaked in a support ticket' })
    const [requested] = revocations
    expect(requested).toMatchObject({ status: 'pending_approval', impact: 'high', action_id: 'aws.access_key.deactivate' })
    expect(requested!.impact_reasons).toContain('The identity is tagged as production (environment=prod).')
    expect((requested!.plan as { providerPlan: { calls: { operation: string }[] } }).providerPlan.calls.map((c) => c.operation)).toEqual(['iam:ListAccessKeys', 'iam:UpdateAccessKey'])
    expect(standIn.server.callCount(TEST_ACCOUNTS.management, 'iam:UpdateAccessKey')).toBe(0)

    const [done] = await approveRevocation(db, deps, actorOf(lead), requested!.id)
    expect(done!.status).toBe('verified')
    expect(done!.verification).toMatchObject({ verified: true, observed: 'AWS reports access key AKIATESTSUPPORTBOT01 as Inactive.' })
    expect((done!.provider_calls as { operation: string; ok: boolean }[]).map((c) => [c.operation, c.ok])).toEqual([
      ['iam:ListAccessKeys', true],
      ['iam:UpdateAccessKey', true],
    ])
    expect(standIn.server.callCount(TEST_ACCOUNTS.management, 'iam:UpdateAccessKey')).toBe(1)
    expect(scans).toEqual([sourceId])

    await scan()
    expect((await keyOf('support-agent-bot', 1)).status).toBe('inactive')

    const undo = await undoRevocation(db, deps, actorOf(operator), done!.id, 'The bot needs it until Friday')
    expect(undo).toMatchObject({ status: 'verified', action_id: 'aws.access_key.reactivate' })
    await scan()
    expect((await keyOf('support-agent-bot', 1)).status).toBe('active')
  })

  it('ends as failed with AWS’s error when the call is denied, and a retry completes it', async () => {
    const db = database.current.db
    const key = await keyOf('ci-deployer', 1)
    standIn.server.setFaults(TEST_ACCOUNTS.management, { accessDenied: ['iam:UpdateAccessKey'] })
    try {
      const { revocations } = await requestRevocation(db, {}, actorOf(operator), { identityId: key.identity_id, credentialId: key.id, reason: 'Rotate CI to OIDC' })
      let row = revocations[0]!
      if (row.status === 'pending_approval') row = (await approveRevocation(db, {}, actorOf(lead), row.id))[0]!
      expect(row.status).toBe('failed')
      expect(row.error).toMatch(/AccessDenied|denied/i)
      expect(row.verification).toMatchObject({ verified: false })
      standIn.server.clearFaults()
      const [retried] = await retryRevocation(db, {}, actorOf(operator), row.id)
      expect(retried!.status).toBe('verified')
      expect(retried!.attempts).toBe(2)
    } finally {
      standIn.server.clearFaults()
    }
  })
})

describe('claims with scoring', () => {
  it('a confirmed claim resolves the ownership finding and survives a rescan', async () => {
    const db = database.current.db
    // An identity whose "no owner" finding is open.
    const orphan = await db
      .selectFrom('identities')
      .innerJoin('findings', 'findings.identity_id', 'identities.id')
      .select(['identities.id', 'identities.display_name'])
      .where('findings.rule_id', '=', 'ownership_identity_no_owner')
      .where('findings.status', '=', 'open')
      .orderBy('identities.id')
      .executeTakeFirstOrThrow()
    const findingStatus = async () =>
      (await db.selectFrom('findings').select('status').where('identity_id', '=', orphan.id).where('rule_id', '=', 'ownership_identity_no_owner').executeTakeFirstOrThrow()).status

    const deps = { scoreIdentities: (d: typeof db, ids: number[]) => scoreIdentities(d, ids) }
    const claim = await claimIdentity(db, deps, actorOf(owner), { identityId: orphan.id, reason: 'The platform team runs it' })
    await confirmClaim(db, deps, actorOf(lead), claim.id)
    const after = await db.selectFrom('identities').select(['owner_status', 'owner_source', 'owner_ref']).where('id', '=', orphan.id).executeTakeFirstOrThrow()
    expect(after).toMatchObject({ owner_status: 'valid', owner_source: 'claim', owner_ref: owner.email })
    expect(await findingStatus()).toBe('resolved')

    await scan()
    const rescanned = await db.selectFrom('identities').select(['owner_status', 'owner_source', 'owner_ref']).where('id', '=', orphan.id).executeTakeFirstOrThrow()
    expect(rescanned).toMatchObject({ owner_status: 'valid', owner_source: 'claim', owner_ref: owner.email })
    const claimOwner = await db.selectFrom('identity_owners').select(['owner_ref']).where('identity_id', '=', orphan.id).where('source', '=', 'claim').execute()
    expect(claimOwner).toEqual([{ owner_ref: owner.email }])
    expect(await findingStatus()).toBe('resolved')
  })
})
