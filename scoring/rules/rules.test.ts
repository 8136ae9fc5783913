import { describe, expect, it } from 'vitest'
import { defaultThresholds } from '../thresholds.js'
import { credential, daysAgo, entitlement, identity, NOW, owner, ruleInput, withPosture } from '../testing.js'
import type { RuleInput, RuleOutcome } from '../types.js'
import { rules } from './index.js'
import type { ProviderName } from '../../connectors/contract.js'

const PROVIDER_COMMAND: Record<ProviderName, RegExp> = {
  aws: /^aws /,
  azure: /^az /,
  gcp: /^gcloud /,
  vault: /^vault /,
  github: /^gh api /,
  openai: /^curl .*https:\/\/api\.openai\.com\//,
  anthropic: /^curl .*https:\/\/api\.anthropic\.com\//,
}

const unreadableCredentials = { field: 'credentials' as const, operation: 'iam:ListAccessKeys', permission: 'iam:ListAccessKeys' }
const unreadableUsage = { field: 'usage' as const, operation: 'iam:GetAccessKeyLastUsed', permission: 'iam:GetAccessKeyLastUsed' }
const unreadableEntitlements = {
  field: 'entitlements' as const,
  operation: 'iam:GetAccountAuthorizationDetails',
  permission: 'iam:GetAccountAuthorizationDetails',
}
const unreadableOwners = { field: 'owners' as const, operation: 'GET /applications/{id}/owners', permission: 'Application.Read.All' }
const agentSignal = {
  id: 'aws.trust.bedrock',
  platform: 'bedrock' as const,
  weight: 0.85,
  reason: 'Trusted by bedrock.amazonaws.com',
  evidence: {},
}
const admin = entitlement({ action: '*', resource: '*', accessLevel: 'admin', sourceRef: 'arn:aws:iam::aws:policy/AdministratorAccess' })

interface Case {
  pass: RuleInput
  fail: RuleInput
  /** What the failing outcome must show. */
  failEvidence?: Record<string, unknown>
  failSubject?: string
  unknown?: RuleInput
  unknownPermission?: string | null
}

