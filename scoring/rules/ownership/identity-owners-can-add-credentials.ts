import { accessRank, defineRule, unknownBecause, unreadable } from '../helpers.js'
import { ACCESS_LEVELS } from '../../../connectors/contract.js'

const PRIVILEGED_RANK = ACCESS_LEVELS.indexOf('permissions_management')

export const ownershipIdentityOwnersCanAddCredentials = defineRule({
  id: 'ownership_identity_owners_can_add_credentials',
  title: 'Privileged identity whose owners can add credentials to it',
  dimension: 'ownership',
  severity: 'high',
  nhi: 'NHI5',
  relatedNhi: ['NHI1'],
  rationale:
    'Anyone who can add a secret or certificate to this identity can act as it. Because the identity holds admin or permission-management rights, each such owner is a path to those rights without ever being granted them (the escalation used in the Midnight Blizzard intrusion).',
  remediation: {
    console: [
      'Remove application owners who do not need to manage credentials; keep owners as accountable people in Leash (claims) instead.',
      'Or reduce the identity to the rights its workload actually uses, so owning it is no longer privileged.',
    ],
    cli: {
      azure: 'az ad app owner remove --id APP_ID --owner-object-id USER_OBJECT_ID',
      gcp: 'gcloud iam service-accounts remove-iam-policy-binding SA_EMAIL --member=user:USER_EMAIL --role=roles/iam.serviceAccountKeyAdmin',
    },
  },
  remedyActionId: null,
  thresholds: [],
  evaluate(input) {
    const privileged = accessRank(input.maxAccessLevel) >= PRIVILEGED_RANK || input.identity.posture.escalationPaths.length > 0
    if (!privileged) return []
    const owners = input.ownership.all.filter((owner) => owner.canAddCredentials)
    if (owners.length === 0) {
      const part = unreadable(input, 'owners')
      return part ? [unknownBecause(part)] : []
    }
    return [
      {
        status: 'fail',
        subjectKey: '',
        evidence: {
          maxAccessLevel: input.maxAccessLevel,
          escalationPaths: input.identity.posture.escalationPaths.map((path) => path.id),
          owners: owners.map((owner) => ({ ref: owner.ref, kind: owner.kind, source: owner.source, role: owner.role })),
        },
      },
    ]
  },
})
