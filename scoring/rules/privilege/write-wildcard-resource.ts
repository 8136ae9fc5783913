import { capped, defineRule, unknownBecause, unreadable } from '../helpers.js'

const WRITE_LEVELS = new Set<string>(['write', 'permissions_management'])
// An account-scoped ARN whose resource part is "<type>/*" covers every resource of that type
// (arn:aws:iam::123456789012:role/*). S3 ARNs have no account: "bucket/*" is one bucket's objects.
const ARN_TYPE_ALL = /^arn:[^:]*:[^:]*:[^:]*:[^:]+:[A-Za-z-]+\/\*$/

/** A resource scope covering everything of its kind: `*`, `arn:…:*`, `arn:…:role/*`, `arn:aws:s3:::*`. */
export function isWildcardResource(resource: string): boolean {
  return resource === '*' || resource.endsWith(':*') || resource.endsWith(':::*/*') || ARN_TYPE_ALL.test(resource)
}

export const privilegeWriteWildcardResource = defineRule({
  id: 'privilege_write_wildcard_resource',
  title: 'Write actions on wildcard resources',
  dimension: 'privilege',
  severity: 'medium',
  nhi: 'NHI5',
  rationale:
    'Write or permission-changing actions allowed on every resource ("*") reach far beyond what one workload touches: a leaked credential can modify or delete data the workload never owned.',
  remediation: {
    console: [
      'Replace "*" in the Resource element with the ARNs (or resource groups, scopes) the workload actually writes to.',
      'Use access analysis or the unused-grants evidence to find them.',
    ],
    cli: {
      aws: 'aws iam create-policy-version --policy-arn POLICY_ARN --policy-document file://scoped-policy.json --set-as-default',
      azure:
        'az role assignment create --assignee APP_ID --role ROLE --scope /subscriptions/SUBSCRIPTION_ID/resourceGroups/RG && az role assignment delete --assignee APP_ID --role ROLE --scope /subscriptions/SUBSCRIPTION_ID',
      gcp: 'gcloud storage buckets add-iam-policy-binding gs://BUCKET --member=serviceAccount:SA_EMAIL --role=roles/storage.objectAdmin && gcloud projects remove-iam-policy-binding PROJECT_ID --member=serviceAccount:SA_EMAIL --role=roles/storage.objectAdmin',
    },
  },
  remedyActionId: null,
  thresholds: [],
  evaluate(input) {
    // Administrator rights are their own, critical finding; this one is about ordinary write rights.
    const matching = input.identity.entitlements.filter(
      (entitlement) => WRITE_LEVELS.has(entitlement.accessLevel) && isWildcardResource(entitlement.resource),
    )
    if (matching.length === 0) {
      const part = unreadable(input, 'entitlements')
      return part ? [unknownBecause(part)] : []
    }
    const { items, total } = capped(
      matching.map((e) => ({
        action: e.action,
        resource: e.resource,
        accessLevel: e.accessLevel,
        sourceRef: e.sourceRef,
        conditional: e.conditional,
      })),
    )
    return [{ status: 'fail', subjectKey: '', evidence: { entitlements: items, total } }]
  },
})
