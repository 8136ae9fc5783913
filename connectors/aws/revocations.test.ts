import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ActionContext, NormalizedIdentity, RevocationAction, RevocationTarget } from '../contract.js'
import { awsProvider } from './index.js'
import { REVOKE_POLICY_NAME } from './revocations.js'
import type { AwsSettings } from './settings.js'
import { startAwsStandIn, type AwsStandIn } from './stand-in/index.js'
import { TEST_ACCOUNTS } from './stand-in/seeds/test.js'
import { callCounter, collectScan, useEnv } from './test-support.js'

let standIn: AwsStandIn
let restoreEnv: () => void

beforeAll(async () => {
  standIn = await startAwsStandIn({ seed: 'test' })
  restoreEnv = useEnv(standIn.env)
})

afterAll(async () => {
  restoreEnv?.()
  await standIn?.stop()
})

const ctx = (): ActionContext<AwsSettings> => ({ sourceName: 'aws-test', settings: standIn.settings, signal: new AbortController().signal, apiCalls: callCounter() })
const action = (id: string): RevocationAction<AwsSettings> => {
  const found = awsProvider.revocationActions.find((a) => a.id === id)
  if (!found) throw new Error(`no action ${id}`)
  return found
}
const target = (identity: NormalizedIdentity, credentialType?: string, status?: string): RevocationTarget => {
  const credential = credentialType ? identity.credentials.find((c) => c.type === credentialType && (!status || c.status === status)) : undefined
  if (credentialType && !credential) throw new Error(`${identity.displayName} has no ${credentialType}`)
  return {
    identity: { externalId: identity.externalId, kind: identity.kind, accountId: identity.scope.accountId, displayName: identity.displayName, attributes: identity.attributes },
    credential: credential ? { externalId: credential.externalId, type: credential.type, status: credential.status } : null,
  }
}

