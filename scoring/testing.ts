/** Builders for scoring tests: a clean identity that passes every rule, changed per test. */
import { classifyAgent } from './classification.js'
import { maxAccessLevelOf } from './assess.js'
import { EMPTY_DIRECTORY, resolveOwnership, type OwnerDirectory } from './owners.js'
import { defaultThresholds, type ResolvedThresholds } from './thresholds.js'
import type { CredentialInput, EntitlementInput, IdentityInput, OwnerHintInput, RuleInput } from './types.js'

export const NOW = new Date('2026-06-01T00:00:00Z')

export function daysAgo(days: number, now = NOW): Date {
  return new Date(now.getTime() - days * 86_400_000)
}

export function credential(overrides: Partial<CredentialInput> = {}): CredentialInput {
  return {
    id: 1,
    externalId: 'AKIAEXAMPLE0000001',
    type: 'access_key',
    status: 'active',
    createdAt: daysAgo(10),
    expiresAt: daysAgo(-200),
    lastUsedAt: daysAgo(1),
    lastUsedKnown: true,
    lastRotatedAt: null,
    rotationEnabled: null,
    isStatic: true,
    ...overrides,
  }
}

export function entitlement(overrides: Partial<EntitlementInput> = {}): EntitlementInput {
  return {
    action: 's3:GetObject',
    resource: 'arn:aws:s3:::reports/*',
    accessLevel: 'read',
    sourceKind: 'managed_policy',
    sourceRef: 'arn:aws:iam::123456789012:policy/reports-read',
    conditional: false,
    ...overrides,
  }
}

export function owner(overrides: Partial<OwnerHintInput> = {}): OwnerHintInput {
  return {
    ref: 'alice@example.com',
    role: 'owner',
    kind: 'person',
    source: 'tag',
    displayName: 'Alice',
    active: true,
    canAddCredentials: false,
    ...overrides,
  }
}

/** An identity every rule passes: owned, least-privilege, fresh credentials, used yesterday. */
export function identity(overrides: Partial<IdentityInput> = {}): IdentityInput {
  return {
    id: 1,
    sourceId: 'source-1',
    provider: 'aws',
    kind: 'role',
    externalId: 'arn:aws:iam::123456789012:role/reports',
    displayName: 'reports',
    accountId: '123456789012',
    tags: {},
    status: 'active',
    createdAt: daysAgo(100),
    lastUsedAt: daysAgo(1),
    lastUsedKnown: true,
    credentials: [credential()],
    entitlements: [entitlement()],
    owners: [owner()],
    claim: null,
    agentSignals: [],
    agentOverride: null,
    posture: {
      escalationPaths: [],
      unusedGrants: [],
      environments: ['production'],
      workloads: ['reports-service'],
      monitoring: { usageData: 'available', runtimeLogging: null },
      federationPossible: false,
      unreadable: [],
    },
    ...overrides,
  }
}

export function withPosture(base: IdentityInput, posture: Partial<IdentityInput['posture']>): IdentityInput {
  return { ...base, posture: { ...base.posture, ...posture } }
}

export function ruleInput(
  subject: IdentityInput,
  options: { now?: Date; thresholds?: ResolvedThresholds; directory?: OwnerDirectory; isAgent?: boolean } = {},
): RuleInput {
  const classification = classifyAgent({
    provider: subject.provider,
    kind: subject.kind,
    displayName: subject.displayName,
    tags: subject.tags,
    signals: subject.agentSignals,
    entitlements: subject.entitlements,
  })
  const isAgent = options.isAgent ?? (subject.agentOverride ? subject.agentOverride === 'agent' : classification.isAgent)
  return {
    identity: subject,
    ownership: resolveOwnership(
      subject.owners,
      subject.claim,
      options.directory ?? EMPTY_DIRECTORY,
      subject.posture.unreadable.some((part) => part.field === 'owners'),
    ),
    isAgent,
    classification,
    maxAccessLevel: maxAccessLevelOf(subject.entitlements),
    thresholds: options.thresholds ?? defaultThresholds(),
    now: options.now ?? NOW,
  }
}
