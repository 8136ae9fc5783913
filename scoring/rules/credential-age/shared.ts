import type { CredentialInput, RuleInput } from '../../types.js'

/** Expired by status or by date: a credential past its expiry no longer authenticates. */
export function isExpired(credential: CredentialInput, now: Date): boolean {
  return credential.status === 'expired' || (credential.expiresAt !== null && credential.expiresAt.getTime() <= now.getTime())
}

/** Active, unexpired credentials: the ones that can authenticate today. */
export function liveCredentials(input: RuleInput): CredentialInput[] {
  return input.identity.credentials.filter((credential) => credential.status === 'active' && !isExpired(credential, input.now))
}

/** Live long-lived secrets (keys, client secrets, tokens), not short-lived or federated ones. */
export function liveStaticCredentials(input: RuleInput): CredentialInput[] {
  return liveCredentials(input).filter((credential) => credential.isStatic)
}