const cases: Record<string, Case> = {
  ownership_identity_no_owner: {
    pass: ruleInput(identity()),
    fail: ruleInput(identity({ owners: [owner({ role: 'creator', ref: 'bob@example.com', source: 'inferred' })] })),
    failEvidence: { candidates: [{ ref: 'bob@example.com', role: 'creator', source: 'inferred', displayName: 'Alice' }] },
    unknown: ruleInput(identity({ owners: [], posture: { ...identity().posture, unreadable: [unreadableOwners] } })),
    unknownPermission: 'Application.Read.All',
  },
  ownership_owner_inactive: {
    pass: ruleInput(identity({ owners: [owner({ ref: 'gone@example.com', active: false }), owner({ ref: 'bob@example.com' })] })),
    fail: ruleInput(identity({ owners: [owner({ ref: 'gone@example.com' })] }), {
      directory: { disabled: new Set(), departed: new Set(['gone@example.com']) },
    }),
    failEvidence: { owners: [{ ref: 'gone@example.com', source: 'tag', role: 'owner', reason: 'listed as having left the organisation' }] },
  },
  ownership_owner_group_only: {
    pass: ruleInput(identity({ owners: [owner({ ref: 'platform-team', kind: 'team' }), owner()] })),
    fail: ruleInput(identity({ owners: [owner({ ref: 'platform-team', kind: 'team' })] })),
    failEvidence: { owners: [{ ref: 'platform-team', kind: 'team', source: 'tag' }] },
    unknown: ruleInput(identity({ owners: [owner({ ref: 'svc-owners', kind: 'unknown' })] })),
    unknownPermission: null,
  },
  ownership_identity_owners_can_add_credentials: {
    // Owners who can add credentials are fine on a read-only identity.
    pass: ruleInput(identity({ owners: [owner({ source: 'provider', canAddCredentials: true })] })),
    fail: ruleInput(identity({ entitlements: [admin], owners: [owner({ source: 'provider', canAddCredentials: true })] })),
    failEvidence: { maxAccessLevel: 'admin' },
    unknown: ruleInput(identity({ entitlements: [admin], owners: [], posture: { ...identity().posture, unreadable: [unreadableOwners] } })),
    unknownPermission: 'Application.Read.All',
  },
  ownership_agent_no_sponsor: {
    pass: ruleInput(identity({ agentSignals: [agentSignal], owners: [owner({ role: 'sponsor' })] })),
    fail: ruleInput(identity({ agentSignals: [agentSignal], owners: [owner({ ref: 'ai-team', kind: 'team' })] })),
    failEvidence: { agentPlatform: 'bedrock' },
  },
  privilege_identity_full_admin: {
    pass: ruleInput(identity({ entitlements: [entitlement({ accessLevel: 'write', action: 's3:PutObject' })] })),
    fail: ruleInput(identity({ entitlements: [entitlement(), admin] })),
    failEvidence: { total: 1 },
    unknown: ruleInput(withPosture(identity({ entitlements: [] }), { unreadable: [unreadableEntitlements] })),
    unknownPermission: 'iam:GetAccountAuthorizationDetails',
  },
  privilege_identity_permissions_management: {
    pass: ruleInput(identity()),
    fail: ruleInput(
      identity({ entitlements: [entitlement({ action: 'iam:PutRolePolicy', resource: '*', accessLevel: 'permissions_management' })] }),
    ),
    failEvidence: { total: 1 },
    unknown: ruleInput(withPosture(identity({ entitlements: [] }), { unreadable: [unreadableEntitlements] })),
    unknownPermission: 'iam:GetAccountAuthorizationDetails',
  },
  privilege_identity_escalation_path: {
    pass: ruleInput(identity()),
    fail: ruleInput(
      withPosture(identity(), {
        escalationPaths: [{ id: 'passrole_lambda', title: 'PassRole to Lambda', permissions: ['iam:PassRole', 'lambda:CreateFunction'] }],
      }),
    ),
    failEvidence: { total: 1 },
    unknown: ruleInput(withPosture(identity(), { unreadable: [unreadableEntitlements] })),
    unknownPermission: 'iam:GetAccountAuthorizationDetails',
  },
  privilege_write_wildcard_resource: {
    // A write on one bucket's objects is scoped; a read on "*" is not a write.
    pass: ruleInput(
      identity({
        entitlements: [
          entitlement({ action: 's3:PutObject', resource: 'arn:aws:s3:::reports/*', accessLevel: 'write' }),
          entitlement({ action: 'ec2:DescribeInstances', resource: '*', accessLevel: 'list' }),
        ],
      }),
    ),
    fail: ruleInput(
      identity({
        entitlements: [
          entitlement({ action: 'dynamodb:PutItem', resource: 'arn:aws:dynamodb:eu-west-1:123456789012:*', accessLevel: 'write' }),
        ],
      }),
    ),
    failEvidence: { total: 1 },
    unknown: ruleInput(withPosture(identity({ entitlements: [] }), { unreadable: [unreadableEntitlements] })),
    unknownPermission: 'iam:GetAccountAuthorizationDetails',
  },
  privilege_identity_unused_grants: {
    pass: ruleInput(withPosture(identity(), { unusedGrants: [] })),
    fail: ruleInput(withPosture(identity(), { unusedGrants: [{ name: 'ec2', lastUsedAt: null }] })),
    failEvidence: { unused: [{ name: 'ec2', lastUsedAt: null }], total: 1 },
    unknown: ruleInput(
      withPosture(identity(), {
        unusedGrants: null,
        unreadable: [
          {
            field: 'unused_grants',
            operation: 'iam:GenerateServiceLastAccessedDetails',
            permission: 'iam:GenerateServiceLastAccessedDetails',
          },
        ],
      }),
    ),
    unknownPermission: 'iam:GenerateServiceLastAccessedDetails',
  },
  privilege_identity_shared_workloads: {
    pass: ruleInput(withPosture(identity(), { workloads: ['billing'] })),
    fail: ruleInput(withPosture(identity(), { workloads: ['billing', 'support-agent'] })),
    failEvidence: { total: 2, limit: 1, limitSource: 'default' },
  },
  privilege_identity_cross_environment: {
    pass: ruleInput(withPosture(identity(), { environments: ['non_production'] })),
    fail: ruleInput(withPosture(identity(), { environments: ['production', 'non_production'] })),
    failEvidence: { environments: ['non_production', 'production'] },
  },
  credential_age_secret_too_old: {
    pass: ruleInput(identity({ credentials: [credential({ createdAt: daysAgo(400), lastRotatedAt: daysAgo(30) })] })),
    fail: ruleInput(identity({ credentials: [credential({ createdAt: daysAgo(120) })] })),
    failSubject: 'AKIAEXAMPLE0000001',
    // Created 120 days ago with a 90-day limit: over it since the 91st day, 29 days ago.
    failEvidence: { createdAt: daysAgo(120).toISOString(), limitDays: 90, limitSource: 'default', overLimitSince: daysAgo(29).toISOString() },
    unknown: ruleInput(withPosture(identity(), { unreadable: [unreadableCredentials] })),
    unknownPermission: 'iam:ListAccessKeys',
  },
  credential_age_secret_never_rotated: {
    pass: ruleInput(identity({ credentials: [credential({ type: 'secret_value', rotationEnabled: true })] })),
    fail: ruleInput(identity({ credentials: [credential({ type: 'secret_value', externalId: 'prod/db', rotationEnabled: false })] })),
    failSubject: 'prod/db',
    failEvidence: { rotationEnabled: false },
    unknown: ruleInput(withPosture(identity(), { unreadable: [unreadableCredentials] })),
    unknownPermission: 'iam:ListAccessKeys',
  },
  credential_age_secret_expiry_too_far: {
    pass: ruleInput(identity({ credentials: [credential({ createdAt: daysAgo(10), expiresAt: daysAgo(-300) })] })),
    fail: ruleInput(identity({ credentials: [credential({ expiresAt: null })] })),
    failSubject: 'AKIAEXAMPLE0000001',
    failEvidence: { expiresAt: null, limitDays: 365 },
    unknown: ruleInput(withPosture(identity(), { unreadable: [unreadableCredentials] })),
    unknownPermission: 'iam:ListAccessKeys',
  },
  credential_age_secret_expired_present: {
    pass: ruleInput(identity({ credentials: [credential({ status: 'gone', expiresAt: daysAgo(5) })] })),
    fail: ruleInput(identity({ credentials: [credential({ type: 'client_secret', externalId: 'secret-1', expiresAt: daysAgo(5) })] })),
    failSubject: 'secret-1',
    failEvidence: { expiresAt: daysAgo(5).toISOString() },
    unknown: ruleInput(withPosture(identity(), { unreadable: [unreadableCredentials] })),
    unknownPermission: 'iam:ListAccessKeys',
  },
  credential_age_identity_multiple_active_keys: {
    pass: ruleInput(identity({ credentials: [credential(), credential({ id: 2, externalId: 'AKIAEXAMPLE0000002', status: 'inactive' })] })),
    fail: ruleInput(identity({ credentials: [credential(), credential({ id: 2, externalId: 'AKIAEXAMPLE0000002' })] })),
    failSubject: 'type:access_key',
    failEvidence: { type: 'access_key', limit: 1 },
    unknown: ruleInput(withPosture(identity(), { unreadable: [unreadableCredentials] })),
    unknownPermission: 'iam:ListAccessKeys',
  },
  credential_age_secret_federation_possible: {
    pass: ruleInput(withPosture(identity({ credentials: [credential({ isStatic: false, type: 'token' })] }), { federationPossible: true })),
    fail: ruleInput(withPosture(identity(), { federationPossible: true })),
    failEvidence: { total: 1 },
    unknown: ruleInput(withPosture(identity(), { federationPossible: true, unreadable: [unreadableCredentials] })),
    unknownPermission: 'iam:ListAccessKeys',
  },
  monitoring_identity_never_used: {
    pass: ruleInput(identity({ lastUsedAt: null, createdAt: daysAgo(10), credentials: [credential({ lastUsedAt: null })] })),
    fail: ruleInput(identity({ lastUsedAt: null, createdAt: daysAgo(60), credentials: [credential({ lastUsedAt: null })] })),
    failEvidence: { createdAt: daysAgo(60).toISOString(), graceDays: 45, overLimitSince: daysAgo(14).toISOString() },
    unknown: ruleInput(
      withPosture(
        identity({ lastUsedKnown: false, lastUsedAt: null, credentials: [credential({ lastUsedKnown: false, lastUsedAt: null })] }),
        {
          unreadable: [unreadableUsage],
        },
      ),
    ),
    unknownPermission: 'iam:GetAccessKeyLastUsed',
  },
  monitoring_identity_unused: {
    pass: ruleInput(identity({ lastUsedAt: daysAgo(89), credentials: [] })),
    fail: ruleInput(identity({ lastUsedAt: daysAgo(91), credentials: [credential({ lastUsedAt: daysAgo(120) })] })),
    failEvidence: { lastUsedAt: daysAgo(91).toISOString(), limitDays: 90, overLimitSince: NOW.toISOString() },
    unknown: ruleInput(
      withPosture(identity({ lastUsedKnown: false, lastUsedAt: null, credentials: [] }), { unreadable: [unreadableUsage] }),
    ),
    unknownPermission: 'iam:GetAccessKeyLastUsed',
  },
  monitoring_credential_unused: {
    pass: ruleInput(identity({ credentials: [credential({ lastUsedAt: daysAgo(44) })] })),
    fail: ruleInput(identity({ credentials: [credential({ lastUsedAt: daysAgo(46) })] })),
    failSubject: 'AKIAEXAMPLE0000001',
    failEvidence: { lastUsedAt: daysAgo(46).toISOString(), limitDays: 45, overLimitSince: NOW.toISOString() },
    unknown: ruleInput(withPosture(identity(), { unreadable: [unreadableUsage] })),
    unknownPermission: 'iam:GetAccessKeyLastUsed',
  },
  monitoring_identity_no_last_used_data: {
    pass: ruleInput(identity({ lastUsedKnown: false, lastUsedAt: null })), // the credential's last use is known
    fail: ruleInput(
      identity({ lastUsedKnown: false, lastUsedAt: null, credentials: [credential({ lastUsedKnown: false, lastUsedAt: null })] }),
    ),
    failEvidence: { lastUsedKnown: false },
    unknown: ruleInput(
      withPosture(identity({ lastUsedKnown: false, lastUsedAt: null, credentials: [] }), { unreadable: [unreadableUsage] }),
    ),
    unknownPermission: 'iam:GetAccessKeyLastUsed',
  },
  monitoring_source_usage_logs_unavailable: {
    pass: ruleInput(identity()),
    fail: ruleInput(withPosture(identity(), { monitoring: { usageData: 'unavailable', runtimeLogging: null } })),
    failEvidence: { usageData: 'unavailable' },
    unknown: ruleInput(
      withPosture(identity(), { monitoring: { usageData: 'unknown', runtimeLogging: null }, unreadable: [unreadableUsage] }),
    ),
    unknownPermission: 'iam:GetAccessKeyLastUsed',
  },
  monitoring_agent_runtime_logging_disabled: {
    // Logging off on something that is not an agent is not this rule's business.
    pass: ruleInput(withPosture(identity(), { monitoring: { usageData: 'available', runtimeLogging: false } })),
    fail: ruleInput(
      withPosture(identity({ agentSignals: [agentSignal] }), { monitoring: { usageData: 'available', runtimeLogging: false } }),
    ),
    failEvidence: { runtimeLogging: false, agentPlatform: 'bedrock' },
  },
}

