/**
 * Deterministic Entra tenants for the stand-in, as Graph-shaped JSON, plus the declaration of
 * what a scan must find (identities, credentials, permissions, owners, agent signals). Names
 * and ids come from a seeded PRNG; dates are relative to the start of the current UTC day so
 * "expires in 30 days" stays true whenever the seed is built.
 *
 * Flaws seeded on purpose (the demo shows them): agent identities without owners or
 * sponsors, client secrets that never expire or live two years, agents holding
 * RoleManagement.ReadWrite.Directory, an owner who is a disabled user, a deleted sponsor,
 * credentials never used, a service principal with Global Administrator, Key Vault secrets
 * without expiry, a disabled secret and an expired key.
 */
import { HIGH_PRIVILEGE } from '../high-privilege.js'
import { MICROSOFT_GRAPH_APP_ID } from '../graph-model.js'

export type GraphObject = Record<string, unknown> & { id: string }

export interface VaultItemSeed {
  kind: 'secret' | 'key' | 'certificate'
  name: string
  enabled: boolean
  /** Unix seconds, as the Key Vault REST API carries them. */
  created: number
  updated: number
  exp?: number
  contentType?: string
  tags?: Record<string, string>
}

export interface VaultSeed {
  name: string
  subscriptionId: string
  resourceGroup: string
  rbac: boolean
  items: VaultItemSeed[]
  /** Secret versions (name → versions), for disable/enable. */
  versions: Record<string, { version: string; enabled: boolean; created: number }[]>
}

export interface ExpectedIdentity {
  externalId: string
  kind: string
  displayName: string
  agent: boolean
  credentials: string[]
  entitlements: string[]
  owners: string[]
  flaws: string[]
}

export interface StandInTenant {
  tenantId: string
  clientId: string
  applications: GraphObject[]
  servicePrincipals: GraphObject[]
  users: GraphObject[]
  owners: Record<string, string[]>
  sponsors: Record<string, string[]>
  appRoleAssignments: GraphObject[]
  oauth2PermissionGrants: GraphObject[]
  roleDefinitions: GraphObject[]
  roleAssignments: GraphObject[]
  spSignIns: GraphObject[]
  credentialSignIns: GraphObject[]
  subscriptions: { subscriptionId: string; displayName: string }[]
  vaults: VaultSeed[]
  expected: ExpectedIdentity[]
}

export type SeedName = 'demo' | 'test' | { identities: number }

