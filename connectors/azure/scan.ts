/**
 * The Entra ID + Key Vault scan: get (Graph, ARM, Key Vault) → transform → stream batches.
 *
 * Completeness: the tenant scope is complete only when every list that produces identities
 * (applications, service principals, Agent ID objects) was read to the end. Failures of
 * enrichment (owners, permissions, sign-ins) leave `unreadable` parts on the identities and a
 * ScanProblem, but do not hide identities, so they do not block cleanup.
 */
import type { NormalizedIdentity, ScanContext, ScanEvent, ScanProblem, ScanScope, UnreadablePart } from '../contract.js'
import { createClients, type AzureClients } from './clients.js'
import {
  GraphCallError,
  graphBatchGet,
  graphListAll,
  statusOf,
  type BatchRequest,
  type BatchResult,
} from './graph-get.js'
import {
  MICROSOFT_TENANT_IDS,
  ODATA,
  agentUserSchema,
  appCredentialSignInActivitySchema,
  appRoleAssignmentSchema,
  applicationSchema,
  directoryObjectSchema,
  isOdataType,
  oauth2PermissionGrantSchema,
  roleAssignmentSchema,
  servicePrincipalSchema,
  servicePrincipalSignInActivitySchema,
  type GraphAgentUser,
  type GraphAppCredentialSignInActivity,
  type GraphApplication,
  type GraphDirectoryObject,
  type GraphOAuth2PermissionGrant,
  type GraphRoleAssignment,
  type GraphServicePrincipal,
  type GraphServicePrincipalSignInActivity,
} from './graph-model.js'
import { describeAzureError, listSubscriptions, listVaultItems, listVaults, transformVaultItem, vaultScope } from './keyvault.js'
import { azureSettingsSchema, type AzureSettings } from './settings.js'
import {
  transformAgentUser,
  transformApplication,
  transformServicePrincipal,
  type ObjectReads,
  type TenantLookups,
} from './transform.js'

const APP_SELECT = 'id,appId,displayName,description,createdDateTime,signInAudience,publisherDomain,notes,serviceManagementReference,tags,identifierUris,passwordCredentials,keyCredentials'
const SP_SELECT =
  'id,appId,displayName,appDisplayName,accountEnabled,servicePrincipalType,appOwnerOrganizationId,alternativeNames,servicePrincipalNames,tags,createdDateTime,appRoles,passwordCredentials,keyCredentials'
const OWNER_SELECT = 'id,displayName,userPrincipalName,mail,accountEnabled,deletedDateTime'

/** Permission each Graph read needs (least privileged application permission). */
export const READ_PERMISSIONS = {
  applications: 'Application.Read.All',
  servicePrincipals: 'Application.Read.All',
  owners: 'Application.Read.All',
  grants: 'Directory.Read.All',
  roles: 'RoleManagement.Read.Directory',
  signIns: 'AuditLog.Read.All',
  agentIdentities: 'AgentIdentity.Read.All',
  blueprints: 'AgentIdentityBlueprint.Read.All',
  blueprintPrincipals: 'AgentIdentityBlueprintPrincipal.Read.All',
  agentUsers: 'User.Read.All',
} as const

function problem(scope: ScanScope | null, operation: string, error: unknown, permission: string | null, fatal: boolean, what: string): ScanProblem {
  if ((error as GraphCallError)?.code === 'credential') {
    return {
      scope,
      operation,
      permission: null,
      message: `${what}: Leash could not sign in to Microsoft Entra ID (${((error as Error).message ?? '').split('\n')[0]?.slice(0, 300)}).`,
      remedy: 'Check tenantId and the credential settings: the environment variables they name must hold the application id and a valid, unexpired secret or certificate (or the host must have a managed/workload identity).',
      fatalForScope: fatal,
    }
  }
  const status = statusOf(error)
  const message = (error as Error)?.message ?? String(error)
  const denied = status === 401 || status === 403
  return {
    scope,
    operation,
    permission: denied ? permission : null,
    message: `${what}: ${denied ? 'access denied' : status === 429 ? 'still throttled after retries' : 'the call failed'} (${status ?? 'no HTTP status'}: ${message.split('\n')[0]?.slice(0, 300)}).`,
    remedy: denied
      ? `Grant the scanner's application the ${permission} Microsoft Graph application permission (admin consent), then scan again. See docs/providers/azure.md.`
      : 'Scan again later; if it keeps failing, check network access to Microsoft Graph and the service health of the tenant.',
    fatalForScope: fatal,
  }
}

