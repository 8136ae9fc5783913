/**
 * Microsoft's own documented example responses (verbatim, see fixtures/SOURCES.md) go through
 * the same parsing and transform code the scan uses.
 */
import { readFileSync } from 'node:fs'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SecretClient } from '@azure/keyvault-secrets'
import type { AccessToken, TokenCredential } from '@azure/identity'
import {
  agentUserSchema,
  appCredentialSignInActivitySchema,
  appRoleAssignmentSchema,
  applicationSchema,
  directoryObjectSchema,
  oauth2PermissionGrantSchema,
  parseCollection,
  parseGraphDate,
  passwordCredentialSchema,
  servicePrincipalSchema,
  servicePrincipalSignInActivitySchema,
  type GraphServicePrincipal,
} from './graph-model.js'
import { transformVaultItem, type VaultRef } from './keyvault.js'
import { standInCertificate } from './stand-in/tls.js'
import { ownerHint, passwordCredential, resolveAppRoleName, transformApplication, transformServicePrincipal, type TenantLookups } from './transform.js'

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'))

function lookups(over: Partial<TenantLookups> = {}): TenantLookups {
  return {
    scope: { accountId: 'tenant', kind: 'tenant' },
    now: new Date('2026-11-21T00:00:00Z'),
    spById: new Map(),
    spByAppId: new Map(),
    blueprintsByAppId: new Map(),
    agentIdentitiesById: new Map(),
    roleAssignmentsByPrincipal: new Map(),
    grantsByClient: new Map(),
    spSignIns: null,
    credentialSignIns: null,
    signInUnreadable: null,
    signInRead: false,
    rolesUnreadable: null,
    grantsUnreadable: null,
    ...over,
  }
}

describe('Graph dates as Microsoft writes them', () => {
  it('reads the docs offsets "-8:00" and seven fractional digits', () => {
    expect(parseGraphDate('2021-03-01T00:00:00-8:00')?.toISOString()).toBe('2021-03-01T08:00:00.000Z')
    expect(parseGraphDate('2019-09-17T19:10:35.2742618Z')?.toISOString()).toBe('2019-09-17T19:10:35.274Z')
    expect(parseGraphDate('String (timestamp)')).toBeNull()
    expect(parseGraphDate('9999-12-31T23:59:59Z')?.getUTCFullYear()).toBe(9999)
  })
})

describe('applications and password credentials', () => {
  it('rejects the list example item that carries no object id, without failing the page', () => {
    // The documented list example omits `id`; an object Leash cannot address is not stored.
    const page = parseCollection(applicationSchema, fixture('graph-application-list.json'))
    expect(page).toEqual({ items: [], rejected: 1 })
  })

  it('keeps a passwordCredential\'s identifiers and dates and drops secretText and hint', () => {
    const raw = fixture('graph-application-addpassword.json')
    const parsed = passwordCredentialSchema.parse(raw)
    expect(parsed).not.toHaveProperty('secretText')
    const credential = passwordCredential(parsed, 'application', lookups())
    expect(credential).toMatchObject({
      externalId: 'f0b0b335-1d71-4883-8f98-567911bfdca6',
      type: 'client_secret',
      displayName: 'Password friendly name',
      status: 'expired',
      lastUsedKnown: false,
      isStatic: true,
    })
    expect(credential.createdAt?.toISOString()).toBe('2019-09-09T19:50:29.308Z')
    expect(credential.expiresAt?.toISOString()).toBe('2021-09-09T19:50:29.308Z')
    expect(credential.attributes.lifetimeDays).toBe(731)
    expect(JSON.stringify(credential)).not.toContain('6gyXA5S20')
    expect(JSON.stringify(credential)).not.toContain('[6g')
  })

  it('turns the agentIdentityBlueprint example into an agent blueprint identity', () => {
    const { items } = parseCollection(applicationSchema, fixture('graph-agentidentityblueprint-list.json'))
    expect(items).toHaveLength(1)
    const identity = transformApplication(items[0]!, { owners: [], appRoleAssignments: null }, null, null, lookups())
    expect(identity.kind).toBe('agent_blueprint')
    expect(identity.externalId).toBe('08be1f79-37a1-49c0-b444-3075e74d1e8c')
    expect(identity.agentSignals[0]).toMatchObject({ platform: 'entra_agent_id', weight: 1, id: 'azure.entra_agent_id.blueprint' })
    expect(identity.createdAt?.toISOString()).toBe('2025-09-10T17:04:20.000Z')
  })
})

