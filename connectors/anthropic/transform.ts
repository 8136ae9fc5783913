/**
 * Anthropic Admin API records → Leash's normalized model. Pure functions: no calls here.
 * Every Anthropic API key is an AI credential by definition (decisive `anthropic` signal).
 * The Admin API gives no last-used time for keys, so usage is reported as unreadable.
 */
import type {
  AgentSignal,
  NormalizedCredential,
  NormalizedEntitlement,
  NormalizedIdentity,
  OwnerHint,
  ScanScope,
  UnreadablePart,
} from '../contract.js'
import { credential, environmentsFromName, fromIso, identity } from '../saas-kit/identity.js'

export interface RawKey {
  id: string
  type?: string
  name: string
  created_at: string
  created_by?: { id: string; type: string } | null
  expires_at?: string | null
  partial_key_hint?: string | null
  status: string
  workspace_id?: string | null
  scope?: { type: string; workspace_id?: string } | null
  principal?: { type: string; user_id?: string; service_account_id?: string } | null
}
export interface RawUser {
  id: string
  email: string
  name: string
  role: string
}
export interface RawWorkspace {
  id: string
  name: string
  archived_at?: string | null
}
export interface RawServiceAccount {
  id: string
  name: string
  description?: string | null
  organization_role: string
  created_at: string
  archived_at?: string | null
  created_by_actor_id?: string | null
}

export interface Directory {
  /** null when the member list could not be read. */
  users: Map<string, RawUser> | null
  workspaces: Map<string, RawWorkspace>
}

const USAGE_UNREADABLE: UnreadablePart = { field: 'usage', operation: 'anthropic:ListApiKeys', permission: null }

function signal(evidence: Record<string, unknown>): AgentSignal {
  return {
    id: 'anthropic.api_credential',
    platform: 'anthropic',
    weight: 1,
    reason: 'An Anthropic API key or service account is an AI credential by definition.',
    evidence,
  }
}

export function keyWorkspaceId(key: RawKey): string | null {
  return key.scope?.workspace_id ?? key.workspace_id ?? null
}

export function keyServiceAccountId(key: RawKey): string | null {
  return key.principal?.type === 'service_account_actor' ? (key.principal.service_account_id ?? null) : null
}

function keyCredential(key: RawKey, now: Date): NormalizedCredential {
  const expiresAt = fromIso(key.expires_at)
  const status = key.status === 'expired' || (expiresAt && expiresAt <= now) ? 'expired' : key.status === 'active' ? 'active' : 'inactive'
  return credential({
    externalId: key.id,
    type: 'api_key',
    displayName: key.partial_key_hint ? `${key.name} (${key.partial_key_hint})` : key.name,
    status,
    createdAt: fromIso(key.created_at),
    expiresAt,
    attributes: { partialKeyHint: key.partial_key_hint ?? null, anthropicStatus: key.status, workspaceId: keyWorkspaceId(key) },
  })
}

function creator(actorId: string | null | undefined, actorType: string | undefined, dir: Directory): OwnerHint[] {
  if (!actorId) return []
  if (actorType && actorType !== 'user')
    return [
      { ref: actorId, kind: 'unknown', role: 'creator', source: 'provider', displayName: null, active: null, canAddCredentials: false },
    ]
  const user = dir.users?.get(actorId)
  return [
    {
      ref: user?.email ?? actorId,
      kind: 'person',
      role: 'creator',
      source: 'provider',
      displayName: user?.name ?? null,
      active: dir.users ? Boolean(user) : null,
      canAddCredentials: false,
    },
  ]
}

function workspaceEntitlement(key: RawKey, dir: Directory): NormalizedEntitlement {
  const ws = keyWorkspaceId(key)
  return {
    action: 'anthropic:workspace.api',
    resource: ws ? `workspaces/${ws}` : 'workspaces/default',
    accessLevel: 'write',
    sourceKind: 'scope',
    sourceRef: ws ? `${ws} (${dir.workspaces.get(ws)?.name ?? 'workspace'})` : 'Default workspace',
    conditional: false,
  }
}

function consoleUrl(): string {
  return 'https://console.anthropic.com/settings/keys'
}

