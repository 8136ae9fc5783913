import { credentialEvidence, daysBetween, defineRule, iso, threshold, unknownBecause, unreadable } from '../helpers.js'
import { liveStaticCredentials } from './shared.js'
import type { RuleOutcome } from '../../types.js'

export const credentialAgeSecretExpiryTooFar = defineRule({
  id: 'credential_age_secret_expiry_too_far',
  title: 'Secret has no expiry, or expires too far in the future',
  dimension: 'credential_age',
  severity: 'low',
  nhi: 'NHI7',
  rationale:
    'A secret that never expires (or lives for years) stays valid long after the workload that used it is gone or the copy that leaked is forgotten (OWASP NHI7, long-lived secrets).',
  remediation: {
    console: [
      'Issue credentials with an expiry within the limit (e.g. Entra client secrets: 6 to 12 months).',
      'Where the provider cannot expire the credential (AWS access keys), rotate it on a schedule or replace it with federation.',
    ],
    cli: {
      azure: 'az ad app credential reset --id APP_ID --years 1',
      gcp: 'gcloud iam service-accounts keys create new-key.json --iam-account=SA_EMAIL   # set the org policy constraints/iam.serviceAccountKeyExpiryHours so keys expire',
      vault: 'vault token create -policy=POLICY -ttl=720h -explicit-max-ttl=8760h',
    },
  },
  remedyActionId: null,
  thresholds: ['maxExpiryDays'],
  evaluate(input) {
    const part = unreadable(input, 'credentials')
    if (part) return [unknownBecause(part)]
    const limit = threshold(input, 'maxExpiryDays')
    const outcomes: RuleOutcome[] = []
    for (const credential of liveStaticCredentials(input)) {
      if (credential.type === 'console_password') continue
      if (credential.expiresAt === null) {
        outcomes.push({
          status: 'fail',
          subjectKey: credential.externalId,
          credentialId: credential.id,
          evidence: { ...credentialEvidence(credential), expiresAt: null, limitDays: limit.value, limitSource: limit.origin },
        })
        continue
      }
      // Without a creation date, what is left of its validity is measured; the evidence then
      // names no count of days, which would change at every evaluation (docs/decisions/036).
      const lifetimeDays = credential.createdAt ? daysBetween(credential.createdAt, credential.expiresAt) : null
      if ((lifetimeDays ?? daysBetween(input.now, credential.expiresAt)) > limit.value) {
        outcomes.push({
          status: 'fail',
          subjectKey: credential.externalId,
          credentialId: credential.id,
          evidence: {
            ...credentialEvidence(credential),
            expiresAt: iso(credential.expiresAt),
            lifetimeDays,
            limitDays: limit.value,
            limitSource: limit.origin,
          },
        })
      }
    }
    return outcomes
  },
})
