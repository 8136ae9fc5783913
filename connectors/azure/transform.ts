/**
 * Graph and Key Vault records → Leash's normalized identities. Pure functions: everything a
 * function needs is passed in, and a part that could not be read arrives as `null` and leaves
 * an `unreadable` entry (never an empty list that would read as "no owners").
 */
import type {
  AgentSignal,
  EscalationPath,
  NormalizedCredential,
  NormalizedEntitlement,
  NormalizedIdentity,
  OwnerHint,
  ScanScope,
  UnreadablePart,
} from '../contract.js'
import {
  ODATA,
  isOdataType,
  parseGraphDate,
  type GraphAgentUser,
  type GraphAppCredentialSignInActivity,
  type GraphAppRoleAssignment,
  type GraphApplication,
  type GraphDirectoryObject,
  type GraphOAuth2PermissionGrant,
  type GraphRoleAssignment,
  type GraphServicePrincipal,
  type GraphServicePrincipalSignInActivity,
  type KeyCredential,
  type PasswordCredential,
} from './graph-model.js'
import { highPrivilegePermission, highPrivilegeRole, permissionAccessLevel, roleAccessLevel } from './high-privilege.js'
// The same defaults every connector starts an identity from.
import { identity } from '../saas-kit/identity.js'

export const DEFAULT_ACCESS_APP_ROLE = '00000000-0000-0000-0000-000000000000'
/** Resource apps whose use marks a client as an AI workload. */
export const AI_RESOURCE_APP_IDS: Record<string, string> = {
  '7d312290-28c8-473c-a0ed-8e53749b6d6d': 'Microsoft Cognitive Services (Azure OpenAI)',
  '0736f41a-0425-4b46-bdb5-1563eff02385': 'Azure Machine Learning',
  '18a66f5f-dbdf-4c17-9dd7-1634712a9cbe': 'Azure AI Foundry',
}
const AI_RESOURCE_TYPES: Record<string, string> = {
  'microsoft.cognitiveservices/accounts': 'Azure OpenAI / AI Services account',
  'microsoft.machinelearningservices/workspaces': 'Azure Machine Learning / AI Foundry workspace',
  'microsoft.botservice/botservices': 'Azure Bot Service bot',
}
const AI_NAME = /(^|[^a-z])(agent|agents|copilot|gpt|openai|llm|chatbot|assistant|langchain|autogen|semantic-kernel|mcp)([^a-z]|$)/i

/** What the whole tenant read contributes to each identity. `null` = could not be read. */
export interface TenantLookups {
  scope: ScanScope
  now: Date
  spById: Map<string, GraphServicePrincipal>
  spByAppId: Map<string, GraphServicePrincipal>
  blueprintsByAppId: Map<string, GraphApplication>
  agentIdentitiesById: Map<string, GraphServicePrincipal>
  roleAssignmentsByPrincipal: Map<string, GraphRoleAssignment[]> | null
  grantsByClient: Map<string, GraphOAuth2PermissionGrant[]> | null
  spSignIns: Map<string, GraphServicePrincipalSignInActivity> | null
  credentialSignIns: Map<string, GraphAppCredentialSignInActivity> | null
  /** Why sign-in data is missing, when it is (permission/licence), or null when not read at all. */
  signInUnreadable: UnreadablePart | null
  signInRead: boolean
  rolesUnreadable: UnreadablePart | null
  grantsUnreadable: UnreadablePart | null
}

/** Per-object reads from $batch. `null` = that sub-request failed. */
export interface ObjectReads {
  owners: GraphDirectoryObject[] | null
  ownersError?: string
  appRoleAssignments: GraphAppRoleAssignment[] | null
  appRoleAssignmentsError?: string
  sponsors?: GraphDirectoryObject[] | null
  sponsorsError?: string
}

const PORTAL = 'https://portal.azure.com/#view'

function graphTags(tags: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const t of tags) {
    const m = /^([^:=]+)[:=](.*)$/.exec(t)
    if (m?.[1]) out[m[1].trim()] = (m[2] ?? '').trim()
    else out[t] = ''
  }
  return out
}

