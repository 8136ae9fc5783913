/**
 * Revocation actions for Entra ID and Key Vault: plan (re-reads the provider, changes
 * nothing) → execute (idempotent: what is already done is skipped and counts as success) →
 * verify (re-reads the provider).
 *
 * Permissions (see docs/providers/azure.md): Application.ReadWrite.OwnedBy or
 * Application.ReadWrite.All for removePassword and accountEnabled; AppRoleAssignment.ReadWrite.All
 * to remove app role assignments; Key Vault Secrets Officer on the vault to disable a secret.
 */
import type {
  ActionContext,
  ExecutedCall,
  ExecutionResult,
  PlannedCall,
  RevocationAction,
  RevocationPlan,
  RevocationTarget,
  VerificationResult,
} from '../contract.js'
import { createClients, type AzureClients } from './clients.js'
import { graphGet, graphSend, statusOf } from './graph-get.js'
import { appRoleAssignmentSchema, servicePrincipalSchema, passwordCredentialSchema } from './graph-model.js'
import { highPrivilegePermission } from './high-privilege.js'
import { azureSettingsSchema, type AzureSettings } from './settings.js'
import { DEFAULT_ACCESS_APP_ROLE } from './transform.js'

type Ctx = ActionContext<AzureSettings>

function clientsFor(ctx: Ctx): AzureClients {
  return createClients(azureSettingsSchema.parse(ctx.settings), ctx.apiCalls)
}

function attr(target: RevocationTarget, key: string): string | null {
  const v = target.identity.attributes[key]
  return typeof v === 'string' && v.length > 0 ? v : null
}

function servicePrincipalIdOf(target: RevocationTarget): string | null {
  return attr(target, 'servicePrincipalId') ?? (['service_principal', 'agent_identity'].includes(target.identity.kind) ? target.identity.externalId : null)
}

function applicationIdOf(target: RevocationTarget): string | null {
  return attr(target, 'applicationObjectId') ?? (['application', 'agent_blueprint'].includes(target.identity.kind) && attr(target, 'objectType') !== 'agentIdentityBlueprintPrincipal' ? target.identity.externalId : null)
}

function now(): string {
  return new Date().toISOString()
}

async function run(operation: string, parameters: Record<string, unknown>, fn: () => Promise<Record<string, unknown> | null>): Promise<ExecutedCall> {
  try {
    return { operation, parameters, ok: true, response: await fn(), error: null, at: now() }
  } catch (error) {
    return { operation, parameters, ok: false, response: null, error: `${statusOf(error) ?? 'error'}: ${((error as Error)?.message ?? String(error)).split('\n')[0]}`, at: now() }
  }
}

function result(calls: ExecutedCall[]): ExecutionResult {
  const failed = calls.find((c) => !c.ok)
  return { calls, ok: !failed, error: failed?.error ?? null }
}

// ---------------- client secrets ----------------

interface SecretLocation {
  owner: 'application' | 'servicePrincipal'
  objectId: string
}

async function passwordKeyIds(clients: AzureClients, kind: 'applications' | 'servicePrincipals', id: string, signal: AbortSignal): Promise<string[]> {
  const body = (await graphGet(clients, `${clients.graphV1}/${kind}/${id}?$select=id,passwordCredentials`, `GET /${kind}/{id}`, signal)) as { passwordCredentials?: unknown[] }
  return (body.passwordCredentials ?? []).flatMap((p) => {
    const r = passwordCredentialSchema.safeParse(p)
    return r.success ? [r.data.keyId.toLowerCase()] : []
  })
}

async function locateSecret(ctx: Ctx, clients: AzureClients, target: RevocationTarget): Promise<SecretLocation | null> {
  const keyId = target.credential?.externalId.toLowerCase()
  if (!keyId) return null
  const appId = applicationIdOf(target)
  if (appId && (await passwordKeyIds(clients, 'applications', appId, ctx.signal)).includes(keyId)) return { owner: 'application', objectId: appId }
  const spId = servicePrincipalIdOf(target)
  if (spId && (await passwordKeyIds(clients, 'servicePrincipals', spId, ctx.signal)).includes(keyId)) return { owner: 'servicePrincipal', objectId: spId }
  return null
}

