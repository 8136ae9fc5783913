/**
 * The score breakdown as identity_scores.breakdown stores it (docs/scoring.md, "Breakdown"): the
 * writer (packBreakdown, called by the scoring pass) and the reader (readStoredBreakdown, used
 * by the identity page) live here together, so the page reads exactly the shape the pass writes.
 *
 * The pass writes layout 2: the same facts as layout 1, with the repeated parts (a finding's
 * points, a signal) as arrays in a fixed order instead of objects that name every field. That
 * halves the row, which a first pass writes for every identity (docs/decisions/045). Layout 1
 * rows, written before, stay readable until the next pass rewrites them.
 */
import { z } from 'zod'
import type { Assessment } from './assess.js'
import { SCORE_VERSION } from './score.js'

const dimensionsSchema = z.object({ ownership: z.number(), privilege: z.number(), credential_age: z.number(), monitoring: z.number() })
const signalSourceSchema = z.enum(['connector', 'leash'])
const excludedReasonSchema = z.enum(['accepted', 'unknown'])
const overrideSchema = z.enum(['agent', 'not_agent']).nullable()

/** Layout 1 (until docs/decisions/045), and the shape the page reads whatever the layout. */
const storedBreakdownSchema = z.object({
  version: z.literal(SCORE_VERSION),
  risk: z.number(),
  dimensions: dimensionsSchema,
  exposure: z.object({ maxAccessLevel: z.string().nullable(), isAgent: z.boolean(), exponent: z.number() }),
  /** Every scored finding with its share of the risk (`points`) and of its dimension. */
  findings: z.array(z.object({ rule: z.string(), subject: z.string(), points: z.number(), dimensionPoints: z.number() })),
  /** Findings left out of the score, and why. */
  excluded: z.array(z.object({ rule: z.string(), subject: z.string(), reason: excludedReasonSchema })),
  classification: z.object({
    isAgent: z.boolean(),
    confidence: z.number(),
    platform: z.string().nullable(),
    override: overrideSchema,
    /** Connector signals keep their reason text in identities.agent_reasons; Leash's own carry it here. */
    signals: z.array(
      z.object({
        id: z.string(),
        weight: z.number(),
        counted: z.boolean(),
        source: signalSourceSchema,
        reason: z.string().optional(),
      }),
    ),
  }),
})

export type StoredBreakdown = z.infer<typeof storedBreakdownSchema>

/** Layout 2: each array's order is written out in docs/scoring.md. */
const packedBreakdownSchema = z.object({
  layout: z.literal(2),
  version: z.literal(SCORE_VERSION),
  risk: z.number(),
  /** ownership, privilege, credential_age, monitoring */
  dimensions: z.tuple([z.number(), z.number(), z.number(), z.number()]),
  /** highest access level, is an agent, exponent */
  exposure: z.tuple([z.string().nullable(), z.boolean(), z.number()]),
  /** rule, subject, risk points, dimension points */
  findings: z.array(z.tuple([z.string(), z.string(), z.number(), z.number()])),
  /** rule, subject, reason */
  excluded: z.array(z.tuple([z.string(), z.string(), excludedReasonSchema])),
  /** is an agent, confidence, platform, override, signals: id, weight, counted, source, and Leash's reason text */
  classification: z.tuple([
    z.boolean(),
    z.number(),
    z.string().nullable(),
    overrideSchema,
    z.array(
      z.union([
        z.tuple([z.string(), z.number(), z.boolean(), signalSourceSchema]),
        z.tuple([z.string(), z.number(), z.boolean(), signalSourceSchema, z.string()]),
      ]),
    ),
  ]),
})

export type PackedBreakdown = z.infer<typeof packedBreakdownSchema>

/**
 * What identity_scores.breakdown stores: the score, every finding's points, what was left out and
 * why, and the classification with its signals. Severity and dimension of a finding come from the
 * rule catalogue; reason texts of connector signals stay in agent_reasons. The key and element
 * order is part of the stored text, which the pass compares to leave an unchanged breakdown's
 * row alone (docs/decisions/035): keep it.
 */
export function packBreakdown(assessment: Assessment, override: 'agent' | 'not_agent' | null): PackedBreakdown {
  const { score, classification } = assessment
  const { dimensions, exposure } = score
  return {
    layout: 2,
    version: SCORE_VERSION,
    risk: score.risk,
    dimensions: [dimensions.ownership, dimensions.privilege, dimensions.credential_age, dimensions.monitoring],
    exposure: [exposure.maxAccessLevel, exposure.isAgent, exposure.exponent],
    findings: score.findings.map((finding) => [finding.ruleId, finding.subjectKey, finding.riskPoints, finding.dimensionPoints]),
    excluded: assessment.excluded.map((item) => [item.ruleId, item.subjectKey, item.reason]),
    classification: [
      classification.isAgent,
      classification.confidence,
      classification.platform,
      override,
      classification.reasons.map((reason) =>
        reason.source === 'leash'
          ? [reason.id, reason.weight, reason.counted, reason.source, reason.reason]
          : [reason.id, reason.weight, reason.counted, reason.source],
      ),
    ],
  }
}

/**
 * A stored breakdown as the page may show it, or null when there is none or it is of neither
 * layout (the page then says so rather than showing numbers it cannot trace).
 */
export function readStoredBreakdown(value: unknown): StoredBreakdown | null {
  const packed = packedBreakdownSchema.safeParse(value)
  if (packed.success) return unpack(packed.data)
  const parsed = storedBreakdownSchema.safeParse(value)
  return parsed.success ? parsed.data : null
}

function unpack(packed: PackedBreakdown): StoredBreakdown {
  const [ownership, privilege, credentialAge, monitoring] = packed.dimensions
  const [maxAccessLevel, isAgent, exponent] = packed.exposure
  const [classifiedIsAgent, confidence, platform, override, signals] = packed.classification
  return {
    version: packed.version,
    risk: packed.risk,
    dimensions: { ownership, privilege, credential_age: credentialAge, monitoring },
    exposure: { maxAccessLevel, isAgent, exponent },
    findings: packed.findings.map(([rule, subject, points, dimensionPoints]) => ({ rule, subject, points, dimensionPoints })),
    excluded: packed.excluded.map(([rule, subject, reason]) => ({ rule, subject, reason })),
    classification: {
      isAgent: classifiedIsAgent,
      confidence,
      platform,
      override,
      signals: signals.map(([id, weight, counted, source, reason]) =>
        reason === undefined ? { id, weight, counted, source } : { id, weight, counted, source, reason },
      ),
    },
  }
}
