/**
 * The score: pure, deterministic, and explainable. Formula (docs/scoring.md):
 *
 *   dimension score  D_d  = 100 · (1 − Π_i (1 − w(severity_i)))      over open findings of d
 *   base                  = 1 − Π_d (1 − W_d · D_d / 100)
 *   risk                  = 100 · (1 − (1 − base)^m)
 *
 * where w is the severity weight, W_d the dimension weight, and m the exposure exponent: it
 * grows with the identity's highest access level, and more for AI agents that can write.
 * Every product is over a canonically sorted list, so the order findings arrive in never
 * changes the result; every factor is monotone, so a new finding or more power never lowers it.
 * The breakdown splits the points over the findings in log space (exact), then rounds with the
 * largest-remainder method so the findings' points add up to the score.
 */
import { ACCESS_LEVELS, type AccessLevel } from '../connectors/contract.js'
import type { Dimension, Severity } from './types.js'

export const SCORE_VERSION = 1

export const SEVERITY_WEIGHT: Record<Severity, number> = { critical: 0.8, high: 0.5, medium: 0.3, low: 0.12, info: 0.03 }
export const DIMENSION_WEIGHT: Record<Dimension, number> = { privilege: 1, credential_age: 0.8, ownership: 0.7, monitoring: 0.5 }
export const DIMENSIONS: Dimension[] = ['ownership', 'privilege', 'credential_age', 'monitoring']
/** Exposure exponent by highest access level; identities without entitlements count as read. */
export const ACCESS_EXPONENT: Record<AccessLevel, number> = {
  list: 1,
  read: 1,
  tagging: 1,
  write: 1.2,
  permissions_management: 1.4,
  admin: 1.6,
}
/** AI agents act autonomously: with write power or more their exposure weighs 1.5 times. */
export const AGENT_WRITE_FACTOR = 1.5

export interface ScoredFinding {
  ruleId: string
  subjectKey: string
  dimension: Dimension
  severity: Severity
}

export interface ScoreContext {
  maxAccessLevel: AccessLevel | null
  isAgent: boolean
}

export interface FindingPoints extends ScoredFinding {
  /** Points of its dimension score this finding accounts for. */
  dimensionPoints: number
  /** Points of the overall risk this finding accounts for. */
  riskPoints: number
}

export interface ScoreBreakdown {
  version: number
  risk: number
  dimensions: Record<Dimension, number>
  exposure: { maxAccessLevel: AccessLevel | null; isAgent: boolean; exponent: number }
  findings: FindingPoints[]
}

export function exposureExponent(context: ScoreContext): number {
  const level = context.maxAccessLevel
  let exponent = level ? ACCESS_EXPONENT[level] : 1
  if (context.isAgent && level && ACCESS_LEVELS.indexOf(level) >= ACCESS_LEVELS.indexOf('write')) exponent *= AGENT_WRITE_FACTOR
  return exponent
}

function compareFindings(a: ScoredFinding, b: ScoredFinding): number {
  if (a.ruleId !== b.ruleId) return a.ruleId < b.ruleId ? -1 : 1
  if (a.subjectKey !== b.subjectKey) return a.subjectKey < b.subjectKey ? -1 : 1
  return 0
}

/**
 * Rounds shares of `total` to integers that sum to round(total), deterministically: each gets
 * the floor of its exact part, and the points left go one each to the largest remainders, ties
 * to the earlier share. Fewer points are left than there are shares, so they are handed out by
 * picking the largest remainder each time rather than by sorting: a pass scores a million
 * identities, and sorting here was a tenth of what assessing one allocated (docs/decisions/047).
 */
export function allocateLargestRemainder(total: number, shares: readonly number[]): number[] {
  const target = Math.round(total)
  let sum = 0
  for (const share of shares) sum += share
  const result = new Array<number>(shares.length).fill(0)
  if (target === 0 || sum <= 0) return result
  const remainders = new Array<number>(shares.length)
  let remaining = target
  for (let index = 0; index < shares.length; index += 1) {
    const exact = (shares[index]! / sum) * target
    const floor = Math.floor(exact)
    result[index] = floor
    remainders[index] = exact - floor
    remaining -= floor
  }
  // Points are left only when some share is positive, so there is always a share to pick.
  for (; remaining > 0; remaining -= 1) {
    let best = -1
    for (let index = 0; index < remainders.length; index += 1) if (best < 0 || remainders[index]! > remainders[best]!) best = index
    result[best]! += 1
    // Taken: below every remainder (all are at least 0), so it is not picked again.
    remainders[best] = -1
  }
  return result
}