const MICROSOFT_SERVICES_TENANT = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a'
const COGNITIVE_SERVICES_APP_ID = '7d312290-28c8-473c-a0ed-8e53749b6d6d'
const DAY = 86_400_000

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const FIRST = ['Ada', 'Ben', 'Chloe', 'Dmitri', 'Elena', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jonas', 'Kemi', 'Lars', 'Maya', 'Nils', 'Olga', 'Priya', 'Quinn', 'Rosa', 'Sami', 'Tomas']
const LAST = ['Lovelace', 'Okafor', 'Martin', 'Ivanov', 'Rossi', 'Haddad', 'Hopper', 'Tanaka', 'Silva', 'Berg', 'Adeyemi', 'Nilsen', 'Cohen', 'Holm', 'Petrova', 'Shah', 'Kelly', 'Diaz', 'Aziz', 'Novak']
const TEAMS = ['billing', 'payments', 'search', 'catalog', 'identity', 'reporting', 'ledger', 'shipping', 'crm', 'warehouse', 'pricing', 'notifications', 'analytics', 'backoffice', 'compliance']
const VERBS = ['sync', 'export', 'ingest', 'deploy', 'backup', 'monitor', 'scheduler', 'importer', 'gateway', 'worker']
const AGENT_ROLES = ['support', 'sales', 'triage', 'research', 'finance', 'hr', 'it-helpdesk', 'procurement', 'legal', 'devops']

export function buildTenant(seed: SeedName): StandInTenant {
  const size = seed === 'demo' ? 80 : seed === 'test' ? 30 : Math.max(12, Math.floor(seed.identities))
  const rand = prng(seed === 'demo' ? 20261121 : seed === 'test' ? 7 : 1000 + size)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T
  const uuid = () => {
    const h = () => Math.floor(rand() * 0x10000).toString(16).padStart(4, '0')
    return `${h()}${h()}-${h()}-4${h().slice(1)}-${(8 + Math.floor(rand() * 4)).toString(16)}${h().slice(1)}-${h()}${h()}${h()}`
  }
  const today = Math.floor(Date.now() / DAY) * DAY
  const iso = (offsetDays: number) => new Date(today + offsetDays * DAY).toISOString().replace('.000Z', 'Z')
  const unix = (offsetDays: number) => Math.floor((today + offsetDays * DAY) / 1000)

  const t: StandInTenant = {
    tenantId: seed === 'demo' ? '3f6a1c2e-8d4b-4e7a-9c1f-5b2d7e8a9c10' : uuid(),
    clientId: uuid(),
    applications: [],
    servicePrincipals: [],
    users: [],
    owners: {},
    sponsors: {},
    appRoleAssignments: [],
    oauth2PermissionGrants: [],
    roleDefinitions: [],
    roleAssignments: [],
    spSignIns: [],
    credentialSignIns: [],
    subscriptions: [],
    vaults: [],
    expected: [],
  }
  const domain = seed === 'demo' ? 'contoso-demo.onmicrosoft.com' : 'leash-test.onmicrosoft.com'

  // ---- resources: Microsoft Graph (with its application permissions) and Cognitive Services.
  const graphRoles = [
    ...HIGH_PRIVILEGE.filter((e) => e.kind === 'graph_application_permission' && e.id).map((e) => ({ id: e.id as string, value: e.name })),
    { id: '7ab1d382-f21e-4acd-a863-ba3e13f7da61', value: 'Directory.Read.All' },
    { id: '9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30', value: 'Application.Read.All' },
    { id: 'df021288-bdef-4463-88db-98f22de89214', value: 'User.Read.All' },
    { id: '810c84a8-4a9e-49e6-bf7d-12d183f40d01', value: 'Mail.Read' },
    { id: '332a536c-c7ef-4017-ab91-336970924f0d', value: 'Sites.Read.All' },
    { id: '798ee544-9d2d-430c-a058-570e29e34338', value: 'Calendars.Read' },
    { id: 'b0afded3-3588-46d8-8b3d-9842eff778da', value: 'AuditLog.Read.All' },
  ]
  const graphSp: GraphObject = {
    id: uuid(),
    appId: MICROSOFT_GRAPH_APP_ID,
    displayName: 'Microsoft Graph',
    appDisplayName: 'Microsoft Graph',
    accountEnabled: true,
    servicePrincipalType: 'Application',
    appOwnerOrganizationId: MICROSOFT_SERVICES_TENANT,
    alternativeNames: [],
    servicePrincipalNames: ['https://graph.microsoft.com'],
    tags: [],
    createdDateTime: iso(-1500),
    appRoles: graphRoles.map((r) => ({ id: r.id, value: r.value, displayName: r.value, isEnabled: true, allowedMemberTypes: ['Application'] })),
    passwordCredentials: [],
    keyCredentials: [],
  }
  const cogSp: GraphObject = {
    id: uuid(),
    appId: COGNITIVE_SERVICES_APP_ID,
    displayName: 'Microsoft Cognitive Services',
    appDisplayName: 'Microsoft Cognitive Services',
    accountEnabled: true,
    servicePrincipalType: 'Application',
    appOwnerOrganizationId: MICROSOFT_SERVICES_TENANT,
    alternativeNames: [],
    servicePrincipalNames: [],
    tags: [],
    createdDateTime: iso(-1400),
    appRoles: [],
    passwordCredentials: [],
    keyCredentials: [],
  }
  t.servicePrincipals.push(graphSp, cogSp)
  const roleId = (value: string) => (graphSp.appRoles as { id: string; value: string }[]).find((r) => r.value === value)?.id as string

  // ---- directory roles
  const roleDefs = [
    { id: '62e90394-69f5-4237-9190-012177145e10', displayName: 'Global Administrator' },
    { id: '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3', displayName: 'Application Administrator' },
    { id: 'f2ef992c-3afb-46b9-b7cf-a126ee74c451', displayName: 'Global Reader' },
  ]
  t.roleDefinitions = roleDefs.map((r) => ({ ...r, templateId: r.id, isBuiltIn: true }))

  // ---- people: a few owners, one disabled, one deleted.
  const people: GraphObject[] = []
  const nPeople = Math.max(6, Math.min(40, Math.round(size / 5)))
  for (let i = 0; i < nPeople; i++) {
    const first = FIRST[i % FIRST.length] as string
    const last = LAST[(i * 7) % LAST.length] as string
    const upn = `${first}.${last}${i >= FIRST.length ? i : ''}@${domain}`.toLowerCase()
    people.push({ '@odata.type': '#microsoft.graph.user', id: uuid(), displayName: `${first} ${last}`, userPrincipalName: upn, mail: upn, accountEnabled: true, deletedDateTime: null })
  }
  const disabledOwner = people[1] as GraphObject
  disabledOwner.accountEnabled = false
  disabledOwner.displayName = `${disabledOwner.displayName as string} (left)`
  const deletedUser = people[2] as GraphObject
  deletedUser.deletedDateTime = iso(-20)
  t.users.push(...people)
  const activePeople = people.filter((p) => p.accountEnabled === true && !p.deletedDateTime)
  const upn = (p: GraphObject) => p.userPrincipalName as string

  // ---- helpers
  const usedCred = (keyId: string, appId: string, appObjectId: string, spId: string | null, daysAgo: number, keyType: string) =>
    t.credentialSignIns.push({
      id: Buffer.from(`${keyId}|application`).toString('base64'),
      keyId,
      appId,
      appObjectId,
      servicePrincipalObjectId: spId,
      credentialOrigin: 'application',
      keyType,
      keyUsage: 'sign',
      signInActivity: { lastSignInDateTime: iso(-daysAgo), lastSignInRequestId: uuid() },
    })
  const spSignIn = (appId: string, daysAgo: number) =>
    t.spSignIns.push({
      id: Buffer.from(appId).toString('base64'),
      appId,
      lastSignInActivity: { lastSignInDateTime: iso(-daysAgo), lastSignInRequestId: uuid() },
      applicationAuthenticationClientSignInActivity: { lastSignInDateTime: iso(-daysAgo), lastSignInRequestId: uuid() },
    })
  const assign = (spId: string, spName: string, value: string) => {
    t.appRoleAssignments.push({
      id: Buffer.from(uuid()).toString('base64url').slice(0, 43),
      appRoleId: roleId(value),
      createdDateTime: iso(-200),
      principalDisplayName: spName,
      principalId: spId,
      principalType: 'ServicePrincipal',
      resourceDisplayName: 'Microsoft Graph',
      resourceId: graphSp.id,
    })
    return value
  }
  const grant = (spId: string, resource: GraphObject, scope: string) => {
    t.oauth2PermissionGrants.push({ id: Buffer.from(uuid()).toString('base64url').slice(0, 43), clientId: spId, consentType: 'AllPrincipals', principalId: null, resourceId: resource.id, scope })
    return scope.split(' ')
  }
  const dirRole = (spId: string, name: string) => {
    const def = roleDefs.find((r) => r.displayName === name) as { id: string }
    t.roleAssignments.push({ id: uuid(), principalId: spId, roleDefinitionId: def.id, directoryScopeId: '/' })
    return name
  }
  const makeSp = (app: Record<string, unknown>, extra: Partial<GraphObject> = {}): GraphObject => {
    const sp: GraphObject = {
      id: uuid(),
      appId: app.appId,
      displayName: app.displayName,
      appDisplayName: app.displayName,
      accountEnabled: true,
      servicePrincipalType: 'Application',
      appOwnerOrganizationId: t.tenantId,
      alternativeNames: [],
      servicePrincipalNames: [app.appId],
      tags: ['WindowsAzureActiveDirectoryIntegratedApp'],
      createdDateTime: app.createdDateTime,
      appRoles: [],
      passwordCredentials: [],
      keyCredentials: [],
      ...extra,
    }
    t.servicePrincipals.push(sp)
    return sp
  }

  // ---- counts
  const nBlueprints = Math.max(1, Math.round(size / 27))
  const nAgentIds = Math.max(3, Math.round(size * 0.15))
  const nAgentUsers = Math.max(1, Math.round(size * 0.04))
  const nHeuristicAgents = Math.max(1, Math.round(size * 0.05))
  const nManaged = Math.max(2, Math.round(size * 0.1))
  const nThirdParty = Math.max(1, Math.round(size * 0.05))
  const nVaultItems = Math.max(4, Math.round(size * 0.15))
  const nApps = Math.max(4, size - nBlueprints - nAgentIds - nAgentUsers - nHeuristicAgents - nManaged - nThirdParty - nVaultItems)

  // ---- regular applications (with service principals)
  const addApp = (name: string, opts: { agent: boolean; index: number; heuristic?: boolean }) => {
    const appId = uuid()
    const created = -(60 + Math.floor(rand() * 900))
    const app: GraphObject = {
      id: uuid(),
      appId,
      displayName: name,
      createdDateTime: iso(created),
      signInAudience: 'AzureADMyOrg',
      publisherDomain: domain,
      tags: [opts.index % 3 === 0 ? 'env:prod' : opts.index % 3 === 1 ? 'env:dev' : 'team:' + pick(TEAMS)],
      passwordCredentials: [] as Record<string, unknown>[],
      keyCredentials: [] as Record<string, unknown>[],
      notes: null,
      serviceManagementReference: null,
    }
    const flaws: string[] = []
    const creds: string[] = []
    const i = opts.index
    // Credentials: a client secret on most, a certificate on some.
    if (i % 5 !== 4) {
      const keyId = uuid()
      const start = created + Math.floor(rand() * 30)
      let end = start + 180
      if (i === 0) {
        end = Number.POSITIVE_INFINITY
        flaws.push('secret_never_expires')
      } else if (i === 1) {
        end = start + 730
        flaws.push('secret_two_year_lifetime')
      } else if (i % 7 === 3) {
        end = -5 // expired
      }
      ;(app.passwordCredentials as Record<string, unknown>[]).push({ keyId, displayName: `${name}-secret`, hint: 'Xy~', startDateTime: iso(start), endDateTime: end === Number.POSITIVE_INFINITY ? '9999-12-31T23:59:59Z' : iso(end), customKeyIdentifier: null })
      creds.push(keyId)
      if (i % 4 === 2) flaws.push('credential_never_used')
      else usedCred(keyId, appId, app.id, null, 1 + Math.floor(rand() * 20), 'clientSecret')
    }
    if (i % 5 === 4 || i % 6 === 0) {
      const keyId = uuid()
      ;(app.keyCredentials as Record<string, unknown>[]).push({ keyId, displayName: `CN=${name}`, type: 'AsymmetricX509Cert', usage: 'Verify', startDateTime: iso(created), endDateTime: iso(created + 365) })
      creds.push(keyId)
      usedCred(keyId, appId, app.id, null, 2, 'certificate')
    }
    t.applications.push(app)
    const sp = makeSp(app)
    const ents: string[] = []
    if (opts.agent) {
      ents.push(assign(sp.id, name, 'RoleManagement.ReadWrite.Directory'))
      ents.push(...grant(sp.id, cogSp, 'user_impersonation'))
      flaws.push('agent_with_role_management')
    } else {
      const readRoles = ['User.Read.All', 'Sites.Read.All', 'Calendars.Read', 'Directory.Read.All', 'Mail.Read']
      ents.push(assign(sp.id, name, readRoles[i % readRoles.length] as string))
      if (i === 2) ents.push(assign(sp.id, name, 'Application.ReadWrite.All'))
      if (i === 3) ents.push(assign(sp.id, name, 'AppRoleAssignment.ReadWrite.All'))
      if (i === 5) ents.push(dirRole(sp.id, 'Global Administrator'))
      if (i === 6) ents.push(dirRole(sp.id, 'Global Reader'))
      if (i === 7) ents.push(...grant(sp.id, graphSp, 'User.Read Mail.Send'))
    }
    // Owners: one or two people; app #4 is owned only by a disabled user; every 9th none.
    const owners: string[] = []
    if (i === 4) owners.push(disabledOwner.id)
    else if (i % 9 !== 8) {
      owners.push((activePeople[i % activePeople.length] as GraphObject).id)
      if (i % 2 === 0) owners.push((activePeople[(i + 3) % activePeople.length] as GraphObject).id)
    }
    if (i === 4) flaws.push('owner_disabled')
    if (i % 9 === 8) flaws.push('no_owner')
    t.owners[app.id] = [...new Set(owners)]
    if (i % 3 !== 2) spSignIn(appId, 1 + Math.floor(rand() * 40))
    t.expected.push({
      externalId: app.id,
      kind: 'application',
      displayName: name,
      agent: opts.agent,
      credentials: creds,
      entitlements: ents,
      owners: [...new Set(owners)].map((id) => upn(people.find((p) => p.id === id) as GraphObject)),
      flaws,
    })
  }
  for (let i = 0; i < nApps; i++) addApp(`${TEAMS[i % TEAMS.length]}-${VERBS[Math.floor(i / TEAMS.length) % VERBS.length]}${i >= TEAMS.length * VERBS.length ? `-${i}` : ''}`, { agent: false, index: i })
  for (let i = 0; i < nHeuristicAgents; i++) addApp(`${AGENT_ROLES[i % AGENT_ROLES.length]}-copilot-agent${i >= AGENT_ROLES.length ? `-${i}` : ''}`, { agent: true, index: 100 + i, heuristic: true })

  // ---- third-party (multi-tenant) service principals
  const vendors = ['Salesforce', 'Slack', 'Zoom', 'Atlassian Cloud', 'Workday', 'ServiceNow', 'DocuSign', 'Box']
  for (let i = 0; i < nThirdParty; i++) {
    const name = `${vendors[i % vendors.length]}${i >= vendors.length ? ` ${i}` : ''}`
    const sp = makeSp({ appId: uuid(), displayName: name, createdDateTime: iso(-300 - i) }, { appOwnerOrganizationId: uuid(), tags: ['WindowsAzureActiveDirectoryIntegratedApp'] })
    const ents = grant(sp.id, graphSp, 'User.Read openid profile offline_access')
    t.owners[sp.id] = []
    spSignIn(sp.appId as string, 3)
    t.expected.push({ externalId: sp.id, kind: 'service_principal', displayName: name, agent: false, credentials: [], entitlements: ents, owners: [], flaws: [] })
  }

  // ---- managed identities: the first is on an Azure OpenAI account (an AI workload).
  const sub = { subscriptionId: seed === 'demo' ? '9b2c4d6e-1a3f-4b5c-8d7e-0f1a2b3c4d5e' : uuid(), displayName: 'Production' }
  t.subscriptions.push(sub)
  for (let i = 0; i < nManaged; i++) {
    const team = TEAMS[i % TEAMS.length] as string
    const ai = i === 0
    const user = i % 3 === 2
    const resourceId = ai
      ? `/subscriptions/${sub.subscriptionId}/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/oai-${team}`
      : user
        ? `/subscriptions/${sub.subscriptionId}/resourceGroups/rg-${team}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-${team}-${i}`
        : `/subscriptions/${sub.subscriptionId}/resourceGroups/rg-${team}/providers/Microsoft.Web/sites/app-${team}-${i}`
    const name = resourceId.split('/').pop() as string
    const sp = makeSp({ appId: uuid(), displayName: name, createdDateTime: iso(-100 - i) }, {
      servicePrincipalType: 'ManagedIdentity',
      appOwnerOrganizationId: null,
      alternativeNames: [`isExplicit=${user ? 'True' : 'False'}`, resourceId],
      tags: [],
      keyCredentials: [{ keyId: uuid(), type: 'AsymmetricX509Cert', usage: 'Verify', startDateTime: iso(-10), endDateTime: iso(80) }],
    })
    const ents = [ai ? assign(sp.id, name, 'Sites.Read.All') : assign(sp.id, name, 'User.Read.All')]
    t.owners[sp.id] = []
    spSignIn(sp.appId as string, 1)
    t.expected.push({ externalId: sp.id, kind: 'managed_identity', displayName: name, agent: ai, credentials: [], entitlements: ents, owners: [], flaws: [] })
  }

  // ---- Microsoft Entra Agent ID: blueprints (+ principals), agent identities, agent users.
  const blueprints: { app: GraphObject; sp: GraphObject }[] = []
  for (let b = 0; b < nBlueprints; b++) {
    const name = `${AGENT_ROLES[b % AGENT_ROLES.length]} agent blueprint${b >= AGENT_ROLES.length ? ` ${b}` : ''}`
    const appId = uuid()
    const created = -(120 + b * 40)
    const secretId = uuid()
    const app: GraphObject = {
      '@odata.type': '#microsoft.graph.agentIdentityBlueprint',
      id: uuid(),
      appId,
      displayName: name,
      createdDateTime: iso(created),
      signInAudience: 'AzureADMyOrg',
      publisherDomain: domain,
      tags: ['env:prod'],
      identifierUris: [`api://${appId}`],
      passwordCredentials: [{ keyId: secretId, displayName: 'blueprint secret', hint: 'Qz8', startDateTime: iso(created), endDateTime: b === 0 ? iso(created + 730) : iso(created + 180), customKeyIdentifier: null }],
      keyCredentials: [],
      notes: null,
      serviceManagementReference: null,
    }
    t.applications.push(app)
    const sp = makeSp(app, { '@odata.type': '#microsoft.graph.agentIdentityBlueprintPrincipal', tags: [] })
    const owner = activePeople[b % activePeople.length] as GraphObject
    t.owners[app.id] = [owner.id]
    t.owners[sp.id] = [owner.id]
    usedCred(secretId, appId, app.id, sp.id, 1, 'clientSecret')
    spSignIn(appId, 1)
    blueprints.push({ app, sp })
    t.expected.push({
      externalId: app.id,
      kind: 'agent_blueprint',
      displayName: name,
      agent: true,
      credentials: [secretId],
      entitlements: [],
      owners: [upn(owner)],
      flaws: b === 0 ? ['secret_two_year_lifetime'] : [],
    })
  }
  const agentIdentities: GraphObject[] = []
  for (let a = 0; a < nAgentIds; a++) {
    const bp = blueprints[a % blueprints.length] as { app: GraphObject }
    const name = `${AGENT_ROLES[a % AGENT_ROLES.length]} agent ${a + 1}`
    const sp: GraphObject = {
      '@odata.type': '#microsoft.graph.agentIdentity',
      id: uuid(),
      appId: uuid(),
      displayName: name,
      createdDateTime: iso(-(30 + a)),
      createdByAppId: bp.app.appId,
      agentIdentityBlueprintId: bp.app.appId,
      accountEnabled: true,
      disabledByMicrosoftStatus: null,
      servicePrincipalType: 'ServiceIdentity',
      appOwnerOrganizationId: t.tenantId,
      alternativeNames: [],
      servicePrincipalNames: [],
      tags: [],
      appRoles: [],
      passwordCredentials: [],
      keyCredentials: [],
    }
    t.servicePrincipals.push(sp)
    agentIdentities.push(sp)
    const flaws: string[] = []
    const owners: string[] = []
    const sponsors: string[] = []
    if (a < 2) flaws.push('agent_orphaned') // no owner, no sponsor
    else {
      owners.push((activePeople[(a + 1) % activePeople.length] as GraphObject).id)
      sponsors.push(a === 2 ? deletedUser.id : (activePeople[(a + 2) % activePeople.length] as GraphObject).id)
      if (a === 2) flaws.push('sponsor_deleted')
    }
    t.owners[sp.id] = owners
    t.sponsors[sp.id] = sponsors
    const ents: string[] = []
    if (a === 3) {
      ents.push(assign(sp.id, name, 'RoleManagement.ReadWrite.Directory'))
      flaws.push('agent_with_role_management')
    } else ents.push(assign(sp.id, name, a % 2 ? 'Mail.Read' : 'Sites.Read.All'))
    if (a % 4 !== 1) spSignIn(sp.appId as string, 2)
    t.expected.push({
      externalId: sp.id,
      kind: 'agent_identity',
      displayName: name,
      agent: true,
      credentials: [],
      entitlements: ents,
      owners: [...owners, ...sponsors].map((id) => upn(people.find((p) => p.id === id) as GraphObject)),
      flaws,
    })
  }
  for (let u = 0; u < nAgentUsers; u++) {
    const parent = agentIdentities[(u + 2) % agentIdentities.length] as GraphObject
    const upnValue = `agent-user-${u + 1}@${domain}`
    const user: GraphObject = {
      '@odata.type': '#microsoft.graph.agentUser',
      id: uuid(),
      displayName: `${parent.displayName as string} (user)`,
      userPrincipalName: upnValue,
      mailNickname: `agent-user-${u + 1}`,
      accountEnabled: true,
      userType: 'Member',
      identityParentId: parent.id,
      createdDateTime: iso(-10),
    }
    t.users.push(user)
    t.expected.push({ externalId: user.id, kind: 'agent_user', displayName: user.displayName as string, agent: true, credentials: [], entitlements: [], owners: [], flaws: [] })
  }

  // ---- Key Vault: two vaults, items with Unix-second timestamps.
  const vaultCount = size > 200 ? Math.ceil(nVaultItems / 100) : 2
  for (let v = 0; v < vaultCount; v++) {
    t.vaults.push({ name: `kv-${v === 0 ? 'prod' : 'dev'}-${v}`, subscriptionId: sub.subscriptionId, resourceGroup: 'rg-secrets', rbac: v % 2 === 0, items: [], versions: {} })
  }
  for (let k = 0; k < nVaultItems; k++) {
    const vault = t.vaults[k % t.vaults.length] as VaultSeed
    const kind: VaultItemSeed['kind'] = k % 5 === 3 ? 'key' : k % 5 === 4 ? 'certificate' : 'secret'
    const name = `${TEAMS[k % TEAMS.length]}-${kind}-${k}`
    const created = unix(-(30 + k * 3))
    const item: VaultItemSeed = { kind, name, enabled: true, created, updated: created, tags: { owner: TEAMS[k % TEAMS.length] as string } }
    const flaws: string[] = []
    if (k === 0) flaws.push('secret_never_expires')
    else if (k === 1) {
      item.enabled = false
      item.exp = unix(90)
      flaws.push('secret_disabled')
    } else if (kind === 'key' && k === 3) {
      item.exp = unix(-3)
      flaws.push('key_expired')
    } else if (k % 4 === 2) flaws.push('secret_never_expires')
    else item.exp = unix(30 + k)
    if (kind === 'secret') item.contentType = 'text/plain'
    vault.items.push(item)
    if (kind === 'secret') vault.versions[name] = [{ version: uuid().replace(/-/g, ''), enabled: item.enabled, created }]
    const url = `VAULT:${vault.name}/${kind === 'secret' ? 'secrets' : kind === 'key' ? 'keys' : 'certificates'}/${name}`
    t.expected.push({ externalId: url, kind: 'secret', displayName: `${vault.name}/${name}`, agent: false, credentials: [url], entitlements: [], owners: [], flaws })
  }
  return t
}

/** What a scan of this tenant must report, for RunningStandIn.declared. */
export function declaredCounts(t: StandInTenant): { identities: number; agents: number; credentials: number } {
  return {
    identities: t.expected.length,
    agents: t.expected.filter((e) => e.agent).length,
    credentials: t.expected.reduce((n, e) => n + e.credentials.length, 0),
  }
}
