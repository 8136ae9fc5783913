import { defineRule } from '../helpers.js'

export const privilegeIdentityCrossEnvironment = defineRule({
  id: 'privilege_identity_cross_environment',
  title: 'Same identity used in production and non-production',
  dimension: 'privilege',
  severity: 'medium',
  nhi: 'NHI8',
  rationale:
    'An identity used in both production and test environments lets a weaker, more exposed test system reach production data. Environment isolation (OWASP NHI8) needs separate identities.',
  remediation: {
    console: [
      'Create a separate identity for the non-production environment with its own credentials.',
      'Remove the non-production usage (and its tags or trust) from the production identity.',
    ],
    cli: {
      aws: 'aws iam create-role --role-name APP-nonprod --assume-role-policy-document file://trust-nonprod.json',
      azure: 'az identity create --name APP-nonprod --resource-group NONPROD_RG',
      gcp: 'gcloud iam service-accounts create APP-nonprod --project=NONPROD_PROJECT_ID',
    },
  },
  remedyActionId: null,
  thresholds: [],
  evaluate(input) {
    const environments = input.identity.posture.environments
    if (!(environments.includes('production') && environments.includes('non_production'))) return []
    return [{ status: 'fail', subjectKey: '', evidence: { environments: [...new Set(environments)].sort() } }]
  },
})
