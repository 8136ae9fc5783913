/**
 * The normalized view every rule reads. One identity with everything the rules may look at,
 * whatever the provider: rules never see provider payloads, so one rule serves every provider
 * where its concept exists.
 */
import type { AccessLevel, AgentPlatform, AgentSignal, EscalationPath, ProviderName, UnreadablePart } from '../connectors/contract.js'
import type { Dimension, Severity } from '../db/schema.js'
import type { ResolvedThresholds } from './thresholds.js'

export type { Dimension, Severity }

/**
 * A stored finding as a decision or a pass names it: its id together with its identity, since
 * findings are keyed by identity (docs/decisions/046) and a finding is always shown on its
 * identity's page.
 */
export interface FindingRef {
  identityId: number
  findingId: number
}

export interface CredentialInput {
  /** Database id (findings reference it); 0 in pure tests when irrelevant. */
  id: number
  externalId: string
  type: string
  status: 'active' | 'inactive' | 'expired' | 'revoked' | 'gone'
  createdAt: Date | null
  expiresAt: Date | null
  lastUsedAt: Date | null
  lastUsedKnown: boolean
  lastRotatedAt: Date | null
  rotationEnabled: boolean | null
  isStatic: boolean
}

export interface EntitlementInput {
  action: string
  resource: string
  accessLevel: AccessLevel
  sourceKind: string
  sourceRef: string
  conditional: boolean
}

export interface OwnerHintInput {
  ref: string
  role: 'owner' | 'sponsor' | 'creator' | 'last_user'
  kind: 'person' | 'team' | 'group' | 'unknown'
  source: 'tag' | 'provider' | 'inferred' | 'claim'
  displayName: string | null
  active: boolean | null
  canAddCredentials: boolean
}

/** A confirmed claim or an accepted handover: the person Leash users agreed owns the identity. */
export interface ClaimInput {
  kind: 'claim' | 'handover'
  userRef: string
  displayName: string
  disabled: boolean
  decidedAt: Date | null
}

export interface PostureInputs {
  escalationPaths: EscalationPath[]
  unusedGrants: { name: string; lastUsedAt: Date | null }[] | null
  environments: ('production' | 'non_production')[]
  workloads: string[]
  monitoring: { usageData: 'available' | 'unavailable' | 'unknown'; runtimeLogging: boolean | null }
  federationPossible: boolean
  unreadable: UnreadablePart[]
}

export type OwnerValidity = 'valid' | 'invalid'

export interface ResolvedOwner {
  ref: string
  kind: OwnerHintInput['kind']
  role: OwnerHintInput['role']
  source: OwnerHintInput['source']
  displayName: string | null
  validity: OwnerValidity
  /** Why an owner is invalid, in plain words. */
  invalidReason: string | null
  canAddCredentials: boolean
}

export interface Ownership {
  status: 'valid' | 'invalid' | 'none' | 'unknown'
  primary: ResolvedOwner | null
  /** Who answers for the identity: the claim when there is one, else owner and sponsor hints. */
  accountable: ResolvedOwner[]
  /** Every hint, including creators and last users (suggestions, not owners). */
  all: ResolvedOwner[]
}

export interface Classification {
  isAgent: boolean
  confidence: number
  platform: AgentPlatform | null
  /** Every signal considered, including those Leash derived itself (source: 'leash'). */
  reasons: ClassifiedSignal[]
}

export interface ClassifiedSignal extends AgentSignal {
  source: 'connector' | 'leash'
  /** Whether the signal counted towards the confidence (look-alike names do not). */
  counted: boolean
}

/** The identity as the rules see it. */
export interface IdentityInput {
  id: number
  sourceId: string
  provider: string
  kind: string
  externalId: string
  displayName: string
  accountId: string
  tags: Record<string, string>
  status: 'active' | 'disabled' | 'revoked' | 'gone'
  createdAt: Date | null
  lastUsedAt: Date | null
  lastUsedKnown: boolean
  credentials: CredentialInput[]
  /**
   * The grants the rules and the classifier read. A scoring pass loads only the notable ones
   * (scoring/notable-entitlements.ts) and gives `maxAccessLevel`; without it, every grant is here.
   */
  entitlements: EntitlementInput[]
  /** The highest access level over all grants, when `entitlements` holds only the notable ones. */
  maxAccessLevel?: AccessLevel | null
  owners: OwnerHintInput[]
  claim: ClaimInput | null
  agentSignals: AgentSignal[]
  agentOverride: 'agent' | 'not_agent' | null
  posture: PostureInputs
}

/** What a rule's evaluate() receives: the identity plus everything derived before the rules run. */
export interface RuleInput {
  identity: IdentityInput
  ownership: Ownership
  isAgent: boolean
  classification: Classification
  maxAccessLevel: AccessLevel | null
  thresholds: ResolvedThresholds
  now: Date
}

export interface RuleOutcome {
  status: 'fail' | 'unknown'
  /** '' for identity-level outcomes, the credential's external id (or another stable key) otherwise. */
  subjectKey: string
  credentialId?: number | null
  evidence: Record<string, unknown>
  /** For 'unknown': the permission whose absence stopped Leash from deciding. */
  missingPermission?: string | null
}

export type NhiItem = 'NHI1' | 'NHI2' | 'NHI3' | 'NHI4' | 'NHI5' | 'NHI6' | 'NHI7' | 'NHI8' | 'NHI9' | 'NHI10'

export interface Rule {
  /** `<dimension>_<subject>_<condition>`. */
  id: string
  title: string
  dimension: Dimension
  severity: Severity
  /** OWASP Non-Human Identities Top 10 (2025) item. */
  nhi: NhiItem
  /** Other NHI items the rule also speaks to. */
  relatedNhi?: NhiItem[]
  /** Why it matters, for a security lead. */
  rationale: string
  remediation: {
    console: string[]
    /**
     * The command line that does it, per provider where one exists. Rules serve every provider,
     * but a command does not: the identity page shows the identity's own provider's command,
     * never another provider's as if it applied.
     */
    cli: Partial<Record<ProviderName, string>>
  }
  /** The one-click revocation action that remedies it, when one exists. */
  remedyActionId: string | null
  /** Threshold names the rule reads (see scoring/thresholds.ts). */
  thresholds: readonly string[]
  /** Reads only the normalized input. An empty array means the identity passes. */
  evaluate(input: RuleInput): RuleOutcome[]
}

/** A rule outcome with the rule's metadata: one row of `findings` to be. */
export interface FindingDraft {
  ruleId: string
  dimension: Dimension
  severity: Severity
  nhi: NhiItem
  status: 'open' | 'unknown'
  subjectKey: string
  credentialId: number | null
  evidence: Record<string, unknown>
}
