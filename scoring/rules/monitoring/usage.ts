import { isExpired } from '../credential-age/shared.js'
import type { RuleInput } from '../../types.js'

export interface Usage {
  /** Whether any last-used information exists for the identity. */
  known: boolean
  lastUsedAt: Date | null
}

/**
 * When the identity was last used: its own last-used date, or the latest of its unexpired
 * credentials'. Expired credentials are ignored so that deleting one never changes the answer.
 */
export function identityUsage(input: RuleInput): Usage {
  let known = input.identity.lastUsedKnown
  let lastUsedAt = input.identity.lastUsedKnown ? input.identity.lastUsedAt : null
  for (const credential of input.identity.credentials) {
    if (credential.status === 'revoked' || credential.status === 'gone' || isExpired(credential, input.now)) continue
    if (!credential.lastUsedKnown) continue
    known = true
    if (credential.lastUsedAt && (!lastUsedAt || credential.lastUsedAt > lastUsedAt)) lastUsedAt = credential.lastUsedAt
  }
  return { known, lastUsedAt }
}