function environmentsOf(name: string, tags: Record<string, string>): ('production' | 'non_production')[] {
  const text = [name, ...Object.entries(tags).flatMap(([k, v]) => [k, v])].join(' ').toLowerCase()
  const out = new Set<'production' | 'non_production'>()
  if (/(^|[^a-z])(prod|production|prd)([^a-z]|$)/.test(text)) out.add('production')
  if (/(^|[^a-z])(dev|development|test|testing|staging|stage|sandbox|qa|uat|nonprod|non-prod)([^a-z]|$)/.test(text)) out.add('non_production')
  return [...out]
}

function maxDate(...dates: (Date | null)[]): Date | null {
  let best: Date | null = null
  for (const d of dates) if (d && (!best || d > best)) best = d
  return best
}

// ---------- credentials ----------

function credentialStatus(expiresAt: Date | null, now: Date): NormalizedCredential['status'] {
  return expiresAt && expiresAt.getTime() <= now.getTime() ? 'expired' : 'active'
}

function lifetimeDays(start: Date | null, end: Date | null): number | null {
  if (!start || !end) return null
  return Math.round((end.getTime() - start.getTime()) / 86_400_000)
}

function usageOf(keyId: string, lookups: TenantLookups): { lastUsedAt: Date | null; lastUsedKnown: boolean } {
  if (!lookups.credentialSignIns) return { lastUsedAt: null, lastUsedKnown: false }
  const activity = lookups.credentialSignIns.get(keyId.toLowerCase())
  // No record in the report = no sign-in with this credential in the report's window.
  return { lastUsedAt: parseGraphDate(activity?.signInActivity?.lastSignInDateTime), lastUsedKnown: true }
}

export function passwordCredential(p: PasswordCredential, origin: 'application' | 'servicePrincipal', lookups: TenantLookups): NormalizedCredential {
  const createdAt = parseGraphDate(p.startDateTime)
  const expiresAt = parseGraphDate(p.endDateTime)
  const days = lifetimeDays(createdAt, expiresAt)
  return {
    externalId: p.keyId,
    type: 'client_secret',
    displayName: p.displayName,
    status: credentialStatus(expiresAt, lookups.now),
    createdAt,
    expiresAt,
    ...usageOf(p.keyId, lookups),
    lastRotatedAt: null,
    rotationEnabled: null,
    isStatic: true,
    // The secret hint (its first characters) is part of the secret: never kept.
    attributes: {
      origin,
      lifetimeDays: days,
      neverExpires: expiresAt === null || expiresAt.getUTCFullYear() >= 9999 || (days !== null && days > 365 * 50),
    },
  }
}

export function keyCredential(k: KeyCredential, origin: 'application' | 'servicePrincipal', lookups: TenantLookups): NormalizedCredential {
  const createdAt = parseGraphDate(k.startDateTime)
  const expiresAt = parseGraphDate(k.endDateTime)
  return {
    externalId: k.keyId,
    type: 'certificate',
    displayName: k.displayName,
    status: credentialStatus(expiresAt, lookups.now),
    createdAt,
    expiresAt,
    ...usageOf(k.keyId, lookups),
    lastRotatedAt: null,
    rotationEnabled: null,
    isStatic: true,
    attributes: { origin, keyType: k.type, usage: k.usage, lifetimeDays: lifetimeDays(createdAt, expiresAt) },
  }
}

// ---------- owners ----------

export function ownerHint(o: GraphDirectoryObject, role: OwnerHint['role'], canAddCredentials: boolean): OwnerHint {
  const type = (o['@odata.type'] ?? '').toLowerCase()
  const deleted = parseGraphDate(o.deletedDateTime) !== null
  const isUser = type === ODATA.user.toLowerCase() || type === '' || type === ODATA.agentUser.toLowerCase()
  const kind: OwnerHint['kind'] = type === ODATA.group.toLowerCase() ? 'group' : isUser && (o.userPrincipalName || o.mail) ? 'person' : isUser && type !== '' ? 'person' : 'unknown'
  return {
    ref: o.userPrincipalName ?? o.mail ?? o.id,
    kind,
    role,
    source: 'provider',
    displayName: o.displayName,
    // Deleted or disabled users are not valid owners; service principals/groups: cannot tell.
    active: deleted ? false : o.accountEnabled === false ? false : o.accountEnabled === true ? true : null,
    canAddCredentials,
  }
}

function ownerStates(objects: GraphDirectoryObject[]): { id: string; ref: string; state: 'active' | 'disabled' | 'deleted' | 'unknown' }[] {
  return objects.map((o) => ({
    id: o.id,
    ref: o.userPrincipalName ?? o.mail ?? o.id,
    state: parseGraphDate(o.deletedDateTime) ? 'deleted' : o.accountEnabled === false ? 'disabled' : o.accountEnabled === true ? 'active' : 'unknown',
  }))
}

