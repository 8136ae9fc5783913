/**
 * The stand-in's world: a declarative estate description (accounts with users, roles, groups,
 * policies, keys, secrets, tags), and the mutable state a running stand-in serves from.
 *
 * Large estates are not materialized: an account's users, roles and secrets come from a
 * source that can produce record i (or look one up by name) on demand; only records a
 * revocation changed are kept, as overrides.
 */

export type PolicyDocumentJson = { Version?: string; Statement: unknown }

export interface InlinePolicy {
  name: string
  document: PolicyDocumentJson
}

export interface EstateAccessKey {
  id: string
  status: 'Active' | 'Inactive'
  createdAt: Date
  lastUsedAt?: Date | null
  lastUsedService?: string
  lastUsedRegion?: string
}

export interface EstateUser {
  name: string
  path?: string
  createdAt: Date
  tags?: Record<string, string>
  groups?: string[]
  inlinePolicies?: InlinePolicy[]
  /** Policy ARNs (AWS managed `arn:aws:iam::aws:policy/...`) or names of the account's own policies. */
  managedPolicies?: string[]
  permissionsBoundary?: string
  accessKeys?: EstateAccessKey[]
  password?: { createdAt: Date; lastUsedAt?: Date | null; lastChangedAt?: Date }
  mfa?: boolean
  /** What the seed declares this identity to be (checked by tests; the scanner never sees it). */
  declaredAgent?: boolean
  /** Services the identity used recently (Access Advisor), by namespace → last use. */
  serviceUse?: Record<string, Date>
}

export interface EstateRole {
  name: string
  path?: string
  createdAt: Date
  tags?: Record<string, string>
  /** Trust policy. */
  trust: PolicyDocumentJson
  inlinePolicies?: InlinePolicy[]
  managedPolicies?: string[]
  permissionsBoundary?: string
  lastUsed?: { date: Date; region: string } | null
  declaredAgent?: boolean
  serviceUse?: Record<string, Date>
}

export interface EstateGroup {
  name: string
  path?: string
  createdAt: Date
  inlinePolicies?: InlinePolicy[]
  managedPolicies?: string[]
}

export interface EstatePolicy {
  name: string
  path?: string
  createdAt: Date
  document: PolicyDocumentJson
}

export interface EstateSecret {
  name: string
  createdAt: Date
  description?: string
  tags?: Record<string, string>
  rotationEnabled?: boolean
  rotationDays?: number
  lastRotatedAt?: Date | null
  lastChangedAt?: Date | null
  lastAccessedAt?: Date | null
  resourcePolicy?: PolicyDocumentJson
  declaredAgent?: boolean
}

export interface EstateAccountDescription {
  id: string
  name: string
  /** The role Leash assumes in this account, and the external id its trust policy requires. */
  scannerRole?: { name: string; externalId?: string }
  users?: EstateUser[]
  roles?: EstateRole[]
  groups?: EstateGroup[]
  policies?: EstatePolicy[]
  secrets?: EstateSecret[]
}

export interface EstateDescription {
  /** The account the base (environment) credentials belong to; also the Organization's management account. */
  managementAccountId: string
  accounts: EstateAccountDescription[]
}

/** Record sources: a declarative list, or a generator producing record i on demand. */
export interface RecordSource<T extends { name: string }> {
  readonly count: number
  at(index: number): T
  byName(name: string): T | undefined
}

export function listSource<T extends { name: string }>(items: T[]): RecordSource<T> {
  const index = new Map(items.map((item, i) => [item.name, i]))
  return {
    count: items.length,
    at: (i) => items[i] as T,
    byName: (name) => {
      const i = index.get(name)
      return i === undefined ? undefined : items[i]
    },
  }
}

export interface AccountSource {
  id: string
  name: string
  scannerRole?: { name: string; externalId?: string }
  users: RecordSource<EstateUser>
  roles: RecordSource<EstateRole>
  secrets: RecordSource<EstateSecret>
  groups: EstateGroup[]
  policies: EstatePolicy[]
}

export interface EstateSource {
  managementAccountId: string
  accounts: AccountSource[]
}

export function estateSource(description: EstateDescription): EstateSource {
  return {
    managementAccountId: description.managementAccountId,
    accounts: description.accounts.map((a) => ({
      id: a.id,
      name: a.name,
      scannerRole: a.scannerRole,
      users: listSource(a.users ?? []),
      roles: listSource(a.roles ?? []),
      secrets: listSource(a.secrets ?? []),
      groups: a.groups ?? [],
      policies: a.policies ?? [],
    })),
  }
}

/**
 * One account's live state: the source plus what revocations changed. Lookups by name go
 * through the overrides first, so a deactivated key stays deactivated in the next scan.
 */
export class AccountState {
  readonly userOverrides = new Map<string, EstateUser>()
  readonly roleOverrides = new Map<string, EstateRole>()
  constructor(readonly source: AccountSource) {}

  get id() {
    return this.source.id
  }

  userAt(i: number): EstateUser {
    const u = this.source.users.at(i)
    return this.userOverrides.get(u.name) ?? u
  }

  roleAt(i: number): EstateRole {
    const r = this.source.roles.at(i)
    return this.roleOverrides.get(r.name) ?? r
  }

  user(name: string): EstateUser | undefined {
    return this.userOverrides.get(name) ?? this.source.users.byName(name)
  }

  role(name: string): EstateRole | undefined {
    return this.roleOverrides.get(name) ?? this.source.roles.byName(name)
  }

  /** A private, mutable copy of a user (copy-on-write). */
  mutableUser(name: string): EstateUser | undefined {
    const existing = this.userOverrides.get(name)
    if (existing) return existing
    const original = this.source.users.byName(name)
    if (!original) return undefined
    const copy = structuredClone(original)
    this.userOverrides.set(name, copy)
    return copy
  }

  mutableRole(name: string): EstateRole | undefined {
    const existing = this.roleOverrides.get(name)
    if (existing) return existing
    const original = this.source.roles.byName(name)
    if (!original) return undefined
    const copy = structuredClone(original)
    this.roleOverrides.set(name, copy)
    return copy
  }
}

/** Deterministic PRNG (mulberry32), so generated estates are identical run to run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Stable pseudo-random ids in AWS's shapes (AIDA…, AROA…, AKIA…), derived from a string. */
export function awsId(prefix: string, seed: string, length = 17): string {
  let h = 2166136261
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 16777619)
  const next = prng(h >>> 0)
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let out = prefix
  while (out.length < prefix.length + length) out += alphabet[Math.floor(next() * alphabet.length)]
  return out
}

export interface DeclaredCounts {
  identities: number
  agents: number
  credentials: number
}

export function countDeclared(estate: EstateSource): DeclaredCounts {
  let identities = 0
  let agents = 0
  let credentials = 0
  for (const account of estate.accounts) {
    for (let i = 0; i < account.users.count; i++) {
      const u = account.users.at(i)
      identities++
      if (u.declaredAgent) agents++
      credentials += (u.accessKeys?.length ?? 0) + (u.password ? 1 : 0)
    }
    for (let i = 0; i < account.roles.count; i++) {
      identities++
      if (account.roles.at(i).declaredAgent) agents++
    }
    for (let i = 0; i < account.secrets.count; i++) {
      identities++
      credentials++
      if (account.secrets.at(i).declaredAgent) agents++
    }
  }
  return { identities, agents, credentials }
}
