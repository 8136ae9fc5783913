import { credentialEvidence, daysBetween, defineRule, iso, overLimitSince, threshold, unknownBecause, unreadable } from '../helpers.js'
import { liveStaticCredentials } from '../credential-age/shared.js'
import type { RuleOutcome } from '../../types.js'
import { ANTHROPIC_DEACTIVATE_KEY, OPENAI_DELETE_PROJECT_KEY, VAULT_REVOKE_TOKEN } from '../commands.js'

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
      aws: 'aws iam update-access-key --user-name USER --access-key-id KEY_ID --status Inactive',
      azure: 'az ad app credential delete --id APP_ID --key-id KEY_ID',
      gcp: 'gcloud iam service-accounts keys disable KEY_ID --iam-account=SA_EMAIL',
      vault: VAULT_REVOKE_TOKEN,
      github: 'gh api -X DELETE /repos/OWNER/REPO/keys/KEY_ID',
      openai: OPENAI_DELETE_PROJECT_KEY,
      anthropic: ANTHROPIC_DEACTIVATE_KEY,
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
