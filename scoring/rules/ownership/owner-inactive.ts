import { defineRule } from '../helpers.js'

export const ownershipOwnerInactive = defineRule({
  id: 'ownership_owner_inactive',
  title: 'Owner has left or is disabled',
  dimension: 'ownership',
  severity: 'high',
  nhi: 'NHI1',
  rationale:
    'Every owner of this identity has left the organisation or had their account disabled. The identity keeps working, but the person who knew why it exists is gone: the classic orphan after offboarding (OWASP NHI1).',
  remediation: {
    console: [
      'Find the team that now runs the workload and hand the identity over to one of its members in Leash ("Hand over").',
      'Update the owner tag or the provider owner field to the new owner.',
      'If no workload needs it any more, disable it and delete it after the grace period.',
    ],
    cli: {
      aws: 'aws iam tag-role --role-name ROLE --tags Key=owner,Value=new.owner@example.com',
      azure:
        'az ad app owner add --id APP_ID --owner-object-id NEW_OWNER_OBJECT_ID && az ad app owner remove --id APP_ID --owner-object-id OLD_OWNER_OBJECT_ID',
      gcp: 'gcloud iam service-accounts update SA_EMAIL --description="owner: new.owner@example.com"',
    },
  },
  remedyActionId: null,
  thresholds: [],
  evaluate(input) {
    if (input.ownership.status !== 'invalid') return []
    return [
      {
        status: 'fail',
        subjectKey: '',
        evidence: {
          owners: input.ownership.accountable.map((owner) => ({
            ref: owner.ref,
            source: owner.source,
            role: owner.role,
            reason: owner.invalidReason,
          })),
        },
      },
    ]
  },
})
