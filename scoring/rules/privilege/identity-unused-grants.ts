import { capped, defineRule, iso, unknownBecause, unreadable } from '../helpers.js'

export const privilegeIdentityUnusedGrants = defineRule({
  id: 'privilege_identity_unused_grants',
  title: 'Granted permissions or services are unused',
  dimension: 'privilege',
  severity: 'low',
  nhi: 'NHI5',
  rationale:
    "Rights the identity holds but has not used in the provider's usage window are pure exposure: removing them costs the workload nothing and shrinks what a stolen credential can do.",
  remediation: {
    console: [
      'Review the unused services or permissions listed in the evidence with the owner.',
      'Remove them from the policy or role assignment; keep the used ones.',
    ],
    cli: {
      aws: 'aws iam generate-service-last-accessed-details --arn ROLE_ARN   # then remove the unused services from the policy',
      gcp: 'gcloud recommender recommendations list --project=PROJECT_ID --location=global --recommender=google.iam.policy.Recommender',
    },
  },
  remedyActionId: null,
  thresholds: [],
  evaluate(input) {
    const unused = input.identity.posture.unusedGrants
    if (unused === null) {
      // No usage data: the rule does not apply, unless the data exists but could not be read.
      const part = unreadable(input, 'unused_grants') ?? unreadable(input, 'usage')
      return part ? [unknownBecause(part)] : []
    }
    if (unused.length === 0) return []
    const { items, total } = capped(
      unused.map((grant) => ({ name: grant.name, lastUsedAt: iso(grant.lastUsedAt) })),
      50,
    )
    return [{ status: 'fail', subjectKey: '', evidence: { unused: items, total } }]
  },
})