function removePasswordCall(loc: SecretLocation, keyId: string): PlannedCall {
  const path = loc.owner === 'application' ? 'applications' : 'servicePrincipals'
  return {
    operation: `graph:POST /${path}/{id}/removePassword`,
    parameters: { [loc.owner === 'application' ? 'applicationObjectId' : 'servicePrincipalId']: loc.objectId, keyId },
    effect: `Deletes client secret ${keyId}. Anything still using it fails to get tokens from then on; it cannot be restored (a new secret must be issued).`,
  }
}

const removePassword: RevocationAction<AzureSettings> = {
  id: 'azure.application.remove_password',
  title: 'Remove the client secret',
  reversible: false,
  destructive: true,
  appliesTo: (t) => t.credential?.type === 'client_secret' && ['application', 'agent_blueprint', 'service_principal'].includes(t.identity.kind),
  async plan(ctx, target) {
    const clients = clientsFor(ctx)
    const keyId = target.credential?.externalId ?? ''
    const loc = await locateSecret(ctx, clients, target)
    return {
      actionId: this.id,
      summary: loc
        ? `Remove client secret ${keyId} from ${target.identity.displayName}.`
        : `Client secret ${keyId} is no longer on ${target.identity.displayName}: nothing to remove.`,
      calls: loc ? [removePasswordCall(loc, keyId)] : [],
      reversible: false,
      undoActionId: null,
      caveats: [
        'Irreversible: a removed secret cannot be restored. Disable the service principal first (reversible) if you are unsure what still uses it.',
        'Needs Application.ReadWrite.OwnedBy (if Leash owns the application) or Application.ReadWrite.All.',
      ],
    }
  },
  async execute(ctx, target) {
    const clients = clientsFor(ctx)
    const keyId = target.credential?.externalId ?? ''
    let loc: SecretLocation | null
    try {
      loc = await locateSecret(ctx, clients, target)
    } catch (error) {
      return result([{ operation: 'graph:GET passwordCredentials', parameters: { keyId }, ok: false, response: null, error: String((error as Error).message), at: now() }])
    }
    if (!loc) return { calls: [], ok: true, error: null }
    const call = removePasswordCall(loc, keyId)
    const path = loc.owner === 'application' ? 'applications' : 'servicePrincipals'
    return result([
      await run(call.operation, call.parameters, async () => {
        try {
          await graphSend(clients, 'POST', `${clients.graphV1}/${path}/${loc.objectId}/removePassword`, { keyId }, call.operation, ctx.signal)
          return { removed: true }
        } catch (error) {
          // Removed in the meantime by someone else: the goal is reached.
          if (statusOf(error) === 404) return { removed: false, alreadyAbsent: true }
          throw error
        }
      }),
    ])
  },
  async verify(ctx, target) {
    const clients = clientsFor(ctx)
    const loc = await locateSecret(ctx, clients, target)
    return loc
      ? { verified: false, observed: `Client secret ${target.credential?.externalId} is still present on the ${loc.owner} ${loc.objectId}.` }
      : { verified: true, observed: `Client secret ${target.credential?.externalId} is no longer present on ${target.identity.displayName}.` }
  },
}

// ---------------- service principal enable/disable ----------------

async function readAccountEnabled(ctx: Ctx, clients: AzureClients, spId: string): Promise<boolean | null> {
  const body = await graphGet(clients, `${clients.graphV1}/servicePrincipals/${spId}?$select=id,accountEnabled`, 'GET /servicePrincipals/{id}', ctx.signal)
  const r = servicePrincipalSchema.safeParse(body)
  return r.success ? r.data.accountEnabled : null
}

const SP_KINDS = ['application', 'agent_blueprint', 'service_principal', 'agent_identity']

