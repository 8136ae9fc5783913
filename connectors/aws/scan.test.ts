import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { NormalizedIdentity } from '../contract.js'
import { awsManagedByArn } from './stand-in/aws-managed.js'
import type { EstateAccountDescription, InlinePolicy, PolicyDocumentJson } from './stand-in/estate.js'
import { startAwsStandIn, type AwsStandIn } from './stand-in/index.js'
import { TEST_ACCOUNTS, testEstate } from './stand-in/seeds/test.js'
import { collectScan, useEnv, type CollectedScan } from './test-support.js'

const NOW = new Date('2026-11-21T12:00:00Z')
const seed = testEstate(NOW)

let standIn: AwsStandIn
let restoreEnv: () => void
let scan: CollectedScan

beforeAll(async () => {
  standIn = await startAwsStandIn({ seed: 'test', now: NOW })
  restoreEnv = useEnv(standIn.env)
  scan = await collectScan(standIn.settings, { now: NOW })
})

afterAll(async () => {
  restoreEnv?.()
  await standIn?.stop()
})

/** The rows a policy document must produce: one per Allow statement × action pattern × resource. */
function expectedRows(doc: PolicyDocumentJson, sourceKind: string, sourceRef: string) {
  const statements = (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]) as Record<string, unknown>[]
  const rows: { action: string; resource: string; sourceKind: string; sourceRef: string }[] = []
  const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)])
  for (const s of statements) {
    if (s.Effect !== 'Allow') continue
    const actions = s.NotAction ? [`NotAction:${list(s.NotAction).join(',')}`] : list(s.Action)
    for (const action of actions) for (const resource of list(s.Resource ?? '*')) rows.push({ action, resource, sourceKind, sourceRef })
  }
  return rows
}

function policyDoc(account: EstateAccountDescription, ref: string): { arn: string; doc: PolicyDocumentJson } {
  const managed = awsManagedByArn(ref)
  if (managed) return { arn: ref, doc: managed.document }
  const own = account.policies?.find((p) => p.name === ref)
  if (!own) throw new Error(`seed references unknown policy ${ref}`)
  return { arn: `arn:aws:iam::${account.id}:policy/${own.name}`, doc: own.document }
}

function expectEntitlements(identity: NormalizedIdentity, account: EstateAccountDescription, arn: string, inline: InlinePolicy[] | undefined, managed: string[] | undefined, groups: string[] | undefined) {
  const expected = [
    ...(inline ?? []).flatMap((p) => expectedRows(p.document, 'inline_policy', `${arn}#${p.name}`)),
    ...(managed ?? []).flatMap((ref) => {
      const { arn: policyArn, doc } = policyDoc(account, ref)
      return expectedRows(doc, 'managed_policy', policyArn)
    }),
  ]
  for (const name of groups ?? []) {
    const group = account.groups?.find((g) => g.name === name)
    if (!group) throw new Error(`seed references unknown group ${name}`)
    const groupArn = `arn:aws:iam::${account.id}:group/${name}`
    expected.push(...(group.inlinePolicies ?? []).flatMap((p) => expectedRows(p.document, 'group_policy', `${groupArn}#${p.name}`)))
    for (const ref of group.managedPolicies ?? []) {
      const { arn: policyArn, doc } = policyDoc(account, ref)
      expected.push(...expectedRows(doc, 'group_policy', `${groupArn}#${policyArn}`))
    }
  }
  const actual = identity.entitlements.map((e) => ({ action: e.action, resource: e.resource, sourceKind: e.sourceKind, sourceRef: e.sourceRef }))
  expect(actual, `entitlements of ${identity.displayName}`).toEqual(expect.arrayContaining(expected))
  expect(actual.length, `no unexpected entitlements on ${identity.displayName}`).toBe(expected.length)
}

const maxWeight = (i: NormalizedIdentity) => Math.max(0, ...i.agentSignals.map((s) => s.weight))
const sec = (d: Date | null | undefined) => (d ? Math.floor(d.getTime() / 1000) : null)

