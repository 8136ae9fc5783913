import { defineRule, iso, threshold, unknownBecause, unreadable } from '../helpers.js'
import { liveStaticCredentials } from './shared.js'
import type { CredentialInput, RuleOutcome } from '../../types.js'
import { ANTHROPIC_DEACTIVATE_KEY, OPENAI_DELETE_PROJECT_KEY } from '../commands.js'

export const credentialAgeIdentityMultipleActiveKeys = defineRule({
  id: 'credential_age_identity_multiple_active_keys',
  title: 'Two or more active keys of one kind',
  dimension: 'credential_age',
  severity: 'medium',
  nhi: 'NHI7',
  rationale:
    'Two active keys usually mean a rotation that was never finished: the old key still works, often copied somewhere nobody remembers. Outside the minutes of a rotation, one active key is enough.',
  remediation: {
    console: [
      'Find which key the workload uses (the one whose last-used date moves).',
      'Deactivate the other one, and delete it after the grace period.',
    ],
    cli: {
      aws: 'aws iam update-access-key --user-name USER --access-key-id UNUSED_KEY_ID --status Inactive',
      azure: 'az ad app credential delete --id APP_ID --key-id UNUSED_KEY_ID',
      gcp: 'gcloud iam service-accounts keys disable UNUSED_KEY_ID --iam-account=SA_EMAIL',
      openai: OPENAI_DELETE_PROJECT_KEY.replace('KEY_ID', 'UNUSED_KEY_ID'),
      anthropic: ANTHROPIC_DEACTIVATE_KEY.replace('KEY_ID', 'UNUSED_KEY_ID'),
    },
  },
  remedyActionId: 'aws.access_key.deactivate',
  thresholds: ['maxActiveCredentials'],
  evaluate(input) {
    const part = unreadable(input, 'credentials')
    if (part) return [unknownBecause(part)]
    const limit = threshold(input, 'maxActiveCredentials')
    const byType = new Map<string, CredentialInput[]>()
    for (const credential of liveStaticCredentials(input)) {
      if (credential.type === 'console_password' || credential.type === 'secret_value') continue
      const list = byType.get(credential.type) ?? []
      list.push(credential)
      byType.set(credential.type, list)
    }
    const outcomes: RuleOutcome[] = []
    for (const [type, credentials] of [...byType].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (credentials.length <= limit.value) continue
      outcomes.push({
        status: 'fail',
        subjectKey: `type:${type}`,
        evidence: {
          type,
          active: credentials.map((c) => ({ credential: c.externalId, createdAt: iso(c.createdAt), lastUsedAt: iso(c.lastUsedAt) })),
          limit: limit.value,
          limitSource: limit.origin,
        },
      })
    }
    return outcomes
  },
})