// ---------- entitlements ----------

interface EntitlementResult {
  entitlements: NormalizedEntitlement[]
  escalationPaths: EscalationPath[]
  unreadable: UnreadablePart[]
  aiResources: string[]
  highPrivilegeAppRoleAssignments: { id: string; permission: string; resourceId: string | null }[]
}

export function resolveAppRoleName(a: GraphAppRoleAssignment, lookups: TenantLookups): string {
  if (!a.appRoleId || a.appRoleId === DEFAULT_ACCESS_APP_ROLE) return 'default access'
  const resource = a.resourceId ? lookups.spById.get(a.resourceId) : undefined
  const role = resource?.appRoles.find((r) => r.id.toLowerCase() === a.appRoleId?.toLowerCase())
  return role?.value ?? role?.displayName ?? `appRole:${a.appRoleId}`
}

function entitlementsFor(sp: GraphServicePrincipal | null, reads: ObjectReads | null, lookups: TenantLookups): EntitlementResult {
  const out: EntitlementResult = { entitlements: [], escalationPaths: [], unreadable: [], aiResources: [], highPrivilegeAppRoleAssignments: [] }
  if (!sp) return out
  const paths = new Map<string, EscalationPath>()
  const addPath = (p: EscalationPath | null | undefined) => {
    if (p) paths.set(p.id, p)
  }
  // Application permissions.
  if (reads?.appRoleAssignments) {
    for (const a of reads.appRoleAssignments) {
      const resource = a.resourceId ? lookups.spById.get(a.resourceId) : undefined
      const name = resolveAppRoleName(a, lookups)
      const resourceName = a.resourceDisplayName ?? resource?.displayName ?? a.resourceId ?? 'unknown resource'
      const known = highPrivilegePermission(name)
      out.entitlements.push({
        action: name,
        resource: resourceName,
        accessLevel: name === 'default access' ? 'read' : permissionAccessLevel(name),
        sourceKind: 'app_role',
        sourceRef: a.id,
        conditional: false,
      })
      if (known && (known.accessLevel === 'admin' || known.accessLevel === 'permissions_management')) {
        out.highPrivilegeAppRoleAssignments.push({ id: a.id, permission: name, resourceId: a.resourceId })
      }
      addPath(known?.escalation)
      if (resource?.appId && AI_RESOURCE_APP_IDS[resource.appId]) out.aiResources.push(AI_RESOURCE_APP_IDS[resource.appId] as string)
    }
  } else {
    out.unreadable.push({
      field: 'entitlements',
      operation: `GET /servicePrincipals/${sp.id}/appRoleAssignments`,
      permission: 'Application.Read.All',
    })
  }
  // Delegated permissions granted to this client.
  if (lookups.grantsByClient) {
    for (const g of lookups.grantsByClient.get(sp.id) ?? []) {
      const resource = g.resourceId ? lookups.spById.get(g.resourceId) : undefined
      const resourceName = resource?.displayName ?? g.resourceId ?? 'unknown resource'
      for (const scope of (g.scope ?? '').split(/\s+/).filter(Boolean)) {
        out.entitlements.push({
          action: scope,
          resource: g.consentType === 'AllPrincipals' ? resourceName : `${resourceName} (for user ${g.principalId ?? 'unknown'})`,
          accessLevel: permissionAccessLevel(scope),
          sourceKind: 'grant',
          sourceRef: g.id,
          // Delegated rights only act within what the signed-in user can do.
          conditional: true,
        })
      }
      if (resource?.appId && AI_RESOURCE_APP_IDS[resource.appId]) out.aiResources.push(AI_RESOURCE_APP_IDS[resource.appId] as string)
    }
  } else if (lookups.grantsUnreadable) out.unreadable.push(lookups.grantsUnreadable)
  // Directory roles held by the service principal.
  if (lookups.roleAssignmentsByPrincipal) {
    for (const r of lookups.roleAssignmentsByPrincipal.get(sp.id) ?? []) {
      const name = r.roleDefinition?.displayName ?? `role:${r.roleDefinitionId ?? 'unknown'}`
      const templateId = r.roleDefinition?.templateId ?? r.roleDefinitionId
      out.entitlements.push({
        action: name,
        resource: !r.directoryScopeId || r.directoryScopeId === '/' ? '*' : r.directoryScopeId,
        accessLevel: roleAccessLevel(name, templateId),
        sourceKind: 'role_assignment',
        sourceRef: r.id,
        conditional: false,
      })
      addPath((templateId ? highPrivilegeRole(templateId) : null)?.escalation ?? highPrivilegeRole(name)?.escalation)
    }
  } else if (lookups.rolesUnreadable) out.unreadable.push(lookups.rolesUnreadable)
  out.escalationPaths = [...paths.values()]
  return out
}

