import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { classifyAgent } from '../../scoring/classification.js'
import type { NormalizedIdentity, RevocationTarget } from '../contract.js'
import { createApiCallCounter } from '../saas-kit/counter.js'
import { actionContext, applyEnv, collectScan, scanContext } from '../saas-kit/testing.js'
import { createGcpClient, GoogleApiError } from './client.js'
import { gcpProvider, STANDIN_CREDENTIALS_ENV, standInSettings } from './index.js'
import { deleteKey, disableKey, disableServiceAccount, enableKey, enableServiceAccount } from './revocation.js'
import { escalationPaths, roleLevel } from './roles.js'
import { buildContext } from './scan.js'
import { type GcpSettings, gcpSettingsSchema } from './settings.js'
import { startGcpStandIn, type GcpStandIn } from './stand-in/server.js'
import {
  indexActivities,
  type ProjectInfo,
  type RawActivity,
  type RawKey,
  type RawPolicy,
  type RawReasoningEngine,
  type RawServiceAccount,
  transformAgentIdentity,
  transformServiceAccount,
  transformServiceAgent,
} from './transform.js'

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T
}

function target(identity: NormalizedIdentity, credentialId?: string): RevocationTarget {
  const cred = credentialId ? (identity.credentials.find((c) => c.externalId === credentialId) ?? null) : null
  return {
    identity: {
      externalId: identity.externalId,
      kind: identity.kind,
      accountId: identity.scope.accountId,
      displayName: identity.displayName,
      attributes: identity.attributes,
    },
    credential: cred ? { externalId: cred.externalId, type: cred.type, status: cred.status } : null,
  }
}

const project: ProjectInfo = {
  projectId: 'my-project-123',
  projectNumber: '987654321098',
  labels: { env: 'prod' },
  environments: ['production'],
  scope: { accountId: 'my-project-123', kind: 'project' },
}

type Data = Parameters<typeof buildContext>[0][number]
function data(fields: Partial<Data>): Data {
  return { info: project, accounts: [], policy: null, usage: null, usageUnreadable: [], engines: [], problems: [], ...fields }
}

