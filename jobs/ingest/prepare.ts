/**
 * The "transform" half of ingest: checks one NormalizedIdentity from a connector, and turns it
 * into what the database stores, plus short digests of each part (identity fields,
 * credentials, entitlements, owners) so a rescan can tell what changed without reading it back.
 *
 * Malformed data is rejected with a reason naming the field, never stored half-right.
 */
import { hash } from 'node:crypto'
import {
  ACCESS_LEVELS,
  CREDENTIAL_TYPES,
  IDENTITY_KINDS,
  type AccessLevel,
  type NormalizedCredential,
  type NormalizedEntitlement,
  type NormalizedIdentity,
  type OwnerHint,
} from '../../connectors/contract.js'

const KINDS = new Set<string>(IDENTITY_KINDS)
const CREDENTIAL_TYPE_SET = new Set<string>(CREDENTIAL_TYPES)
const LEVELS = new Set<string>(ACCESS_LEVELS)
const CREDENTIAL_STATUSES = new Set(['active', 'inactive', 'expired'])
const OWNER_SOURCES = new Set(['tag', 'provider', 'inferred'])
const OWNER_ROLES = new Set(['owner', 'sponsor', 'creator', 'last_user'])
const SEP = '\u0001'

export interface PreparedIdentity {
  identity: NormalizedIdentity
  externalId: string
  accountId: string
  tagsJson: string
  attributesJson: string
  postureJson: string
  agentJson: string
  dataHash: string
  /** null when the connector could not read that part: the stored part is kept as it is. */
  credentialsHash: string | null
  entitlementsHash: string | null
  ownersHash: string | null
  credentials: NormalizedCredential[]
  entitlements: NormalizedEntitlement[]
  owners: OwnerHint[]
  maxAccessLevel: AccessLevel | null
  /** Credentials the provider lists (any status). */
  credentialCount: number
  /** Creation date of the oldest active credential. */
  oldestCredentialAt: Date | null
}

export class MalformedIdentityError extends Error {}

function digest(text: string): string {
  // A change detector, not a security boundary: md5 is the fastest digest Node ships.
  return hash('md5', text, 'base64')
}

function iso(value: Date | null): string {
  return value === null ? '' : value.toISOString()
}

function checkDate(value: unknown, field: string): Date | null {
  if (value === null || value === undefined) return null
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new MalformedIdentityError(`${field} is not a valid date (${describe(value)})`)
  }
  return value
}

function describe(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value)
  return text.length > 60 ? `${text.slice(0, 57)}…` : text
}

function checkString(value: unknown, field: string, { empty = false } = {}): string {
  if (typeof value !== 'string' || (!empty && value.trim() === '')) {
    throw new MalformedIdentityError(`${field} must be a ${empty ? '' : 'non-empty '}string (got ${describe(value)})`)
  }
  return value
}

function checkArray<T>(value: unknown, field: string): T[] {
  if (!Array.isArray(value)) throw new MalformedIdentityError(`${field} must be a list (got ${describe(value)})`)
  return value as T[]
}

function checkObject(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new MalformedIdentityError(`${field} must be an object (got ${describe(value)})`)
  }
  return value as Record<string, unknown>
}

/** PostgreSQL text and jsonb cannot hold NUL; such data is malformed, not silently altered. */
function checkNoNul(text: string, field: string): void {
  if (text.includes('\u0000') || text.includes('\\u0000')) throw new MalformedIdentityError(`${field} contains a NUL character`)
}

function credentialKey(c: NormalizedCredential): string {
  return [
    c.externalId,
    c.type,
    c.displayName ?? '',
    c.status,
    iso(c.createdAt),
    iso(c.expiresAt),
    iso(c.lastUsedAt),
    c.lastUsedKnown ? 't' : 'f',
    iso(c.lastRotatedAt),
    c.rotationEnabled === null ? '' : c.rotationEnabled ? 't' : 'f',
    c.isStatic ? 't' : 'f',
    JSON.stringify(c.attributes ?? {}),
  ].join(SEP)
}

