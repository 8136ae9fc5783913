/**
 * GitHub records → Leash's normalized model. Pure functions: no calls here.
 * Installations, fine-grained token grants, SSO-authorized classic tokens and deploy keys.
 */
import { createHash } from 'node:crypto'
import type { AccessLevel, EscalationPath, NormalizedEntitlement, NormalizedIdentity, OwnerHint, ScanScope } from '../contract.js'
import { credential, environmentsFromName, fromIso, identity } from '../saas-kit/identity.js'
import { appSignals, knownAgentApp, nameSignals } from './agents.js'

export interface RawInstallation {
  id: number
  app_id?: number
  app_slug: string
  account?: { login?: string } | null
  repository_selection?: 'all' | 'selected'
  permissions?: Record<string, string | undefined>
  events?: string[]
  created_at?: string
  updated_at?: string
  suspended_at?: string | null
  suspended_by?: { login?: string } | null
  html_url?: string
}
export interface RawPatGrant {
  id: number
  owner: { login: string; id?: number; type?: string }
  repository_selection: 'none' | 'all' | 'subset'
  permissions: { organization?: Record<string, string>; repository?: Record<string, string>; other?: Record<string, string> }
  access_granted_at: string
  token_id: number
  token_name: string
  token_expired: boolean
  token_expires_at: string | null
  token_last_used_at: string | null
}
export interface RawCredentialAuthorization {
  login: string
  credential_id: number
  credential_type: string
  token_last_eight?: string | null
  credential_authorized_at: string
  credential_accessed_at?: string | null
  authorized_credential_id?: number | null
  authorized_credential_title?: string | null
  authorized_credential_note?: string | null
  authorized_credential_expires_at?: string | null
  scopes?: string[]
  fingerprint?: string
}
export interface RawDeployKey {
  id: number
  key: string
  title: string
  verified?: boolean
  created_at: string
  read_only: boolean
  added_by?: string | null
  last_used?: string | null
  enabled?: boolean
}

/** Org member logins, or null when the member list could not be read. */
export type Members = Set<string> | null

/** Permissions whose write grant lets the holder change who can do what. */
const CONTROL_PERMISSIONS = new Set([
  'administration',
  'organization_administration',
  'members',
  'secrets',
  'organization_secrets',
  'workflows',
  'organization_user_blocking',
  'organization_custom_roles',
])

export function permissionAccess(name: string, level: string): AccessLevel {
  if (level === 'admin') return 'admin'
  if (level === 'write') return CONTROL_PERMISSIONS.has(name) ? 'permissions_management' : 'write'
  return 'read'
}

const CLASSIC_SCOPES: Record<string, AccessLevel> = {
  repo: 'write',
  public_repo: 'write',
  'repo:status': 'write',
  repo_deployment: 'write',
  'admin:org': 'admin',
  'write:org': 'write',
  'read:org': 'read',
  workflow: 'permissions_management',
  delete_repo: 'admin',
  'admin:repo_hook': 'admin',
  'admin:org_hook': 'admin',
  'admin:public_key': 'admin',
  'admin:enterprise': 'admin',
  'write:packages': 'write',
  'delete:packages': 'write',
  'read:packages': 'read',
  gist: 'write',
  user: 'write',
}

function escalations(perms: Record<string, string>, ref: string): EscalationPath[] {
  const out: EscalationPath[] = []
  if (perms.workflows === 'write' && perms.contents === 'write')
    out.push({
      id: 'github.workflow_secrets',
      title: `${ref} can push a workflow that runs with the repository's secrets`,
      permissions: ['workflows:write', 'contents:write'],
    })
  if (perms.administration === 'write')
    out.push({
      id: 'github.repo_admin',
      title: `${ref} can change repository settings and branch protection`,
      permissions: ['administration:write'],
    })
  if (perms.members === 'write' || perms.organization_administration === 'write')
    out.push({
      id: 'github.org_control',
      title: `${ref} can change organization membership or settings`,
      permissions: ['members:write', 'organization_administration:write'].filter((p) => perms[p.split(':')[0] as string] === 'write'),
    })
  return out
}

