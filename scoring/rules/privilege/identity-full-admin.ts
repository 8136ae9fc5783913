import { capped, defineRule, unknownBecause, unreadable } from '../helpers.js'
import { VAULT_REVOKE_TOKEN } from '../commands.js'

export const privilegeIdentityFullAdmin = defineRule({
  id: 'privilege_identity_full_admin',
  title: 'Identity has full administrator rights',
  dimension: 'privilege',
  severity: 'critical',
  nhi: 'NHI5',
  rationale:
    "Full administrator rights let whoever holds this identity's credentials do anything in the account or tenant, including erasing the evidence. No workload needs that much; a leaked secret of this identity is a full compromise.",
  remediation: {
    console: [
      'Review what the workload actually calls (the unused-grants evidence and provider access analysis help).',
      'Replace the administrator policy or role with a least-privilege one scoped to those actions and resources.',
      'Detach the administrator policy or remove the role assignment.',
    ],
    cli: {
      aws: 'aws iam detach-role-policy --role-name ROLE --policy-arn arn:aws:iam::aws:policy/AdministratorAccess',
      azure: 'az role assignment delete --assignee APP_ID --role Owner --scope /subscriptions/SUBSCRIPTION_ID',
      gcp: 'gcloud projects remove-iam-policy-binding PROJECT_ID --member=serviceAccount:SA_EMAIL --role=roles/owner',
      vault: `${VAULT_REVOKE_TOKEN}   # a token with the root policy cannot be narrowed: issue one with a scoped policy instead`,
    },
  },
  remedyActionId: null,
  thresholds: [],
  evaluate(input) {
    const admin = input.identity.entitlements.filter((entitlement) => entitlement.accessLevel === 'admin')
    if (admin.length === 0) {
      const part = unreadable(input, 'entitlements')
      return part ? [unknownBecause(part)] : []
    }
    const { items, total } = capped(
      admin.map((e) => ({
        action: e.action,
        resource: e.resource,
        sourceKind: e.sourceKind,
        sourceRef: e.sourceRef,
        conditional: e.conditional,
      })),
    )
    return [{ status: 'fail', subjectKey: '', evidence: { entitlements: items, total } }]
  },
})