/** The findings in canonical order (rule, then subject): an insertion sort, stable, for the few findings of an identity. */
function canonicalOrder<T extends ScoredFinding>(input: readonly T[]): T[] {
  const sorted = input.slice()
  for (let next = 1; next < sorted.length; next += 1) {
    const finding = sorted[next]!
    let at = next
    while (at > 0 && compareFindings(sorted[at - 1]!, finding) > 0) {
      sorted[at] = sorted[at - 1]!
      at -= 1
    }
    sorted[at] = finding
  }
  return sorted
}

export function computeScore(input: ScoredFinding[], context: ScoreContext): ScoreBreakdown {
  // Insertion sort is quadratic: a large list (which no identity has in practice) takes the library sort.
  const findings = input.length <= 64 ? canonicalOrder(input) : [...input].sort(compareFindings)
  const exponent = exposureExponent(context)
  // One pass over the sorted findings gathers, per dimension, the product of (1 − w) and the sum
  // of log shares, each in the findings' order, so results do not depend on the input order.
  const remaining = { ownership: 1, privilege: 1, credential_age: 1, monitoring: 1 } as Record<Dimension, number>
  const logSum = { ownership: 0, privilege: 0, credential_age: 0, monitoring: 0 } as Record<Dimension, number>
  // log(1 − w) of each finding: its share of its dimension, in log space.
  const logShare = new Array<number>(findings.length)
  for (let index = 0; index < findings.length; index += 1) {
    const finding = findings[index]!
    const weight = SEVERITY_WEIGHT[finding.severity]
    logShare[index] = -Math.log1p(-weight)
    remaining[finding.dimension] *= 1 - weight
    logSum[finding.dimension] += logShare[index]!
  }
  const dimensions = { ownership: 0, privilege: 0, credential_age: 0, monitoring: 0 } as Record<Dimension, number>
  const dimensionLog = { ownership: 0, privilege: 0, credential_age: 0, monitoring: 0 } as Record<Dimension, number>
  let logTotal = 0
  for (const dimension of DIMENSIONS) {
    const raw = 1 - remaining[dimension]
    dimensions[dimension] = Math.round(100 * raw)
    dimensionLog[dimension] = -Math.log1p(-DIMENSION_WEIGHT[dimension] * raw)
    logTotal += dimensionLog[dimension]
  }
  const riskRaw = 1 - Math.exp(-exponent * logTotal)
  const risk = Math.min(100, Math.max(0, Math.round(100 * riskRaw)))

  // Split the risk over findings: by dimension (log share), then within it (log share).
  const riskShares = new Array<number>(findings.length)
  for (let index = 0; index < findings.length; index += 1) {
    const dimension = findings[index]!.dimension
    const dimensionTotal = logSum[dimension]
    riskShares[index] = dimensionTotal > 0 ? dimensionLog[dimension] * (logShare[index]! / dimensionTotal) : 0
  }
  const riskPoints = allocateLargestRemainder(risk, riskShares)
  const dimensionPoints = new Array<number>(findings.length).fill(0)
  for (const dimension of DIMENSIONS) {
    const indexes: number[] = []
    const shares: number[] = []
    for (let index = 0; index < findings.length; index += 1)
      if (findings[index]!.dimension === dimension) {
        indexes.push(index)
        shares.push(logShare[index]!)
      }
    if (indexes.length === 0) continue
    const points = allocateLargestRemainder(dimensions[dimension], shares)
    for (let i = 0; i < indexes.length; i += 1) dimensionPoints[indexes[i]!] = points[i]!
  }
  const points: FindingPoints[] = new Array<FindingPoints>(findings.length)
  for (let index = 0; index < findings.length; index += 1) {
    const finding = findings[index]!
    points[index] = {
      ruleId: finding.ruleId,
      subjectKey: finding.subjectKey,
      dimension: finding.dimension,
      severity: finding.severity,
      dimensionPoints: dimensionPoints[index]!,
      riskPoints: riskPoints[index]!,
    }
  }
  return {
    version: SCORE_VERSION,
    risk,
    dimensions,
    exposure: { maxAccessLevel: context.maxAccessLevel, isAgent: context.isAgent, exponent: Math.round(exponent * 1000) / 1000 },
    findings: points,
  }
}
