import { defineRule, threshold } from '../helpers.js'

export const privilegeIdentitySharedWorkloads = defineRule({
  id: 'privilege_identity_shared_workloads',
  title: 'One identity shared by several agents or workloads',
  dimension: 'privilege',
  severity: 'medium',
  nhi: 'NHI9',
  rationale:
    'When several workloads or agents share one identity, each gets the union of all their rights, their actions cannot be told apart in logs, and revoking it to contain one breaks all the others (OWASP NHI9, NHI reuse).',
  remediation: {
    console: [
      'Create one identity per workload or agent with only the rights that workload needs.',
      "Move each workload to its own identity, then remove the shared one's extra rights.",
    ],
    cli: {
      aws: 'aws iam create-role --role-name WORKLOAD-role --assume-role-policy-document file://trust.json',
      azure: 'az identity create --name WORKLOAD-identity --resource-group RG',
      gcp: 'gcloud iam service-accounts create WORKLOAD-sa --project=PROJECT_ID',
    },
  },
  remedyActionId: null,
  thresholds: ['maxWorkloadsPerIdentity'],
  evaluate(input) {
    const workloads = input.identity.posture.workloads
    const limit = threshold(input, 'maxWorkloadsPerIdentity')
    if (workloads.length <= limit.value) return []
    return [
      {
        status: 'fail',
        subjectKey: '',
        evidence: { workloads: workloads.slice(0, 50), total: workloads.length, limit: limit.value, limitSource: limit.origin },
      },
    ]
  },
})