// ---------- agent signals ----------

function heuristicSignals(
  name: string,
  tags: Record<string, string>,
  aiResources: string[],
  azureResourceId: string | null,
): AgentSignal[] {
  const signals: AgentSignal[] = []
  const resourceType = azureResourceId ? /providers\/([^/]+\/[^/]+)\//i.exec(`${azureResourceId}/`)?.[1]?.toLowerCase() : undefined
  if (resourceType && AI_RESOURCE_TYPES[resourceType]) {
    signals.push({
      id: 'azure.managed_identity.ai_resource',
      platform: resourceType.startsWith('microsoft.cognitiveservices') ? 'azure_openai' : 'other_ai',
      weight: 0.7,
      reason: `Managed identity of an ${AI_RESOURCE_TYPES[resourceType]}.`,
      evidence: { azureResourceId },
    })
  }
  const unique = [...new Set(aiResources)]
  if (unique.length > 0) {
    signals.push({
      id: 'azure.permission.ai_resource',
      platform: unique.some((r) => r.includes('OpenAI')) ? 'azure_openai' : 'other_ai',
      weight: 0.6,
      reason: `Holds permissions on ${unique.join(', ')}.`,
      evidence: { resources: unique },
    })
  }
  const tagText = Object.entries(tags).map(([k, v]) => `${k} ${v}`).join(' ')
  const match = AI_NAME.exec(name) ?? AI_NAME.exec(tagText)
  if (match) {
    signals.push({
      id: 'azure.naming.ai_keyword',
      platform: 'other_ai',
      weight: 0.3,
      reason: `Its name or tags mention "${match[2]}".`,
      evidence: { displayName: name, tags },
    })
  }
  return signals
}

function spUsage(sp: GraphServicePrincipal | null, lookups: TenantLookups): { lastUsedAt: Date | null; lastUsedKnown: boolean; usageData: NormalizedIdentity['monitoring']['usageData']; unreadable: UnreadablePart[] } {
  if (lookups.signInUnreadable) return { lastUsedAt: null, lastUsedKnown: false, usageData: 'unavailable', unreadable: [lookups.signInUnreadable] }
  if (!lookups.signInRead || !lookups.spSignIns) return { lastUsedAt: null, lastUsedKnown: false, usageData: 'unknown', unreadable: [] }
  if (!sp?.appId) return { lastUsedAt: null, lastUsedKnown: false, usageData: 'available', unreadable: [] }
  const a = lookups.spSignIns.get(sp.appId.toLowerCase())
  return { lastUsedAt: parseGraphDate(a?.lastSignInActivity?.lastSignInDateTime), lastUsedKnown: true, usageData: 'available', unreadable: [] }
}

function ownersOf(
  objects: GraphDirectoryObject[] | null | undefined,
  role: OwnerHint['role'],
  canAdd: boolean,
  operation: string,
  unreadable: UnreadablePart[],
): { hints: OwnerHint[]; states: ReturnType<typeof ownerStates> } {
  if (objects === null || objects === undefined) {
    unreadable.push({ field: 'owners', operation, permission: 'Application.Read.All' })
    return { hints: [], states: [] }
  }
  return { hints: objects.map((o) => ownerHint(o, role, canAdd)), states: ownerStates(objects) }
}

// ---------- applications (and agent identity blueprints) ----------

/**
 * An application registration, merged with its service principal in this tenant: the
 * registration holds the credentials and owners, the service principal holds the permissions,
 * roles and sign-ins. Agent identity blueprints (a subtype) take the same shape.
 */
