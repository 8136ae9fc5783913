import { credentialEvidence, defineRule, unknownBecause, unreadable } from '../helpers.js'
import { liveStaticCredentials } from './shared.js'
import type { RuleOutcome } from '../../types.js'

export const credentialAgeSecretNeverRotated = defineRule({
  id: 'credential_age_secret_never_rotated',
  title: 'Secret never rotated and rotation is not configured',
  dimension: 'credential_age',
  severity: 'low',
  nhi: 'NHI7',
  rationale:
    'The store that holds this secret can rotate it automatically, but rotation is off and it has never been rotated: its value will stay the same until someone remembers, usually after a leak.',
  remediation: {
    console: [
      'Enable automatic rotation on the secret (e.g. AWS Secrets Manager: Rotation configuration → Edit rotation), with a rotation function for its type.',
      'Rotate it once immediately and confirm the consumers pick up the new value.',
    ],
    cli: {
      aws: 'aws secretsmanager rotate-secret --secret-id SECRET_ARN --rotation-lambda-arn LAMBDA_ARN --rotation-rules AutomaticallyAfterDays=30',
      azure:
        'az keyvault secret set-attributes --vault-name VAULT --name SECRET --expires YYYY-MM-DDT00:00:00Z   # then rotate it with a new version: az keyvault secret set --vault-name VAULT --name SECRET --file new-value.txt',
      gcp: 'gcloud iam service-accounts keys create new-key.json --iam-account=SA_EMAIL && gcloud iam service-accounts keys disable OLD_KEY_ID --iam-account=SA_EMAIL',
    },
  },
  remedyActionId: null,
  thresholds: [],
  evaluate(input) {
    const part = unreadable(input, 'credentials')
    if (part) return [unknownBecause(part)]
    const outcomes: RuleOutcome[] = []
    for (const credential of liveStaticCredentials(input)) {
      // null: the provider has no rotation concept for this credential (an access key, say).
      if (credential.rotationEnabled !== false || credential.lastRotatedAt !== null) continue
      outcomes.push({
        status: 'fail',
        subjectKey: credential.externalId,
        credentialId: credential.id,
        evidence: {
          ...credentialEvidence(credential),
          rotationEnabled: false,
          lastRotatedAt: null,
        },
      })
    }
    return outcomes
  },
})