function member(login: string | null | undefined, members: Members, role: OwnerHint['role'], canAdd: boolean): OwnerHint[] {
  if (!login) return []
  return [
    {
      ref: login,
      kind: 'person',
      role,
      source: 'provider',
      displayName: null,
      active: members ? members.has(login.toLowerCase()) : null,
      canAddCredentials: canAdd,
    },
  ]
}

function ownersUnreadable(members: Members) {
  return members ? [] : [{ field: 'owners' as const, operation: 'github:ListOrgMembers', permission: 'Members: read (organization)' }]
}

export function transformInstallation(inst: RawInstallation, org: string, scope: ScanScope, orgUrl: string): NormalizedIdentity {
  if (!inst.id || !inst.app_slug) throw new Error(`GitHub returned an installation without id or app_slug in ${org}`)
  const perms = Object.fromEntries(Object.entries(inst.permissions ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'))
  const resource = inst.repository_selection === 'all' ? `${org}/*` : `${org}/(selected repositories)`
  const entitlements: NormalizedEntitlement[] = Object.entries(perms).map(([name, level]) => ({
    action: `github:${name}:${level}`,
    resource: name.startsWith('organization_') || name === 'members' ? org : resource,
    accessLevel: permissionAccess(name, level),
    sourceKind: 'grant',
    sourceRef: `installation:${inst.id}`,
    conditional: false,
  }))
  const known = knownAgentApp(inst.app_slug)
  return identity({
    externalId: `github:${org}:installation:${inst.id}`,
    kind: 'app_installation',
    displayName: known ? `${inst.app_slug} (${known.product})` : inst.app_slug,
    scope,
    status: inst.suspended_at ? 'disabled' : 'active',
    createdAt: fromIso(inst.created_at),
    attributes: {
      provider: 'github',
      org,
      installationId: inst.id,
      appId: inst.app_id ?? null,
      appSlug: inst.app_slug,
      repositorySelection: inst.repository_selection ?? null,
      permissions: perms,
      events: inst.events ?? [],
      suspendedAt: inst.suspended_at ?? null,
      updatedAt: inst.updated_at ?? null,
      settingsUrl: `${orgUrl}/settings/installations/${inst.id}`,
    },
    consoleUrl: `${orgUrl}/settings/installations/${inst.id}`,
    // Installation tokens are minted per hour by the app: there is no static credential to list.
    credentials: [],
    entitlements,
    owners: [],
    agentSignals: appSignals(inst.app_slug, known?.product ?? null),
    escalationPaths: escalations(perms, inst.app_slug),
    environments: [],
    monitoring: { usageData: 'unavailable', runtimeLogging: null },
    unreadable: [{ field: 'usage', operation: 'github:ListOrgAppInstallations', permission: null }],
  })
}

export function transformPatGrant(
  grant: RawPatGrant,
  org: string,
  scope: ScanScope,
  members: Members,
  orgUrl: string,
  now: Date,
): NormalizedIdentity {
  if (!grant.id || !grant.owner?.login) throw new Error(`GitHub returned a token grant without id or owner in ${org}`)
  const expiresAt = fromIso(grant.token_expires_at)
  const expired = grant.token_expired || (expiresAt != null && expiresAt <= now)
  const flat: Record<string, string> = { ...(grant.permissions.repository ?? {}), ...(grant.permissions.organization ?? {}) }
  const repoResource =
    grant.repository_selection === 'all' ? `${org}/*` : grant.repository_selection === 'subset' ? `${org}/(selected repositories)` : org
  const entitlements: NormalizedEntitlement[] = [
    ...Object.entries(grant.permissions.organization ?? {}).map(([name, level]) => ({
      action: `github:${name}:${level}`,
      resource: org,
      accessLevel: permissionAccess(name, level),
      sourceKind: 'grant' as const,
      sourceRef: `pat_grant:${grant.id}`,
      conditional: false,
    })),
    ...Object.entries(grant.permissions.repository ?? {}).map(([name, level]) => ({
      action: `github:${name}:${level}`,
      resource: repoResource,
      accessLevel: permissionAccess(name, level),
      sourceKind: 'grant' as const,
      sourceRef: `pat_grant:${grant.id}`,
      conditional: false,
    })),
  ]
  const lastUsed = fromIso(grant.token_last_used_at)
  return identity({
    externalId: `github:${org}:fine_grained_pat:${grant.id}`,
    kind: 'token',
    displayName: `${grant.token_name} (${grant.owner.login})`,
    scope,
    status: expired ? 'disabled' : 'active',
    createdAt: fromIso(grant.access_granted_at),
    lastUsedAt: lastUsed,
    lastUsedKnown: true,
    attributes: {
      provider: 'github',
      org,
      patGrantId: grant.id,
      tokenId: grant.token_id,
      owner: grant.owner.login,
      repositorySelection: grant.repository_selection,
      permissions: grant.permissions,
      tokenKind: 'fine_grained',
    },
    consoleUrl: `${orgUrl}/settings/personal-access-tokens/active`,
    credentials: [
      credential({
        externalId: String(grant.token_id),
        type: 'token',
        displayName: grant.token_name,
        status: expired ? 'expired' : 'active',
        createdAt: fromIso(grant.access_granted_at),
        expiresAt,
        lastUsedAt: lastUsed,
        lastUsedKnown: true,
        attributes: { patGrantId: grant.id, accessGrantedAt: grant.access_granted_at },
      }),
    ],
    entitlements,
    owners: member(grant.owner.login, members, 'owner', true),
    agentSignals: nameSignals('github.token.name', grant.token_name, 'token'),
    escalationPaths: escalations(flat, grant.token_name),
    environments: environmentsFromName(grant.token_name),
    monitoring: { usageData: 'available', runtimeLogging: null },
    federationPossible: true,
    unreadable: ownersUnreadable(members),
  })
}

/**
 * The token kinds an organization's SAML SSO credential authorizations list, by their documented
 * `credential_type`. SSH keys are listed there too but are a person's login keys: not tokens.
 */
const SSO_TOKEN_KINDS: Record<string, { kind: SsoTokenKind; label: string }> = {
  'personal access token': { kind: 'classic', label: 'classic token' },
  'oauth app token': { kind: 'oauth_app', label: 'OAuth app token' },
  'github app token': { kind: 'github_app_user', label: 'GitHub App user token' },
}
export type SsoTokenKind = 'classic' | 'oauth_app' | 'github_app_user'
export const SSO_TOKEN_KIND_VALUES: readonly string[] = Object.values(SSO_TOKEN_KINDS).map((k) => k.kind)

/**
 * A token visible through the organization's SAML SSO credential authorizations: a classic PAT,
 * an OAuth app token or a GitHub App user-to-server token (an AI tool authorized by a member
 * shows up as one of the last two).
 */
export function transformCredentialAuthorization(
  auth: RawCredentialAuthorization,
  org: string,
  scope: ScanScope,
  members: Members,
  orgUrl: string,
  now: Date,
): NormalizedIdentity | null {
  const tokenKind = SSO_TOKEN_KINDS[auth.credential_type.trim().toLowerCase()]
  if (!tokenKind) return null
  if (!auth.credential_id || !auth.login) throw new Error(`GitHub returned a credential authorization without credential_id or login in ${org}`)
  const expiresAt = fromIso(auth.authorized_credential_expires_at)
  const expired = expiresAt != null && expiresAt <= now
  const scopes = auth.scopes ?? []
  const title = auth.authorized_credential_note ?? auth.authorized_credential_title ?? `${tokenKind.label} …${auth.token_last_eight ?? ''}`
  const lastUsed = fromIso(auth.credential_accessed_at)
  return identity({
    externalId: `github:${org}:sso_credential:${auth.credential_id}`,
    kind: 'token',
    displayName: `${title} (${auth.login})`,
    scope,
    status: expired ? 'disabled' : 'active',
    createdAt: fromIso(auth.credential_authorized_at),
    lastUsedAt: lastUsed,
    lastUsedKnown: Object.prototype.hasOwnProperty.call(auth, 'credential_accessed_at'),
    attributes: {
      provider: 'github',
      org,
      credentialId: auth.credential_id,
      owner: auth.login,
      scopes,
      tokenKind: tokenKind.kind,
      credentialType: auth.credential_type,
      authorizedCredentialId: auth.authorized_credential_id ?? null,
      tokenLastEight: auth.token_last_eight ?? null,
    },
    consoleUrl: `${orgUrl}/people/${encodeURIComponent(auth.login)}/sso`,
    credentials: [
      credential({
        externalId: String(auth.credential_id),
        type: 'token',
        displayName: auth.token_last_eight ? `…${auth.token_last_eight}` : title,
        status: expired ? 'expired' : 'active',
        createdAt: fromIso(auth.credential_authorized_at),
        expiresAt,
        lastUsedAt: lastUsed,
        lastUsedKnown: Object.prototype.hasOwnProperty.call(auth, 'credential_accessed_at'),
        attributes: { tokenLastEight: auth.token_last_eight ?? null, ssoAuthorizedAt: auth.credential_authorized_at },
      }),
    ],
    entitlements: scopes.map((s) => ({
      action: `github:oauth_scope:${s}`,
      resource: s.includes('org') ? org : `${org}/*`,
      accessLevel: CLASSIC_SCOPES[s] ?? 'read',
      sourceKind: 'scope',
      sourceRef: `sso_credential:${auth.credential_id}`,
      conditional: false,
    })),
    owners: member(auth.login, members, 'owner', true),
    agentSignals: nameSignals('github.token.name', title, 'token'),
    environments: environmentsFromName(title),
    monitoring: { usageData: 'available', runtimeLogging: null },
    federationPossible: true,
    unreadable: ownersUnreadable(members),
  })
}

/** SHA256 fingerprint of an OpenSSH public key, as `ssh-keygen -lf` prints it. */
export function sshFingerprint(publicKey: string): string | null {
  const blob = publicKey.trim().split(/\s+/)[1]
  if (!blob || !/^[A-Za-z0-9+/=]+$/.test(blob)) return null
  return `SHA256:${createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64').replace(/=+$/, '')}`
}

export function transformDeployKey(
  key: RawDeployKey,
  org: string,
  repo: string,
  scope: ScanScope,
  members: Members,
  webUrl: string,
): NormalizedIdentity {
  if (!key.id || key.read_only === undefined) throw new Error(`GitHub returned a deploy key without id or read_only in ${org}/${repo}`)
  const usageKnown = Object.prototype.hasOwnProperty.call(key, 'last_used')
  const lastUsed = fromIso(key.last_used)
  const fingerprint = sshFingerprint(key.key)
  const enabled = key.enabled !== false
  return identity({
    externalId: `github:${org}/${repo}:deploy_key:${key.id}`,
    kind: 'deploy_key',
    displayName: `${key.title} (${repo})`,
    scope,
    status: enabled ? 'active' : 'disabled',
    createdAt: fromIso(key.created_at),
    lastUsedAt: lastUsed,
    lastUsedKnown: usageKnown,
    // The public key is not secret, but Leash keeps only its fingerprint.
    attributes: {
      provider: 'github',
      org,
      repo,
      deployKeyId: key.id,
      readOnly: key.read_only,
      fingerprint,
      keyType: key.key.split(' ')[0] ?? null,
      verified: key.verified ?? null,
      addedBy: key.added_by ?? null,
    },
    consoleUrl: `${webUrl}/${org}/${repo}/settings/keys`,
    credentials: [
      credential({
        externalId: String(key.id),
        type: 'deploy_key',
        displayName: fingerprint ? `${key.title} (${fingerprint})` : key.title,
        status: enabled ? 'active' : 'inactive',
        createdAt: fromIso(key.created_at),
        lastUsedAt: lastUsed,
        lastUsedKnown: usageKnown,
        attributes: { fingerprint },
      }),
    ],
    entitlements: [
      {
        action: key.read_only ? 'github:contents:read' : 'github:contents:write',
        resource: `${org}/${repo}`,
        accessLevel: key.read_only ? 'read' : 'write',
        sourceKind: 'grant',
        sourceRef: `deploy_key:${key.id}`,
        conditional: false,
      },
    ],
    owners: member(key.added_by, members, 'creator', false),
    agentSignals: nameSignals('github.deploy_key.title', key.title, 'deploy key'),
    environments: environmentsFromName(key.title, repo),
    monitoring: { usageData: usageKnown ? 'available' : 'unavailable', runtimeLogging: null },
    federationPossible: true,
    unreadable: [
      ...(usageKnown ? [] : [{ field: 'usage' as const, operation: 'github:ListDeployKeys', permission: null }]),
      ...(key.added_by ? ownersUnreadable(members) : []),
    ],
  })
}