export function transformApplication(
  app: GraphApplication,
  appReads: ObjectReads,
  sp: GraphServicePrincipal | null,
  spReads: ObjectReads | null,
  lookups: TenantLookups,
): NormalizedIdentity {
  const isBlueprint = isOdataType(app['@odata.type'], ODATA.agentIdentityBlueprint)
  const name = app.displayName ?? app.appId ?? app.id
  const tags = graphTags([...app.tags, ...(sp?.tags ?? [])])
  const unreadable: UnreadablePart[] = []
  const credentials = [
    ...app.passwordCredentials.map((p) => passwordCredential(p, 'application', lookups)),
    ...app.keyCredentials.map((k) => keyCredential(k, 'application', lookups)),
    ...(sp?.passwordCredentials ?? []).map((p) => passwordCredential(p, 'servicePrincipal', lookups)),
  ]
  const appOwners = ownersOf(appReads.owners, 'owner', true, `GET /applications/${app.id}/owners`, unreadable)
  const spOwners = sp && spReads ? ownersOf(spReads.owners, 'owner', true, `GET /servicePrincipals/${sp.id}/owners`, unreadable) : { hints: [], states: [] }
  const owners = dedupeOwners([...appOwners.hints, ...spOwners.hints])
  const ent = entitlementsFor(sp, spReads, lookups)
  unreadable.push(...ent.unreadable)
  const usage = spUsage(sp, lookups)
  unreadable.push(...usage.unreadable)
  const agentSignals: AgentSignal[] = isBlueprint
    ? [
        {
          id: 'azure.entra_agent_id.blueprint',
          platform: 'entra_agent_id',
          weight: 1,
          reason: `Microsoft Entra Agent ID blueprint "${name}": the template its agent identities are created from; its credentials authenticate them.`,
          evidence: { odataType: app['@odata.type'], appId: app.appId, blueprintPrincipalId: sp?.id ?? null },
        },
      ]
    : heuristicSignals(name, tags, ent.aiResources, null)
  const createdAt = parseGraphDate(app.createdDateTime)
  const agentIdentityCount = isBlueprint && app.appId ? [...lookups.agentIdentitiesById.values()].filter((a) => a.agentIdentityBlueprintId?.toLowerCase() === app.appId?.toLowerCase()).length : undefined
  return identity({
    externalId: app.id,
    kind: isBlueprint ? 'agent_blueprint' : 'application',
    displayName: name,
    scope: lookups.scope,
    status: sp?.accountEnabled === false ? 'disabled' : 'active',
    createdAt,
    lastUsedAt: maxDate(usage.lastUsedAt, ...credentials.map((c) => c.lastUsedAt)),
    lastUsedKnown: usage.lastUsedKnown,
    tags,
    attributes: {
      objectType: isBlueprint ? 'agentIdentityBlueprint' : 'application',
      applicationObjectId: app.id,
      appId: app.appId,
      servicePrincipalId: sp?.id ?? null,
      signInAudience: app.signInAudience,
      publisherDomain: app.publisherDomain,
      serviceManagementReference: app.serviceManagementReference,
      notes: app.notes,
      hasServicePrincipal: sp !== null,
      ownerStates: [...appOwners.states, ...spOwners.states],
      highPrivilegeAppRoleAssignments: ent.highPrivilegeAppRoleAssignments,
      ...(agentIdentityCount !== undefined ? { agentIdentityCount } : {}),
    },
    consoleUrl: app.appId ? `${PORTAL}/Microsoft_AAD_RegisteredApps/ApplicationMenuBlade/~/Overview/appId/${app.appId}` : null,
    credentials,
    entitlements: ent.entitlements,
    owners,
    agentSignals,
    escalationPaths: ent.escalationPaths,
    environments: environmentsOf(name, tags),
    monitoring: { usageData: usage.usageData, runtimeLogging: null },
    // A client secret on an app registration can almost always be replaced by a federated
    // credential (workload identity) or a managed identity.
    federationPossible: credentials.some((c) => c.type === 'client_secret' && c.status !== 'expired'),
    unreadable,
  })
}

function dedupeOwners(owners: OwnerHint[]): OwnerHint[] {
  const seen = new Map<string, OwnerHint>()
  for (const o of owners) if (!seen.has(`${o.role}:${o.ref}`)) seen.set(`${o.role}:${o.ref}`, o)
  return [...seen.values()]
}

// ---------- service principals without a local registration ----------

