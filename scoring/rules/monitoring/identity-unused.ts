import { daysBetween, defineRule, iso, overLimitSince, threshold, unknownBecause, unreadable } from '../helpers.js'
import { identityUsage } from './usage.js'
import { DISABLE_UNUSED_IDENTITY } from '../commands.js'

export const monitoringIdentityUnused = defineRule({
  id: 'monitoring_identity_unused',
  title: 'Identity unused for longer than the limit',
  dimension: 'monitoring',
  severity: 'medium',
  nhi: 'NHI1',
  rationale:
    "An identity that has not been used for months most likely belongs to a retired workload. It still holds its rights and secrets, and its next use would more likely be an attacker's than its owner's.",
  remediation: {
    console: [
      'Confirm with the owner that the workload is retired.',
      'Disable the identity (or deactivate its keys); delete it after the grace period if nothing breaks.',
    ],
    cli: {
      aws: 'aws iam update-access-key --user-name USER --access-key-id KEY_ID --status Inactive',
      ...DISABLE_UNUSED_IDENTITY,
    },
  },
  remedyActionId: null,
  thresholds: ['unusedIdentityDays'],
  evaluate(input) {
    const usage = identityUsage(input)
    if (!usage.known) {
      const part = unreadable(input, 'usage')
      return part ? [unknownBecause(part)] : []
    }
    if (!usage.lastUsedAt) return []
    const limit = threshold(input, 'unusedIdentityDays')
    if (daysBetween(usage.lastUsedAt, input.now) <= limit.value) return []
    return [
      {
        status: 'fail',
        subjectKey: '',
        evidence: {
          lastUsedAt: iso(usage.lastUsedAt),
          limitDays: limit.value,
          limitSource: limit.origin,
          overLimitSince: overLimitSince(usage.lastUsedAt, limit.value),
        },
      },
    ]
  },
})