function setAccountEnabled(enabled: boolean, id: string, title: string, undo: string, destructive: boolean): RevocationAction<AzureSettings> {
  const call = (spId: string): PlannedCall => ({
    operation: 'graph:PATCH /servicePrincipals/{id}',
    parameters: { servicePrincipalId: spId, accountEnabled: enabled },
    effect: enabled
      ? 'Lets the service principal sign in and get tokens again.'
      : 'Stops the service principal from signing in or getting new tokens (tokens already issued stay valid until they expire, about an hour). Its secrets, certificates and permissions stay in place, so this can be undone.',
  })
  return {
    id,
    title,
    reversible: true,
    destructive,
    appliesTo: (t) => SP_KINDS.includes(t.identity.kind) && servicePrincipalIdOf(t) !== null && (t.credential === null || !enabled),
    async plan(ctx, target) {
      const spId = servicePrincipalIdOf(target) as string
      const current = await readAccountEnabled(ctx, clientsFor(ctx), spId)
      const done = current === enabled
      return {
        actionId: id,
        summary: done
          ? `The service principal of ${target.identity.displayName} is already ${enabled ? 'enabled' : 'disabled'}.`
          : `${enabled ? 'Enable' : 'Disable'} the service principal of ${target.identity.displayName}.`,
        calls: done ? [] : [call(spId)],
        reversible: true,
        undoActionId: undo,
        caveats: [
          ...(target.identity.kind === 'agent_identity' ? ['Agent identities authenticate through their blueprint; disabling this agent identity stops only this agent.'] : []),
          'Needs Application.ReadWrite.OwnedBy (if Leash owns the application) or Application.ReadWrite.All.',
        ],
      }
    },
    async execute(ctx, target) {
      const clients = clientsFor(ctx)
      const spId = servicePrincipalIdOf(target) as string
      const c = call(spId)
      return result([
        await run(c.operation, c.parameters, async () => {
          if ((await readAccountEnabled(ctx, clients, spId)) === enabled) return { accountEnabled: enabled, alreadyDone: true }
          await graphSend(clients, 'PATCH', `${clients.graphV1}/servicePrincipals/${spId}`, { accountEnabled: enabled }, c.operation, ctx.signal)
          return { accountEnabled: enabled }
        }),
      ])
    },
    async verify(ctx, target) {
      const spId = servicePrincipalIdOf(target) as string
      const current = await readAccountEnabled(ctx, clientsFor(ctx), spId)
      return { verified: current === enabled, observed: `Service principal ${spId} accountEnabled=${String(current)}.` }
    },
  }
}

const disableSp = setAccountEnabled(false, 'azure.service_principal.disable', 'Disable the service principal', 'azure.service_principal.enable', false)
const enableSp = setAccountEnabled(true, 'azure.service_principal.enable', 'Re-enable the service principal', 'azure.service_principal.disable', false)

// ---------------- certificates: cannot be removed without a proof token ----------------

const certificateFallback: RevocationAction<AzureSettings> = {
  ...disableSp,
  id: 'azure.application.certificate_disable_principal',
  title: 'Certificate credential: disable the service principal instead',
  appliesTo: (t) => t.credential?.type === 'certificate' && ['application', 'agent_blueprint', 'service_principal'].includes(t.identity.kind) && servicePrincipalIdOf(t) !== null,
  async plan(ctx, target) {
    const base = await disableSp.plan(ctx, target)
    return {
      ...base,
      actionId: 'azure.application.certificate_disable_principal',
      summary: `Leash cannot remove certificate ${target.credential?.externalId}: ${base.summary}`,
      caveats: [
        'Removing a certificate (application: removeKey) requires a proof-of-possession token signed with one of the application\'s existing certificates. Leash never holds private keys, so it cannot make that call. An owner or an Application Administrator can remove the certificate in the Entra admin center (App registrations → Certificates & secrets).',
        'Offered instead: disable the service principal, which stops every credential of the application from getting tokens and can be undone.',
        ...base.caveats,
      ],
    }
  },
}

// ---------------- high-privilege app role assignments ----------------

async function highPrivilegeAssignments(ctx: Ctx, clients: AzureClients, spId: string): Promise<{ id: string; permission: string; resourceId: string | null }[]> {
  const body = (await graphGet(clients, `${clients.graphV1}/servicePrincipals/${spId}/appRoleAssignments`, 'GET /servicePrincipals/{id}/appRoleAssignments', ctx.signal)) as { value?: unknown[] }
  const assignments = (body.value ?? []).flatMap((v) => {
    const r = appRoleAssignmentSchema.safeParse(v)
    return r.success ? [r.data] : []
  })
  const resources = new Map<string, { id: string; value: string | null }[]>()
  const out: { id: string; permission: string; resourceId: string | null }[] = []
  for (const a of assignments) {
    if (!a.resourceId || !a.appRoleId || a.appRoleId === DEFAULT_ACCESS_APP_ROLE) continue
    let roles = resources.get(a.resourceId)
    if (!roles) {
      const sp = servicePrincipalSchema.safeParse(await graphGet(clients, `${clients.graphV1}/servicePrincipals/${a.resourceId}?$select=id,appRoles`, 'GET /servicePrincipals/{id}', ctx.signal))
      roles = sp.success ? sp.data.appRoles : []
      resources.set(a.resourceId, roles)
    }
    const name = roles.find((r) => r.id.toLowerCase() === a.appRoleId?.toLowerCase())?.value
    const entry = name ? highPrivilegePermission(name) : null
    if (name && entry && (entry.accessLevel === 'admin' || entry.accessLevel === 'permissions_management')) out.push({ id: a.id, permission: name, resourceId: a.resourceId })
  }
  return out
}