export function transformPersonKey(key: RawKey, scope: ScanScope, dir: Directory, now: Date): NormalizedIdentity {
  const cred = keyCredential(key, now)
  const ws = keyWorkspaceId(key)
  const wsName = ws ? (dir.workspaces.get(ws)?.name ?? null) : 'Default'
  const unreadable: UnreadablePart[] = [USAGE_UNREADABLE]
  if (!dir.users) unreadable.push({ field: 'owners', operation: 'anthropic:ListUsers', permission: 'Admin API key (organization admin)' })
  return identity({
    externalId: `anthropic:api_key:${key.id}`,
    kind: 'api_key',
    displayName: `${key.name}${wsName ? ` (${wsName})` : ''}`,
    scope,
    status: cred.status === 'active' ? 'active' : 'disabled',
    createdAt: cred.createdAt,
    attributes: {
      provider: 'anthropic',
      keyId: key.id,
      workspaceId: ws,
      workspaceName: wsName,
      anthropicStatus: key.status,
      createdBy: key.created_by ?? null,
    },
    consoleUrl: consoleUrl(),
    credentials: [cred],
    entitlements: [workspaceEntitlement(key, dir)],
    owners: creator(key.created_by?.id, key.created_by?.type, dir),
    agentSignals: [signal({ keyId: key.id, workspaceId: ws })],
    environments: environmentsFromName(wsName, key.name),
    monitoring: { usageData: 'unavailable', runtimeLogging: null },
    unreadable,
  })
}

export function transformServiceAccount(
  sa: RawServiceAccount,
  keys: RawKey[],
  scope: ScanScope,
  dir: Directory,
  now: Date,
): NormalizedIdentity {
  const creds = keys.map((k) => keyCredential(k, now))
  const entitlements: NormalizedEntitlement[] = [
    {
      action: `anthropic:organization.${sa.organization_role}`,
      resource: '*',
      accessLevel: sa.organization_role === 'admin' ? 'admin' : 'write',
      sourceKind: 'role_assignment',
      sourceRef: `organization_role:${sa.organization_role}`,
      conditional: false,
    },
    ...keys.map((k) => workspaceEntitlement(k, dir)),
  ]
  return identity({
    externalId: `anthropic:service_account:${sa.id}`,
    kind: 'service_account',
    displayName: sa.name,
    scope,
    status: sa.archived_at ? 'disabled' : 'active',
    createdAt: fromIso(sa.created_at),
    attributes: {
      provider: 'anthropic',
      serviceAccountId: sa.id,
      description: sa.description ?? null,
      organizationRole: sa.organization_role,
      keyIds: keys.map((k) => k.id),
    },
    consoleUrl: consoleUrl(),
    credentials: creds,
    entitlements,
    owners: creator(sa.created_by_actor_id, 'user', dir),
    agentSignals: [signal({ serviceAccountId: sa.id })],
    environments: environmentsFromName(sa.name, ...keys.map((k) => dir.workspaces.get(keyWorkspaceId(k) ?? '')?.name)),
    monitoring: { usageData: 'unavailable', runtimeLogging: null },
    unreadable: [USAGE_UNREADABLE],
  })
}

/**
 * Person keys become `api_key` identities; keys acting as a service account become its
 * credentials. Archived keys are permanently unusable and are left out (so they retire).
 */
export function transformOrganization(
  keys: RawKey[],
  serviceAccounts: RawServiceAccount[],
  scope: ScanScope,
  dir: Directory,
  now: Date,
): NormalizedIdentity[] {
  const out: NormalizedIdentity[] = []
  const bySa = new Map<string, RawKey[]>()
  for (const key of keys) {
    if (!key.id || !key.created_at || !key.status)
      throw new Error(`Anthropic returned an API key without id, created_at or status: ${JSON.stringify(key).slice(0, 200)}`)
    if (key.status === 'archived') continue
    const saId = keyServiceAccountId(key)
    if (saId) bySa.set(saId, [...(bySa.get(saId) ?? []), key])
    else out.push(transformPersonKey(key, scope, dir, now))
  }
  const known = new Set<string>()
  for (const sa of serviceAccounts) {
    if (sa.archived_at) continue
    known.add(sa.id)
    out.push(transformServiceAccount(sa, bySa.get(sa.id) ?? [], scope, dir, now))
  }
  for (const [saId, saKeys] of bySa) {
    if (known.has(saId)) continue
    out.push(
      transformServiceAccount(
        { id: saId, name: (saKeys[0] as RawKey).name, organization_role: 'developer', created_at: (saKeys[0] as RawKey).created_at },
        saKeys,
        scope,
        dir,
        now,
      ),
    )
  }
  return out
}