describe('Google Cloud documented examples', () => {
  it('parses the documented IAM Policy example (verbatim but for its trailing comma)', () => {
    const text = readFileSync(new URL('./fixtures/iam-policy-example.txt', import.meta.url), 'utf8')
    expect(() => JSON.parse(text)).toThrow() // the documented text itself is not strict JSON
    const policy = JSON.parse(text.replace(/,(\s*[}\]])/g, '$1')) as RawPolicy
    const ctx = buildContext([data({ policy })], {}, new Date('2021-01-12T00:00:00Z'))
    expect(ctx.grants.get('serviceAccount:my-project-id@appspot.gserviceaccount.com')).toEqual([
      { role: 'roles/resourcemanager.organizationAdmin', projectId: 'my-project-123', conditional: false, conditionTitle: null },
    ])
    expect(ctx.grants.get('user:eve@example.com')?.[0]).toMatchObject({ conditional: true, conditionTitle: 'expirable access' })
    const sa = transformServiceAccount(
      { email: 'my-project-id@appspot.gserviceaccount.com', uniqueId: '1', projectId: 'my-project-123' },
      [],
      project,
      ctx,
    )
    expect(sa.entitlements).toEqual([
      {
        action: 'roles/resourcemanager.organizationAdmin',
        resource: '//cloudresourcemanager.googleapis.com/projects/my-project-123',
        accessLevel: 'admin',
        sourceKind: 'binding',
        sourceRef: 'projects/my-project-123#roles/resourcemanager.organizationAdmin',
        conditional: false,
      },
    ])
    expect(sa.attributes.defaultServiceAccount).toBe(true)
    // No Policy Analyzer data was read: usage is unknown, not "never used".
    expect(sa.lastUsedKnown).toBe(false)
  })

  it('parses service accounts, keys and last-authentication activities (schema-derived fixtures)', () => {
    const { accounts, nextPageToken } = fixture<{ accounts: RawServiceAccount[]; nextPageToken: string }>(
      'service-accounts-list.schema.json',
    )
    expect(nextPageToken).toBeTruthy()
    const { keys } = fixture<{ keys: RawKey[] }>('keys-list.schema.json')
    const usage = indexActivities(
      fixture<{ activities: RawActivity[] }>('activities-query.schema.json').activities,
      fixture<{ activities: RawActivity[] }>('key-activities-query.schema.json').activities,
    )
    const ctx = buildContext([data({ usage })], {}, new Date('2021-06-01T00:00:00Z'))
    const id = transformServiceAccount(accounts[0] as RawServiceAccount, keys, project, ctx)
    expect(id).toMatchObject({
      externalId: 'projects/my-project-123/serviceAccounts/my-service-account@my-project-123.iam.gserviceaccount.com',
      kind: 'service_account',
      displayName: 'My service account',
      status: 'active',
      lastUsedKnown: true,
      federationPossible: true,
      monitoring: { usageData: 'available' },
      environments: ['production'],
    })
    expect(id.lastUsedAt?.toISOString()).toBe('2021-01-11T08:00:00.000Z')
    const [live, exposed] = id.credentials
    expect(live).toMatchObject({
      externalId: '90c48f61c65cd56224a12ab18e6ee9ca9c3aee7c',
      type: 'service_account_key',
      status: 'active',
      expiresAt: null,
      isStatic: true,
    })
    expect(live?.createdAt?.toISOString()).toBe('2020-03-04T17:39:47.000Z')
    expect(live?.lastUsedAt?.toISOString()).toBe('2021-01-10T08:00:00.000Z')
    expect(exposed).toMatchObject({ status: 'inactive', lastUsedAt: null, lastUsedKnown: true })
    expect(exposed?.expiresAt?.toISOString()).toBe('2022-01-12T07:00:00.000Z')
    expect(exposed?.attributes).toMatchObject({
      exposed: true,
      disableReason: 'SERVICE_ACCOUNT_KEY_DISABLE_REASON_EXPOSED',
      keyOrigin: 'USER_PROVIDED',
    })
    expect(id.owners).toEqual([])
  })

  it('finds agent identities, custom service accounts and the service agent from reasoning engines', () => {
    const { reasoningEngines } = fixture<{ reasoningEngines: RawReasoningEngine[] }>('reasoning-engines-list.schema.json')
    const ctx = buildContext(
      [data({ policy: { bindings: [] }, engines: reasoningEngines.map((e) => ({ ...e, location: 'us-central1' })) })],
      {},
      new Date(),
    )
    const principal =
      'principal://agents.global.org-111122223333.system.id.goog/resources/aiplatform/projects/987654321098/locations/us-central1/reasoningEngines/1234567890123456789'
    const agent = transformAgentIdentity(principal, ctx.enginesByIdentity.get(principal)?.[0] ?? null, project, ctx)
    expect(agent).toMatchObject({
      kind: 'agent_identity',
      displayName: 'my-agent (Agent Engine identity)',
      attributes: { engineFound: true, location: 'us-central1' },
    })
    expect(agent.agentSignals[0]).toMatchObject({ platform: 'vertex_ai', weight: 1 })
    const custom = transformServiceAccount(
      { email: 'my-service-account@my-project-123.iam.gserviceaccount.com', uniqueId: '2', projectId: 'my-project-123' },
      [],
      project,
      ctx,
    )
    expect(custom.agentSignals.map((s) => s.id)).toContain('gcp.runtime.reasoning_engine')
    expect(custom.workloads).toEqual(['my-langgraph-agent'])
    const agentEmail = 'service-987654321098@gcp-sa-aiplatform-re.iam.gserviceaccount.com'
    expect(ctx.enginesByIdentity.get(agentEmail)?.map((e) => e.displayName)).toEqual(['default-identity-agent'])
    expect(transformServiceAgent(agentEmail, project, ctx)).toMatchObject({ kind: 'service_account', attributes: { googleManaged: true } })
  })

  it('ranks roles and finds escalation paths only from unconditional grants', () => {
    expect(roleLevel('roles/owner').level).toBe('admin')
    expect(roleLevel('roles/editor').level).toBe('write')
    expect(roleLevel('roles/iam.serviceAccountTokenCreator').level).toBe('permissions_management')
    expect(roleLevel('roles/compute.viewer').level).toBe('read')
    expect(roleLevel('projects/p/roles/custom').level).toBe('write')
    expect(escalationPaths([{ role: 'roles/iam.serviceAccountKeyAdmin', conditional: false }]).map((p) => p.id)).toEqual([
      'gcp.privesc.key_admin',
    ])
    expect(escalationPaths([{ role: 'roles/iam.serviceAccountKeyAdmin', conditional: true }])).toEqual([])
    expect(
      escalationPaths([
        { role: 'roles/iam.serviceAccountUser', conditional: false },
        { role: 'roles/cloudfunctions.developer', conditional: false },
      ]).map((p) => p.id),
    ).toEqual(['gcp.privesc.actas_deploy'])
  })

  it('validates settings with clear messages', () => {
    expect(gcpSettingsSchema.safeParse({}).success).toBe(false)
    expect(gcpSettingsSchema.safeParse({ projects: ['Bad_Project'] }).success).toBe(false)
    expect(gcpSettingsSchema.safeParse({ organizationId: '123456789012', credentialsFileEnv: '/etc/key.json' }).success).toBe(false)
    expect(gcpSettingsSchema.safeParse({ organizationId: '123456789012', vertexLocations: ['us-central1'] }).success).toBe(true)
  })
})