const removeHighPrivilegeAppRoles: RevocationAction<AzureSettings> = {
  id: 'azure.app_role_assignment.remove_high_privilege',
  title: 'Remove high-privilege application permissions',
  reversible: false,
  destructive: true,
  appliesTo: (t) => t.credential === null && SP_KINDS.includes(t.identity.kind) && servicePrincipalIdOf(t) !== null,
  async plan(ctx, target) {
    const spId = servicePrincipalIdOf(target) as string
    const found = await highPrivilegeAssignments(ctx, clientsFor(ctx), spId)
    return {
      actionId: this.id,
      summary: found.length
        ? `Remove ${found.length} high-privilege application permission(s) from ${target.identity.displayName}: ${found.map((f) => f.permission).join(', ')}.`
        : `${target.identity.displayName} holds no high-privilege application permissions: nothing to remove.`,
      calls: found.map((f) => ({
        operation: 'graph:DELETE /servicePrincipals/{id}/appRoleAssignments/{assignmentId}',
        parameters: { servicePrincipalId: spId, appRoleAssignmentId: f.id, permission: f.permission, resourceId: f.resourceId },
        effect: `Takes away ${f.permission}. Restoring it needs a new assignment with admin consent.`,
      })),
      reversible: false,
      undoActionId: null,
      caveats: ['Needs AppRoleAssignment.ReadWrite.All.', 'Tokens issued before the removal keep the permission until they expire (about an hour).'],
    }
  },
  async execute(ctx, target) {
    const clients = clientsFor(ctx)
    const spId = servicePrincipalIdOf(target) as string
    let found: { id: string; permission: string; resourceId: string | null }[]
    try {
      found = await highPrivilegeAssignments(ctx, clients, spId)
    } catch (error) {
      return result([{ operation: 'graph:GET /servicePrincipals/{id}/appRoleAssignments', parameters: { servicePrincipalId: spId }, ok: false, response: null, error: String((error as Error).message), at: now() }])
    }
    const calls: ExecutedCall[] = []
    for (const f of found) {
      calls.push(
        await run('graph:DELETE /servicePrincipals/{id}/appRoleAssignments/{assignmentId}', { servicePrincipalId: spId, appRoleAssignmentId: f.id, permission: f.permission }, async () => {
          try {
            await graphSend(clients, 'DELETE', `${clients.graphV1}/servicePrincipals/${spId}/appRoleAssignments/${f.id}`, null, 'DELETE appRoleAssignment', ctx.signal)
            return { removed: f.permission }
          } catch (error) {
            if (statusOf(error) === 404) return { removed: null, alreadyAbsent: true }
            throw error
          }
        }),
      )
    }
    return result(calls)
  },
  async verify(ctx, target) {
    const found = await highPrivilegeAssignments(ctx, clientsFor(ctx), servicePrincipalIdOf(target) as string)
    return found.length
      ? { verified: false, observed: `Still holds: ${found.map((f) => f.permission).join(', ')}.` }
      : { verified: true, observed: 'Holds no high-privilege application permissions.' }
  },
}

// ---------------- Key Vault secrets ----------------

function vaultSecret(target: RevocationTarget): { vaultUrl: string; name: string } | null {
  const vaultUrl = attr(target, 'vaultUrl')
  const name = attr(target, 'itemName')
  return vaultUrl && name ? { vaultUrl, name } : null
}

