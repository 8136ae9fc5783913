import { credentialEvidence, defineRule, iso, unknownBecause, unreadable } from '../helpers.js'
import { isExpired } from './shared.js'
import type { RuleOutcome } from '../../types.js'

export const credentialAgeSecretExpiredPresent = defineRule({
  id: 'credential_age_secret_expired_present',
  title: 'Expired credential still present',
  dimension: 'credential_age',
  severity: 'low',
  nhi: 'NHI7',
  rationale:
    'An expired credential no longer works, but it still clutters the identity, hides which credential is really in use, and can be extended or reactivated by anyone who can manage the identity.',
  remediation: {
    console: ['Confirm no workload still expects this credential (it cannot be using it), then delete it from the identity.'],
    cli: {
      aws: 'aws iam delete-access-key --user-name USER --access-key-id KEY_ID',
      azure: 'az ad app credential delete --id APP_ID --key-id KEY_ID',
      gcp: 'gcloud iam service-accounts keys delete KEY_ID --iam-account=SA_EMAIL',
    },
  },
  remedyActionId: null,
  thresholds: [],
  evaluate(input) {
    const part = unreadable(input, 'credentials')
    if (part) return [unknownBecause(part)]
    const outcomes: RuleOutcome[] = []
    for (const credential of input.identity.credentials) {
      if (credential.status === 'revoked' || credential.status === 'gone') continue
      if (!isExpired(credential, input.now)) continue
      outcomes.push({
        status: 'fail',
        subjectKey: credential.externalId,
        credentialId: credential.id,
        evidence: { ...credentialEvidence(credential), expiresAt: iso(credential.expiresAt) },
      })
    }
    return outcomes
  },
})