describe('Google Cloud against the stand-in', () => {
  let standIn: GcpStandIn
  let settings: GcpSettings
  let restoreEnv: () => void
  const projects = ['acme-prod-app', 'acme-ai-agents', 'acme-ml-sandbox', 'acme-data-staging']

  beforeAll(async () => {
    standIn = await startGcpStandIn({ seed: 'test' })
    settings = standInSettings(standIn.url, projects, standIn.estate.orgId)
    restoreEnv = applyEnv({ [STANDIN_CREDENTIALS_ENV]: standIn.credentialFiles.scanner })
  })
  afterAll(async () => {
    restoreEnv()
    await standIn.close()
  })
  afterEach(() => standIn.clearFaults())

  it('finds everything the seed declares, with its flaws, through a federation credential', async () => {
    const scan = await collectScan(gcpProvider, scanContext(settings))
    expect(scan.problems).toEqual([])
    expect(scan.finished).toEqual(projects.map((scope) => ({ scope, complete: true })))
    expect(scan.identities).toHaveLength(standIn.declared.identities)
    expect(scan.identities.flatMap((i) => i.credentials)).toHaveLength(standIn.declared.credentials)
    expect(scan.identities.filter((i) => i.agentSignals.length > 0)).toHaveLength(standIn.declared.agents)
    expect(standIn.requests.some((r) => r.startsWith('POST /v1/token'))).toBe(true)
    expect(standIn.requests.filter((r) => r.includes('/keys?')).every((r) => r.includes('keyTypes=USER_MANAGED'))).toBe(true)

    const byEmail = (local: string) =>
      scan.identities.find((i) => String(i.attributes.email ?? '').startsWith(`${local}@`)) as NormalizedIdentity
    // An agent service account with roles/editor, run by Agent Engine.
    const support = byEmail('support-agent')
    expect(support.entitlements.find((e) => e.action === 'roles/editor')?.accessLevel).toBe('write')
    expect(support.agentSignals.find((s) => s.id === 'gcp.runtime.reasoning_engine')?.platform).toBe('vertex_ai')
    expect(support.owners[0]).toMatchObject({ ref: 'maria@acme.example', kind: 'person', role: 'owner' })
    // The orphaned agent with roles/owner, an exposed key disabled by Google and a key never used.
    const research = byEmail('research-agent')
    expect(research.owners).toEqual([])
    expect(research.entitlements[0]).toMatchObject({ action: 'roles/owner', accessLevel: 'admin' })
    expect(research.escalationPaths.map((p) => p.id)).toContain('gcp.privesc.owner')
    const [exposed, neverUsed] = research.credentials
    expect(exposed).toMatchObject({ status: 'inactive', attributes: { exposed: true } })
    expect(neverUsed).toMatchObject({ status: 'active', lastUsedAt: null, lastUsedKnown: true })
    // An old key, a disabled key still present, a key on a disabled account.
    expect(byEmail('billing-export').credentials[0]?.createdAt?.getTime()).toBeLessThan(Date.now() - 800 * 86_400_000)
    expect(byEmail('legacy-reporting').credentials[0]?.status).toBe('inactive')
    expect(byEmail('dbt-runner').status).toBe('disabled')
    // Prod and non-prod on one identity (granted in a prod project, home in the sandbox).
    expect(byEmail('notebook-llm').environments).toEqual(['production', 'non_production'])
    expect(byEmail('notebook-llm').owners[0]).toMatchObject({ ref: 'jo@acme.example', role: 'creator' })
    expect(byEmail('etl-pipeline').escalationPaths.map((p) => p.id)).toEqual(['gcp.privesc.token_creator'])
    expect(byEmail('ci-deployer').escalationPaths.map((p) => p.id)).toEqual(['gcp.privesc.actas_deploy'])
    // Vertex AI: the service agent, a per-agent identity, and a grant to an agent that no longer exists.
    const agents = scan.identities.filter((i) => i.kind === 'agent_identity')
    expect(agents.map((a) => a.attributes.engineFound).sort()).toEqual([false, true])
    const sales = agents.find((a) => a.attributes.engineFound) as NormalizedIdentity
    expect(sales.displayName).toBe('sales-copilot (Agent Engine identity)')
    expect(sales.entitlements.find((e) => e.action === 'roles/secretmanager.secretAccessor')?.conditional).toBe(true)
    const serviceAgent = scan.identities.find((i) => i.externalId.startsWith('serviceAgent:')) as NormalizedIdentity
    expect(serviceAgent.workloads).toEqual(['invoice-triage'])
    expect(serviceAgent.entitlements.map((e) => e.action)).toContain('roles/storage.admin')
    expect(JSON.stringify(scan.identities)).not.toMatch(/ya29\.|privateKeyData/)
  })

  it('walks the organization and its folders', async () => {
    const scan = await collectScan(gcpProvider, scanContext(standInSettings(standIn.url, null, standIn.estate.orgId)))
    expect(scan.problems).toEqual([])
    expect(scan.finished.map((f) => f.scope).sort()).toEqual([...projects].sort())
    expect(scan.identities).toHaveLength(standIn.declared.identities)
  })

  it('without Policy Analyzer permission: usage unreadable with the permission named, scope still complete', async () => {
    const restore = applyEnv({ [STANDIN_CREDENTIALS_ENV]: standIn.credentialFiles.limited })
    try {
      const scan = await collectScan(gcpProvider, scanContext(settings))
      expect(scan.problems).toHaveLength(projects.length)
      expect(
        scan.problems.every((p) => !p.fatalForScope && p.permission === 'policyanalyzer.serviceAccountLastAuthenticationActivities.query'),
      ).toBe(true)
      expect(scan.finished.every((f) => f.complete)).toBe(true)
      const sa = scan.identities.find(
        (i) => i.attributes.email === `billing-export@acme-prod-app.iam.gserviceaccount.com`,
      ) as NormalizedIdentity
      expect(sa).toMatchObject({ lastUsedAt: null, lastUsedKnown: false, monitoring: { usageData: 'unavailable' } })
      expect(sa.credentials[0]).toMatchObject({ lastUsedAt: null, lastUsedKnown: false })
      expect(sa.unreadable).toContainEqual({
        field: 'usage',
        operation: 'policyanalyzer:policyanalyzer.serviceAccountLastAuthenticationActivities.query',
        permission: 'policyanalyzer.serviceAccountLastAuthenticationActivities.query',
      })
    } finally {
      restore()
    }
  })

  it('a missing or rejected credential gives one problem and no identities', async () => {
    const missing = await collectScan(gcpProvider, scanContext({ ...settings, credentialsFileEnv: 'LEASH_TEST_GCP_UNSET' }))
    expect(missing.problems).toHaveLength(1)
    expect(missing.problems[0]?.message).toMatch(/LEASH_TEST_GCP_UNSET/)
    expect(missing.finished.every((f) => !f.complete)).toBe(true)
    const restore = applyEnv({ [STANDIN_CREDENTIALS_ENV]: '/nonexistent/leash-gcp.json' })
    try {
      const bad = await collectScan(gcpProvider, scanContext(settings))
      expect(bad.identities).toEqual([])
      expect(bad.problems[0]?.remedy).toMatch(/credential configuration file/)
    } finally {
      restore()
    }
    // A subject token the token service refuses: one 401 problem, no call per project.
    const config = JSON.parse(readFileSync(standIn.credentialFiles.scanner, 'utf8')) as { credential_source: { file: string } }
    const dir = mkdtempSync(join(tmpdir(), 'leash-gcp-test-'))
    writeFileSync(join(dir, 'subject'), 'not-a-trusted-subject')
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, credential_source: { file: join(dir, 'subject') } }))
    const restoreRejected = applyEnv({ [STANDIN_CREDENTIALS_ENV]: join(dir, 'config.json') })
    try {
      const rejected = await collectScan(gcpProvider, scanContext(settings))
      expect(rejected.problems).toHaveLength(1)
      expect(rejected.problems[0]).toMatchObject({ permission: null, fatalForScope: true })
      expect(rejected.problems[0]?.message).toMatch(/401/)
      expect(rejected.finished).toEqual(projects.map((scope) => ({ scope, complete: false })))
      expect(rejected.identities).toEqual([])
      expect(rejected.apiCalls.total).toBe(0) // the token exchange failed: no API call was made
    } finally {
      restoreRejected()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('retries throttling (429 RESOURCE_EXHAUSTED with Retry-After)', async () => {
    standIn.inject({ match: /^GET \/v1\/projects\/acme-ai-agents\/serviceAccounts\?/, kind: 'throttle', times: 2, retryAfterSeconds: 0 })
    const scan = await collectScan(gcpProvider, scanContext(settings))
    expect(scan.problems).toEqual([])
    expect(scan.apiCalls.byOperation['gcp:iam.serviceAccounts.list']).toBe(projects.length + 2)
    expect(scan.identities).toHaveLength(standIn.declared.identities)
  })

  it('a refused key list or a malformed page: a problem, and only that project is incomplete', async () => {
    standIn.inject({ match: /^GET \/v1\/projects\/acme-prod-app\/serviceAccounts\/billing-export[^/]*\/keys/, kind: 'forbidden', times: 1 })
    const refused = await collectScan(gcpProvider, scanContext(settings))
    expect(refused.problems).toHaveLength(1)
    expect(refused.problems[0]).toMatchObject({
      operation: 'gcp:iam.serviceAccountKeys.list',
      permission: 'iam.serviceAccountKeys.list',
      fatalForScope: true,
    })
    expect(refused.finished.find((f) => f.scope === 'acme-prod-app')?.complete).toBe(false)
    expect(refused.finished.filter((f) => f.scope !== 'acme-prod-app').every((f) => f.complete)).toBe(true)

    standIn.inject({ match: /^POST \/v1\/projects\/acme-ai-agents:getIamPolicy/, kind: 'malformed', times: 1 })
    const malformed = await collectScan(gcpProvider, scanContext(settings))
    expect(malformed.problems[0]?.message).toMatch(/malformed|JSON/)
    expect(malformed.finished.find((f) => f.scope === 'acme-ai-agents')?.complete).toBe(false)
  })

  it('treats a disabled Vertex AI API as "no agents", and reads its documented ErrorInfo', async () => {
    const info = fixture<Record<string, unknown>>('error-info-service-disabled.json')
    const envelope = {
      error: {
        code: 403,
        message: 'Vertex AI API has not been used in project 123 before or it is disabled.',
        status: 'PERMISSION_DENIED',
        details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', ...info }],
      },
    }
    const client = createGcpClient(
      settings,
      { apiCalls: createApiCallCounter(), signal: new AbortController().signal },
      { fetchImpl: async () => new Response(JSON.stringify(envelope), { status: 403, headers: { 'content-type': 'application/json' } }) },
    )
    const error = await client.get(`${standIn.url}/v1/projects/p/locations/us-central1/reasoningEngines`).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GoogleApiError)
    expect((error as GoogleApiError).serviceDisabled).toBe(true)
    expect((error as GoogleApiError).googleStatus).toBe('PERMISSION_DENIED')
  })

  it('reports which permissions the credential has', async () => {
    const checks = await gcpProvider.testConnection(scanContext(settings))
    expect(checks.every((c) => c.status === 'present')).toBe(true)
    const orgChecks = await gcpProvider.testConnection(scanContext(standInSettings(standIn.url, null, standIn.estate.orgId)))
    expect(orgChecks.map((c) => [c.permission, c.status])).toContainEqual(['iam.serviceAccounts.list', 'present'])
    expect(orgChecks.every((c) => c.status === 'present')).toBe(true)
    const restore = applyEnv({ [STANDIN_CREDENTIALS_ENV]: standIn.credentialFiles.limited })
    try {
      const limited = await gcpProvider.testConnection(scanContext(settings))
      expect(limited.filter((c) => c.status === 'missing').map((c) => c.permission)).toEqual([
        'policyanalyzer.serviceAccountLastAuthenticationActivities.query',
        'policyanalyzer.serviceAccountKeyLastAuthenticationActivities.query',
      ])
    } finally {
      restore()
    }
  })
})