describe('service principals, permissions and grants', () => {
  it('parses the servicePrincipal example and names it a service principal', () => {
    const sp = servicePrincipalSchema.parse(fixture('graph-serviceprincipal-get.json'))
    expect(sp).toMatchObject({ id: '00af5dfb-85da-4b41-a677-0c6b86dd34f8', accountEnabled: true, servicePrincipalType: null, alternativeNames: ['http://contoso/a7770d29-4321-41a6-b863-ca11d6639448'] })
    const identity = transformServicePrincipal(sp, { owners: [], appRoleAssignments: [] }, lookups())
    expect(identity.kind).toBe('service_principal')
    expect(identity.agentSignals).toEqual([])
  })

  it('resolves appRoleAssignments against the resource service principal\'s appRoles', () => {
    const graph = servicePrincipalSchema.parse(fixture('graph-serviceprincipal-get-select.json'))
    expect(graph.appRoles[0]).toMatchObject({ id: '6e0a958b-b7fc-4348-b7c4-a6ab9fd3dd0e', value: 'EduAssignments.ReadBasic.All' })
    const { items } = parseCollection(appRoleAssignmentSchema, fixture('graph-serviceprincipal-approleassignments.json'))
    const assignment = items[0]!
    // The documented resource id is not the documented Graph object: unresolved, it stays an id.
    expect(resolveAppRoleName(assignment, lookups({ spById: new Map([[graph.id, graph]]) }))).toBe('appRole:e2a3a72e-5f79-4c64-b1b1-878b674786c9')
    // With Microsoft Graph's published Mail.ReadWrite role on that resource, it gets its name.
    const resource: GraphServicePrincipal = { ...graph, id: 'fea94d6d-b5bf-44d2-a887-4f72a8d74f44', appRoles: [{ id: 'e2a3a72e-5f79-4c64-b1b1-878b674786c9', value: 'Mail.ReadWrite', displayName: null, isEnabled: true, allowedMemberTypes: ['Application'] }] }
    const l = lookups({ spById: new Map([[resource.id, resource]]) })
    expect(resolveAppRoleName(assignment, l)).toBe('Mail.ReadWrite')
    const sp = servicePrincipalSchema.parse({ id: assignment.principalId, displayName: assignment.principalDisplayName })
    const identity = transformServicePrincipal(sp, { owners: [], appRoleAssignments: items }, l)
    expect(identity.entitlements).toEqual([
      { action: 'Mail.ReadWrite', resource: 'Microsoft Graph', accessLevel: 'write', sourceKind: 'app_role', sourceRef: 'UxOIjjUXr0WvIe4TRFgqTY4z9Wu5KxpBtlEpoTGjw-A', conditional: false },
    ])
  })

  it('parses the oauth2PermissionGrants example into delegated entitlements', () => {
    const { items } = parseCollection(oauth2PermissionGrantSchema, fixture('graph-serviceprincipal-oauth2permissiongrants.json'))
    expect(items[0]).toMatchObject({ id: 'id-value', clientId: 'clientId-value', scope: 'scope-value' })
    const sp = servicePrincipalSchema.parse({ id: 'clientId-value', displayName: 'client' })
    const identity = transformServicePrincipal(sp, { owners: [], appRoleAssignments: [] }, lookups({ grantsByClient: new Map([['clientId-value', items]]) }))
    expect(identity.entitlements).toEqual([expect.objectContaining({ action: 'scope-value', sourceKind: 'grant', sourceRef: 'id-value', conditional: true })])
  })
})

