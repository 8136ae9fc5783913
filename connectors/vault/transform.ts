/**
 * Vault records → Leash's normalized model. Pure functions: no calls here.
 * Token accessors, AppRole roles with their secret-id accessors, and KV v2 secret metadata.
 */
import type { AccessLevel, NormalizedEntitlement, NormalizedIdentity, OwnerHint, ScanScope, UnreadablePart } from '../contract.js'
import { nameSignals } from '../saas-kit/agent-names.js'
import { credential, environmentsFromName, fromIso, fromUnix, identity } from '../saas-kit/identity.js'

export interface RawTokenLookup {
  accessor: string
  creation_time: number
  creation_ttl?: number
  display_name?: string
  entity_id?: string
  expire_time?: string | null
  explicit_max_ttl?: number
  issue_time?: string
  meta?: Record<string, string> | null
  num_uses?: number
  orphan?: boolean
  path?: string
  policies?: string[]
  identity_policies?: string[]
  renewable?: boolean
  ttl?: number
  type?: string
}
export interface RawAppRole {
  token_policies?: string[]
  policies?: string[]
  /** Periodic tokens: renewable forever at this period (seconds, or a duration string on older versions). */
  period?: number | string
  token_period?: number | string
  secret_id_ttl?: number
  secret_id_num_uses?: number
  token_ttl?: number
  token_max_ttl?: number
  bind_secret_id?: boolean
  secret_id_bound_cidrs?: string[] | null
  token_bound_cidrs?: string[] | null
}
export interface RawSecretIdLookup {
  secret_id_accessor: string
  creation_time: string
  expiration_time?: string | null
  last_updated_time?: string
  metadata?: Record<string, string> | null
  secret_id_num_uses?: number
  secret_id_ttl?: number
  cidr_list?: string[] | null
  token_bound_cidrs?: string[] | null
}
export interface RawKvMetadata {
  created_time: string
  current_version: number
  updated_time: string
  custom_metadata?: Record<string, string> | null
  max_versions?: number
  oldest_version?: number
  cas_required?: boolean
  delete_version_after?: string
  versions?: Record<string, { created_time: string; deletion_time: string; destroyed: boolean }>
}

/** Policy name → strongest access it grants, or null when the policy text could not be read. */
export type PolicyLevels = Map<string, AccessLevel | null>

export interface VaultContext {
  scope: ScanScope
  /** Whether an audit device is enabled; null when sys/audit could not be read. */
  auditEnabled: boolean | null
  policies: PolicyLevels
  uiUrl: string
}

/** Keys of Vault's response envelope, never mount or device paths. */
const ENVELOPE_KEYS = new Set(['request_id', 'lease_id', 'lease_duration', 'renewable', 'data', 'wrap_info', 'warnings', 'auth', 'mount_type'])

