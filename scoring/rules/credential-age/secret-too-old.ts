import { credentialEvidence, daysBetween, defineRule, iso, overLimitSince, threshold, unknownBecause, unreadable } from '../helpers.js'
import { liveStaticCredentials } from './shared.js'
import type { RuleOutcome } from '../../types.js'
import { ANTHROPIC_DEACTIVATE_KEY, OPENAI_DELETE_PROJECT_KEY } from '../commands.js'

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
    cli: {
      aws: 'aws iam create-access-key --user-name USER && aws iam update-access-key --user-name USER --access-key-id OLD_KEY_ID --status Inactive',
      azure: 'az ad app credential reset --id APP_ID --append --years 1 && az ad app credential delete --id APP_ID --key-id OLD_KEY_ID',
      gcp: 'gcloud iam service-accounts keys create new-key.json --iam-account=SA_EMAIL && gcloud iam service-accounts keys disable OLD_KEY_ID --iam-account=SA_EMAIL',
      vault: 'vault token create -policy=POLICY -period=24h && vault token revoke -accessor OLD_ACCESSOR',
      openai: `${OPENAI_DELETE_PROJECT_KEY}   # after the workload uses a new key`,
      anthropic: `${ANTHROPIC_DEACTIVATE_KEY}   # after the workload uses a new key`,
    },
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