describe('Microsoft Entra Agent ID objects', () => {
  it('classifies the agentIdentity example as an agent, with the blueprint as the reason', () => {
    const { items } = parseCollection(servicePrincipalSchema, fixture('graph-agentidentity-list.json'))
    const agent = { ...items[0]!, '@odata.type': '#microsoft.graph.agentIdentity' }
    const blueprint = applicationSchema.parse({ id: 'bp-object', appId: '631a96bc-a705-4eda-9f99-fdaf9f54f6a2', displayName: 'Support blueprint', passwordCredentials: [{ keyId: 'k1', startDateTime: '2025-01-01T00:00:00Z', endDateTime: '2027-01-01T00:00:00Z' }] })
    const identity = transformServicePrincipal(
      agent,
      { owners: [], appRoleAssignments: [], sponsors: [] },
      lookups({ agentIdentitiesById: new Map([[agent.id, agent]]), blueprintsByAppId: new Map([['631a96bc-a705-4eda-9f99-fdaf9f54f6a2', blueprint]]) }),
    )
    expect(identity.kind).toBe('agent_identity')
    expect(identity.credentials).toEqual([])
    expect(identity.agentSignals).toEqual([expect.objectContaining({ platform: 'entra_agent_id', weight: 1, reason: expect.stringContaining('Support blueprint') })])
    expect(identity.attributes.blueprintCredentials).toEqual([{ keyId: 'k1', startDateTime: '2025-01-01T00:00:00Z', endDateTime: '2027-01-01T00:00:00Z' }])
    expect(identity.owners).toEqual([])
  })

  it('reads the sponsors example without mistaking the placeholder for a deletion', () => {
    const { items } = parseCollection(directoryObjectSchema, fixture('graph-agentidentity-list-sponsors.json'))
    const hint = ownerHint(items[0]!, 'sponsor', false)
    expect(hint).toMatchObject({ ref: 'a6c034b8-621b-dee3-6abb-52cbce801fe9', role: 'sponsor', kind: 'unknown', active: null, canAddCredentials: false })
    const deleted = ownerHint({ ...items[0]!, '@odata.type': '#microsoft.graph.user', userPrincipalName: 'x@contoso.com', deletedDateTime: '2026-01-01T00:00:00Z' }, 'sponsor', false)
    expect(deleted.active).toBe(false)
  })

  it('classifies a blueprint principal whose blueprint lives in another tenant', () => {
    const { items } = parseCollection(servicePrincipalSchema, fixture('graph-agentidentityblueprintprincipal-list.json'))
    const identity = transformServicePrincipal(items[0]!, { owners: [], appRoleAssignments: [] }, lookups())
    expect(identity.kind).toBe('agent_blueprint')
    expect(identity.agentSignals[0]?.id).toBe('azure.entra_agent_id.blueprint_principal')
  })

  it('tolerates documentation placeholders in agent users ("Boolean")', () => {
    const user = agentUserSchema.parse({ '@odata.type': '#microsoft.graph.agentUser', id: '84e0b4dc-e852-29ed-1e5d-9e1f335611e8', accountEnabled: 'Boolean', identityParentId: 'String', createdDateTime: 'String (timestamp)' })
    expect(user.accountEnabled).toBeNull()
    expect(parseGraphDate(user.createdDateTime)).toBeNull()
  })
})

