import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ACCESS_LEVELS, type AccessLevel } from '../connectors/contract.js'
import { assessIdentity } from './assess.js'
import { EMPTY_DIRECTORY } from './owners.js'
import { allocateLargestRemainder, computeScore, type ScoredFinding } from './score.js'
import { credential, daysAgo, entitlement, identity, NOW, owner } from './testing.js'
import { defaultThresholds } from './thresholds.js'
import type { CredentialInput, EntitlementInput, IdentityInput } from './types.js'

const context = { now: NOW, thresholds: defaultThresholds(), directory: EMPTY_DIRECTORY }
const risk = (subject: IdentityInput) => assessIdentity(subject, context).score.risk

const day = fc.integer({ min: -400, max: 1500 })
const accessLevel = fc.constantFrom(...ACCESS_LEVELS)
const arbEntitlement: fc.Arbitrary<EntitlementInput> = fc.record({
  action: fc.constantFrom('s3:GetObject', 's3:PutObject', 'iam:PutRolePolicy', '*', 'bedrock:InvokeModel', 'ec2:DescribeInstances'),
  resource: fc.constantFrom('*', 'arn:aws:s3:::reports/*', 'arn:aws:iam::123456789012:role/*'),
  accessLevel,
  sourceKind: fc.constant('managed_policy'),
  sourceRef: fc.constant('arn:aws:iam::aws:policy/X'),
  conditional: fc.boolean(),
})
const arbCredential = (index: number): fc.Arbitrary<CredentialInput> =>
  fc.record({
    id: fc.constant(index + 1),
    externalId: fc.constant(`KEY${index}`),
    type: fc.constantFrom('access_key', 'client_secret', 'secret_value'),
    status: fc.constantFrom('active', 'inactive', 'expired'),
    createdAt: fc.option(
      day.map((d) => daysAgo(d)),
      { nil: null },
    ),
    expiresAt: fc.option(
      day.map((d) => daysAgo(d)),
      { nil: null },
    ),
    lastUsedAt: fc.option(
      day.map((d) => daysAgo(Math.max(0, d))),
      { nil: null },
    ),
    lastUsedKnown: fc.boolean(),
    lastRotatedAt: fc.option(
      day.map((d) => daysAgo(Math.max(0, d))),
      { nil: null },
    ),
    rotationEnabled: fc.option(fc.boolean(), { nil: null }),
    isStatic: fc.boolean(),
  }) as fc.Arbitrary<CredentialInput>

const arbIdentity: fc.Arbitrary<IdentityInput> = fc
  .record({
    entitlements: fc.array(arbEntitlement, { maxLength: 6 }),
    credentialCount: fc.integer({ min: 0, max: 4 }),
    owners: fc.array(
      fc.record({
        kind: fc.constantFrom('person', 'team', 'group', 'unknown'),
        active: fc.option(fc.boolean(), { nil: null }),
        canAdd: fc.boolean(),
      }),
      { maxLength: 2 },
    ),
    agent: fc.boolean(),
    lastUsed: fc.option(
      day.map((d) => Math.max(0, d)),
      { nil: null },
    ),
    lastUsedKnown: fc.boolean(),
    created: day.map((d) => Math.max(0, d)),
    federation: fc.boolean(),
    workloads: fc.integer({ min: 0, max: 3 }),
    bothEnvironments: fc.boolean(),
    usageData: fc.constantFrom('available', 'unavailable', 'unknown'),
    runtimeLogging: fc.option(fc.boolean(), { nil: null }),
  })
  .chain((shape) =>
    fc.tuple(...Array.from({ length: shape.credentialCount }, (_, index) => arbCredential(index))).map((credentials) =>
      identity({
        entitlements: shape.entitlements,
        credentials,
        owners: shape.owners.map((o, index) =>
          owner({ ref: `owner${index}@example.com`, kind: o.kind as 'person', active: o.active, canAddCredentials: o.canAdd }),
        ),
        agentSignals: shape.agent ? [{ id: 'aws.trust.bedrock', platform: 'bedrock', weight: 0.85, reason: 'trust', evidence: {} }] : [],
        lastUsedAt: shape.lastUsed === null ? null : daysAgo(shape.lastUsed),
        lastUsedKnown: shape.lastUsedKnown,
        createdAt: daysAgo(shape.created),
        posture: {
          escalationPaths: [],
          unusedGrants: [],
          environments: shape.bothEnvironments ? ['production', 'non_production'] : ['production'],
          workloads: Array.from({ length: shape.workloads }, (_, index) => `w${index}`),
          monitoring: { usageData: shape.usageData as 'available', runtimeLogging: shape.runtimeLogging },
          federationPossible: shape.federation,
          unreadable: [],
        },
      }),
    ),
  )

