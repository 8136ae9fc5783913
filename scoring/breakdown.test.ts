import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ACCESS_LEVELS } from '../connectors/contract.js'
import { assessIdentity, findingKey, type Assessment } from './assess.js'
import { packBreakdown, readStoredBreakdown, type StoredBreakdown } from './breakdown.js'
import { EMPTY_DIRECTORY } from './owners.js'
import { SCORE_VERSION } from './score.js'
import { credential, daysAgo, entitlement, identity, NOW, owner } from './testing.js'
import { defaultThresholds } from './thresholds.js'
import type { IdentityInput } from './types.js'

/** The facts a breakdown holds, in layout 1 (what the pass wrote before docs/decisions/045): the oracle. */
function layoutOne(assessment: Assessment, override: 'agent' | 'not_agent' | null): StoredBreakdown {
  const { score, classification } = assessment
  return {
    version: SCORE_VERSION,
    risk: score.risk,
    dimensions: score.dimensions,
    exposure: score.exposure,
    findings: score.findings.map((f) => ({
      rule: f.ruleId,
      subject: f.subjectKey,
      points: f.riskPoints,
      dimensionPoints: f.dimensionPoints,
    })),
    excluded: assessment.excluded.map((item) => ({ rule: item.ruleId, subject: item.subjectKey, reason: item.reason })),
    classification: {
      isAgent: classification.isAgent,
      confidence: classification.confidence,
      platform: classification.platform,
      override,
      signals: classification.reasons.map((r) =>
        r.source === 'leash'
          ? { id: r.id, weight: r.weight, counted: r.counted, source: r.source, reason: r.reason }
          : { id: r.id, weight: r.weight, counted: r.counted, source: r.source },
      ),
    },
  }
}

/** As the page gets it: the pass's JSON text, parsed by the driver, then read. */
const stored = (value: unknown) => readStoredBreakdown(JSON.parse(JSON.stringify(value)))

const arbIdentity: fc.Arbitrary<IdentityInput> = fc
  .record({
    name: fc.constantFrom('svc-reports', 'support-agent-7', 'llm-gateway', 'deploy-runner'),
    admin: fc.boolean(),
    llm: fc.boolean(),
    level: fc.constantFrom(...ACCESS_LEVELS),
    credentialAges: fc.array(fc.integer({ min: 0, max: 900 }), { maxLength: 4 }),
    owned: fc.boolean(),
    trustSignal: fc.boolean(),
    unreadableUsage: fc.boolean(),
  })
  .map((shape) =>
    identity({
      displayName: shape.name,
      entitlements: [
        entitlement({ accessLevel: shape.level, action: 's3:PutObject', resource: '*' }),
        ...(shape.admin ? [entitlement({ action: '*', resource: '*', accessLevel: 'admin' })] : []),
        ...(shape.llm ? [entitlement({ action: 'bedrock:InvokeModel', resource: '*', accessLevel: 'write' })] : []),
      ],
      credentials: shape.credentialAges.map((days, index) =>
        credential({ id: index + 1, externalId: `KEY${index}`, createdAt: daysAgo(days) }),
      ),
      owners: shape.owned ? [owner()] : [],
      agentSignals: shape.trustSignal
        ? [{ id: 'aws.trust.bedrock', reason: 'Trusts bedrock.amazonaws.com', weight: 0.85, evidence: {}, platform: 'bedrock' }]
        : [],
      posture: {
        ...identity().posture,
        monitoring: { usageData: shape.unreadableUsage ? 'unavailable' : 'available', runtimeLogging: null },
      },
    }),
  )

describe('the stored breakdown', () => {
  it('reads back, from the layout the pass writes, every fact layout 1 held', () => {
    fc.assert(
      fc.property(
        arbIdentity,
        fc.constantFrom(null, 'agent' as const, 'not_agent' as const),
        fc.boolean(),
        (subject, override, acceptFirst) => {
          const first = assessIdentity(subject, { now: NOW, thresholds: defaultThresholds(), directory: EMPTY_DIRECTORY })
          const accepted =
            acceptFirst && first.findings[0] ? new Set([findingKey(first.findings[0].ruleId, first.findings[0].subjectKey)]) : undefined
          const assessment = assessIdentity(
            { ...subject, agentOverride: override },
            { now: NOW, thresholds: defaultThresholds(), directory: EMPTY_DIRECTORY, acceptedKeys: accepted },
          )
          expect(stored(packBreakdown(assessment, override))).toEqual(layoutOne(assessment, override))
        },
      ),
    )
  })

  it('still reads rows of layout 1, written before the pass packed them', () => {
    const assessment = assessIdentity(
      identity({ displayName: 'support-agent-1', entitlements: [entitlement({ action: '*', resource: '*', accessLevel: 'admin' })] }),
      {
        now: NOW,
        thresholds: defaultThresholds(),
        directory: EMPTY_DIRECTORY,
      },
    )
    const old = layoutOne(assessment, null)
    expect(old.findings.length).toBeGreaterThan(0)
    expect(old.classification.signals.length).toBeGreaterThan(0)
    expect(stored(old)).toEqual(old)
  })

  it('is about half the text of layout 1 for an identity with a few findings', () => {
    const assessment = assessIdentity(
      identity({
        displayName: 'support-agent-2',
        credentials: [
          credential({ id: 1, externalId: 'KEY1', createdAt: daysAgo(400) }),
          credential({ id: 2, externalId: 'KEY2', createdAt: daysAgo(300) }),
        ],
        owners: [],
      }),
      { now: NOW, thresholds: defaultThresholds(), directory: EMPTY_DIRECTORY },
    )
    expect(assessment.score.findings.length).toBeGreaterThanOrEqual(3)
    const packed = JSON.stringify(packBreakdown(assessment, null)).length
    const layout1 = JSON.stringify(layoutOne(assessment, null)).length
    expect(packed / layout1).toBeLessThan(0.6)
  })

  it('reads anything else as no breakdown, so the page says so instead of showing numbers it cannot trace', () => {
    expect(readStoredBreakdown(null)).toBeNull()
    expect(readStoredBreakdown({ stale: true })).toBeNull()
    expect(
      readStoredBreakdown({
        layout: 2,
        version: SCORE_VERSION,
        risk: 5,
        dimensions: [1, 2, 3],
        exposure: [null, false, 1],
        findings: [],
        excluded: [],
        classification: [false, 0, null, null, []],
      }),
    ).toBeNull()
    expect(readStoredBreakdown({ layout: 3, version: SCORE_VERSION })).toBeNull()
  })
})
