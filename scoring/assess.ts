/**
 * The pure heart of a scoring pass: one identity in, its classification, owner, findings and
 * score out. No I/O, so tests (including property tests) call it directly.
 */
import { ACCESS_LEVELS, type AccessLevel } from '../connectors/contract.js'
import { classifyAgent } from './classification.js'
import { resolveOwnership, type OwnerDirectory } from './owners.js'
import { rules as catalogue } from './rules/index.js'
import { computeScore, type ScoreBreakdown } from './score.js'
import type { ResolvedThresholds } from './thresholds.js'
import type { Classification, FindingDraft, IdentityInput, Ownership, Rule, RuleInput } from './types.js'

export interface AssessmentContext {
  now: Date
  thresholds: ResolvedThresholds
  directory: OwnerDirectory
  /** Findings (by findingKey) a person accepted as a risk until a date still in the future. */
  acceptedKeys?: ReadonlySet<string>
  rules?: Rule[]
}

export interface Assessment {
  classification: Classification
  isAgent: boolean
  ownership: Ownership
  maxAccessLevel: AccessLevel | null
  findings: FindingDraft[]
  score: ScoreBreakdown
  /** Findings left out of the score, and why. */
  excluded: { ruleId: string; subjectKey: string; reason: 'accepted' | 'unknown' }[]
  credentialCount: number
  oldestCredentialAt: Date | null
}

export function findingKey(ruleId: string, subjectKey: string): string {
  return `${ruleId}\u0000${subjectKey}`
}

export function maxAccessLevelOf(entitlements: { accessLevel: AccessLevel }[]): AccessLevel | null {
  let max = -1
  for (const entitlement of entitlements) {
    const rank = ACCESS_LEVELS.indexOf(entitlement.accessLevel)
    if (rank > max) max = rank
  }
  return max >= 0 ? ACCESS_LEVELS[max]! : null
}

export function assessIdentity(identity: IdentityInput, context: AssessmentContext): Assessment {
  const classification = classifyAgent({
    provider: identity.provider,
    kind: identity.kind,
    displayName: identity.displayName,
    tags: identity.tags,
    signals: identity.agentSignals,
    entitlements: identity.entitlements,
  })
  const isAgent = identity.agentOverride === 'agent' ? true : identity.agentOverride === 'not_agent' ? false : classification.isAgent
  const ownersUnreadable = identity.posture.unreadable.some((part) => part.field === 'owners')
  const ownership = resolveOwnership(identity.owners, identity.claim, context.directory, ownersUnreadable)
  const maxAccessLevel = identity.maxAccessLevel !== undefined ? identity.maxAccessLevel : maxAccessLevelOf(identity.entitlements)

  let credentialCount = 0
  let oldest: number | null = null
  for (const credential of identity.credentials) {
    if (credential.status === 'revoked' || credential.status === 'gone') continue
    credentialCount += 1
    if (credential.status === 'active' && credential.createdAt) {
      const time = credential.createdAt.getTime()
      if (oldest === null || time < oldest) oldest = time
    }
  }

  const findings: FindingDraft[] = []
  // A retired identity has no posture: every finding it had resolves.
  if (identity.status === 'active' || identity.status === 'disabled') {
    const input: RuleInput = {
      identity,
      ownership,
      isAgent,
      classification,
      maxAccessLevel,
      thresholds: context.thresholds,
      now: context.now,
    }
    const seen = new Set<string>()
    for (const rule of context.rules ?? catalogue) {
      let outcomes
      try {
        outcomes = rule.evaluate(input)
      } catch (error) {
        throw new Error(
          `Rule ${rule.id} failed on identity ${identity.id} (${identity.externalId}): ${error instanceof Error ? error.message : String(error)}`,
          {
            cause: error,
          },
        )
      }
      for (const outcome of outcomes) {
        const key = findingKey(rule.id, outcome.subjectKey)
        if (seen.has(key)) continue
        seen.add(key)
        findings.push({
          ruleId: rule.id,
          dimension: rule.dimension,
          severity: rule.severity,
          nhi: rule.nhi,
          status: outcome.status === 'fail' ? 'open' : 'unknown',
          subjectKey: outcome.subjectKey,
          credentialId: outcome.credentialId ?? null,
          evidence:
            outcome.status === 'unknown' ? { ...outcome.evidence, missingPermission: outcome.missingPermission ?? null } : outcome.evidence,
        })
      }
    }
  }

  const excluded: Assessment['excluded'] = []
  const scored = []
  for (const finding of findings) {
    if (finding.status === 'unknown') excluded.push({ ruleId: finding.ruleId, subjectKey: finding.subjectKey, reason: 'unknown' })
    else if (context.acceptedKeys?.has(findingKey(finding.ruleId, finding.subjectKey)))
      excluded.push({ ruleId: finding.ruleId, subjectKey: finding.subjectKey, reason: 'accepted' })
    else scored.push(finding)
  }
  const score = computeScore(scored, { maxAccessLevel, isAgent })
  return {
    classification,
    isAgent,
    ownership,
    maxAccessLevel,
    findings,
    score,
    excluded,
    credentialCount,
    oldestCredentialAt: oldest === null ? null : new Date(oldest),
  }
}
