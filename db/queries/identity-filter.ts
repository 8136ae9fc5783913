/**
 * The identity inventory's filter, sort and page cursor as they live in the URL.
 *
 * Pure (zod only, no database): the loaders parse with it, the components build links with it,
 * so a link from the Posture page and the filter form produce the same URL for the same view.
 */
import { z } from 'zod'

export const DIMENSIONS = ['ownership', 'privilege', 'credential_age', 'monitoring'] as const
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const
export const OWNER_STATUSES = ['valid', 'invalid', 'none', 'unknown'] as const
export const IDENTITY_STATUSES = ['active', 'disabled', 'revoked', 'gone'] as const
export const RISK_BANDS = ['critical', 'high', 'medium', 'low'] as const
export const SORTS = ['risk', 'name', 'last_used', 'oldest_credential'] as const
export const ACCESS_LEVELS = ['admin', 'permissions_management', 'write', 'tagging', 'read', 'list'] as const

export type RiskBand = (typeof RISK_BANDS)[number]
export type IdentitySort = (typeof SORTS)[number]

/** Risk bands over the 0..100 risk score: [min, max] inclusive. */
export const RISK_BAND_RANGES: Record<RiskBand, readonly [number, number]> = {
  critical: [80, 100],
  high: [60, 79],
  medium: [30, 59],
  low: [0, 29],
}

export function riskBandOf(score: number): RiskBand {
  if (score >= 80) return 'critical'
  if (score >= 60) return 'high'
  if (score >= 30) return 'medium'
  return 'low'
}

const text = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .transform((value) => (value === '' ? undefined : value))
    .optional()

const optionalEnum = <T extends readonly [string, ...string[]]>(values: T) =>
  z
    .string()
    .optional()
    .transform((value) => (value === '' ? undefined : value))
    .pipe(z.enum(values).optional())

const uuid = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value === '' ? undefined : value))
  .pipe(z.string().uuid({ message: 'must be a source id (a UUID)' }).optional())

export const identityFilterSchema = z.object({
  q: text(200),
  source: uuid,
  provider: text(64),
  kind: text(64),
  account: text(200),
  agent: optionalEnum(['yes', 'no'] as const),
  platform: text(64),
  owner: text(200),
  ownerStatus: optionalEnum(OWNER_STATUSES),
  orphan: optionalEnum(['yes'] as const),
  risk: optionalEnum(RISK_BANDS),
  dimension: optionalEnum(DIMENSIONS),
  severity: optionalEnum(SEVERITIES),
  /** "open": identities with at least one open finding. */
  findings: optionalEnum(['open'] as const),
  access: optionalEnum(ACCESS_LEVELS),
  /** Credential age: identities whose oldest credential is older than this many days. */
  credAgeMin: z.coerce.number().int().min(0).max(36500).optional().catch(undefined),
  credAgeMax: z.coerce.number().int().min(0).max(36500).optional().catch(undefined),
  /** Lifecycle status; "all" includes identities gone upstream. Default: everything still present. */
  status: optionalEnum([...IDENTITY_STATUSES, 'all'] as const),
})

export type IdentityFilter = z.infer<typeof identityFilterSchema>

export const identityViewSchema = z.object({
  sort: optionalEnum(SORTS),
  dir: optionalEnum(['asc', 'desc'] as const),
  after: text(400),
  before: text(400),
})

export type IdentityView = z.infer<typeof identityViewSchema>

export const FILTER_KEYS = Object.keys(identityFilterSchema.shape) as (keyof IdentityFilter)[]

export class FilterError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message)
  }
}

function pick(params: URLSearchParams, keys: readonly string[]): Record<string, string> {
  const raw: Record<string, string> = {}
  for (const key of keys) {
    const value = params.get(key)
    if (value !== null) raw[key] = value
  }
  return raw
}

/** Parses the filter from a URL; a bad value throws a FilterError naming the parameter. */
export function parseIdentityFilter(params: URLSearchParams): IdentityFilter {
  const parsed = identityFilterSchema.safeParse(pick(params, FILTER_KEYS))
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const field = String(issue.path[0] ?? 'filter')
    throw new FilterError(`The filter "${field}" has a value Leash does not understand (${issue.message}).`, field)
  }
  return parsed.data
}

export function parseIdentityView(params: URLSearchParams): IdentityView {
  const parsed = identityViewSchema.safeParse(pick(params, ['sort', 'dir', 'after', 'before']))
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const field = String(issue.path[0] ?? 'sort')
    throw new FilterError(`The sort "${field}" has a value Leash does not understand (${issue.message}).`, field)
  }
  return parsed.data
}

/** The default direction of each sort: what a security team looks at first. */
export const DEFAULT_DIRECTION: Record<IdentitySort, 'asc' | 'desc'> = {
  risk: 'desc',
  name: 'asc',
  last_used: 'asc', // least recently used (never used first)
  oldest_credential: 'asc', // oldest credential first
}

/** Builds the query string for a filter (and optional view), dropping empty values. Stable key order. */
export function identitySearch(filter: Partial<IdentityFilter>, view: Partial<IdentityView> = {}): string {
  const params = new URLSearchParams()
  for (const key of FILTER_KEYS) {
    const value = filter[key]
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value))
  }
  for (const key of ['sort', 'dir', 'after', 'before'] as const) {
    const value = view[key]
    if (value) params.set(key, value)
  }
  const query = params.toString()
  return query ? `?${query}` : ''
}

/** Link to the inventory filtered by `filter`. */
export function identitiesHref(filter: Partial<IdentityFilter>, view: Partial<IdentityView> = {}): string {
  return `/identities${identitySearch(filter, view)}`
}

export function isFilterEmpty(filter: IdentityFilter): boolean {
  return FILTER_KEYS.every((key) => filter[key] === undefined)
}
