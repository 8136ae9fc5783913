/** Small shared pieces for rule modules. Only what several rules need lives here. */
import { ACCESS_LEVELS, type AccessLevel, type UnreadablePart } from '../../connectors/contract.js'
import type { CredentialInput, Rule, RuleInput, RuleOutcome } from '../types.js'

export const DAY_MS = 86_400_000

export function defineRule(rule: Rule): Rule {
  return rule
}

export function daysBetween(from: Date, to: Date): number {
  return Math.floor((to.getTime() - from.getTime()) / DAY_MS)
}

/**
 * The moment a limit counted in whole days from `since` was passed: the first instant at which
 * daysBetween(since, now) > limitDays. Evidence stores this date, not a count of days, so a
 * finding's evidence stays the same from one evaluation to the next while nothing but the clock
 * moves, and a daily re-evaluation leaves its row alone (docs/decisions/036). The page that
 * shows the evidence works out the age at the time it is read.
 */
export function overLimitSince(since: Date, limitDays: number): string | null {
  return iso(new Date(since.getTime() + (limitDays + 1) * DAY_MS))
}

/**
 * Evidence names the same few dates many times: a credential's creation date appears in every
 * credential rule's evidence. Date#toISOString is slow next to a Map lookup, so recent
 * conversions are kept (a bounded cache, emptied whenever it grows past its limit).
 */
const isoCache = new Map<number, string>()
const ISO_CACHE_LIMIT = 4096

export function iso(date: Date | null): string | null {
  if (!date) return null
  const time = date.getTime()
  let text = isoCache.get(time)
  if (text === undefined) {
    if (isoCache.size >= ISO_CACHE_LIMIT) isoCache.clear()
    text = date.toISOString()
    isoCache.set(time, text)
  }
  return text
}

export function accessRank(level: AccessLevel | null): number {
  return level ? ACCESS_LEVELS.indexOf(level) : -1
}

export const WRITE_RANK = ACCESS_LEVELS.indexOf('write')

export function unreadable(input: RuleInput, field: UnreadablePart['field']): UnreadablePart | null {
  return input.identity.posture.unreadable.find((part) => part.field === field) ?? null
}

/** The "could not read" outcome: never a failure, always the permission that was missing. */
export function unknownBecause(part: UnreadablePart, subjectKey = ''): RuleOutcome {
  return {
    status: 'unknown',
    subjectKey,
    missingPermission: part.permission,
    evidence: {
      reason: `Leash could not read the ${part.field.replace('_', ' ')} of this identity.`,
      operation: part.operation,
      missingPermission: part.permission,
    },
  }
}

/** Credentials that still exist at the provider and can be used. */
export function activeCredentials(input: RuleInput): CredentialInput[] {
  return input.identity.credentials.filter((credential) => credential.status === 'active')
}

export function credentialEvidence(credential: CredentialInput): Record<string, unknown> {
  return {
    credential: credential.externalId,
    type: credential.type,
    createdAt: iso(credential.createdAt),
  }
}

/** Threshold value with where it came from, for evidence. */
export function threshold(input: RuleInput, name: keyof RuleInput['thresholds']['values']): { value: number; origin: string } {
  return { value: input.thresholds.values[name], origin: input.thresholds.origins[name] }
}

/** Caps long evidence lists so a finding stays small; the count says how many there were. */
export function capped<T>(items: T[], limit = 20): { items: T[]; total: number } {
  return { items: items.slice(0, limit), total: items.length }
}