const isExpired = (c: CredentialInput) => c.status === 'expired' || (c.expiresAt !== null && c.expiresAt.getTime() <= NOW.getTime())

describe('score invariants (property-based)', () => {
  it('adding a privilege never lowers the risk', () => {
    fc.assert(
      fc.property(arbIdentity, arbEntitlement, (subject, extra) => {
        expect(risk({ ...subject, entitlements: [...subject.entitlements, extra] })).toBeGreaterThanOrEqual(risk(subject))
      }),
      { numRuns: 400 },
    )
  })

  it('removing an expired credential never raises the risk', () => {
    fc.assert(
      fc.property(arbIdentity, (subject) => {
        const index = subject.credentials.findIndex(isExpired)
        fc.pre(index >= 0)
        const without = { ...subject, credentials: subject.credentials.filter((_, i) => i !== index) }
        expect(risk(without)).toBeLessThanOrEqual(risk(subject))
      }),
      { numRuns: 400 },
    )
  })

  it('the score does not depend on the order of the findings', () => {
    const arbFinding: fc.Arbitrary<ScoredFinding> = fc.record({
      ruleId: fc.constantFrom('a_x_y', 'b_x_y', 'c_x_y', 'd_x_y'),
      subjectKey: fc.constantFrom('', 'k1', 'k2'),
      dimension: fc.constantFrom('ownership', 'privilege', 'credential_age', 'monitoring'),
      severity: fc.constantFrom('critical', 'high', 'medium', 'low', 'info'),
    })
    const arbContext = fc.record({ maxAccessLevel: fc.option(accessLevel, { nil: null }), isAgent: fc.boolean() })
    fc.assert(
      fc.property(
        fc
          .uniqueArray(arbFinding, { selector: (f) => `${f.ruleId}/${f.subjectKey}`, maxLength: 12 })
          .chain((findings) =>
            fc.tuple(fc.constant(findings), fc.shuffledSubarray(findings, { minLength: findings.length, maxLength: findings.length })),
          ),
        arbContext,
        ([findings, shuffled], scoreContext) => {
          expect(computeScore(shuffled, scoreContext)).toEqual(computeScore(findings, scoreContext))
        },
      ),
      { numRuns: 400 },
    )
  })

  it('rounds shares by largest remainder: floors, then one point each to the largest remainders, ties to the earlier share', () => {
    // The definition, by sorting every share: what the pass computes without sorting must equal it.
    const bySorting = (total: number, shares: number[]) => {
      const target = Math.round(total)
      const sum = shares.reduce((a, b) => a + b, 0)
      if (target === 0 || sum <= 0) return shares.map(() => 0)
      const exact = shares.map((share) => (share / sum) * target)
      const result = exact.map(Math.floor)
      let left = target - result.reduce((a, b) => a + b, 0)
      const order = exact.map((_, index) => index).sort((a, b) => exact[b]! - Math.floor(exact[b]!) - (exact[a]! - Math.floor(exact[a]!)) || a - b)
      for (const index of order) if (left-- > 0) result[index]! += 1
      return result
    }
    const share = fc.oneof(fc.double({ min: 0, max: 5, noNaN: true }), fc.constantFrom(0, 0.5, 1, 1 / 3))
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), fc.array(share, { maxLength: 30 }), (total, shares) => {
        const points = allocateLargestRemainder(total, shares)
        expect(points).toEqual(bySorting(total, shares))
        if (shares.some((value) => value > 0)) expect(points.reduce((a, b) => a + b, 0)).toBe(total)
      }),
      { numRuns: 1000 },
    )
    expect(allocateLargestRemainder(3, [1, 1, 1, 1])).toEqual([1, 1, 1, 0])
  })

  it('every point of the risk and of each dimension is traced to a finding', () => {
    fc.assert(
      fc.property(arbIdentity, (subject) => {
        const { score } = assessIdentity(subject, context)
        expect(score.risk).toBeGreaterThanOrEqual(0)
        expect(score.risk).toBeLessThanOrEqual(100)
        expect(score.findings.reduce((sum, f) => sum + f.riskPoints, 0)).toBe(score.risk)
        for (const dimension of ['ownership', 'privilege', 'credential_age', 'monitoring'] as const) {
          const points = score.findings.filter((f) => f.dimension === dimension).reduce((sum, f) => sum + f.dimensionPoints, 0)
          expect(points).toBe(score.dimensions[dimension])
        }
      }),
      { numRuns: 300 },
    )
  })
})