describe('scanning the seeded multi-account estate through the stand-in with the official SDK', () => {
  it('scans every account of the Organization completely, without problems', () => {
    expect(scan.problems).toEqual([])
    expect([...scan.finished.entries()].sort()).toEqual([
      [TEST_ACCOUNTS.management, true],
      [TEST_ACCOUNTS.prod, true],
      [TEST_ACCOUNTS.sandbox, true],
    ])
    expect(scan.identities).toHaveLength(standIn.declared.identities)
    expect(scan.identities.flatMap((i) => i.credentials)).toHaveLength(standIn.declared.credentials)
  })

  it('finds every declared user with its keys, password, entitlements and tags', () => {
    for (const account of seed.accounts) {
      for (const user of account.users ?? []) {
        const arn = `arn:aws:iam::${account.id}:user${user.path ?? '/'}${user.name}`
        const identity = scan.byName(user.name, account.id)
        expect(identity).toMatchObject({ externalId: arn, kind: 'user', tags: user.tags ?? {}, lastUsedKnown: true })
        expect(identity.unreadable).toEqual([])
        expect(identity.consoleUrl).toContain(encodeURIComponent(user.name))
        const keys = identity.credentials.filter((c) => c.type === 'access_key')
        expect(keys).toHaveLength(user.accessKeys?.length ?? 0)
        for (const key of user.accessKeys ?? []) {
          const found = keys.find((k) => sec(k.createdAt) === sec(key.createdAt))
          expect(found, `${user.name} key ${key.id}`).toBeDefined()
          expect(found).toMatchObject({ status: key.status === 'Active' ? 'active' : 'inactive', isStatic: true, lastUsedKnown: true })
          expect(sec(found?.lastUsedAt)).toBe(sec(key.lastUsedAt))
        }
        expect(identity.credentials.some((c) => c.type === 'console_password')).toBe(!!user.password)
        expect(identity.federationPossible).toBe((user.accessKeys ?? []).some((k) => k.status === 'Active'))
        expectEntitlements(identity, account, arn, user.inlinePolicies, user.managedPolicies, user.groups)
      }
    }
  })

  it('finds every declared role with its trust policy, last use and entitlements', () => {
    for (const account of seed.accounts) {
      for (const role of account.roles ?? []) {
        const arn = `arn:aws:iam::${account.id}:role${role.path ?? '/'}${role.name}`
        const identity = scan.byName(role.name, account.id)
        expect(identity).toMatchObject({ externalId: arn, kind: 'role', credentials: [], lastUsedKnown: true })
        expect(identity.attributes.trustPolicy).toEqual(role.trust)
        expect(sec(identity.lastUsedAt)).toBe(sec(role.lastUsed?.date))
        expectEntitlements(identity, account, arn, role.inlinePolicies, role.managedPolicies, [])
      }
    }
  })

  it('finds every declared secret with its rotation and last access', () => {
    for (const account of seed.accounts) {
      for (const secret of account.secrets ?? []) {
        const identity = scan.byName(secret.name, account.id)
        expect(identity.kind).toBe('secret')
        expect(identity.credentials).toHaveLength(1)
        expect(identity.credentials[0]).toMatchObject({ type: 'secret_value', rotationEnabled: secret.rotationEnabled ?? false, status: 'active' })
        expect(sec(identity.credentials[0]?.lastRotatedAt)).toBe(sec(secret.lastRotatedAt))
        expect(sec(identity.lastUsedAt)).toBe(sec(secret.lastAccessedAt))
      }
    }
  })

  it('gives every declared agent a strong signal and no other identity one', () => {
    for (const account of seed.accounts) {
      for (const item of [...(account.users ?? []), ...(account.roles ?? []), ...(account.secrets ?? [])]) {
        const identity = scan.byName(item.name, account.id)
        if (item.declaredAgent) expect(maxWeight(identity), `${item.name} is an agent`).toBeGreaterThanOrEqual(0.6)
        else expect(maxWeight(identity), `${item.name} is not an agent`).toBeLessThan(0.5)
      }
    }
    const bedrock = scan.byName('AmazonBedrockExecutionRoleForAgents_SUPPORT1')
    expect(bedrock.agentSignals.map((s) => s.id).sort()).toEqual(['aws.name.bedrock_agent_service_role', 'aws.trust.bedrock'])
    expect(scan.byName('agentcore-research-runtime').agentSignals[0]).toMatchObject({ id: 'aws.trust.bedrock_agentcore', platform: 'bedrock_agentcore' })
    expect(scan.byName('support-agent-bot').agentSignals.map((s) => s.id)).toEqual(
      expect.arrayContaining(['aws.tag.agent', 'aws.tag.agent_name', 'aws.key.used_for_ai_runtime']),
    )
    expect(scan.byName('sagemaker-notebook-role').agentSignals.map((s) => s.id)).toEqual(['aws.trust.sagemaker'])
    expect(scan.byName('github-actions-deploy').agentSignals).toEqual([])
    expect(scan.byName('ci-deployer').agentSignals).toEqual([])
  })

  it('marks full admin, cuts it back for Deny and permissions boundaries, and finds escalation paths', () => {
    const legacy = scan.byName('legacy-etl')
    expect(legacy.attributes.privilege).toMatchObject({ fullAdmin: true, maxAccessLevel: 'admin' })
    expect(legacy.entitlements).toEqual([
      {
        action: '*',
        resource: '*',
        accessLevel: 'admin',
        sourceKind: 'group_policy',
        sourceRef: `arn:aws:iam::${TEST_ACCOUNTS.management}:group/admins#arn:aws:iam::aws:policy/AdministratorAccess`,
        conditional: false,
      },
    ])
    expect(legacy.escalationPaths).toEqual([])
    const bounded = scan.byName('bounded-admin-role')
    expect(bounded.attributes.privilege).toMatchObject({ fullAdmin: false, boundaryApplied: true })
    expect(bounded.entitlements[0]?.accessLevel).not.toBe('admin')
    const denied = scan.byName('all-but-iam-role')
    expect(denied.attributes.privilege).toMatchObject({ fullAdmin: false, wildcardWrite: ['*'] })
    expect(denied.escalationPaths.map((p) => p.id)).not.toContain('aws.privesc.put_role_policy')
    expect(denied.escalationPaths.map((p) => p.id)).toContain('aws.privesc.assume_any_role')
    expect(scan.byName('github-actions-deploy').escalationPaths.map((p) => p.id)).toEqual(['aws.privesc.passrole_lambda_invoke'])
    expect(scan.byName('agentcore-research-runtime').escalationPaths.map((p) => p.id)).toEqual(['aws.privesc.create_policy_version'])
    expect(scan.byName('sandbox-bot').escalationPaths.map((p) => p.id)).toEqual(['aws.privesc.assume_any_role'])
    // AmazonBedrockFullAccess lets the role pass roles only under a condition: no escalation path.
    expect(scan.byName('AmazonBedrockExecutionRoleForAgents_SUPPORT1').escalationPaths).toEqual([])
    expect(scan.byName('AmazonBedrockExecutionRoleForAgents_SUPPORT1').entitlements.find((e) => e.action === 'iam:PassRole')?.conditional).toBe(true)
  })

  it('reads owners, environments and workloads from tags', () => {
    expect(scan.byName('support-agent-bot').owners).toEqual([
      { ref: 'maria.garcia@acme.example', kind: 'person', role: 'owner', source: 'tag', displayName: null, active: null, canAddCredentials: false },
    ])
    expect(scan.byName('ci-deployer').owners).toMatchObject([{ ref: 'platform', kind: 'team' }])
    expect(scan.byName('agentcore-research-runtime').owners).toEqual([])
    expect(scan.byName('agentcore-research-runtime').environments).toEqual(['non_production', 'production'])
    expect(scan.byName('agentcore-research-runtime').workloads).toEqual(['research-agent', 'summarizer-agent'])
    expect(scan.byName('sandbox-bot').environments).toEqual(['non_production'])
  })

  it('makes calls that grow with pages, not identities, and counts each one', () => {
    const ops = scan.apiCalls.byOperation
    expect(Object.keys(ops).sort()).toEqual([
      'iam:GenerateCredentialReport',
      'iam:GetAccountAuthorizationDetails',
      'iam:GetCredentialReport',
      'organizations:ListAccounts',
      'secretsmanager:ListSecrets',
      'sts:AssumeRole',
    ])
    // Policies, groups, users+roles: one page each per account at this size.
    expect(ops['iam:GetAccountAuthorizationDetails']).toBe(3 * 3)
    expect(ops['sts:AssumeRole']).toBe(3)
    // Every request the stand-in served was counted, and nothing else.
    const served = [...standIn.server.calls.values()].reduce((a, b) => a + b, 0)
    expect(scan.apiCalls.total).toBe(served)
  })

  it('with Access Advisor on, lists granted services unused for 90 days (paced, per-identity calls)', async () => {
    const advised = await collectScan({ ...standIn.settings, accessAdvisor: true }, { now: NOW })
    expect(advised.problems).toEqual([])
    const bot = advised.byName('support-agent-bot')
    expect(bot.unusedGrants?.map((g) => g.name).sort()).toEqual(['s3', 'secretsmanager'])
    expect(bot.unusedGrants?.find((g) => g.name === 's3')?.lastUsedAt?.getTime()).toBe(NOW.getTime() - 200 * 86_400_000)
    const iamIdentities = advised.identities.filter((i) => i.kind !== 'secret').length
    expect(advised.apiCalls.byOperation['iam:GenerateServiceLastAccessedDetails']).toBe(iamIdentities)
    // Without it, unused grants stay unknown (null), never "none".
    expect(scan.byName('support-agent-bot').unusedGrants).toBeNull()
  })

  it('carries no secret value anywhere in what it yields', () => {
    const text = JSON.stringify(scan.events)
    expect(text).not.toContain('leash-stand-in-secret')
    expect(text).not.toMatch(/SecretAccessKey|SessionToken/)
  })
})