describe('AWS revocation actions against the stand-in', () => {
  it('deactivates an access key: plan names the exact call, execute acts once, verify re-reads, the next scan sees it inactive', async () => {
    const before = await collectScan(standIn.settings)
    const bot = before.byName('support-agent-bot')
    const t = target(bot, 'access_key', 'active')
    const deactivate = action('aws.access_key.deactivate')
    expect(deactivate.appliesTo(t)).toBe(true)
    expect(action('aws.access_key.reactivate').appliesTo(t)).toBe(false)

    const plan = await deactivate.plan(ctx(), t)
    expect(plan).toMatchObject({ actionId: 'aws.access_key.deactivate', reversible: true, undoActionId: 'aws.access_key.reactivate' })
    expect(plan.calls.map((c) => [c.operation, c.parameters])).toEqual([
      ['iam:ListAccessKeys', { UserName: 'support-agent-bot' }],
      ['iam:UpdateAccessKey', { UserName: 'support-agent-bot', AccessKeyId: 'AKIATESTSUPPORTBOT01', Status: 'Inactive' }],
    ])
    expect(standIn.server.callCount(TEST_ACCOUNTS.management, 'iam:UpdateAccessKey')).toBe(0)

    const first = await deactivate.execute(ctx(), t)
    expect(first.ok).toBe(true)
    expect(first.calls.map((c) => c.operation)).toEqual(['iam:ListAccessKeys', 'iam:UpdateAccessKey'])
    const second = await deactivate.execute(ctx(), t)
    expect(second).toMatchObject({ ok: true, error: null })
    expect(second.calls.map((c) => c.operation)).toEqual(['iam:ListAccessKeys'])
    expect(standIn.server.callCount(TEST_ACCOUNTS.management, 'iam:UpdateAccessKey')).toBe(1)

    expect(await deactivate.verify(ctx(), t)).toEqual({ verified: true, observed: 'AWS reports access key AKIATESTSUPPORTBOT01 as Inactive.' })

    const after = await collectScan(standIn.settings)
    const key = after.byName('support-agent-bot').credentials.find((c) => c.externalId === t.credential?.externalId)
    expect(key?.status).toBe('inactive')
    // The other identities are untouched.
    expect(after.byName('ci-deployer').credentials.map((c) => c.status)).toEqual(['active'])

    // Undo: reactivate, then deactivate again for the delete step below.
    const reactivate = action('aws.access_key.reactivate')
    const inactive = { ...t, credential: { ...(t.credential as NonNullable<RevocationTarget['credential']>), status: 'inactive' } }
    expect(reactivate.appliesTo(inactive)).toBe(true)
    expect((await reactivate.execute(ctx(), inactive)).ok).toBe(true)
    expect((await reactivate.verify(ctx(), inactive)).verified).toBe(true)
    expect((await deactivate.execute(ctx(), t)).ok).toBe(true)

    // Delete is a separate, destructive step offered only for inactive keys.
    const del = action('aws.access_key.delete')
    expect(del.destructive).toBe(true)
    expect(del.appliesTo(t)).toBe(false)
    expect(del.appliesTo(inactive)).toBe(true)
    const delPlan = await del.plan(ctx(), inactive)
    expect(delPlan.calls.at(-1)).toMatchObject({ operation: 'iam:DeleteAccessKey', parameters: { UserName: 'support-agent-bot', AccessKeyId: 'AKIATESTSUPPORTBOT01' } })
    expect((await del.execute(ctx(), inactive)).ok).toBe(true)
    expect((await del.execute(ctx(), inactive)).calls.map((c) => c.operation)).toEqual(['iam:ListAccessKeys'])
    expect(await del.verify(ctx(), inactive)).toEqual({ verified: true, observed: 'The access key no longer exists.' })
    const final = await collectScan(standIn.settings)
    expect(final.byName('support-agent-bot').credentials.filter((c) => c.type === 'access_key')).toHaveLength(1)
  })

  it('refuses to delete an active key and reports a key that no longer exists', async () => {
    const scan = await collectScan(standIn.settings)
    const t = target(scan.byName('ci-deployer'), 'access_key', 'active')
    const forced = await action('aws.access_key.delete').execute(ctx(), t)
    expect(forced.ok).toBe(false)
    expect(forced.error).toMatch(/deactivate it first/)
    const gone = { ...t, credential: { ...(t.credential as NonNullable<RevocationTarget['credential']>), externalId: `${t.identity.externalId}#access-key-1@2001-01-01T00:00:00.000Z` } }
    const result = await action('aws.access_key.deactivate').execute(ctx(), gone)
    expect(result.ok).toBe(false)
    expect(result.error).toMatch(/deleted or rotated since the scan/)
  })

  it('disables a console password once and verifies it', async () => {
    const scan = await collectScan(standIn.settings)
    const t = target(scan.byName('legacy-etl'), 'console_password')
    const disable = action('aws.user.disable_console_password')
    const plan = await disable.plan(ctx(), t)
    expect(plan.calls.map((c) => c.operation)).toEqual(['iam:GetLoginProfile', 'iam:DeleteLoginProfile'])
    expect((await disable.execute(ctx(), t)).ok).toBe(true)
    expect((await disable.execute(ctx(), t)).calls.map((c) => c.operation)).toEqual(['iam:GetLoginProfile'])
    expect(standIn.server.callCount(TEST_ACCOUNTS.management, 'iam:DeleteLoginProfile')).toBe(1)
    expect((await disable.verify(ctx(), t)).verified).toBe(true)
    const after = await collectScan(standIn.settings)
    expect(after.byName('legacy-etl').credentials.some((c) => c.type === 'console_password')).toBe(false)
  })

  it("revokes a role's sessions with the deny-older-sessions policy, then detaches its policies, each listed in the plan", async () => {
    const scan = await collectScan(standIn.settings)
    const role = scan.byName('agentcore-research-runtime', TEST_ACCOUNTS.prod)
    const t = target(role)
    const revoke = action('aws.role.revoke_sessions')
    expect(revoke.appliesTo(t)).toBe(true)
    const plan = await revoke.plan(ctx(), t)
    expect(plan.calls).toHaveLength(1)
    expect(plan.calls[0]).toMatchObject({ operation: 'iam:PutRolePolicy', parameters: { RoleName: 'agentcore-research-runtime', PolicyName: REVOKE_POLICY_NAME } })
    expect(JSON.stringify(plan.calls[0]?.parameters.PolicyDocument)).toContain('aws:TokenIssueTime')
    expect((await revoke.execute(ctx(), t)).ok).toBe(true)
    expect((await revoke.execute(ctx(), t)).calls.map((c) => c.operation)).toEqual(['iam:GetRolePolicy'])
    expect(standIn.server.callCount(TEST_ACCOUNTS.prod, 'iam:PutRolePolicy')).toBe(1)
    expect((await revoke.verify(ctx(), t)).verified).toBe(true)

    const detach = action('aws.role.detach_policies')
    expect(detach.destructive).toBe(true)
    const detachPlan = await detach.plan(ctx(), t)
    expect(detachPlan.calls.map((c) => [c.operation, c.parameters])).toEqual([['iam:DeleteRolePolicy', { RoleName: 'agentcore-research-runtime', PolicyName: 'manage-policies' }]])
    const done = await detach.execute(ctx(), t)
    expect(done.ok).toBe(true)
    expect(done.calls.find((c) => c.operation === 'iam:DeleteRolePolicy')?.response?.document).toContain('iam:CreatePolicyVersion')
    expect((await detach.verify(ctx(), t)).verified).toBe(true)

    const after = await collectScan(standIn.settings)
    const revoked = after.byName('agentcore-research-runtime', TEST_ACCOUNTS.prod)
    // Only the deny policy is left: no Allow entitlements, and the escalation path is gone.
    expect(revoked.entitlements).toEqual([])
    expect(revoked.escalationPaths).toEqual([])
    expect(revoked.attributes.inlinePolicyNames).toEqual([REVOKE_POLICY_NAME])

    const managedRole = after.byName('sagemaker-notebook-role', TEST_ACCOUNTS.prod)
    const managedPlan = await detach.plan(ctx(), target(managedRole))
    expect(managedPlan.calls.map((c) => [c.operation, c.parameters])).toEqual([
      ['iam:DetachRolePolicy', { RoleName: 'sagemaker-notebook-role', PolicyArn: 'arn:aws:iam::aws:policy/AmazonSageMakerFullAccess' }],
    ])
  })

  it('reports a missing revocation permission as a failed call naming the fix, changing nothing', async () => {
    standIn.server.setFaults(TEST_ACCOUNTS.sandbox, { accessDenied: ['iam:UpdateAccessKey'] })
    try {
      const scan = await collectScan(standIn.settings)
      const t = target(scan.byName('sandbox-bot'), 'access_key', 'active')
      const result = await action('aws.access_key.deactivate').execute(ctx(), t)
      expect(result.ok).toBe(false)
      expect(result.error).toMatch(/AWS denied the call \(AccessDenied\).*revocation policy/)
      expect((await action('aws.access_key.deactivate').verify(ctx(), t)).verified).toBe(false)
    } finally {
      standIn.server.clearFaults()
    }
  })
})
