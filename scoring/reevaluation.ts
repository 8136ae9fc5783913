/**
 * How often every identity is scored again although nothing about it changed. A scan marks
 * only what changed for scoring, but several rules change with the clock: a key passes its
 * maximum age, a secret expires, a credential stays unused past the limit. Without
 * re-evaluation those findings would wait for an unrelated change to the identity. Threshold
 * overrides and a new rule catalogue also take effect through it (docs/decisions/035).
 */
import { LeashError } from '../cli/errors.js'

export const DEFAULT_REEVALUATE_HOURS = 24
const MAX_REEVALUATE_HOURS = 24 * 30

/** LEASH_REEVALUATE_HOURS in milliseconds (default 24 hours). */
export function reevaluationIntervalMs(value: string | undefined = process.env.LEASH_REEVALUATE_HOURS): number {
  if (value === undefined || value.trim() === '') return DEFAULT_REEVALUATE_HOURS * 3_600_000
  const hours = Number(value)
  if (!Number.isInteger(hours) || hours < 1 || hours > MAX_REEVALUATE_HOURS) {
    throw new LeashError(
      `LEASH_REEVALUATE_HOURS is "${value}", not a whole number of hours from 1 to ${MAX_REEVALUATE_HOURS}.`,
      `Unset it to re-evaluate every identity once a day, or set a number, e.g. LEASH_REEVALUATE_HOURS=${DEFAULT_REEVALUATE_HOURS}.`,
    )
  }
  return hours * 3_600_000
}
