import { credentialEvidence, daysBetween, defineRule, iso, overLimitSince, threshold, unknownBecause, unreadable } from '../helpers.js'
import { liveStaticCredentials } from './shared.js'
import type { RuleOutcome } from '../../types.js'

export const credentialAgeSecretTooOld = defineRule({
  id: 'credential_age_secret_too_old',
  title: 'Key or secret older than the limit',
  dimension: 'credential_age',
  severity: 'medium',
  nhi: 'NHI7',
  rationale:
    'The longer a static secret lives, the more places it has been copied to (laptops, CI logs, old config) and the longer a leaked copy stays useful. Regular rotation bounds that window.',
  remediation: {
    console: [
      'Create a new key or secret and deploy it to the workload.',
      'Confirm the old one is no longer used (its last-used date stops moving), then deactivate it, and delete it after the grace period.',
      'Better: replace the static secret with federation or a managed identity.',
    ],
    cli: 'aws iam create-access-key --user-name USER && aws iam update-access-key --user-name USER --access-key-id OLD_KEY_ID --status Inactive',
  },
  remedyActionId: 'aws.access_key.deactivate',
  thresholds: ['maxCredentialAgeDays'],
  evaluate(input) {
    const part = unreadable(input, 'credentials')
    if (part) return [unknownBecause(part)]
    const limit = threshold(input, 'maxCredentialAgeDays')
    const outcomes: RuleOutcome[] = []
    for (const credential of liveStaticCredentials(input)) {
      const since = credential.lastRotatedAt ?? credential.createdAt
      if (!since) {
        outcomes.push({
          status: 'unknown',
          subjectKey: credential.externalId,
          credentialId: credential.id,
          missingPermission: null,
          evidence: {
            ...credentialEvidence(credential),
            reason: 'The provider does not report when this credential was created or rotated.',
          },
        })
        continue
      }
      if (daysBetween(since, input.now) > limit.value) {
        outcomes.push({
          status: 'fail',
          subjectKey: credential.externalId,
          credentialId: credential.id,
          evidence: {
            ...credentialEvidence(credential),
            lastRotatedAt: iso(credential.lastRotatedAt),
            limitDays: limit.value,
            limitSource: limit.origin,
            overLimitSince: overLimitSince(since, limit.value),
          },
        })
      }
    }
    return outcomes
  },
})