describe('Google Cloud revocation against the stand-in', () => {
  let standIn: GcpStandIn
  let settings: GcpSettings
  let restoreEnv: () => void
  beforeAll(async () => {
    standIn = await startGcpStandIn({ seed: 'test' })
    settings = standInSettings(standIn.url, ['acme-prod-app', 'acme-ai-agents'], standIn.estate.orgId)
    restoreEnv = applyEnv({ [STANDIN_CREDENTIALS_ENV]: standIn.credentialFiles.scanner })
  })
  afterAll(async () => {
    restoreEnv()
    await standIn.close()
  })
  const find = async (email: string) =>
    (await collectScan(gcpProvider, scanContext(settings))).identities.find((i) => i.attributes.email === email) as NormalizedIdentity

  it('disables a key (verified, changes the next scan), enables it again, then deletes it once disabled', async () => {
    const ctx = actionContext(settings)
    const email = 'billing-export@acme-prod-app.iam.gserviceaccount.com'
    const before = await find(email)
    const keyId = before.credentials[0]?.externalId as string
    const t = target(before, keyId)
    expect(gcpProvider.revocationActions.filter((a) => a.appliesTo(t)).map((a) => a.id)).toEqual(['gcp.key.disable'])
    expect(deleteKey.appliesTo(t)).toBe(false)
    const plan = await disableKey.plan(ctx, t)
    expect(plan.calls.map((c) => c.operation)).toEqual(['iam.serviceAccountKeys.get', 'iam.serviceAccountKeys.disable'])
    expect(plan).toMatchObject({ reversible: true, undoActionId: 'gcp.key.enable' })
    expect(await disableKey.verify(ctx, t)).toMatchObject({ verified: false })
    expect(await disableKey.execute(ctx, t)).toMatchObject({ ok: true })
    expect(await disableKey.verify(ctx, t)).toMatchObject({ verified: true })
    const again = await disableKey.execute(ctx, t)
    expect(again.ok).toBe(true)
    expect(again.calls.map((c) => c.operation)).toEqual(['iam.serviceAccountKeys.get']) // idempotent: nothing changed
    const disabled = await find(email)
    expect(disabled.credentials[0]).toMatchObject({ externalId: keyId, status: 'inactive' })

    const inactive = target(disabled, keyId)
    expect(enableKey.appliesTo(inactive)).toBe(true)
    expect(await enableKey.execute(ctx, inactive)).toMatchObject({ ok: true })
    expect((await find(email)).credentials[0]?.status).toBe('active')
    // Delete refuses an enabled key, then deletes the disabled one.
    expect(await deleteKey.execute(ctx, inactive)).toMatchObject({ ok: false })
    await disableKey.execute(ctx, t)
    expect(await deleteKey.execute(ctx, inactive)).toMatchObject({ ok: true })
    expect(await deleteKey.verify(ctx, inactive)).toMatchObject({ verified: true })
    expect(await deleteKey.execute(ctx, inactive)).toMatchObject({ ok: true })
    expect((await find(email)).credentials).toEqual([])
  })

  it('disables a service account and enables it again; Google-managed identities get no action', async () => {
    const ctx = actionContext(settings)
    const email = 'research-agent@acme-ai-agents.iam.gserviceaccount.com'
    const t = target(await find(email))
    expect(disableServiceAccount.appliesTo(t)).toBe(true)
    expect(enableServiceAccount.appliesTo(t)).toBe(false)
    expect(await disableServiceAccount.execute(ctx, t)).toMatchObject({ ok: true })
    expect(await disableServiceAccount.verify(ctx, t)).toMatchObject({ verified: true })
    const after = await find(email)
    expect(after.status).toBe('disabled')
    expect(enableServiceAccount.appliesTo(target(after))).toBe(true)
    expect(await enableServiceAccount.execute(ctx, target(after))).toMatchObject({ ok: true })
    expect((await find(email)).status).toBe('active')

    const scan = await collectScan(gcpProvider, scanContext(settings))
    for (const managed of scan.identities.filter((i) => i.attributes.googleManaged === true))
      expect(gcpProvider.revocationActions.filter((a) => a.appliesTo(target(managed)))).toEqual([])
  })
})

