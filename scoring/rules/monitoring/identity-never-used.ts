import { daysBetween, defineRule, iso, overLimitSince, threshold, unknownBecause, unreadable } from '../helpers.js'
import { identityUsage } from './usage.js'

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
      aws: "aws iam update-access-key --user-name USER --access-key-id KEY_ID --status Inactive   # then aws iam delete-user / delete-role",
      azure: "az ad sp update --id SP_ID --set accountEnabled=false",
      gcp: "gcloud iam service-accounts disable SA_EMAIL",
      vault: "vault token revoke -accessor ACCESSOR",
      github: "gh api -X POST /orgs/ORG/personal-access-tokens -f action=revoke -F 'pat_ids[]=PAT_GRANT_ID'",
      openai: "curl -X DELETE \"https://api.openai.com/v1/organization/projects/PROJECT_ID/api_keys/KEY_ID\" -H \"Authorization: Bearer $OPENAI_ADMIN_KEY\"",
      anthropic: "curl -X POST \"https://api.anthropic.com/v1/organizations/api_keys/KEY_ID\" -H \"x-api-key: $ANTHROPIC_ADMIN_KEY\" -H \"anthropic-version: 2023-06-01\" -H \"content-type: application/json\" -d '{\"status\":\"inactive\"}'",
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
