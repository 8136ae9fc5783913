/**
 * Thresholds the rules use: documented defaults with the benchmark each comes from,
 * overridable per source (sources.thresholds, or threshold_overrides scope 'source') and per
 * tag (threshold_overrides scope 'tag', scope_value 'key=value') without a code change.
 *
 * Precedence: default < source settings < source override < tag override. When several tag
 * overrides match one identity, the strictest value wins (a team cannot loosen a limit that
 * another tag on the same identity tightened).
 */
import { LeashError } from '../cli/errors.js'

export interface ThresholdDefinition {
  default: number
  unit: 'days' | 'count'
  /** Which direction is stricter: a lower limit or a higher one. */
  stricter: 'lower' | 'higher'
  min: number
  max: number
  description: string
  /** The benchmark or guidance the default comes from. */
  source: string
}

export const THRESHOLDS = {
  maxCredentialAgeDays: {
    default: 90,
    unit: 'days',
    stricter: 'lower',
    min: 1,
    max: 3650,
    description: 'Maximum age of a static key or secret since it was created or last rotated.',
    source: 'CIS AWS Foundations Benchmark 1.14 (v1.4–v3.0): access keys are rotated every 90 days or less.',
  },
  unusedCredentialDays: {
    default: 45,
    unit: 'days',
    stricter: 'lower',
    min: 1,
    max: 3650,
    description: 'An active credential not used for this many days should be disabled.',
    source: 'CIS AWS Foundations Benchmark 1.12 (v1.4–v3.0): credentials unused for 45 days or greater are disabled.',
  },
  unusedIdentityDays: {
    default: 90,
    unit: 'days',
    stricter: 'lower',
    min: 1,
    max: 3650,
    description: 'An identity not used for this many days is stale.',
    source: 'Microsoft Entra recommendation "Remove unused applications" (staleApps): no token issued for 90 days.',
  },
  neverUsedGraceDays: {
    default: 45,
    unit: 'days',
    stricter: 'lower',
    min: 0,
    max: 3650,
    description: 'How long a newly created identity may stay unused before "never used" is reported.',
    source: 'CIS AWS Foundations Benchmark 1.12: 45 days, applied to identities that were never used.',
  },
  maxExpiryDays: {
    default: 365,
    unit: 'days',
    stricter: 'lower',
    min: 1,
    max: 36500,
    description: 'Longest acceptable lifetime of a credential from creation to expiry.',
    source:
      'NIST SP 800-57 Part 1 Rev. 5 §5.3.6 (symmetric authentication keys: originator-usage period up to 2 years); Leash uses 1 year, as in Microsoft Entra guidance that client secrets live at most 12 months (180 days recommended).',
  },
  maxActiveCredentials: {
    default: 1,
    unit: 'count',
    stricter: 'lower',
    min: 1,
    max: 100,
    description: 'Most active static credentials of one type an identity should hold at once.',
    source: 'CIS AWS Foundations Benchmark 1.13 (v1.4–v3.0): only one active access key for any single IAM user.',
  },
  maxWorkloadsPerIdentity: {
    default: 1,
    unit: 'count',
    stricter: 'lower',
    min: 1,
    max: 1000,
    description: 'Most distinct workloads or agents that should share one identity.',
    source: 'OWASP Non-Human Identities Top 10 (2025), NHI9 NHI Reuse: one identity per workload.',
  },
} as const satisfies Record<string, ThresholdDefinition>

export type ThresholdName = keyof typeof THRESHOLDS
export const THRESHOLD_NAMES = Object.keys(THRESHOLDS) as ThresholdName[]

export type ThresholdValues = Record<ThresholdName, number>

export interface ResolvedThresholds {
  values: ThresholdValues
  /** Where each value came from: 'default', 'source', or 'tag:key=value'. */
  origins: Record<ThresholdName, string>
}

export const DEFAULT_THRESHOLDS: ThresholdValues = Object.fromEntries(
  THRESHOLD_NAMES.map((name) => [name, THRESHOLDS[name].default]),
) as ThresholdValues

export function defaultThresholds(): ResolvedThresholds {
  return {
    values: { ...DEFAULT_THRESHOLDS },
    origins: Object.fromEntries(THRESHOLD_NAMES.map((name) => [name, 'default'])) as Record<ThresholdName, string>,
  }
}

export function isThresholdName(name: string): name is ThresholdName {
  return Object.prototype.hasOwnProperty.call(THRESHOLDS, name)
}

/**
 * Validates one threshold value. `where` names the place it was read from, so the error tells
 * the user exactly which setting to fix. Used by the scoring pass and by any settings form.
 */
export function parseThresholdValue(name: string, value: unknown, where: string): number {
  if (!isThresholdName(name)) {
    throw new LeashError(
      `Unknown threshold "${name}" in ${where}.`,
      `Use one of: ${THRESHOLD_NAMES.join(', ')} (see docs/scoring.md), or remove the entry.`,
    )
  }
  const definition: ThresholdDefinition = THRESHOLDS[name]
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  if (typeof number !== 'number' || !Number.isInteger(number) || number < definition.min || number > definition.max) {
    throw new LeashError(
      `Threshold "${name}" in ${where} is ${JSON.stringify(value)}, not a whole number of ${definition.unit} between ${definition.min} and ${definition.max}.`,
      `Set it to a whole number between ${definition.min} and ${definition.max}, or remove it to use the default (${definition.default}).`,
    )
  }
  return number
}

