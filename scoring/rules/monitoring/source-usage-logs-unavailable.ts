import { defineRule, unknownBecause, unreadable } from '../helpers.js'

export const monitoringSourceUsageLogsUnavailable = defineRule({
  id: 'monitoring_source_usage_logs_unavailable',
  title: 'The source cannot see sign-in or usage logs',
  dimension: 'monitoring',
  severity: 'medium',
  nhi: 'NHI10',
  relatedNhi: ['NHI1'],
  rationale:
    'Without sign-in or usage logs nobody can see who uses this identity, from where, or whether a person is using it interactively (OWASP NHI10), and stale identities cannot be found (NHI1).',
  remediation: {
    console: [
      "Turn on the provider's sign-in or access logging (CloudTrail for all regions; Entra sign-in logs with a P1/P2 licence; audit logs for the vault or SaaS).",
      'Grant Leash read access to them, then re-scan.',
    ],
    cli: {
      aws: 'aws cloudtrail create-trail --name org-trail --s3-bucket-name BUCKET --is-multi-region-trail && aws cloudtrail start-logging --name org-trail',
      azure: `az monitor diagnostic-settings create --name entra-signins --resource /providers/microsoft.aadiam --workspace WORKSPACE_ID --logs '[{"category":"ServicePrincipalSignInLogs","enabled":true}]'`,
      gcp: 'gcloud services enable policyanalyzer.googleapis.com --project=PROJECT_ID',
      vault: 'vault audit enable file file_path=/var/log/vault_audit.log',
    },
  },
  remedyActionId: null,
  thresholds: [],
  evaluate(input) {
    const usageData = input.identity.posture.monitoring.usageData
    if (usageData === 'unavailable') return [{ status: 'fail', subjectKey: '', evidence: { usageData } }]
    if (usageData === 'unknown') {
      const part = unreadable(input, 'usage')
      if (part) return [unknownBecause(part)]
    }
    return []
  },
})