describe('rule catalogue', () => {
  it('has a passing and a failing case for every rule, and no case for a rule that does not exist', () => {
    expect(Object.keys(cases).sort()).toEqual(rules.map((rule) => rule.id).sort())
  })

  it('names every rule <dimension>_<subject>_<condition> with complete metadata', () => {
    const ids = new Set<string>()
    for (const rule of rules) {
      expect(ids.has(rule.id), rule.id).toBe(false)
      ids.add(rule.id)
      expect(rule.id.startsWith(`${rule.dimension}_`), rule.id).toBe(true)
      expect(rule.id.slice(rule.dimension.length + 1).split('_').length, rule.id).toBeGreaterThanOrEqual(2)
      expect(rule.nhi).toMatch(/^NHI([1-9]|10)$/)
      expect(rule.rationale.length, rule.id).toBeGreaterThan(60)
      expect(rule.remediation.console.length, rule.id).toBeGreaterThan(0)
      const commands = Object.entries(rule.remediation.cli)
      expect(commands.length, rule.id).toBeGreaterThan(0)
      // Each command is for the provider it is filed under: its own CLI, or its own API.
      for (const [provider, command] of commands) expect(command, `${rule.id} (${provider})`).toMatch(PROVIDER_COMMAND[provider as ProviderName])
      for (const name of rule.thresholds) expect(Object.keys(defaultThresholds().values), rule.id).toContain(name)
    }
    const byDimension = (dimension: string) => rules.filter((rule) => rule.dimension === dimension).length
    expect(byDimension('ownership')).toBeGreaterThanOrEqual(5)
    expect(byDimension('privilege')).toBeGreaterThanOrEqual(7)
    expect(byDimension('credential_age')).toBeGreaterThanOrEqual(6)
    expect(byDimension('monitoring')).toBeGreaterThanOrEqual(5)
  })

  for (const rule of rules) {
    describe(rule.id, () => {
      const testCase = cases[rule.id]
      it('passes a compliant identity', () => {
        expect(rule.evaluate(testCase!.pass)).toEqual([])
      })
      it('fails a non-compliant identity, with evidence', () => {
        const outcomes = rule.evaluate(testCase!.fail)
        expect(outcomes.length).toBeGreaterThan(0)
        const outcome = outcomes[0] as RuleOutcome
        expect(outcome.status).toBe('fail')
        expect(outcome.subjectKey).toBe(testCase!.failSubject ?? '')
        expect(outcome.evidence).toMatchObject(testCase!.failEvidence ?? {})
      })
      it('writes evidence that reads the same a day later, while only the clock moved', () => {
        // A daily re-evaluation rewrites a finding whose evidence changed (docs/decisions/036):
        // evidence must hold dates and facts, never a count of days since something.
        const dayLater = { ...testCase!.fail, now: new Date(testCase!.fail.now.getTime() + 86_400_000) }
        const today = rule.evaluate(testCase!.fail)
        const tomorrow = rule.evaluate(dayLater)
        expect(tomorrow.map((outcome) => [outcome.status, outcome.subjectKey, outcome.evidence])).toEqual(
          today.map((outcome) => [outcome.status, outcome.subjectKey, outcome.evidence]),
        )
      })
      if (testCase?.unknown) {
        it('answers "unknown" with the missing permission when data could not be read, never "fail"', () => {
          const outcomes = rule.evaluate(testCase.unknown!)
          expect(outcomes.length).toBeGreaterThan(0)
          for (const outcome of outcomes) expect(outcome.status).toBe('unknown')
          expect(outcomes[0]!.missingPermission ?? null).toBe(testCase.unknownPermission)
        })
      }
    })
  }
})

