import { defineRule, unknownBecause, unreadable } from '../helpers.js'

export const privilegeIdentityEscalationPath = defineRule({
  id: 'privilege_identity_escalation_path',
  title: 'Identity has a privilege-escalation path',
  dimension: 'privilege',
  severity: 'critical',
  nhi: 'NHI5',
  rationale:
    "A combination of this identity's permissions lets it gain more rights than it was given (e.g. iam:PassRole with lambda:CreateFunction, or creating a new access key for an admin user). Its real power is that of the target.",
  remediation: {
    console: [
      'Remove one permission of each listed path, or restrict it with a resource or condition (e.g. iam:PassRole only for one specific role).',
      'Re-scan to confirm the path is gone.',
    ],
    cli: {
      aws: 'aws iam put-role-policy --role-name ROLE --policy-name least-privilege --policy-document file://policy.json',
      azure: 'az role assignment delete --assignee APP_ID --role "User Access Administrator" --scope SCOPE',
      gcp: 'gcloud projects remove-iam-policy-binding PROJECT_ID --member=serviceAccount:SA_EMAIL --role=roles/editor',
    },
  },
  remedyActionId: null,
  thresholds: [],
  evaluate(input) {
    const paths = input.identity.posture.escalationPaths
    if (paths.length === 0) {
      const part = unreadable(input, 'entitlements')
      return part ? [unknownBecause(part)] : []
    }
    return [
      {
        status: 'fail',
        subjectKey: '',
        evidence: {
          paths: paths.slice(0, 20).map((path) => ({ id: path.id, title: path.title, permissions: path.permissions })),
          total: paths.length,
        },
      },
    ]
  },
})
