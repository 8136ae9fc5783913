/**
 * OpenAI Admin API records → Leash's normalized model. Pure functions: no calls here.
 * Every OpenAI key (project, service account or admin) is an AI credential by definition,
 * so each identity carries a decisive `openai` agent signal.
 */
import type {
  AccessLevel,
  AgentSignal,
  NormalizedEntitlement,
  NormalizedIdentity,
  OwnerHint,
  ScanScope,
  UnreadablePart,
} from '../contract.js'
import { credential, environmentsFromName, fromUnix, identity } from '../saas-kit/identity.js'

/** The fields Leash reads from `organization.project.api_key` (OpenAI documents more, all optional here). */
export interface RawProjectKey {
  id: string
  name?: string | null
  created_at: number
  last_used_at?: number | null
  redacted_value?: string | null
  owner?: {
    type?: 'user' | 'service_account'
    user?: { id: string; name?: string; email?: string; role?: string }
    service_account?: { id: string; name?: string; role?: string; created_at?: number }
  }
  owner_project_access?: 'active' | 'inactive'
}
export interface RawProject {
  id: string
  name?: string | null
  created_at: number
  archived_at?: number | null
  status?: string | null
}
export interface RawServiceAccount {
  id: string
  name: string
  role: string
  created_at: number
}
export interface RawAdminKey {
  id: string
  name?: string | null
  created_at: number
  expires_at?: number | null
  last_used_at?: number | null
  redacted_value?: string | null
  owner?: { id?: string; name?: string; type?: string; role?: string }
}
export interface OrgUser {
  id: string
  name: string
  email: string
  role: string
}

/** Organization members by id, or null when the member list could not be read. */
export type Members = Map<string, OrgUser> | null

export function requireField<T>(value: T | undefined | null, what: string, where: string): T {
  if (value === undefined || value === null) throw new Error(`OpenAI returned ${where} without ${what}`)
  return value
}

export function projectRoleAccess(role: string | undefined): AccessLevel {
  if (role === 'owner') return 'admin'
  if (role === 'member') return 'write'
  return 'read'
}

function aiSignal(evidence: Record<string, unknown>): AgentSignal {
  return {
    id: 'openai.api_credential',
    platform: 'openai',
    weight: 1,
    reason: 'An OpenAI API key or service account is an AI credential by definition.',
    evidence,
  }
}

function projectConsole(projectId: string): string {
  return `https://platform.openai.com/settings/${encodeURIComponent(projectId)}/api-keys`
}

function roleEntitlement(project: RawProject, role: string | undefined, via: string): NormalizedEntitlement {
  return {
    action: `openai:project.${role ?? 'unknown'}`,
    resource: `projects/${project.id}`,
    accessLevel: projectRoleAccess(role),
    sourceKind: 'role_assignment',
    sourceRef: `${project.id}/${via}:${role ?? 'unknown'}`,
    conditional: false,
  }
}

function keyCredential(
  key: Pick<RawProjectKey, 'id' | 'name' | 'created_at' | 'last_used_at' | 'redacted_value'>,
  type: 'api_key' | 'admin_key' = 'api_key',
) {
  const usageInPayload = Object.prototype.hasOwnProperty.call(key, 'last_used_at')
  return credential({
    externalId: key.id,
    type,
    displayName: key.redacted_value ? `${key.name ?? key.id} (${key.redacted_value})` : (key.name ?? key.id),
    createdAt: fromUnix(key.created_at),
    lastUsedAt: fromUnix(key.last_used_at ?? null),
    lastUsedKnown: usageInPayload,
    attributes: { redactedValue: key.redacted_value ?? null },
  })
}

function keyUnreadable(usageInPayload: boolean, members: Members): UnreadablePart[] {
  const out: UnreadablePart[] = []
  if (!usageInPayload) out.push({ field: 'usage', operation: 'openai:ListProjectApiKeys', permission: null })
  if (!members) out.push({ field: 'owners', operation: 'openai:ListUsers', permission: 'api.management.read' })
  return out
}

/** A key a person created: an `api_key` identity whose owner is that person. */
export function transformUserKey(key: RawProjectKey, project: RawProject, scope: ScanScope, members: Members): NormalizedIdentity {
  const user = requireField(key.owner?.user, 'owner.user', `project API key ${key.id}`)
  const stillMember = members ? members.has(user.id) : null
  const access = key.owner_project_access
  const active = stillMember === false || access === 'inactive' ? false : stillMember === true ? true : null
  const owner: OwnerHint = {
    ref: user.email ?? user.id,
    kind: 'person',
    role: 'owner',
    source: 'provider',
    displayName: user.name ?? null,
    active,
    canAddCredentials: true,
  }
  const cred = keyCredential(key)
  return identity({
    externalId: `openai:${project.id}:api_key:${key.id}`,
    kind: 'api_key',
    displayName: `${key.name ?? key.id} (${user.email ?? user.id})`,
    scope,
    createdAt: cred.createdAt,
    lastUsedAt: cred.lastUsedAt,
    lastUsedKnown: cred.lastUsedKnown,
    attributes: {
      provider: 'openai',
      projectId: project.id,
      projectName: project.name ?? null,
      keyId: key.id,
      ownerType: 'user',
      ownerUserId: user.id,
      ownerProjectRole: user.role ?? null,
      ownerProjectAccess: access ?? null,
      ownerIsOrganizationMember: stillMember,
      // The Admin API does not say whether a key is restricted (All / Restricted / Read only).
      keyPermissions: 'not exposed by the OpenAI Admin API',
    },
    consoleUrl: projectConsole(project.id),
    credentials: [cred],
    entitlements: [roleEntitlement(project, user.role, `user:${user.id}`)],
    owners: [owner],
    agentSignals: [aiSignal({ keyId: key.id, projectId: project.id })],
    environments: environmentsFromName(project.name, key.name),
    monitoring: { usageData: cred.lastUsedKnown ? 'available' : 'unavailable', runtimeLogging: null },
    unreadable: keyUnreadable(cred.lastUsedKnown, members),
  })
}

