import { capped, defineRule, unknownBecause, unreadable } from '../helpers.js'

export const privilegeIdentityPermissionsManagement = defineRule({
  id: 'privilege_identity_permissions_management',
  title: 'Identity can manage permissions',
  dimension: 'privilege',
  severity: 'high',
  nhi: 'NHI5',
  rationale:
    'An identity that can change policies, role assignments or application permissions can grant itself (or anyone) any right: it is one step from administrator.',
  remediation: {
    console: [
      'Remove permission-management actions (iam:Put*Policy, iam:Attach*Policy, iam:CreateAccessKey, RoleManagement.ReadWrite.Directory, AppRoleAssignment.ReadWrite.All, …) unless the identity is a deliberate provisioning tool.',
      'If it is one, restrict it with a permissions boundary or conditions, and make sure a named person owns it.',
    ],
    cli: {
      aws: 'aws iam delete-role-policy --role-name ROLE --policy-name POLICY',
      azure: 'az ad app permission delete --id APP_ID --api 00000003-0000-0000-c000-000000000000 --api-permissions PERMISSION_ID',
      gcp: 'gcloud projects remove-iam-policy-binding PROJECT_ID --member=serviceAccount:SA_EMAIL --role=roles/resourcemanager.projectIamAdmin',
    },
  },
  remedyActionId: null,
  thresholds: [],
  evaluate(input) {
    const matching = input.identity.entitlements.filter((entitlement) => entitlement.accessLevel === 'permissions_management')
    if (matching.length === 0) {
      const part = unreadable(input, 'entitlements')
      return part ? [unknownBecause(part)] : []
    }
    const { items, total } = capped(
      matching.map((e) => ({
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