function isFeatureMissing(error: unknown): boolean {
  // A tenant without Agent ID answers the typed-cast lists with 400/404 (unknown segment).
  const status = statusOf(error)
  return status === 400 || status === 404
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

function groupBy<T>(items: T[], key: (t: T) => string | null): Map<string, T[]> {
  const m = new Map<string, T[]>()
  for (const item of items) {
    const k = key(item)
    if (!k) continue
    const list = m.get(k)
    if (list) list.push(item)
    else m.set(k, [item])
  }
  return m
}

function directoryObjects(result: BatchResult | undefined): GraphDirectoryObject[] | null {
  if (!result || result.error) return null
  return result.value.flatMap((v) => {
    const r = directoryObjectSchema.safeParse(v)
    return r.success ? [r.data] : []
  })
}

export async function* scanAzure(ctx: ScanContext<AzureSettings>): AsyncGenerator<ScanEvent> {
  const settings = azureSettingsSchema.parse(ctx.settings)
  const clients = createClients(settings, ctx.apiCalls)
  yield* scanTenant(ctx, settings, clients)
  if (settings.keyVault) yield* scanKeyVaults(ctx, settings, clients)
}

async function* scanTenant(ctx: ScanContext<AzureSettings>, settings: AzureSettings, clients: AzureClients): AsyncGenerator<ScanEvent> {
  const scope: ScanScope = { accountId: settings.tenantId.toLowerCase(), kind: 'tenant', displayName: `Entra tenant ${settings.tenantId}` }
  yield { type: 'scope_started', scope }
  const signal = ctx.signal
  let complete = true
  const problems: ScanProblem[] = []

  // 1. The lists that produce identities. Without them the scope is incomplete.
  let applications: GraphApplication[]
  let servicePrincipals: GraphServicePrincipal[]
  try {
    applications = (await graphListAll(clients, `${clients.graphV1}/applications?$select=${APP_SELECT}&$top=999`, applicationSchema, 'GET /applications', signal)).items
    servicePrincipals = (await graphListAll(clients, `${clients.graphV1}/servicePrincipals?$select=${SP_SELECT}&$top=999`, servicePrincipalSchema, 'GET /servicePrincipals', signal)).items
  } catch (error) {
    const op = (error as GraphCallError).operation ?? 'GET /applications'
    yield { type: 'problem', problem: problem(scope, op, error, READ_PERMISSIONS.applications, true, 'Cannot list applications and service principals') }
    yield { type: 'scope_finished', scope, complete: false }
    return
  }

  // 2. Microsoft Entra Agent ID objects (typed casts). They are also in the lists above, but
  //    the casts carry the Agent ID properties (agentIdentityBlueprintId) and the type.
  const blueprints = new Map<string, GraphApplication>()
  const agentIdentities = new Map<string, GraphServicePrincipal>()
  const blueprintPrincipals = new Map<string, GraphServicePrincipal>()
  let agentUsers: GraphAgentUser[] = []
  if (settings.agentId) {
    const reads: { what: string; url: string; permission: string; apply: (items: unknown[]) => void; schema: typeof applicationSchema | typeof servicePrincipalSchema | typeof agentUserSchema }[] = [
      {
        what: 'agent identity blueprints',
        url: `${clients.graphBeta}/applications/microsoft.graph.agentIdentityBlueprint?$top=999`,
        permission: READ_PERMISSIONS.blueprints,
        schema: applicationSchema,
        apply: (items) => (items as GraphApplication[]).forEach((a) => blueprints.set(a.id, { ...a, '@odata.type': a['@odata.type'] ?? ODATA.agentIdentityBlueprint })),
      },
      {
        what: 'agent identities',
        url: `${clients.graphBeta}/servicePrincipals/microsoft.graph.agentIdentity?$top=999`,
        permission: READ_PERMISSIONS.agentIdentities,
        schema: servicePrincipalSchema,
        apply: (items) => (items as GraphServicePrincipal[]).forEach((s) => agentIdentities.set(s.id, { ...s, '@odata.type': s['@odata.type'] ?? ODATA.agentIdentity })),
      },
      {
        what: 'agent identity blueprint principals',
        url: `${clients.graphBeta}/servicePrincipals/microsoft.graph.agentIdentityBlueprintPrincipal?$top=999`,
        permission: READ_PERMISSIONS.blueprintPrincipals,
        schema: servicePrincipalSchema,
        apply: (items) =>
          (items as GraphServicePrincipal[]).forEach((s) => blueprintPrincipals.set(s.id, { ...s, '@odata.type': s['@odata.type'] ?? ODATA.agentIdentityBlueprintPrincipal })),
      },
      {
        what: 'agent users',
        url: `${clients.graphBeta}/users/microsoft.graph.agentUser?$select=id,displayName,userPrincipalName,accountEnabled,identityParentId,createdDateTime&$top=999`,
        permission: READ_PERMISSIONS.agentUsers,
        schema: agentUserSchema,
        apply: (items) => {
          agentUsers = items as GraphAgentUser[]
        },
      },
    ]
    for (const r of reads) {
      try {
        const { items } = await graphListAll(clients, r.url, r.schema, `GET ${new URL(r.url).pathname.replace(/^\/beta/, '')}`, signal)
        r.apply(items)
      } catch (error) {
        if (isFeatureMissing(error)) continue
        if ((error as GraphCallError).code === 'aborted') throw error
        complete = false
        problems.push(problem(scope, `GET ${new URL(r.url).pathname.replace(/^\/beta/, '')}`, error, r.permission, true, `Cannot list ${r.what}`))
      }
    }
  }
  // Merge typed objects over the generic ones (same id), and add any the generic list missed.
  const appById = new Map(applications.map((a) => [a.id, a]))
  for (const [id, bp] of blueprints) appById.set(id, { ...appById.get(id), ...bp, '@odata.type': bp['@odata.type'] })
  const spById = new Map(servicePrincipals.map((s) => [s.id, s]))
  for (const [id, s] of [...agentIdentities, ...blueprintPrincipals]) {
    const base = spById.get(id)
    spById.set(id, { ...(base ?? s), ...s, appRoles: s.appRoles.length ? s.appRoles : base?.appRoles ?? [] })
  }
  for (const s of spById.values()) if (isOdataType(s['@odata.type'], ODATA.agentIdentity)) agentIdentities.set(s.id, s)
  for (const a of appById.values()) if (isOdataType(a['@odata.type'], ODATA.agentIdentityBlueprint)) blueprints.set(a.id, a)

  const spByAppId = new Map<string, GraphServicePrincipal>()
  for (const s of spById.values()) if (s.appId && !agentIdentities.has(s.id)) spByAppId.set(s.appId.toLowerCase(), s)
  const blueprintsByAppId = new Map<string, GraphApplication>()
  for (const b of blueprints.values()) if (b.appId) blueprintsByAppId.set(b.appId.toLowerCase(), b)

  // 3. Tenant-wide enrichment: delegated grants, directory roles, sign-in activity.
  let grantsByClient: Map<string, GraphOAuth2PermissionGrant[]> | null = null
  let grantsUnreadable: UnreadablePart | null = null
  try {
    const grants = (await graphListAll(clients, `${clients.graphV1}/oauth2PermissionGrants?$top=999`, oauth2PermissionGrantSchema, 'GET /oauth2PermissionGrants', signal)).items
    grantsByClient = groupBy(grants, (g) => g.clientId)
  } catch (error) {
    if ((error as GraphCallError).code === 'aborted') throw error
    grantsUnreadable = { field: 'entitlements', operation: 'GET /oauth2PermissionGrants', permission: READ_PERMISSIONS.grants }
    problems.push(problem(scope, 'GET /oauth2PermissionGrants', error, READ_PERMISSIONS.grants, false, 'Cannot read delegated permission grants'))
  }
  let roleAssignmentsByPrincipal: Map<string, GraphRoleAssignment[]> | null = null
  let rolesUnreadable: UnreadablePart | null = null
  try {
    const roles = (
      await graphListAll(clients, `${clients.graphV1}/roleManagement/directory/roleAssignments?$expand=roleDefinition`, roleAssignmentSchema, 'GET /roleManagement/directory/roleAssignments', signal)
    ).items
    roleAssignmentsByPrincipal = groupBy(roles, (r) => r.principalId)
  } catch (error) {
    if ((error as GraphCallError).code === 'aborted') throw error
    rolesUnreadable = { field: 'entitlements', operation: 'GET /roleManagement/directory/roleAssignments', permission: READ_PERMISSIONS.roles }
    problems.push(problem(scope, 'GET /roleManagement/directory/roleAssignments', error, READ_PERMISSIONS.roles, false, 'Cannot read directory role assignments'))
  }
  let spSignIns: Map<string, GraphServicePrincipalSignInActivity> | null = null
  let credentialSignIns: Map<string, GraphAppCredentialSignInActivity> | null = null
  let signInUnreadable: UnreadablePart | null = null
  if (settings.signInActivity) {
    try {
      const sp = (await graphListAll(clients, `${clients.graphBeta}/reports/servicePrincipalSignInActivities`, servicePrincipalSignInActivitySchema, 'GET /reports/servicePrincipalSignInActivities', signal)).items
      spSignIns = new Map(sp.map((a) => [a.appId.toLowerCase(), a]))
      const cred = (await graphListAll(clients, `${clients.graphBeta}/reports/appCredentialSignInActivities`, appCredentialSignInActivitySchema, 'GET /reports/appCredentialSignInActivities', signal)).items
      credentialSignIns = new Map(cred.map((a) => [a.keyId.toLowerCase(), a]))
    } catch (error) {
      if ((error as GraphCallError).code === 'aborted') throw error
      const op = (error as GraphCallError).operation ?? 'GET /reports/servicePrincipalSignInActivities'
      spSignIns = null
      credentialSignIns = null
      signInUnreadable = { field: 'usage', operation: op, permission: READ_PERMISSIONS.signIns }
      const status = statusOf(error)
      problems.push({
        ...problem(scope, op, error, READ_PERMISSIONS.signIns, false, 'No sign-in data'),
        remedy:
          status === 403
            ? 'Sign-in activity reports need the AuditLog.Read.All application permission and a Microsoft Entra ID P1 or P2 licence. Until then Leash shows "no sign-in data" for these identities, never "unused".'
            : 'Scan again later; until then Leash shows "no sign-in data", never "unused".',
      })
    }
  }
  for (const p of problems) yield { type: 'problem', problem: p }

  const lookups: TenantLookups = {
    scope,
    now: ctx.now,
    spById,
    spByAppId,
    blueprintsByAppId,
    agentIdentitiesById: agentIdentities,
    roleAssignmentsByPrincipal,
    grantsByClient,
    spSignIns,
    credentialSignIns,
    signInUnreadable,
    signInRead: settings.signInActivity && !signInUnreadable,
    rolesUnreadable,
    grantsUnreadable,
  }

  // 4. Units: applications (with their service principal), then service principals that have
  //    no registration here (managed identities, agent identities, third-party apps). Microsoft's
  //    own first-party service principals are resources, not identities anyone here manages.
  type Unit = { kind: 'app'; app: GraphApplication; sp: GraphServicePrincipal | null } | { kind: 'sp'; sp: GraphServicePrincipal }
  const units: Unit[] = []
  const coveredSp = new Set<string>()
  for (const app of appById.values()) {
    const sp = app.appId ? spByAppId.get(app.appId.toLowerCase()) ?? null : null
    if (sp) coveredSp.add(sp.id)
    units.push({ kind: 'app', app, sp })
  }
  for (const sp of spById.values()) {
    if (coveredSp.has(sp.id)) continue
    const microsoft = sp.appOwnerOrganizationId && MICROSOFT_TENANT_IDS.has(sp.appOwnerOrganizationId.toLowerCase())
    if (microsoft && (sp.servicePrincipalType ?? '').toLowerCase() !== 'managedidentity') continue
    units.push({ kind: 'sp', sp })
  }

  // 5. Per-object reads in $batch (owners, app role assignments, sponsors), a batch of units
  //    at a time so memory stays bounded by batchSize.
  let enrichmentFailures = 0
  for (const group of chunk(units, settings.batchSize)) {
    const v1: BatchRequest[] = []
    const beta: BatchRequest[] = []
    for (const u of group) {
      if (u.kind === 'app') {
        v1.push({ id: `ao:${u.app.id}`, url: `/applications/${u.app.id}/owners?$select=${OWNER_SELECT}` })
        if (u.sp) {
          v1.push({ id: `so:${u.sp.id}`, url: `/servicePrincipals/${u.sp.id}/owners?$select=${OWNER_SELECT}` })
          v1.push({ id: `ar:${u.sp.id}`, url: `/servicePrincipals/${u.sp.id}/appRoleAssignments` })
        }
      } else {
        v1.push({ id: `so:${u.sp.id}`, url: `/servicePrincipals/${u.sp.id}/owners?$select=${OWNER_SELECT}` })
        v1.push({ id: `ar:${u.sp.id}`, url: `/servicePrincipals/${u.sp.id}/appRoleAssignments` })
        if (agentIdentities.has(u.sp.id)) beta.push({ id: `sp:${u.sp.id}`, url: `/servicePrincipals/${u.sp.id}/microsoft.graph.agentIdentity/sponsors` })
      }
    }
    let results: Map<string, BatchResult>
    try {
      results = await graphBatchGet(clients, 'v1.0', v1, signal, settings.maxRetries)
      if (beta.length) for (const [k, v] of await graphBatchGet(clients, 'beta', beta, signal, settings.maxRetries)) results.set(k, v)
    } catch (error) {
      if ((error as GraphCallError).code === 'aborted') throw error
      // The identities are still listed: they go out with owners/permissions unreadable.
      enrichmentFailures += 1
      results = new Map()
      if (enrichmentFailures === 1) yield { type: 'problem', problem: problem(scope, 'POST /$batch', error, READ_PERMISSIONS.owners, false, 'Cannot read owners and permissions') }
    }
    const readsFor = (spId: string | null, ownerKey: string): ObjectReads => {
      const assignments = spId ? results.get(`ar:${spId}`) : undefined
      return {
        owners: directoryObjects(results.get(ownerKey)),
        appRoleAssignments:
          assignments && !assignments.error
            ? assignments.value.flatMap((v) => {
                const r = appRoleAssignmentSchema.safeParse(v)
                return r.success ? [r.data] : []
              })
            : null,
        sponsors: spId ? directoryObjects(results.get(`sp:${spId}`)) : null,
      }
    }
    const identities: NormalizedIdentity[] = []
    for (const u of group) {
      if (u.kind === 'app') {
        const appReads = readsFor(null, `ao:${u.app.id}`)
        const spReads = u.sp ? readsFor(u.sp.id, `so:${u.sp.id}`) : null
        identities.push(transformApplication(u.app, appReads, u.sp, spReads, lookups))
      } else {
        identities.push(transformServicePrincipal(u.sp, readsFor(u.sp.id, `so:${u.sp.id}`), lookups))
      }
    }
    if (identities.length) yield { type: 'batch', scope, identities }
  }

  // 6. Agent users (user objects; no credentials of their own).
  for (const group of chunk(agentUsers, settings.batchSize)) {
    yield { type: 'batch', scope, identities: group.map((u) => transformAgentUser(u, lookups)) }
  }
  yield { type: 'scope_finished', scope, complete }
}

async function* scanKeyVaults(ctx: ScanContext<AzureSettings>, settings: AzureSettings, clients: AzureClients): AsyncGenerator<ScanEvent> {
  let subscriptions = settings.subscriptions ?? null
  if (!subscriptions) {
    try {
      subscriptions = await listSubscriptions(clients, ctx.signal)
    } catch (error) {
      const d = describeAzureError(error)
      yield {
        type: 'problem',
        problem: {
          scope: null,
          operation: 'GET /subscriptions',
          permission: d.status === 401 || d.status === 403 ? 'Reader (or Key Vault Reader) on the subscriptions to scan' : null,
          message: `Cannot list Azure subscriptions (${d.status ?? 'no status'}: ${d.message}).`,
          remedy: 'Give the scanner Key Vault Reader on the subscriptions (or list them in the source settings under "subscriptions").',
          fatalForScope: false,
        },
      }
      return
    }
  }
  for (const subscriptionId of subscriptions) {
    let vaults
    try {
      vaults = await listVaults(clients, subscriptionId, ctx.signal)
    } catch (error) {
      const d = describeAzureError(error)
      yield {
        type: 'problem',
        problem: {
          scope: null,
          operation: 'Microsoft.KeyVault/vaults/read',
          permission: d.status === 401 || d.status === 403 ? 'Microsoft.KeyVault/vaults/read (Key Vault Reader)' : null,
          message: `Cannot list the key vaults of subscription ${subscriptionId} (${d.status ?? 'no status'}: ${d.message}).`,
          remedy: `Assign the Key Vault Reader role on subscription ${subscriptionId} to the scanner's identity.`,
          fatalForScope: false,
        },
      }
      continue
    }
    for (const vault of vaults) {
      const scope = vaultScope(vault)
      yield { type: 'scope_started', scope }
      try {
        const items = await listVaultItems(clients, vault, ctx.signal)
        for (const group of chunk(items, settings.batchSize)) {
          yield { type: 'batch', scope, identities: group.map((i) => transformVaultItem(vault, i, settings.tenantId, ctx.now)) }
        }
        yield { type: 'scope_finished', scope, complete: true }
      } catch (error) {
        if (ctx.signal.aborted) throw error
        const d = describeAzureError(error)
        yield {
          type: 'problem',
          problem: {
            scope,
            operation: 'Key Vault list secrets/keys/certificates',
            permission: d.status === 401 || d.status === 403 ? (vault.rbac === false ? 'Access policy: List on secrets, keys and certificates' : 'Key Vault Reader (data actions: readMetadata)') : null,
            message: `Cannot list the items of key vault ${vault.name} (${d.status ?? 'no status'}: ${d.message}).`,
            remedy:
              vault.rbac === false
                ? `Add an access policy on ${vault.name} granting the scanner List on secrets, keys and certificates.`
                : `Assign the Key Vault Reader role on ${vault.name} (or its resource group) to the scanner's identity; check the vault's firewall allows the scanner.`,
            fatalForScope: true,
          },
        }
        yield { type: 'scope_finished', scope, complete: false }
      }
    }
  }
}

export { GraphCallError }
