import { defineRule, unknownBecause, unreadable } from '../helpers.js'
import { identityUsage } from './usage.js'

export const monitoringIdentityNoLastUsedData = defineRule({
  id: 'monitoring_identity_no_last_used_data',
  title: 'No last-used data for this identity',
  dimension: 'monitoring',
  severity: 'low',
  nhi: 'NHI1',
  relatedNhi: ['NHI10'],
  rationale:
    'The source records usage, but not for this identity or any of its credentials, so nobody can tell whether it is stale or who uses it. Unused identities cannot be found and retired without it.',
  remediation: {
    console: [
      'Check that sign-in or access logging covers this identity type (e.g. Entra service principal sign-in logs, CloudTrail for the account).',
      'Where the provider never records last use for this kind of identity, track usage in the workload (log the calls it makes).',
    ],
    cli: {
      aws: 'aws cloudtrail describe-trails',
      azure: 'az monitor diagnostic-settings list --resource /providers/microsoft.aadiam',
      gcp: 'gcloud services enable policyanalyzer.googleapis.com --project=PROJECT_ID',
    },
  },
  remedyActionId: null,
  thresholds: [],
  evaluate(input) {
    const part = unreadable(input, 'usage')
    if (part) return [unknownBecause(part)]
    // Where the source has no usage data at all, monitoring_source_usage_logs_unavailable reports it once.
    if (input.identity.posture.monitoring.usageData === 'unavailable') return []
    if (identityUsage(input).known) return []
    return [{ status: 'fail', subjectKey: '', evidence: { lastUsedKnown: false, usageData: input.identity.posture.monitoring.usageData } }]
  },
})