describe('score formula', () => {
  const privilegeCritical: ScoredFinding = {
    ruleId: 'privilege_identity_full_admin',
    subjectKey: '',
    dimension: 'privilege',
    severity: 'critical',
  }
  const credentialMedium: ScoredFinding = {
    ruleId: 'credential_age_secret_too_old',
    subjectKey: 'k',
    dimension: 'credential_age',
    severity: 'medium',
  }

  it('is zero without findings, whatever the power', () => {
    expect(computeScore([], { maxAccessLevel: 'admin', isAgent: true }).risk).toBe(0)
  })

  it('weighs an agent with write or admin power more than a read-only one', () => {
    const levels: AccessLevel[] = ['read', 'write', 'admin']
    const agent = levels.map((level) => computeScore([credentialMedium], { maxAccessLevel: level, isAgent: true }).risk)
    const human = levels.map((level) => computeScore([credentialMedium], { maxAccessLevel: level, isAgent: false }).risk)
    expect(agent[0]).toBe(human[0]) // read-only: an agent weighs the same
    expect(agent[1]).toBeGreaterThan(human[1]!)
    expect(agent[2]).toBeGreaterThan(human[2]!)
    expect(agent[2]).toBeGreaterThan(agent[1]!)
  })

  it('matches the documented worked example', () => {
    // docs/scoring.md: one critical privilege finding on an admin identity.
    const score = computeScore([privilegeCritical], { maxAccessLevel: 'admin', isAgent: false })
    expect(score.dimensions.privilege).toBe(80)
    expect(score.risk).toBe(92)
    expect(score.findings[0]).toMatchObject({ riskPoints: 92, dimensionPoints: 80 })
  })

  it('excludes accepted and unknown findings from the score but lists them', () => {
    const subject = identity({ credentials: [credential({ createdAt: daysAgo(200) })], entitlements: [entitlement()] })
    const open = assessIdentity(subject, context)
    const finding = open.findings.find((f) => f.ruleId === 'credential_age_secret_too_old')!
    const accepted = assessIdentity(subject, { ...context, acceptedKeys: new Set([`${finding.ruleId}\u0000${finding.subjectKey}`]) })
    expect(accepted.score.risk).toBeLessThan(open.score.risk)
    expect(accepted.excluded).toContainEqual({ ruleId: finding.ruleId, subjectKey: finding.subjectKey, reason: 'accepted' })
  })
})