describe('thresholds in rules', () => {
  it('uses an overridden limit and says where it came from', () => {
    const thresholds = defaultThresholds()
    thresholds.values.maxCredentialAgeDays = 30
    thresholds.origins.maxCredentialAgeDays = 'tag:env=production'
    const rule = rules.find((r) => r.id === 'credential_age_secret_too_old')!
    const input = ruleInput(identity({ credentials: [credential({ createdAt: daysAgo(40) })] }), { thresholds })
    expect(rule.evaluate(input)[0]?.evidence).toMatchObject({ limitDays: 30, limitSource: 'tag:env=production', overLimitSince: daysAgo(9).toISOString() })
    expect(rule.evaluate(ruleInput(identity({ credentials: [credential({ createdAt: daysAgo(40) })] })))).toEqual([])
  })

  it("treats account-wide and type-wide ARNs as wildcards, one bucket's objects not", async () => {
    const { isWildcardResource } = await import('./privilege/write-wildcard-resource.js')
    expect(isWildcardResource('*')).toBe(true)
    expect(isWildcardResource('arn:aws:s3:::*')).toBe(true)
    expect(isWildcardResource('arn:aws:iam::123456789012:role/*')).toBe(true)
    expect(isWildcardResource('arn:aws:s3:::reports/*')).toBe(false)
    expect(isWildcardResource('arn:aws:iam::123456789012:role/deploy')).toBe(false)
  })

  it('judges a secret with no creation date by what is left of its validity, with evidence that does not move', () => {
    const rule = rules.find((r) => r.id === 'credential_age_secret_expiry_too_far')!
    const undated = (now: Date) =>
      rule.evaluate(ruleInput(identity({ credentials: [credential({ createdAt: null, expiresAt: new Date(NOW.getTime() + 500 * 86_400_000) })] }), { now }))
    expect(undated(NOW)[0]).toMatchObject({ status: 'fail', evidence: { createdAt: null, lifetimeDays: null, limitDays: 365 } })
    expect(undated(new Date(NOW.getTime() + 86_400_000))).toEqual(undated(NOW))
    // Less than a year left: no finding.
    expect(undated(new Date(NOW.getTime() + 200 * 86_400_000))).toEqual([])
  })

  it('measures ages against the pass time, not the wall clock', () => {
    const rule = rules.find((r) => r.id === 'credential_age_secret_too_old')!
    const input = ruleInput(identity({ credentials: [credential({ createdAt: daysAgo(80) })] }), {
      now: new Date(NOW.getTime() + 20 * 86_400_000),
    })
    expect(rule.evaluate(input)[0]?.evidence).toMatchObject({ overLimitSince: new Date(NOW.getTime() + 11 * 86_400_000).toISOString() })
    // Ten days later the same key is still over the limit, and its evidence reads the same.
    const later = ruleInput(identity({ credentials: [credential({ createdAt: daysAgo(80) })] }), { now: new Date(NOW.getTime() + 30 * 86_400_000) })
    expect(rule.evaluate(later)[0]?.evidence).toEqual(rule.evaluate(input)[0]?.evidence)
  })
})
