/**
 * The score breakdown as identity_scores.breakdown stores it (docs/scoring.md, "Breakdown"): the
 * writer (compactBreakdown, called by the scoring pass) and the reader (readStoredBreakdown, used
 * by the identity page) live here together, so the page reads exactly the shape the pass writes.
 */
import { z } from 'zod'
import type { Assessment } from './assess.js'
import { SCORE_VERSION } from './score.js'

const storedBreakdownSchema = z.object({
  version: z.literal(SCORE_VERSION),
  risk: z.number(),
  dimensions: z.object({ ownership: z.number(), privilege: z.number(), credential_age: z.number(), monitoring: z.number() }),
  exposure: z.object({ maxAccessLevel: z.string().nullable(), isAgent: z.boolean(), exponent: z.number() }),
  /** Every scored finding with its share of the risk (`points`) and of its dimension. */
  findings: z.array(z.object({ rule: z.string(), subject: z.string(), points: z.number(), dimensionPoints: z.number() })),
  /** Findings left out of the score, and why. */
  excluded: z.array(z.object({ rule: z.string(), subject: z.string(), reason: z.enum(['accepted', 'unknown']) })),
  classification: z.object({
    isAgent: z.boolean(),
    confidence: z.number(),
    platform: z.string().nullable(),
    override: z.enum(['agent', 'not_agent']).nullable(),
    /** Connector signals keep their reason text in identities.agent_reasons; Leash's own carry it here. */
    signals: z.array(
      z.object({
        id: z.string(),
        weight: z.number(),
        counted: z.boolean(),
        source: z.enum(['connector', 'leash']),
        reason: z.string().optional(),
      }),
    ),
  }),
})

export type StoredBreakdown = z.infer<typeof storedBreakdownSchema>

/**
 * What identity_scores.breakdown stores: the score, every finding's points, what was left out and
 * why, and the classification with its signals. Severity and dimension of a finding come from the
 * rule catalogue; reason texts of connector signals stay in agent_reasons. The key order is part
 * of the stored text, which the pass compares to leave an unchanged breakdown's row alone
 * (docs/decisions/035): keep it.
 */
export function compactBreakdown(assessment: Assessment, override: 'agent' | 'not_agent' | null): StoredBreakdown {
  const { score, classification } = assessment
  return {
    version: SCORE_VERSION,
    risk: score.risk,
    dimensions: score.dimensions,
    exposure: score.exposure,
    findings: score.findings.map((finding) => ({
      rule: finding.ruleId,
      subject: finding.subjectKey,
      points: finding.riskPoints,
      dimensionPoints: finding.dimensionPoints,
    })),
    excluded: assessment.excluded.map((item) => ({ rule: item.ruleId, subject: item.subjectKey, reason: item.reason })),
    classification: {
      isAgent: classification.isAgent,
      confidence: classification.confidence,
      platform: classification.platform,
      override,
      signals: classification.reasons.map((reason) =>
        reason.source === 'leash'
          ? { id: reason.id, weight: reason.weight, counted: reason.counted, source: reason.source, reason: reason.reason }
          : { id: reason.id, weight: reason.weight, counted: reason.counted, source: reason.source },
      ),
    },
  }
}

/**
 * A stored breakdown as the page may show it, or null when there is none or it is not of the
 * version-1 shape (the page then says so rather than showing numbers it cannot trace).
 */
export function readStoredBreakdown(value: unknown): StoredBreakdown | null {
  const parsed = storedBreakdownSchema.safeParse(value)
  return parsed.success ? parsed.data : null
}