describe('Google Cloud seeds', () => {
  it('the demo seed is deterministic, flawed and fully found by an organization scan', async () => {
    const a = await gcpProvider.startStandIn({ seed: 'demo' })
    const b = await gcpProvider.startStandIn({ seed: 'demo' })
    const restore = applyEnv(a.env)
    try {
      expect(a.declared).toEqual(b.declared)
      expect(a.declared.identities).toBeGreaterThan(20)
      const scan = await collectScan(gcpProvider, scanContext(a.settings))
      expect(scan.problems).toEqual([])
      expect(scan.finished.every((f) => f.complete)).toBe(true)
      expect(scan.identities).toHaveLength(a.declared.identities)
      expect(scan.identities.flatMap((i) => i.credentials)).toHaveLength(a.declared.credentials)
      expect(scan.identities.filter((i) => i.agentSignals.length > 0)).toHaveLength(a.declared.agents)
      // Leash's own classifier agrees: every planted agent is one, on Vertex AI or by name, and nothing else is.
      const classified = scan.identities.map((i) => ({
        identity: i,
        result: classifyAgent({
          provider: 'gcp',
          kind: i.kind,
          displayName: i.displayName,
          tags: i.tags,
          signals: i.agentSignals,
          entitlements: i.entitlements,
        }),
      }))
      expect(classified.filter((c) => c.result.isAgent).map((c) => c.identity.externalId)).toEqual(
        scan.identities.filter((i) => i.agentSignals.length > 0).map((i) => i.externalId),
      )
      expect(classified.find((c) => c.identity.kind === 'agent_identity')?.result.platform).toBe('vertex_ai')
    } finally {
      restore()
      await a.stop()
      await b.stop()
    }
  })

  it('scans a large generated organization', async () => {
    const big = await gcpProvider.startStandIn({ seed: { identities: 400 } })
    const restore = applyEnv(big.env)
    try {
      const scan = await collectScan(gcpProvider, scanContext(big.settings))
      expect(scan.problems).toEqual([])
      expect(scan.identities).toHaveLength(big.declared.identities)
      expect(scan.identities.flatMap((i) => i.credentials)).toHaveLength(big.declared.credentials)
      expect(scan.identities.filter((i) => i.agentSignals.length > 0)).toHaveLength(big.declared.agents)
    } finally {
      restore()
      await big.stop()
    }
  })
})
