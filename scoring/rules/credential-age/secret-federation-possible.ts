import { credentialEvidence, defineRule, unknownBecause, unreadable } from '../helpers.js'
import { liveStaticCredentials } from './shared.js'
import { GITHUB_REVOKE_PAT } from '../commands.js'

export const credentialAgeSecretFederationPossible = defineRule({
  id: 'credential_age_secret_federation_possible',
  title: 'Static secret where federation or a managed identity is possible',
  dimension: 'credential_age',
  severity: 'medium',
  nhi: 'NHI7',
  relatedNhi: ['NHI6'],
  rationale:
    'This workload could authenticate with short-lived, automatically issued tokens (OIDC federation, workload identity, a managed identity or an instance role), yet it uses a long-lived secret that can leak and be replayed from anywhere.',
  remediation: {
    console: [
      'Configure federation for the workload (e.g. GitHub Actions OIDC → AWS role, Entra workload identity federation, a managed identity).',
      'Switch the workload to it, confirm the static secret is no longer used, then deactivate and delete the secret.',
    ],
    cli: {
      aws: 'aws iam create-open-id-connect-provider --url https://token.actions.githubusercontent.com --client-id-list sts.amazonaws.com',
      azure: 'az ad app federated-credential create --id APP_ID --parameters federated-credential.json',
      gcp: 'gcloud iam workload-identity-pools create POOL --location=global && gcloud iam service-accounts keys delete KEY_ID --iam-account=SA_EMAIL',
      github: `${GITHUB_REVOKE_PAT}   # then use a GitHub App installation token, which expires within an hour`,
    },
  },
  remedyActionId: 'aws.access_key.deactivate',
  thresholds: [],
  evaluate(input) {
    if (!input.identity.posture.federationPossible) return []
    const part = unreadable(input, 'credentials')
    if (part) return [unknownBecause(part)]
    const statics = liveStaticCredentials(input).filter((credential) => credential.type !== 'console_password')
    if (statics.length === 0) return []
    return [
      {
        status: 'fail',
        subjectKey: '',
        evidence: { staticCredentials: statics.slice(0, 20).map(credentialEvidence), total: statics.length },
      },
    ]
  },
})