export function managedIdentityResource(sp: GraphServicePrincipal): { type: 'system' | 'user' | null; resourceId: string | null } {
  const explicit = sp.alternativeNames.find((n) => /^isExplicit=/i.test(n))
  const resourceId = sp.alternativeNames.find((n) => n.startsWith('/subscriptions/')) ?? null
  const type = explicit ? (/true/i.test(explicit) ? 'user' : 'system') : resourceId?.toLowerCase().includes('/microsoft.managedidentity/userassignedidentities/') ? 'user' : resourceId ? 'system' : null
  return { type, resourceId }
}

/**
 * A service principal that has no application registration in this tenant: a managed
 * identity, an agent identity, a blueprint principal whose blueprint lives elsewhere, or a
 * multi-tenant (third-party) application.
 */
export function transformServicePrincipal(sp: GraphServicePrincipal, reads: ObjectReads, lookups: TenantLookups): NormalizedIdentity {
  const name = sp.displayName ?? sp.appDisplayName ?? sp.appId ?? sp.id
  const tags = graphTags(sp.tags)
  const unreadable: UnreadablePart[] = []
  const isAgentIdentity = isOdataType(sp['@odata.type'], ODATA.agentIdentity) || lookups.agentIdentitiesById.has(sp.id)
  const isBlueprintPrincipal = isOdataType(sp['@odata.type'], ODATA.agentIdentityBlueprintPrincipal)
  const isManaged = (sp.servicePrincipalType ?? '').toLowerCase() === 'managedidentity'
  const mi = isManaged ? managedIdentityResource(sp) : { type: null, resourceId: null }
  // Agent identities have no credentials of their own; managed identities' certificates are
  // rotated by Azure and are not static secrets anyone holds.
  const credentials =
    isAgentIdentity || isManaged
      ? []
      : [
          ...sp.passwordCredentials.map((p) => passwordCredential(p, 'servicePrincipal', lookups)),
          ...sp.keyCredentials.map((k) => keyCredential(k, 'servicePrincipal', lookups)),
        ]
  const owners = ownersOf(reads.owners, 'owner', !isAgentIdentity, `GET /servicePrincipals/${sp.id}/owners`, unreadable)
  const sponsors = isAgentIdentity ? ownersOf(reads.sponsors, 'sponsor', false, `GET /servicePrincipals/${sp.id}/microsoft.graph.agentIdentity/sponsors`, unreadable) : { hints: [], states: [] }
  const ent = entitlementsFor(sp, reads, lookups)
  unreadable.push(...ent.unreadable)
  const usage = spUsage(sp, lookups)
  unreadable.push(...usage.unreadable)

  let agentSignals: AgentSignal[]
  let blueprint: GraphApplication | undefined
  if (isAgentIdentity) {
    blueprint = sp.agentIdentityBlueprintId ? lookups.blueprintsByAppId.get(sp.agentIdentityBlueprintId.toLowerCase()) : undefined
    const bpName = blueprint?.displayName ?? sp.agentIdentityBlueprintId ?? 'unknown blueprint'
    agentSignals = [
      {
        id: 'azure.entra_agent_id.agent_identity',
        platform: 'entra_agent_id',
        weight: 1,
        reason: `Microsoft Entra Agent ID agent identity created from blueprint "${bpName}".`,
        evidence: { odataType: sp['@odata.type'] ?? ODATA.agentIdentity, agentIdentityBlueprintId: sp.agentIdentityBlueprintId, blueprintObjectId: blueprint?.id ?? null },
      },
    ]
  } else if (isBlueprintPrincipal) {
    agentSignals = [
      {
        id: 'azure.entra_agent_id.blueprint_principal',
        platform: 'entra_agent_id',
        weight: 1,
        reason: `Microsoft Entra Agent ID blueprint principal of "${name}" (its blueprint is registered in another tenant).`,
        evidence: { odataType: sp['@odata.type'], appId: sp.appId, appOwnerOrganizationId: sp.appOwnerOrganizationId },
      },
    ]
  } else {
    agentSignals = heuristicSignals(name, tags, ent.aiResources, mi.resourceId)
  }

  const kind: NormalizedIdentity['kind'] = isAgentIdentity ? 'agent_identity' : isBlueprintPrincipal ? 'agent_blueprint' : isManaged ? 'managed_identity' : 'service_principal'
  return identity({
    externalId: sp.id,
    kind,
    displayName: name,
    scope: lookups.scope,
    status: sp.accountEnabled === false ? 'disabled' : 'active',
    createdAt: parseGraphDate(sp.createdDateTime),
    lastUsedAt: maxDate(usage.lastUsedAt, ...credentials.map((c) => c.lastUsedAt)),
    lastUsedKnown: usage.lastUsedKnown,
    tags,
    attributes: {
      objectType: isAgentIdentity ? 'agentIdentity' : isBlueprintPrincipal ? 'agentIdentityBlueprintPrincipal' : 'servicePrincipal',
      servicePrincipalId: sp.id,
      appId: sp.appId,
      servicePrincipalType: sp.servicePrincipalType,
      appOwnerOrganizationId: sp.appOwnerOrganizationId,
      ...(isManaged ? { managedIdentityType: mi.type, azureResourceId: mi.resourceId } : {}),
      ...(isAgentIdentity
        ? {
            agentIdentityBlueprintId: sp.agentIdentityBlueprintId,
            blueprintObjectId: blueprint?.id ?? null,
            blueprintDisplayName: blueprint?.displayName ?? null,
            // The blueprint's credentials are what authenticate this agent: their age is its age.
            blueprintCredentials: blueprint
              ? [...blueprint.passwordCredentials, ...blueprint.keyCredentials].map((c) => ({ keyId: c.keyId, startDateTime: c.startDateTime, endDateTime: c.endDateTime }))
              : [],
            sponsorStates: sponsors.states,
          }
        : {}),
      ownerStates: owners.states,
      highPrivilegeAppRoleAssignments: ent.highPrivilegeAppRoleAssignments,
    },
    consoleUrl: sp.appId ? `${PORTAL}/Microsoft_AAD_IAM/ManagedAppMenuBlade/~/Overview/objectId/${sp.id}/appId/${sp.appId}` : `${PORTAL}/Microsoft_AAD_IAM/ManagedAppMenuBlade/~/Overview/objectId/${sp.id}`,
    credentials,
    entitlements: ent.entitlements,
    owners: dedupeOwners([...owners.hints, ...sponsors.hints]),
    agentSignals,
    escalationPaths: ent.escalationPaths,
    environments: environmentsOf(name, tags),
    workloads: mi.resourceId ? [mi.resourceId] : [],
    monitoring: { usageData: usage.usageData, runtimeLogging: null },
    federationPossible: credentials.some((c) => c.type === 'client_secret' && c.status !== 'expired'),
    unreadable,
  })
}