export function entitlementKey(e: { action: string; resource: string; accessLevel: string; sourceKind: string; sourceRef: string; conditional: boolean }): string {
  return [e.action, e.resource, e.accessLevel, e.sourceKind, e.sourceRef, e.conditional ? 't' : 'f'].join(SEP)
}

export function ownerKey(o: { ref: string; role: string; source: string }): string {
  return [o.ref, o.role, o.source].join(SEP)
}

/** Validates and prepares one identity; throws MalformedIdentityError naming the field. */
export function prepareIdentity(raw: NormalizedIdentity, batchAccountId: string): PreparedIdentity {
  const identity = checkObject(raw, 'identity') as unknown as NormalizedIdentity
  const externalId = checkString(identity.externalId, 'externalId')
  if (externalId.length > 2048) throw new MalformedIdentityError('externalId is longer than 2048 characters')
  if (!KINDS.has(identity.kind)) throw new MalformedIdentityError(`kind "${String(identity.kind)}" is not one of ${IDENTITY_KINDS.join(', ')}`)
  const displayName = checkString(identity.displayName, 'displayName', { empty: true })
  if (identity.status !== 'active' && identity.status !== 'disabled') {
    throw new MalformedIdentityError(`status must be "active" or "disabled" (got ${describe(identity.status)})`)
  }
  const accountId = identity.scope?.accountId ? checkString(identity.scope.accountId, 'scope.accountId') : batchAccountId
  const createdAt = checkDate(identity.createdAt, 'createdAt')
  const lastUsedAt = checkDate(identity.lastUsedAt, 'lastUsedAt')
  if (typeof identity.lastUsedKnown !== 'boolean') throw new MalformedIdentityError('lastUsedKnown must be true or false')
  const tags = checkObject(identity.tags ?? {}, 'tags')
  for (const [key, value] of Object.entries(tags)) {
    if (typeof value !== 'string') throw new MalformedIdentityError(`tag "${key}" must have a string value (got ${describe(value)})`)
  }
  const attributes = checkObject(identity.attributes ?? {}, 'attributes')
  if (identity.consoleUrl !== null && identity.consoleUrl !== undefined) checkString(identity.consoleUrl, 'consoleUrl')
  const unreadable = checkArray<NormalizedIdentity['unreadable'][number]>(identity.unreadable ?? [], 'unreadable')
  const unreadableFields = new Set(unreadable.map((u) => u.field))

  // Credentials: one per external id (the last one listed wins), sorted for a stable digest.
  const credentialMap = new Map<string, NormalizedCredential>()
  for (const [index, c] of checkArray<NormalizedCredential>(identity.credentials, 'credentials').entries()) {
    const where = `credentials[${index}]`
    checkObject(c, where)
    checkString(c.externalId, `${where}.externalId`)
    if (!CREDENTIAL_TYPE_SET.has(c.type)) throw new MalformedIdentityError(`${where}.type "${String(c.type)}" is not a known credential type`)
    if (!CREDENTIAL_STATUSES.has(c.status)) throw new MalformedIdentityError(`${where}.status must be active, inactive or expired (got ${describe(c.status)})`)
    checkDate(c.createdAt, `${where}.createdAt`)
    checkDate(c.expiresAt, `${where}.expiresAt`)
    checkDate(c.lastUsedAt, `${where}.lastUsedAt`)
    checkDate(c.lastRotatedAt, `${where}.lastRotatedAt`)
    credentialMap.set(c.externalId, c)
  }
  const credentials = [...credentialMap.values()].sort((a, b) => (a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0))

  const entitlementMap = new Map<string, NormalizedEntitlement>()
  let maxLevel = -1
  for (const [index, e] of checkArray<NormalizedEntitlement>(identity.entitlements, 'entitlements').entries()) {
    const where = `entitlements[${index}]`
    checkObject(e, where)
    checkString(e.action, `${where}.action`)
    checkString(e.resource, `${where}.resource`)
    if (!LEVELS.has(e.accessLevel)) throw new MalformedIdentityError(`${where}.accessLevel "${String(e.accessLevel)}" is not one of ${ACCESS_LEVELS.join(', ')}`)
    checkString(e.sourceKind, `${where}.sourceKind`)
    checkString(e.sourceRef, `${where}.sourceRef`, { empty: true })
    entitlementMap.set(entitlementKey(e), e)
    maxLevel = Math.max(maxLevel, ACCESS_LEVELS.indexOf(e.accessLevel))
  }
  const entitlementKeys = [...entitlementMap.keys()].sort()
  const entitlements = entitlementKeys.map((key) => entitlementMap.get(key)!)

  const ownerMap = new Map<string, OwnerHint>()
  for (const [index, o] of checkArray<OwnerHint>(identity.owners, 'owners').entries()) {
    const where = `owners[${index}]`
    checkObject(o, where)
    checkString(o.ref, `${where}.ref`)
    if (!OWNER_SOURCES.has(o.source)) throw new MalformedIdentityError(`${where}.source must be tag, provider or inferred (got ${describe(o.source)})`)
    if (!OWNER_ROLES.has(o.role)) throw new MalformedIdentityError(`${where}.role must be owner, sponsor, creator or last_user (got ${describe(o.role)})`)
    ownerMap.set(ownerKey(o), o)
  }
  const ownerKeys = [...ownerMap.keys()].sort()
  const owners = ownerKeys.map((key) => ownerMap.get(key)!)

  const agentSignals = checkArray(identity.agentSignals, 'agentSignals')
  const posture = {
    escalationPaths: checkArray(identity.escalationPaths ?? [], 'escalationPaths'),
    unusedGrants: identity.unusedGrants === null || identity.unusedGrants === undefined ? null : checkArray(identity.unusedGrants, 'unusedGrants'),
    environments: checkArray(identity.environments ?? [], 'environments'),
    workloads: checkArray(identity.workloads ?? [], 'workloads'),
    monitoring: identity.monitoring ?? { usageData: 'unknown', runtimeLogging: null },
    federationPossible: identity.federationPossible === true,
    unreadable,
  }

  const tagsJson = JSON.stringify(tags)
  const attributesJson = JSON.stringify(attributes)
  const postureJson = JSON.stringify(posture)
  const agentJson = JSON.stringify(agentSignals)
  const dataText = [
    identity.kind,
    displayName,
    accountId,
    identity.status,
    iso(createdAt),
    iso(lastUsedAt),
    identity.lastUsedKnown ? 't' : 'f',
    identity.consoleUrl ?? '',
    tagsJson,
    attributesJson,
    postureJson,
    agentJson,
  ].join(SEP)
  checkNoNul(externalId + dataText, 'identity data')

  const credentialText = credentials.map(credentialKey).join('\n')
  checkNoNul(credentialText, 'credentials')
  const entitlementText = entitlementKeys.join('\n')
  checkNoNul(entitlementText, 'entitlements')
  const ownerText = owners.map((o) => `${ownerKey(o)}${SEP}${o.kind}${SEP}${o.displayName ?? ''}${SEP}${String(o.active)}${SEP}${o.canAddCredentials ? 't' : 'f'}`).join('\n')
  checkNoNul(ownerText, 'owners')

  let oldest: Date | null = null
  for (const c of credentials) {
    if (c.status !== 'active') continue
    if (c.createdAt && (oldest === null || c.createdAt < oldest)) oldest = c.createdAt
  }

  return {
    identity,
    externalId,
    accountId,
    tagsJson,
    attributesJson,
    postureJson,
    agentJson,
    dataHash: digest(dataText),
    credentialsHash: unreadableFields.has('credentials') ? null : digest(credentialText),
    entitlementsHash: unreadableFields.has('entitlements') ? null : digest(entitlementText),
    ownersHash: unreadableFields.has('owners') ? null : digest(ownerText),
    credentials,
    entitlements,
    owners,
    maxAccessLevel: maxLevel >= 0 ? ACCESS_LEVELS[maxLevel]! : null,
    credentialCount: credentials.length,
    oldestCredentialAt: oldest,
  }
}