export interface SysTableEntry {
  type: string
  description?: string
  options?: Record<string, string> | null
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * The path → entry table of a sys/ listing (sys/audit, sys/auth, sys/mounts). Current Vault
 * returns it under `data` and repeats it at the top level; the documented sys/audit sample has
 * only the top level, with paths without the trailing slash ("file"). Entries are recognised by
 * their `type`, not by the shape of their key.
 */
export function sysTable(body: unknown, what: string): Record<string, SysTableEntry> {
  if (!isRecord(body)) throw new Error(`Vault returned a malformed ${what} response (not a JSON object)`)
  const source = isRecord(body.data) ? body.data : body
  const out: Record<string, SysTableEntry> = {}
  for (const [path, entry] of Object.entries(source)) {
    if (source === body && ENVELOPE_KEYS.has(path)) continue
    if (isRecord(entry) && typeof entry.type === 'string') out[path] = entry as unknown as SysTableEntry
  }
  return out
}

/** Enabled audit device paths from GET sys/audit. */
export function auditDevices(body: unknown): string[] {
  return Object.keys(sysTable(body, 'sys/audit'))
}

/** Paths of the auth methods of one type from GET sys/auth (e.g. "approle"). */
export function authMountsOfType(body: unknown, type: string): string[] {
  return Object.entries(sysTable(body, 'sys/auth'))
    .filter(([, m]) => m.type === type)
    .map(([path]) => path)
}

/** Paths of KV version 2 secrets engines from GET sys/mounts. */
export function kvV2Mounts(body: unknown): string[] {
  return Object.entries(sysTable(body, 'sys/mounts'))
    .filter(([, m]) => m.type === 'kv' && String(m.options?.version ?? '') === '2')
    .map(([path]) => path)
}

/**
 * The policy text of GET sys/policies/acl/:name. Vault wraps it in `data`; the documented sample
 * has it at the top level; the legacy sys/policy endpoint calls it `rules`.
 */
export function policyText(body: unknown, name: string): string {
  const candidates = isRecord(body) ? [body.data, body] : []
  for (const c of candidates) {
    if (!isRecord(c)) continue
    const text = c.policy ?? c.rules
    if (typeof text === 'string') return text
  }
  throw new Error(`Vault returned a malformed response for policy ${name}: no policy text`)
}

/** Seconds from a Vault TTL that may be a number or a duration string ("768h", "30m", "45s"). */
export function ttlSeconds(value: number | string | null | undefined): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null
  if (typeof value !== 'string' || value === '') return null
  if (/^\d+$/.test(value)) return Number(value)
  const units: Record<string, number> = { h: 3600, m: 60, s: 1 }
  let total = 0
  let matched = ''
  for (const m of value.matchAll(/(\d+(?:\.\d+)?)(h|m|s)/g)) {
    total += Number(m[1]) * (units[m[2] as string] as number)
    matched += m[0]
  }
  return matched === value ? Math.round(total) : null
}

