import { credentialEvidence, daysBetween, defineRule, iso, overLimitSince, threshold, unknownBecause, unreadable } from '../helpers.js'
import { liveStaticCredentials } from '../credential-age/shared.js'
import type { RuleOutcome } from '../../types.js'

export const monitoringCredentialUnused = defineRule({
  id: 'monitoring_credential_unused',
  title: 'Active credential unused for longer than the limit',
  dimension: 'monitoring',
  severity: 'medium',
  nhi: 'NHI1',
  rationale:
    'An active key or secret that nobody has used for weeks is not needed by its workload; it only waits to be found in an old config file. Disabling it costs nothing.',
  remediation: {
    console: ['Deactivate the credential; delete it after the grace period if nothing reports an error.'],
    cli: {
      aws: "aws iam update-access-key --user-name USER --access-key-id KEY_ID --status Inactive",
      azure: "az ad app credential delete --id APP_ID --key-id KEY_ID",
      gcp: "gcloud iam service-accounts keys disable KEY_ID --iam-account=SA_EMAIL",
      vault: "vault token revoke -accessor ACCESSOR",
      github: "gh api -X DELETE /repos/OWNER/REPO/keys/KEY_ID",
      openai: "curl -X DELETE \"https://api.openai.com/v1/organization/projects/PROJECT_ID/api_keys/KEY_ID\" -H \"Authorization: Bearer $OPENAI_ADMIN_KEY\"",
      anthropic: "curl -X POST \"https://api.anthropic.com/v1/organizations/api_keys/KEY_ID\" -H \"x-api-key: $ANTHROPIC_ADMIN_KEY\" -H \"anthropic-version: 2023-06-01\" -H \"content-type: application/json\" -d '{\"status\":\"inactive\"}'",
    },
  },
  remedyActionId: 'aws.access_key.deactivate',
  thresholds: ['unusedCredentialDays'],
  evaluate(input) {
    const part = unreadable(input, 'credentials') ?? unreadable(input, 'usage')
    if (part) return [unknownBecause(part)]
    const limit = threshold(input, 'unusedCredentialDays')
    const outcomes: RuleOutcome[] = []
    for (const credential of liveStaticCredentials(input)) {
      if (!credential.lastUsedKnown) continue
      const since = credential.lastUsedAt ?? credential.createdAt
      if (!since) continue
      if (daysBetween(since, input.now) <= limit.value) continue
      outcomes.push({
        status: 'fail',
        subjectKey: credential.externalId,
        credentialId: credential.id,
        evidence: {
          ...credentialEvidence(credential),
          lastUsedAt: iso(credential.lastUsedAt),
          limitDays: limit.value,
          limitSource: limit.origin,
          overLimitSince: overLimitSince(since, limit.value),
        },
      })
    }
    return outcomes
  },
})
