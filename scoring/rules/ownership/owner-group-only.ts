import { defineRule } from '../helpers.js'

export const ownershipOwnerGroupOnly = defineRule({
  id: 'ownership_owner_group_only',
  title: 'Owner is only a group, with no accountable person',
  dimension: 'ownership',
  severity: 'low',
  nhi: 'NHI1',
  rationale:
    'A team or distribution list owns this identity but no named person does. When something goes wrong, or the identity should be retired, a group is slow to answer and easy to forget when it is reorganised.',
  remediation: {
    console: [
      'Ask a member of the owning team to claim the identity in Leash, so a named person answers for it.',
      'Or add an individual owner tag next to the team tag (e.g. owner=alice@example.com).',
    ],
    cli: {
      aws: 'aws iam tag-role --role-name ROLE --tags Key=owner,Value=alice@example.com',
      azure: 'az ad app owner add --id APP_ID --owner-object-id USER_OBJECT_ID',
      gcp: 'gcloud iam service-accounts update SA_EMAIL --description="owner: alice@example.com, team=platform"',
    },
  },
  remedyActionId: null,
  thresholds: [],
  evaluate(input) {
    const accountable = input.ownership.accountable.filter((owner) => owner.validity === 'valid')
    if (accountable.length === 0) return []
    if (accountable.some((owner) => owner.kind === 'person')) return []
    const owners = accountable.map((owner) => ({ ref: owner.ref, kind: owner.kind, source: owner.source }))
    if (accountable.some((owner) => owner.kind === 'unknown')) {
      return [
        {
          status: 'unknown',
          subjectKey: '',
          missingPermission: null,
          evidence: { reason: 'The provider does not say whether the owner is a person or a group.', owners },
        },
      ]
    }
    return [{ status: 'fail', subjectKey: '', evidence: { owners } }]
  },
})