/** The strongest capability in a policy's HCL/JSON text. */
export function policyLevel(text: string): AccessLevel {
  if (/"sudo"|\bsudo\b/.test(text) || /path\s+"\*"/.test(text) || /path\s+"sys\/\*?"/.test(text)) return 'admin'
  if (/path\s+"(sys\/policies|sys\/auth|auth\/token\/create|identity\/)/.test(text) && /"(create|update)"/.test(text))
    return 'permissions_management'
  if (/"(create|update|delete|patch)"/.test(text)) return 'write'
  if (/"(read|list)"/.test(text)) return 'read'
  return 'list'
}

function policyEntitlements(
  policies: string[],
  ctx: VaultContext,
  sourceRef: string,
): { entitlements: NormalizedEntitlement[]; unreadable: UnreadablePart[] } {
  const entitlements: NormalizedEntitlement[] = []
  let missing = false
  for (const p of policies) {
    let level: AccessLevel | null | undefined = p === 'root' ? 'admin' : ctx.policies.get(p)
    if (level == null) {
      missing = true
      level = p === 'default' ? 'read' : 'list'
    }
    entitlements.push({
      action: `vault:policy:${p}`,
      resource: '*',
      accessLevel: level,
      sourceKind: 'managed_policy',
      sourceRef: `${sourceRef} → sys/policies/acl/${p}`,
      conditional: false,
    })
  }
  return {
    entitlements,
    unreadable: missing ? [{ field: 'entitlements', operation: 'vault:sys/policies/acl', permission: 'read on sys/policies/acl/*' }] : [],
  }
}

function monitoring(ctx: VaultContext, agent: boolean): NormalizedIdentity['monitoring'] {
  return {
    usageData: ctx.auditEnabled == null ? 'unknown' : ctx.auditEnabled ? 'available' : 'unavailable',
    runtimeLogging: agent ? ctx.auditEnabled : null,
  }
}

function usageUnreadable(ctx: VaultContext): UnreadablePart[] {
  // Vault keeps no last-used time on tokens or secret ids; only the audit log (which Leash does not read) has it.
  return [
    {
      field: 'usage',
      operation: ctx.auditEnabled === false ? 'vault:sys/audit (no audit device enabled)' : 'vault audit log',
      permission: null,
    },
  ]
}

function ownerKind(key: string, ref: string): OwnerHint['kind'] {
  if (key === 'team' || /(^|[-_ ])(team|squad|group)$/i.test(ref)) return 'team'
  if (key === 'username' || ref.includes('@')) return 'person'
  return 'unknown'
}

function ownersFrom(meta: Record<string, string> | null | undefined, source: OwnerHint['source']): OwnerHint[] {
  if (!meta) return []
  const out: OwnerHint[] = []
  for (const [key, role] of [
    ['owner', 'owner'],
    ['team', 'owner'],
    ['created_by', 'creator'],
    ['username', 'owner'],
    ['sponsor', 'sponsor'],
  ] as const) {
    const ref = meta[key]
    if (ref) out.push({ ref, kind: ownerKind(key, ref), role, source, displayName: null, active: null, canAddCredentials: false })
  }
  return out
}

export function transformToken(t: RawTokenLookup, ctx: VaultContext, now: Date): NormalizedIdentity {
  if (!t.accessor || t.creation_time === undefined) throw new Error('Vault returned a token lookup without accessor or creation_time')
  const policies = [...new Set([...(t.policies ?? []), ...(t.identity_policies ?? [])])]
  const { entitlements, unreadable } = policyEntitlements(policies, ctx, `token ${t.accessor}`)
  const expiresAt = fromIso(t.expire_time ?? null)
  const expired = expiresAt != null && expiresAt <= now
  const name = t.display_name ?? t.accessor
  const signals = nameSignals('vault.token.name', [name, t.path ?? '', ...Object.values(t.meta ?? {}), ...policies].join(' '), 'token')
  return identity({
    externalId: `vault:token:${t.accessor}`,
    kind: 'token',
    displayName: name,
    scope: ctx.scope,
    status: expired ? 'disabled' : 'active',
    createdAt: fromUnix(t.creation_time),
    attributes: {
      provider: 'vault',
      accessor: t.accessor,
      path: t.path ?? null,
      policies,
      orphan: t.orphan ?? null,
      ttlSeconds: t.ttl ?? null,
      creationTtlSeconds: t.creation_ttl ?? null,
      explicitMaxTtlSeconds: t.explicit_max_ttl ?? null,
      renewable: t.renewable ?? null,
      numUses: t.num_uses ?? null,
      entityId: t.entity_id || null,
      tokenType: t.type ?? 'service',
      meta: t.meta ?? {},
      root: policies.includes('root'),
    },
    tags: t.meta ?? {},
    consoleUrl: `${ctx.uiUrl}/ui/vault/access`,
    credentials: [
      credential({
        externalId: t.accessor,
        type: 'token',
        displayName: `${name} (accessor ${t.accessor.slice(0, 8)}…)`,
        status: expired ? 'expired' : 'active',
        createdAt: fromUnix(t.creation_time),
        expiresAt,
        // A token without an expiry (ttl 0, e.g. root or periodic without max) is a standing secret.
        isStatic: expiresAt == null || (t.creation_ttl ?? 0) > 30 * 86400,
        attributes: { orphan: t.orphan ?? null, renewable: t.renewable ?? null },
      }),
    ],
    entitlements,
    owners: ownersFrom(t.meta, 'provider'),
    agentSignals: signals,
    environments: environmentsFromName(name, t.path, ...policies),
    monitoring: monitoring(ctx, signals.length > 0),
    federationPossible: true,
    unreadable: [...unreadable, ...usageUnreadable(ctx)],
  })
}

export function transformAppRole(
  mount: string,
  role: string,
  data: RawAppRole,
  secretIds: RawSecretIdLookup[],
  ctx: VaultContext,
  now: Date,
): NormalizedIdentity {
  const policies = data.token_policies ?? data.policies ?? []
  const { entitlements, unreadable } = policyEntitlements(policies, ctx, `auth/${mount}role/${role}`)
  const creds = secretIds.map((s) => {
    const expiresAt = fromIso(s.expiration_time && !s.expiration_time.startsWith('0001-') ? s.expiration_time : null)
    return credential({
      externalId: s.secret_id_accessor,
      type: 'secret_id',
      displayName: `secret-id accessor ${s.secret_id_accessor.slice(0, 8)}…`,
      status: expiresAt && expiresAt <= now ? 'expired' : 'active',
      createdAt: fromIso(s.creation_time),
      expiresAt,
      lastRotatedAt: fromIso(s.last_updated_time ?? null),
      attributes: {
        metadata: s.metadata ?? {},
        numUses: s.secret_id_num_uses ?? null,
        cidrList: s.cidr_list ?? [],
        tokenBoundCidrs: s.token_bound_cidrs ?? [],
      },
    })
  })
  const metaText = secretIds.flatMap((s) => Object.values(s.metadata ?? {})).join(' ')
  const signals = nameSignals('vault.approle.name', `${role} ${metaText} ${policies.join(' ')}`, 'AppRole')
  return identity({
    externalId: `vault:approle:${mount}${role}`,
    kind: 'role',
    displayName: `${role} (AppRole ${mount})`,
    scope: ctx.scope,
    createdAt: creds.reduce<Date | null>((a, c) => (c.createdAt && (!a || c.createdAt < a) ? c.createdAt : a), null),
    attributes: {
      provider: 'vault',
      mount,
      role,
      policies,
      secretIdTtlSeconds: data.secret_id_ttl ?? null,
      secretIdNumUses: data.secret_id_num_uses ?? null,
      tokenTtlSeconds: data.token_ttl ?? null,
      tokenMaxTtlSeconds: data.token_max_ttl ?? null,
      tokenPeriodSeconds: ttlSeconds(data.token_period ?? data.period) || null,
      bindSecretId: data.bind_secret_id ?? null,
      secretIdBoundCidrs: data.secret_id_bound_cidrs ?? [],
      tokenBoundCidrs: data.token_bound_cidrs ?? [],
    },
    consoleUrl: `${ctx.uiUrl}/ui/vault/access/${encodeURIComponent(mount.replace(/\/$/, ''))}/item/role`,
    credentials: creds,
    entitlements,
    owners: secretIds
      .flatMap((s) => ownersFrom(s.metadata, 'tag'))
      .filter((o, i, all) => all.findIndex((x) => x.ref === o.ref && x.role === o.role) === i),
    agentSignals: signals,
    // Secret-id metadata is where teams tag an AppRole's environment (the documented sample: {"tag1": "production"}).
    environments: environmentsFromName(role, ...policies, metaText),
    monitoring: monitoring(ctx, signals.length > 0),
    federationPossible: true,
    unreadable: [...unreadable, ...usageUnreadable(ctx)],
  })
}

export function transformKvSecret(mount: string, path: string, meta: RawKvMetadata, ctx: VaultContext): NormalizedIdentity {
  if (!meta.created_time || meta.current_version === undefined)
    throw new Error(`Vault returned KV metadata for ${mount}${path} without created_time or current_version`)
  const custom = meta.custom_metadata ?? {}
  const current = meta.versions?.[String(meta.current_version)]
  const signals = nameSignals('vault.kv.path', `${path} ${Object.values(custom).join(' ')}`, 'secret')
  return identity({
    externalId: `vault:kv:${mount}${path}`,
    kind: 'secret',
    displayName: `${mount}${path}`,
    scope: ctx.scope,
    status: current?.destroyed || (current?.deletion_time ?? '') !== '' ? 'disabled' : 'active',
    createdAt: fromIso(meta.created_time),
    tags: custom,
    attributes: {
      provider: 'vault',
      mount,
      path,
      currentVersion: meta.current_version,
      maxVersions: meta.max_versions ?? null,
      oldestVersion: meta.oldest_version ?? null,
      casRequired: meta.cas_required ?? null,
      deleteVersionAfter: meta.delete_version_after ?? null,
      customMetadata: custom,
      updatedTime: meta.updated_time,
    },
    consoleUrl: `${ctx.uiUrl}/ui/vault/secrets/${encodeURIComponent(mount.replace(/\/$/, ''))}/kv/${encodeURIComponent(path)}/metadata`,
    credentials: [
      credential({
        externalId: `${mount}${path}`,
        type: 'secret_value',
        displayName: `version ${meta.current_version}`,
        createdAt: fromIso(meta.created_time),
        lastRotatedAt: fromIso(current?.created_time ?? meta.updated_time),
        rotationEnabled: false,
        attributes: { currentVersion: meta.current_version },
      }),
    ],
    owners: ownersFrom(custom, 'tag'),
    agentSignals: signals,
    environments: environmentsFromName(path, mount, ...Object.values(custom)),
    monitoring: monitoring(ctx, signals.length > 0),
    unreadable: usageUnreadable(ctx),
  })
}
