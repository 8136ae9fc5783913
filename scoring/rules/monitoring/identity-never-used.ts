import { daysBetween, defineRule, iso, overLimitSince, threshold, unknownBecause, unreadable } from '../helpers.js'
import { identityUsage } from './usage.js'
import { DISABLE_UNUSED_IDENTITY } from '../commands.js'

export const monitoringIdentityNeverUsed = defineRule({
  id: 'monitoring_identity_never_used',
  title: 'Identity never used since it was created',
  dimension: 'monitoring',
  severity: 'medium',
  nhi: 'NHI1',
  rationale:
    'An identity created and never used is either a leftover of an abandoned project or waiting to be used by someone nobody expects. Either way its rights and secrets are exposure without purpose.',
  remediation: {
    console: [
      'Ask the owner (or the creator in the evidence) whether the identity is still needed.',
      'If not, disable it, and delete it after the grace period.',
    ],
    cli: {
      aws: 'aws iam update-access-key --user-name USER --access-key-id KEY_ID --status Inactive   # then aws iam delete-user / delete-role',
      ...DISABLE_UNUSED_IDENTITY,
    },
  },
  remedyActionId: null,
  thresholds: ['neverUsedGraceDays'],
  evaluate(input) {
    const usage = identityUsage(input)
    if (!usage.known) {
      const part = unreadable(input, 'usage')
      return part ? [unknownBecause(part)] : []
    }
    if (usage.lastUsedAt || !input.identity.createdAt) return []
    const grace = threshold(input, 'neverUsedGraceDays')
    if (daysBetween(input.identity.createdAt, input.now) <= grace.value) return []
    return [
      {
        status: 'fail',
        subjectKey: '',
        evidence: {
          createdAt: iso(input.identity.createdAt),
          lastUsedAt: null,
          graceDays: grace.value,
          graceSource: grace.origin,
          overLimitSince: overLimitSince(input.identity.createdAt, grace.value),
        },
      },
    ]
  },
})