/**
 * A tag scope of threshold_overrides, `key=value`, split at the first "=". Null when it is not of
 * that form. The resolver, the marking of changed scopes and the settings page all read scopes
 * through this one function, so they agree on what a scope matches.
 */
export function parseTagScope(scope: string): { key: string; value: string } | null {
  const separator = scope.indexOf('=')
  return separator > 0 ? { key: scope.slice(0, separator), value: scope.slice(separator + 1) } : null
}

export interface SourceThresholdConfig {
  sourceId: string
  sourceName: string
  /** sources.thresholds */
  settings: Record<string, unknown>
}

export interface ThresholdOverrideRow {
  scope_type: 'source' | 'tag'
  scope_value: string
  threshold: string
  value: unknown
}

interface TagOverride {
  key: string
  value: string
  scope: string
  threshold: ThresholdName
  number: number
}

/**
 * Resolves the thresholds of each identity from the configuration loaded once per pass.
 * Resolution is cached by (source, matching tag overrides), so a million identities cost a
 * handful of distinct resolutions.
 */
export class ThresholdResolver {
  private readonly bySource = new Map<string, Partial<Record<ThresholdName, { value: number; origin: string }>>>()
  private readonly tagOverrides: TagOverride[] = []
  private readonly tagKeys = new Set<string>()
  private readonly cache = new Map<string, ResolvedThresholds>()

  constructor(sources: SourceThresholdConfig[], overrides: ThresholdOverrideRow[]) {
    const sourceKeys = new Map<string, string>()
    for (const source of sources) {
      sourceKeys.set(source.sourceId, source.sourceId)
      sourceKeys.set(source.sourceName, source.sourceId)
      const entry: Partial<Record<ThresholdName, { value: number; origin: string }>> = {}
      for (const [name, value] of Object.entries(source.settings ?? {})) {
        const number = parseThresholdValue(name, value, `the thresholds of source "${source.sourceName}"`)
        entry[name as ThresholdName] = { value: number, origin: 'source' }
      }
      this.bySource.set(source.sourceId, entry)
    }
    for (const row of overrides) {
      const where = `threshold_overrides (${row.scope_type} "${row.scope_value}")`
      const number = parseThresholdValue(row.threshold, row.value, where)
      const threshold = row.threshold as ThresholdName
      if (row.scope_type === 'source') {
        const sourceId = sourceKeys.get(row.scope_value)
        // An override for a source that no longer exists changes nothing; it is not an error.
        if (!sourceId) continue
        const entry = this.bySource.get(sourceId) ?? {}
        entry[threshold] = { value: number, origin: 'source' }
        this.bySource.set(sourceId, entry)
      } else {
        const tag = parseTagScope(row.scope_value)
        if (!tag) {
          throw new LeashError(
            `The tag scope "${row.scope_value}" in threshold_overrides is not of the form key=value.`,
            'Write the tag as key=value, e.g. env=production.',
          )
        }
        this.tagOverrides.push({ key: tag.key, value: tag.value, scope: row.scope_value, threshold, number })
        this.tagKeys.add(tag.key)
      }
    }
  }

  resolve(sourceId: string, tags: Record<string, string>): ResolvedThresholds {
    let matching: TagOverride[] | null = null
    if (this.tagOverrides.length > 0) {
      for (const override of this.tagOverrides) {
        if (tags[override.key] === override.value) (matching ??= []).push(override)
      }
    }
    const cacheKey = matching ? `${sourceId}|${matching.map((m) => `${m.scope}:${m.threshold}`).join(',')}` : sourceId
    const cached = this.cache.get(cacheKey)
    if (cached) return cached
    const resolved = defaultThresholds()
    const sourceEntry = this.bySource.get(sourceId)
    if (sourceEntry) {
      for (const [name, entry] of Object.entries(sourceEntry) as [ThresholdName, { value: number; origin: string }][]) {
        resolved.values[name] = entry.value
        resolved.origins[name] = entry.origin
      }
    }
    if (matching) {
      const fromTags = new Map<ThresholdName, TagOverride>()
      for (const override of matching) {
        const current = fromTags.get(override.threshold)
        if (!current || stricter(override.threshold, override.number, current.number)) fromTags.set(override.threshold, override)
      }
      for (const [name, override] of fromTags) {
        resolved.values[name] = override.number
        resolved.origins[name] = `tag:${override.scope}`
      }
    }
    this.cache.set(cacheKey, resolved)
    return resolved
  }
}

function stricter(name: ThresholdName, candidate: number, current: number): boolean {
  const definition: ThresholdDefinition = THRESHOLDS[name]
  return definition.stricter === 'lower' ? candidate < current : candidate > current
}
