/**
 * A seeded tenant scanned through the real SDKs (@azure/identity, Graph client, arm-keyvault,
 * keyvault-*) against the local stand-in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyEnv, collectScan, scanContext } from '../saas-kit/testing.js'
import { azureProvider } from './index.js'
import { startAzureStandIn, type AzureStandIn } from './stand-in/server.js'

let standIn: AzureStandIn
let restoreEnv: () => void

beforeAll(async () => {
  standIn = await startAzureStandIn({ seed: 'test' })
  restoreEnv = applyEnv(standIn.env)
})
afterAll(async () => {
  restoreEnv()
  await standIn.stop()
})

describe('scanning the seeded test tenant', () => {
  it('finds every declared identity, credential, permission, owner and agent signal', async () => {
    const scan = await collectScan(azureProvider, scanContext(standIn.settings))
    expect(scan.problems).toEqual([])
    expect(scan.finished.every((f) => f.complete)).toBe(true)
    const expected = standIn.control.tenant.expected
    expect(scan.identities).toHaveLength(standIn.declared.identities)
    expect(scan.identities.filter((i) => i.agentSignals.length > 0)).toHaveLength(standIn.declared.agents)
    expect(scan.identities.reduce((n, i) => n + i.credentials.length, 0)).toBe(standIn.declared.credentials)
    const byId = new Map(scan.identities.map((i) => [i.externalId, i]))
    for (const e of expected) {
      const found = byId.get(e.externalId)
      expect(found, `${e.kind} ${e.displayName}`).toBeDefined()
      if (!found) continue
      expect(found.kind, e.displayName).toBe(e.kind)
      expect(found.credentials.map((c) => c.externalId).sort(), e.displayName).toEqual([...e.credentials].sort())
      expect(found.entitlements.map((x) => x.action).sort(), e.displayName).toEqual([...e.entitlements].sort())
      expect(found.owners.map((o) => o.ref).sort(), e.displayName).toEqual([...e.owners].sort())
      expect(found.agentSignals.length > 0, e.displayName).toBe(e.agent)
    }
    // Every Entra Agent ID object is decisive; its signal names the platform.
    for (const i of scan.identities.filter((x) => ['agent_identity', 'agent_user', 'agent_blueprint'].includes(x.kind))) {
      expect(i.agentSignals).toContainEqual(expect.objectContaining({ platform: 'entra_agent_id', weight: 1 }))
    }
    // API calls are counted, per operation, including token requests.
    expect(scan.apiCalls.total).toBeGreaterThan(10)
    expect(scan.apiCalls.byOperation['graph:GET /applications']).toBe(1)
    expect(scan.apiCalls.byOperation['graph:POST /$batch']).toBeGreaterThan(0)
    expect(scan.apiCalls.byOperation['login:POST /{tenant}/oauth2/token']).toBe(3)
  })

  it('shows the seeded flaws the way the rules need them', async () => {
    const scan = await collectScan(azureProvider, scanContext(standIn.settings))
    const expected = standIn.control.tenant.expected
    const withFlaw = (flaw: string) => expected.filter((e) => e.flaws.includes(flaw)).map((e) => scan.identities.find((i) => i.externalId === e.externalId)!)

    const [neverExpires] = withFlaw('secret_never_expires').filter((i) => i.kind === 'application')
    expect(neverExpires!.credentials[0]).toMatchObject({ type: 'client_secret', attributes: expect.objectContaining({ neverExpires: true }) })
    expect(neverExpires!.credentials[0]!.expiresAt?.getUTCFullYear()).toBe(9999)
    expect(neverExpires!.federationPossible).toBe(true)

    const [disabledOwner] = withFlaw('owner_disabled')
    expect(disabledOwner!.owners).toEqual([expect.objectContaining({ active: false, canAddCredentials: true, kind: 'person', role: 'owner', source: 'provider' })])

    for (const orphan of withFlaw('agent_orphaned')) {
      expect(orphan.kind).toBe('agent_identity')
      expect(orphan.owners).toEqual([])
      expect(orphan.unreadable.filter((u) => u.field === 'owners')).toEqual([])
    }
    const [deletedSponsor] = withFlaw('sponsor_deleted')
    expect(deletedSponsor!.owners.find((o) => o.role === 'sponsor')).toMatchObject({ active: false, canAddCredentials: false })

    for (const agent of withFlaw('agent_with_role_management')) {
      const e = agent.entitlements.find((x) => x.action === 'RoleManagement.ReadWrite.Directory')
      expect(e).toMatchObject({ accessLevel: 'admin', sourceKind: 'app_role', resource: 'Microsoft Graph' })
      expect(agent.escalationPaths.map((p) => p.id)).toContain('azure.graph.role_management_to_global_admin')
      expect(agent.attributes.highPrivilegeAppRoleAssignments).toEqual([expect.objectContaining({ permission: 'RoleManagement.ReadWrite.Directory' })])
    }

    for (const unused of withFlaw('credential_never_used')) {
      const secret = unused.credentials.find((c) => c.type === 'client_secret')!
      expect(secret).toMatchObject({ lastUsedAt: null, lastUsedKnown: true })
    }

    const globalAdmin = scan.identities.find((i) => i.entitlements.some((e) => e.action === 'Global Administrator'))
    expect(globalAdmin?.entitlements.find((e) => e.action === 'Global Administrator')).toMatchObject({ accessLevel: 'admin', sourceKind: 'role_assignment', resource: '*' })

    const aiManaged = scan.identities.find((i) => i.kind === 'managed_identity' && i.agentSignals.length > 0)!
    expect(aiManaged.attributes.azureResourceId).toMatch(/Microsoft\.CognitiveServices\/accounts\//)
    expect(aiManaged.agentSignals[0]).toMatchObject({ platform: 'azure_openai' })
    expect(aiManaged.workloads).toEqual([aiManaged.attributes.azureResourceId])

    const agentIdentity = scan.identities.find((i) => i.kind === 'agent_identity' && i.owners.length > 0)!
    expect(agentIdentity.credentials).toEqual([])
    expect((agentIdentity.attributes.blueprintCredentials as unknown[]).length).toBeGreaterThan(0)
    expect(agentIdentity.agentSignals[0]!.reason).toMatch(/blueprint "/)

    // Key Vault: Unix seconds converted; disabled and never-expiring secrets visible.
    const [disabledSecret] = withFlaw('secret_disabled')
    expect(disabledSecret).toMatchObject({ kind: 'secret', status: 'disabled' })
    expect(disabledSecret!.credentials[0]!.status).toBe('inactive')
    const seeded = standIn.control.tenant.vaults.flatMap((v) => v.items.map((i) => ({ v, i })))
    for (const { v, i } of seeded) {
      const identity = scan.identities.find((x) => x.displayName === `${v.name}/${i.name}`)!
      expect(identity.createdAt?.getTime(), i.name).toBe(i.created * 1000)
      expect(identity.credentials[0]!.expiresAt?.getTime() ?? null, i.name).toBe(i.exp === undefined ? null : i.exp * 1000)
    }
    expect(withFlaw('key_expired')[0]?.credentials[0]?.status).toBe('expired')
  })
})

describe('throttling and missing permissions', () => {
  it('honours 429 + Retry-After on lists and inside $batch, and still completes', async () => {
    standIn.control.throttle(/^GET \/servicePrincipals$/, 2, 1)
    standIn.control.throttle(/\/owners$/, 3, 1)
    const started = Date.now()
    const scan = await collectScan(azureProvider, scanContext(standIn.settings))
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000)
    expect(scan.problems).toEqual([])
    expect(scan.finished.every((f) => f.complete)).toBe(true)
    expect(scan.identities).toHaveLength(standIn.declared.identities)
    // Each retried attempt is a call Microsoft sees and rate-limits: all are counted.
    expect(scan.apiCalls.byOperation['graph:GET /servicePrincipals']).toBe(3)
    const owned = standIn.control.tenant.expected.filter((e) => e.owners.length > 0)
    for (const e of owned) expect(scan.identities.find((i) => i.externalId === e.externalId)!.owners.length).toBeGreaterThan(0)
  })

  it('turns a 403 on sign-in reports into "no sign-in data", not unused', async () => {
    standIn.control.forbidSignInReports(true)
    try {
      const scan = await collectScan(azureProvider, scanContext(standIn.settings))
      expect(scan.finished.every((f) => f.complete)).toBe(true)
      expect(scan.problems).toEqual([
        expect.objectContaining({ operation: 'GET /reports/servicePrincipalSignInActivities', permission: 'AuditLog.Read.All', fatalForScope: false, remedy: expect.stringContaining('never "unused"') }),
      ])
      const graphIdentities = scan.identities.filter((i) => ['application', 'service_principal', 'managed_identity', 'agent_identity', 'agent_blueprint'].includes(i.kind))
      expect(graphIdentities.length).toBeGreaterThan(0)
      for (const i of graphIdentities) {
        expect(i.monitoring.usageData).toBe('unavailable')
        expect(i.lastUsedKnown).toBe(false)
        expect(i.unreadable).toContainEqual({ field: 'usage', operation: 'GET /reports/servicePrincipalSignInActivities', permission: 'AuditLog.Read.All' })
        for (const c of i.credentials) expect(c).toMatchObject({ lastUsedAt: null, lastUsedKnown: false })
      }
    } finally {
      standIn.control.forbidSignInReports(false)
    }
  })

  it('marks the tenant incomplete (nothing may be retired) when applications cannot be listed', async () => {
    standIn.control.forbid(/^GET \/applications$/)
    try {
      const scan = await collectScan(azureProvider, scanContext(standIn.settings))
      const tenantId = standIn.settings.tenantId.toLowerCase()
      expect(scan.finished.find((f) => f.scope === tenantId)).toEqual({ scope: tenantId, complete: false })
      expect(scan.problems[0]).toMatchObject({ operation: 'GET /applications', permission: 'Application.Read.All', fatalForScope: true })
      expect(scan.identities.filter((i) => i.scope.accountId === tenantId)).toEqual([])
      // Key Vault scopes are separate and still complete.
      expect(scan.finished.filter((f) => f.scope !== tenantId).every((f) => f.complete)).toBe(true)
    } finally {
      standIn.control.forbid(null)
    }
  })

  it('leaves delegated grants unreadable (not empty) when they cannot be read', async () => {
    standIn.control.forbid(/^GET \/oauth2PermissionGrants$/)
    try {
      const scan = await collectScan(azureProvider, scanContext(standIn.settings))
      expect(scan.problems).toEqual([expect.objectContaining({ operation: 'GET /oauth2PermissionGrants', permission: 'Directory.Read.All', fatalForScope: false })])
      const app = scan.identities.find((i) => i.kind === 'application')!
      expect(app.unreadable).toContainEqual({ field: 'entitlements', operation: 'GET /oauth2PermissionGrants', permission: 'Directory.Read.All' })
      expect(scan.finished.every((f) => f.complete)).toBe(true)
    } finally {
      standIn.control.forbid(null)
    }
  })

  it('reports each permission in testConnection', async () => {
    const checks = await azureProvider.testConnection(scanContext(standIn.settings))
    expect(checks.map((c) => c.status)).toEqual(checks.map(() => 'present'))
    standIn.control.forbidSignInReports(true)
    try {
      const after = await azureProvider.testConnection(scanContext(standIn.settings))
      expect(after.find((c) => c.permission === 'AuditLog.Read.All')?.status).toBe('missing')
    } finally {
      standIn.control.forbidSignInReports(false)
    }
  })
})

describe('settings', () => {
  it('refuses secrets in settings and explains env var names', () => {
    const bad = azureProvider.settingsSchema.safeParse({ tenantId: standIn.settings.tenantId, credential: { kind: 'client_secret', clientSecretEnv: 'abc~def-secret-value' } })
    expect(bad.success).toBe(false)
    expect(JSON.stringify(bad.error?.issues)).toContain('Store the NAME')
    expect(azureProvider.settingsSchema.safeParse({ tenantId: 'not a tenant' }).success).toBe(false)
    expect(azureProvider.settingsSchema.safeParse({ tenantId: standIn.settings.tenantId, endpoints: { graph: 'http://127.0.0.1:1' } }).success).toBe(false)
  })

  it('fails with a clear error when the credential env var is missing', async () => {
    const settings = { ...standIn.settings, credential: { kind: 'client_secret' as const, clientIdEnv: 'LEASH_TEST_MISSING_ID', clientSecretEnv: 'LEASH_TEST_MISSING_SECRET' } }
    await expect(collectScan(azureProvider, scanContext(settings))).rejects.toThrow(/LEASH_TEST_MISSING_ID/)
  })
})

describe('sign-in failures', () => {
  it('reports a wrong client secret as a sign-in problem, not a missing permission', async () => {
    const restore = applyEnv({ LEASH_AZURE_STANDIN_CLIENT_SECRET: 'not-the-secret' })
    try {
      const scan = await collectScan(azureProvider, scanContext({ ...standIn.settings, keyVault: false }))
      expect(scan.finished).toEqual([{ scope: standIn.settings.tenantId.toLowerCase(), complete: false }])
      expect(scan.problems).toEqual([expect.objectContaining({ permission: null, fatalForScope: true, message: expect.stringContaining('could not sign in') })])
    } finally {
      restore()
    }
  })
})
