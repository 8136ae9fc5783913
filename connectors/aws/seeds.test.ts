import { afterEach, describe, expect, it } from 'vitest'
import type { NormalizedIdentity } from '../contract.js'
import { awsProvider } from './index.js'
import { demoEstate, DEMO_ACCOUNTS, DEMO_DEPARTED_OWNERS } from './stand-in/seeds/demo.js'
import { generatedEstate } from './stand-in/seeds/generated.js'
import { startAwsStandIn, type AwsStandIn } from './stand-in/index.js'
import { callCounter, collectScan, useEnv } from './test-support.js'

let standIn: AwsStandIn | null = null
let restore: (() => void) | null = null
afterEach(async () => {
  restore?.()
  await standIn?.stop()
  standIn = null
})

const maxWeight = (i: NormalizedIdentity) => Math.max(0, ...i.agentSignals.map((s) => s.weight))
const daysOld = (d: Date | null | undefined, now: Date) => (d ? (now.getTime() - d.getTime()) / 86_400_000 : null)

describe("the 'demo' seed", () => {
  it('is deterministic', () => {
    const now = new Date('2026-11-21T10:00:00Z')
    expect(JSON.stringify(demoEstate(now))).toBe(JSON.stringify(demoEstate(now)))
  })

  it('scans as ~150 identities in 3 accounts, a third of them agents, with the flaws it documents', async () => {
    const now = new Date()
    standIn = await awsProvider.startStandIn({ seed: 'demo' }) as AwsStandIn
    restore = useEnv(standIn.env)
    const scan = await collectScan(standIn.settings, { now })
    expect(scan.problems).toEqual([])
    expect([...scan.finished.keys()].sort()).toEqual(Object.values(DEMO_ACCOUNTS).sort())
    expect(scan.identities).toHaveLength(standIn.declared.identities)
    expect(standIn.declared.identities).toBeGreaterThanOrEqual(130)
    expect(standIn.declared.identities).toBeLessThanOrEqual(170)
    expect(standIn.declared.agents / standIn.declared.identities).toBeGreaterThan(0.28)
    expect(standIn.declared.agents / standIn.declared.identities).toBeLessThan(0.4)

    // Every declared agent is recognised, and nothing else looks like one.
    const declared = new Map<string, boolean>()
    for (const a of standIn.estate.accounts) {
      for (let i = 0; i < a.users.count; i++) declared.set(`${a.id}/${a.users.at(i).name}`, !!a.users.at(i).declaredAgent)
      for (let i = 0; i < a.roles.count; i++) declared.set(`${a.id}/${a.roles.at(i).name}`, !!a.roles.at(i).declaredAgent)
      for (let i = 0; i < a.secrets.count; i++) declared.set(`${a.id}/${a.secrets.at(i).name}`, !!a.secrets.at(i).declaredAgent)
    }
    for (const identity of scan.identities) {
      const isAgent = declared.get(`${identity.scope.accountId}/${identity.displayName}`)
      if (isAgent) expect(maxWeight(identity), identity.displayName).toBeGreaterThanOrEqual(0.6)
      else expect(maxWeight(identity), identity.displayName).toBeLessThan(0.5)
    }

    const orphan = scan.byName('AmazonBedrockExecutionRoleForAgents_X7K2P9QM')
    expect(orphan.owners).toEqual([])
    expect(scan.byName('agentcore-pricing-runtime').owners).toEqual([])
    expect(daysOld(scan.byName('invoice-agent').credentials[0]?.createdAt, now)).toBeGreaterThanOrEqual(399)
    expect(scan.byName('ops-copilot-agent-role').attributes.privilege).toMatchObject({ fullAdmin: true })
    expect(scan.byName('autonomous-ops-agent').attributes.privilege).toMatchObject({ fullAdmin: true })
    for (const name of ['prod/agents/openai-api-key', 'prod/agents/anthropic-api-key']) {
      expect(scan.byName(name).credentials[0]).toMatchObject({ rotationEnabled: false, lastRotatedAt: null })
    }
    expect(scan.byName('rag-indexer-agent').credentials[0]).toMatchObject({ status: 'active', lastUsedAt: null, lastUsedKnown: true })
    expect(scan.byName('shared-agent-runtime').workloads).toEqual(['billing-agent', 'support-agent'])
    expect(scan.byName('claims-triage-agent-role').owners.map((o) => o.ref)).toEqual([...DEMO_DEPARTED_OWNERS])
    expect(scan.byName('eval-harness-agent').environments).toEqual(['non_production', 'production'])
    expect(scan.byName('agent-tooling-role').escalationPaths.map((p) => p.id)).toEqual(['aws.privesc.passrole_lambda_invoke'])
  })
})

describe('generated large estates', () => {
  it('are deterministic and split into accounts within IAM quotas', () => {
    const now = new Date('2026-11-21T10:00:00Z')
    const a = generatedEstate(25_000, now)
    const b = generatedEstate(25_000, now)
    expect(a.accounts.map((x) => x.users.count + x.roles.count + x.secrets.count)).toEqual([10_000, 10_000, 5_000])
    expect(a.accounts.every((x) => x.users.count <= 5_000 && x.roles.count <= 5_000)).toBe(true)
    expect(JSON.stringify(a.accounts[1]?.users.at(1234))).toBe(JSON.stringify(b.accounts[1]?.users.at(1234)))
    const role = a.accounts[0]?.roles.at(77)
    expect(a.accounts[0]?.roles.byName(role?.name ?? '')?.name).toBe(role?.name)
  })

  it('scan with calls that grow with pages, and revocations change what the next scan sees', async () => {
    standIn = await startAwsStandIn({ seed: { identities: 2_500 } })
    restore = useEnv(standIn.env)
    const scan = await collectScan(standIn.settings)
    expect(scan.problems).toEqual([])
    expect(scan.identities).toHaveLength(2_500)
    expect(scan.identities.flatMap((i) => i.credentials)).toHaveLength(standIn.declared.credentials)
    // 1 policy page + 1 group page + 3 pages of users and roles (2,250 at 1,000 a page).
    expect(scan.apiCalls.byOperation['iam:GetAccountAuthorizationDetails']).toBe(5)
    expect(scan.apiCalls.byOperation['secretsmanager:ListSecrets']).toBe(3)
    expect(scan.apiCalls.total).toBeLessThan(20)

    const user = scan.identities.find((i) => i.kind === 'user' && i.credentials.some((c) => c.type === 'access_key' && c.status === 'active'))
    const key = user?.credentials.find((c) => c.type === 'access_key' && c.status === 'active')
    if (!user || !key) throw new Error('generated estate has no user with an active key')
    const deactivate = awsProvider.revocationActions.find((a) => a.id === 'aws.access_key.deactivate')
    const target = {
      identity: { externalId: user.externalId, kind: user.kind, accountId: user.scope.accountId, displayName: user.displayName, attributes: user.attributes },
      credential: { externalId: key.externalId, type: key.type, status: key.status },
    }
    const result = await deactivate?.execute({ sourceName: 't', settings: standIn.settings, signal: new AbortController().signal, apiCalls: callCounter() }, target)
    expect(result?.ok).toBe(true)
    const after = await collectScan(standIn.settings)
    expect(after.identities.find((i) => i.externalId === user.externalId)?.credentials.find((c) => c.externalId === key.externalId)?.status).toBe('inactive')
  })
})