async function secretVersions(ctx: Ctx, clients: AzureClients, s: { vaultUrl: string; name: string }) {
  const out: { version: string; enabled: boolean; createdOn: Date | null }[] = []
  for await (const v of clients.secrets(s.vaultUrl).listPropertiesOfSecretVersions(s.name, { abortSignal: ctx.signal })) {
    if (v.version) out.push({ version: v.version, enabled: v.enabled !== false, createdOn: v.createdOn ?? null })
  }
  return out.sort((a, b) => (b.createdOn?.getTime() ?? 0) - (a.createdOn?.getTime() ?? 0))
}

function secretToggle(enabled: boolean): RevocationAction<AzureSettings> {
  const id = enabled ? 'azure.keyvault.secret.enable' : 'azure.keyvault.secret.disable'
  const undo = enabled ? 'azure.keyvault.secret.disable' : 'azure.keyvault.secret.enable'
  const targetsOf = (versions: { version: string; enabled: boolean }[]) =>
    // Disabling covers every enabled version (an old version would still be usable); enabling
    // brings back the newest version only.
    enabled ? versions.slice(0, 1).filter((v) => !v.enabled) : versions.filter((v) => v.enabled)
  const planned = (s: { vaultUrl: string; name: string }, version: string): PlannedCall => ({
    operation: 'keyvault:PATCH /secrets/{name}/{version}',
    parameters: { vaultUrl: s.vaultUrl, secretName: s.name, version, enabled },
    effect: enabled ? 'Makes this secret version readable again.' : 'Makes this secret version unreadable (GetSecret fails) without deleting it.',
  })
  return {
    id,
    title: enabled ? 'Re-enable the Key Vault secret' : 'Disable the Key Vault secret',
    reversible: true,
    destructive: false,
    appliesTo: (t) => t.identity.kind === 'secret' && t.identity.attributes.itemType === 'secret' && vaultSecret(t) !== null,
    async plan(ctx, target): Promise<RevocationPlan> {
      const s = vaultSecret(target) as { vaultUrl: string; name: string }
      const todo = targetsOf(await secretVersions(ctx, clientsFor(ctx), s))
      return {
        actionId: id,
        summary: todo.length
          ? `${enabled ? 'Enable' : 'Disable'} ${todo.length} version(s) of secret ${s.name} in ${s.vaultUrl}.`
          : `Secret ${s.name} is already ${enabled ? 'enabled' : 'disabled'}.`,
        calls: todo.map((v) => planned(s, v.version)),
        reversible: true,
        undoActionId: undo,
        caveats: [
          'Needs the Key Vault Secrets Officer role on the vault (RBAC vaults) or an access policy with Set on secrets.',
          ...(enabled ? ['Only the newest version is re-enabled; older versions stay disabled.'] : []),
        ],
      }
    },
    async execute(ctx, target) {
      const clients = clientsFor(ctx)
      const s = vaultSecret(target) as { vaultUrl: string; name: string }
      let todo: { version: string }[]
      try {
        todo = targetsOf(await secretVersions(ctx, clients, s))
      } catch (error) {
        return result([{ operation: 'keyvault:GET /secrets/{name}/versions', parameters: { ...s }, ok: false, response: null, error: String((error as Error).message), at: now() }])
      }
      const calls: ExecutedCall[] = []
      for (const v of todo) {
        const p = planned(s, v.version)
        calls.push(
          await run(p.operation, p.parameters, async () => {
            const props = await clients.secrets(s.vaultUrl).updateSecretProperties(s.name, v.version, { enabled, abortSignal: ctx.signal })
            return { version: props.version ?? v.version, enabled: props.enabled ?? null }
          }),
        )
      }
      return result(calls)
    },
    async verify(ctx, target): Promise<VerificationResult> {
      const s = vaultSecret(target) as { vaultUrl: string; name: string }
      const versions = await secretVersions(ctx, clientsFor(ctx), s)
      const ok = enabled ? versions[0]?.enabled === true : versions.every((v) => !v.enabled)
      return { verified: ok, observed: `Secret ${s.name}: ${versions.map((v) => `${v.version.slice(0, 8)}=${v.enabled ? 'enabled' : 'disabled'}`).join(', ') || 'no versions'}.` }
    },
  }
}

export const revocationActions: RevocationAction<AzureSettings>[] = [
  removePassword,
  disableSp,
  enableSp,
  certificateFallback,
  removeHighPrivilegeAppRoles,
  secretToggle(false),
  secretToggle(true),
]