// ---------- agent users ----------

export function transformAgentUser(user: GraphAgentUser, lookups: TenantLookups): NormalizedIdentity {
  const parent = user.identityParentId ? lookups.agentIdentitiesById.get(user.identityParentId) ?? lookups.spById.get(user.identityParentId) : undefined
  const blueprint = parent?.agentIdentityBlueprintId ? lookups.blueprintsByAppId.get(parent.agentIdentityBlueprintId.toLowerCase()) : undefined
  const name = user.displayName ?? user.userPrincipalName ?? user.id
  return identity({
    externalId: user.id,
    kind: 'agent_user',
    displayName: name,
    scope: lookups.scope,
    status: user.accountEnabled === false ? 'disabled' : 'active',
    createdAt: parseGraphDate(user.createdDateTime),
    attributes: {
      objectType: 'agentUser',
      userPrincipalName: user.userPrincipalName,
      identityParentId: user.identityParentId,
      parentDisplayName: parent?.displayName ?? null,
      blueprintObjectId: blueprint?.id ?? null,
      blueprintDisplayName: blueprint?.displayName ?? null,
    },
    consoleUrl: `${PORTAL}/Microsoft_AAD_UsersAndTenants/UserProfileMenuBlade/~/overview/userId/${user.id}`,
    agentSignals: [
      {
        id: 'azure.entra_agent_id.agent_user',
        platform: 'entra_agent_id',
        weight: 1,
        reason: `Microsoft Entra Agent ID agent user of agent identity "${parent?.displayName ?? user.identityParentId ?? 'unknown'}"${blueprint ? ` (blueprint "${blueprint.displayName ?? blueprint.id}")` : ''}.`,
        evidence: { odataType: user['@odata.type'] ?? ODATA.agentUser, identityParentId: user.identityParentId, blueprintObjectId: blueprint?.id ?? null },
      },
    ],
    // Agent users sign in like users; their sign-in logs need the user sign-in report (not read).
    monitoring: { usageData: 'unknown', runtimeLogging: null },
  })
}
