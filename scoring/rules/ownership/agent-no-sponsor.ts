import { defineRule } from '../helpers.js'

export const ownershipAgentNoSponsor = defineRule({
  id: 'ownership_agent_no_sponsor',
  title: 'AI agent without a sponsor',
  dimension: 'ownership',
  severity: 'medium',
  nhi: 'NHI1',
  rationale:
    'An AI agent acts on its own; a named, active person must answer for what it does and decide when it stops. Without a sponsor nobody reviews its access or switches it off when the project ends.',
  remediation: {
    console: [
      'Ask the team that built the agent to claim it in Leash, or set a sponsor at the provider (Microsoft Entra Agent ID: Sponsors).',
      'If the agent is no longer used, disable its identity.',
    ],
    cli: {
      aws: 'aws iam tag-role --role-name ROLE --tags Key=sponsor,Value=alice@example.com',
      azure: `az rest --method POST --url 'https://graph.microsoft.com/beta/servicePrincipals/AGENT_ID/microsoft.graph.agentIdentity/sponsors/$ref' --body '{"@odata.id":"https://graph.microsoft.com/beta/users/USER_ID"}'`,
      gcp: 'gcloud iam service-accounts update SA_EMAIL --description="sponsor: alice@example.com"',
    },
  },
  remedyActionId: null,
  thresholds: [],
  evaluate(input) {
    if (!input.isAgent) return []
    const sponsor = input.ownership.accountable.some((owner) => owner.kind === 'person' && owner.validity === 'valid')
    if (sponsor) return []
    return [
      {
        status: 'fail',
        subjectKey: '',
        evidence: {
          agentPlatform: input.classification.platform,
          accountable: input.ownership.accountable.map((owner) => ({
            ref: owner.ref,
            kind: owner.kind,
            validity: owner.validity,
            reason: owner.invalidReason,
          })),
        },
      },
    ]
  },
})
