import { defineRule, unknownBecause, unreadable } from '../helpers.js'

export const ownershipIdentityNoOwner = defineRule({
  id: 'ownership_identity_no_owner',
  title: 'Identity has no owner',
  dimension: 'ownership',
  severity: 'medium',
  nhi: 'NHI1',
  rationale:
    'Nobody answers for an identity without an owner: nobody rotates its secrets, reviews its access or retires it when the workload goes away. Orphaned identities are the backdoors OWASP NHI1 (improper offboarding) describes.',
  remediation: {
    console: [
      'Open the identity in Leash and use "Claim" if it is yours, or ask its likely owner (creator or last user, listed in the evidence) to claim it.',
      'Alternatively tag it at the provider with an owner tag (e.g. owner=alice@example.com) so every scan picks the owner up.',
      'If nobody needs it, disable it and delete it after the grace period.',
    ],
    cli: {
      aws: 'aws iam tag-role --role-name ROLE --tags Key=owner,Value=alice@example.com',
      azure: 'az ad app owner add --id APP_ID --owner-object-id USER_OBJECT_ID',
      gcp: 'gcloud iam service-accounts update SA_EMAIL --description="owner: alice@example.com"',
    },
  },
  remedyActionId: null,
  thresholds: [],
  evaluate(input) {
    if (input.ownership.status === 'unknown') {
      const part = unreadable(input, 'owners')
      if (part) return [unknownBecause(part)]
    }
    if (input.ownership.status !== 'none') return []
    const candidates = input.ownership.all
      .filter((owner) => owner.role === 'creator' || owner.role === 'last_user')
      .map((owner) => ({ ref: owner.ref, role: owner.role, source: owner.source, displayName: owner.displayName }))
    return [{ status: 'fail', subjectKey: '', evidence: { owners: [], candidates } }]
  },
})