/** A project service account, with the key OpenAI issued it (if any) as its credential. */
export function transformServiceAccount(
  sa: RawServiceAccount,
  keys: RawProjectKey[],
  project: RawProject,
  scope: ScanScope,
): NormalizedIdentity {
  const creds = keys.map((k) => keyCredential(k))
  const lastUsed = creds.reduce<Date | null>((a, c) => (c.lastUsedAt && (!a || c.lastUsedAt > a) ? c.lastUsedAt : a), null)
  const usageKnown = creds.length > 0 && creds.every((c) => c.lastUsedKnown)
  return identity({
    externalId: `openai:${project.id}:service_account:${sa.id}`,
    kind: 'service_account',
    displayName: sa.name,
    scope,
    createdAt: fromUnix(sa.created_at),
    lastUsedAt: lastUsed,
    lastUsedKnown: usageKnown || creds.length === 0,
    attributes: {
      provider: 'openai',
      projectId: project.id,
      projectName: project.name ?? null,
      serviceAccountId: sa.id,
      role: sa.role,
      keyIds: keys.map((k) => k.id),
    },
    consoleUrl: projectConsole(project.id),
    credentials: creds,
    entitlements: [roleEntitlement(project, sa.role, `service_account:${sa.id}`)],
    owners: [],
    agentSignals: [aiSignal({ serviceAccountId: sa.id, projectId: project.id })],
    environments: environmentsFromName(project.name, sa.name),
    monitoring: { usageData: usageKnown ? 'available' : creds.length === 0 ? 'available' : 'unavailable', runtimeLogging: null },
    unreadable: usageKnown || creds.length === 0 ? [] : [{ field: 'usage', operation: 'openai:ListProjectApiKeys', permission: null }],
  })
}

/** An organization Admin API key: full control of the organization. */
export function transformAdminKey(key: RawAdminKey, scope: ScanScope, members: Members, now: Date): NormalizedIdentity {
  const cred = keyCredential({ ...key }, 'admin_key')
  const expiresAt = fromUnix(key.expires_at ?? null)
  cred.expiresAt = expiresAt
  cred.status = expiresAt && expiresAt <= now ? 'expired' : 'active'
  const ownerId = key.owner?.id
  const member = ownerId && members ? members.get(ownerId) : undefined
  const owners: OwnerHint[] = ownerId
    ? [
        {
          ref: member?.email ?? ownerId,
          kind: 'person',
          role: 'creator',
          source: 'provider',
          displayName: key.owner?.name ?? member?.name ?? null,
          active: members ? Boolean(member) : null,
          canAddCredentials: false,
        },
      ]
    : []
  return identity({
    externalId: `openai:admin_api_key:${key.id}`,
    kind: 'api_key',
    displayName: `${key.name ?? key.id} (admin key)`,
    scope,
    status: cred.status === 'expired' ? 'disabled' : 'active',
    createdAt: cred.createdAt,
    lastUsedAt: cred.lastUsedAt,
    lastUsedKnown: cred.lastUsedKnown,
    attributes: { provider: 'openai', adminKey: true, keyId: key.id, ownerUserId: ownerId ?? null },
    consoleUrl: 'https://platform.openai.com/settings/organization/admin-keys',
    credentials: [cred],
    entitlements: [
      {
        action: 'openai:organization.admin',
        resource: '*',
        accessLevel: 'admin',
        sourceKind: 'scope',
        sourceRef: `admin_api_key:${key.id}`,
        conditional: false,
      },
    ],
    owners,
    agentSignals: [aiSignal({ adminKeyId: key.id })],
    monitoring: { usageData: cred.lastUsedKnown ? 'available' : 'unavailable', runtimeLogging: null },
    unreadable: members ? [] : [{ field: 'owners', operation: 'openai:ListUsers', permission: 'api.management.read' }],
  })
}

/** Groups a project's keys into person-owned identities and service accounts. */
export function transformProject(
  project: RawProject,
  serviceAccounts: RawServiceAccount[],
  keys: RawProjectKey[],
  scope: ScanScope,
  members: Members,
): NormalizedIdentity[] {
  const out: NormalizedIdentity[] = []
  const bySa = new Map<string, RawProjectKey[]>()
  for (const key of keys) {
    if (key.owner?.type === 'service_account' || (key.owner?.service_account && !key.owner.user)) {
      const saId = requireField(key.owner?.service_account?.id, 'owner.service_account.id', `project API key ${key.id}`)
      bySa.set(saId, [...(bySa.get(saId) ?? []), key])
    } else {
      out.push(transformUserKey(key, project, scope, members))
    }
  }
  const known = new Set(serviceAccounts.map((s) => s.id))
  for (const sa of serviceAccounts) out.push(transformServiceAccount(sa, bySa.get(sa.id) ?? [], project, scope))
  // A key whose service account is missing from the list (raced a deletion): still report the key.
  for (const [saId, saKeys] of bySa) {
    if (known.has(saId)) continue
    const first = saKeys[0] as RawProjectKey
    const sa = first.owner?.service_account
    out.push(
      transformServiceAccount(
        { id: saId, name: sa?.name ?? first.name ?? saId, role: sa?.role ?? 'member', created_at: sa?.created_at ?? first.created_at },
        saKeys,
        project,
        scope,
      ),
    )
  }
  return out
}