describe('sign-in activity reports', () => {
  it('gives a service principal its last sign-in', () => {
    const { items } = parseCollection(servicePrincipalSignInActivitySchema, fixture('graph-reports-serviceprincipalsigninactivities.json'))
    expect(items).toHaveLength(2)
    const sp = servicePrincipalSchema.parse({ id: 'sp1', appId: 'f4d9654f-0305-4072-878c-8bf266dfe146', displayName: 'x' })
    const identity = transformServicePrincipal(sp, { owners: [], appRoleAssignments: [] }, lookups({ signInRead: true, spSignIns: new Map(items.map((a) => [a.appId, a])) }))
    expect(identity.lastUsedAt?.toISOString()).toBe('2021-04-01T00:00:00.000Z')
    expect(identity.lastUsedKnown).toBe(true)
    expect(identity.monitoring.usageData).toBe('available')
  })

  it('gives a credential its last use by keyId', () => {
    const { items } = parseCollection(appCredentialSignInActivitySchema, fixture('graph-reports-appcredentialsigninactivities.json'))
    const l = lookups({ signInRead: true, credentialSignIns: new Map(items.map((a) => [a.keyId, a])) })
    const used = passwordCredential({ keyId: '83f45296-fb8f-4aaa-a399-ac51084e02b7', displayName: null, hint: null, startDateTime: null, endDateTime: null }, 'application', l)
    expect(used.lastUsedAt?.toISOString()).toBe('2021-03-18T08:00:00.000Z')
    const never = passwordCredential({ keyId: '00000000-1111-2222-3333-444444444444', displayName: null, hint: null, startDateTime: null, endDateTime: null }, 'application', l)
    expect(never).toMatchObject({ lastUsedAt: null, lastUsedKnown: true })
  })
})

describe('Key Vault secret list (Unix seconds) through the real SDK', () => {
  let server: https.Server
  let url: string
  beforeAll(async () => {
    const cert = await standInCertificate()
    const body = JSON.stringify(fixture('keyvault-getsecrets.json'))
    server = https.createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
      if (!req.headers.authorization) {
        res.writeHead(401, { 'WWW-Authenticate': `Bearer authorization="https://login.microsoftonline.com/tenant", resource="https://vault.azure.net"` })
        return res.end()
      }
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.end(body)
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((r) => server.close(() => r())))

  it('converts created/updated from Unix seconds to the right instant', async () => {
    const cert = await standInCertificate()
    const credential: TokenCredential = { getToken: async (): Promise<AccessToken> => ({ token: 'fixture', expiresOnTimestamp: Date.now() + 3_600_000 }) }
    const client = new SecretClient(url, credential, { disableChallengeResourceVerification: true, tlsOptions: { ca: cert.cert } } as ConstructorParameters<typeof SecretClient>[2])
    // Only the first page: the documented nextLink points at the real myvault.vault.azure.net.
    const page = (await client.listPropertiesOfSecrets().byPage().next()).value as { name: string; createdOn?: Date; updatedOn?: Date; expiresOn?: Date; enabled?: boolean; contentType?: string }[]
    expect(page).toHaveLength(1)
    const s = page[0]!
    expect(s.name).toBe('listsecrettest0')
    expect(s.createdOn?.toISOString()).toBe('2016-12-19T23:10:47.000Z')
    expect(s.updatedOn?.toISOString()).toBe('2016-12-19T23:10:47.000Z')
    const vault: VaultRef = { id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/myvault', name: 'myvault', subscriptionId: 's', vaultUrl: 'https://myvault.vault.azure.net', location: null, tags: {}, rbac: true }
    const identity = transformVaultItem(
      vault,
      { itemType: 'secret', name: s.name, enabled: s.enabled ?? null, createdOn: s.createdOn ?? null, updatedOn: s.updatedOn ?? null, expiresOn: s.expiresOn ?? null, notBefore: null, contentType: s.contentType ?? null, tags: {}, recoveryLevel: null, keyType: null },
      'tenant',
      new Date('2026-11-21T00:00:00Z'),
    )
    expect(identity.externalId).toBe('https://myvault.vault.azure.net/secrets/listsecrettest0')
    expect(identity.credentials[0]).toMatchObject({ type: 'secret_value', status: 'active', expiresAt: null, attributes: expect.objectContaining({ neverExpires: true, contentType: 'plainText' }) })
    expect(identity.credentials[0]?.createdAt?.getTime()).toBe(1482189047 * 1000)
  })
})
