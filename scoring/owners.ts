/**
 * Who owns an identity, and whether that owner can still answer for it.
 *
 * A confirmed claim (or accepted handover) wins over everything the provider or tags say and
 * survives rescans, because it lives in Leash's claims table, not in scanned data. Without a
 * claim, the accountable owners are the owner and sponsor hints; creators and last users are
 * suggestions shown as evidence, never owners.
 */
import type { ClaimInput, OwnerHintInput, Ownership, ResolvedOwner } from './types.js'

/** People known to have left or been disabled, by lower-cased reference (email, UPN, login). */
export interface OwnerDirectory {
  disabled: ReadonlySet<string>
  departed: ReadonlySet<string>
}

export const EMPTY_DIRECTORY: OwnerDirectory = { disabled: new Set(), departed: new Set() }

const SOURCE_RANK: Record<ResolvedOwner['source'], number> = { claim: 0, provider: 1, tag: 2, inferred: 3 }
const ROLE_RANK: Record<ResolvedOwner['role'], number> = { owner: 0, sponsor: 1, creator: 2, last_user: 3 }
const KIND_RANK: Record<ResolvedOwner['kind'], number> = { person: 0, team: 1, group: 2, unknown: 3 }

export function resolveOwner(hint: OwnerHintInput, directory: OwnerDirectory): ResolvedOwner {
  const key = hint.ref.trim().toLowerCase()
  let invalidReason: string | null = null
  if (hint.active === false) invalidReason = 'the provider reports this owner as disabled or deleted'
  else if (directory.departed.has(key)) invalidReason = 'listed as having left the organisation'
  else if (directory.disabled.has(key)) invalidReason = 'their Leash account is disabled'
  return {
    ref: hint.ref,
    kind: hint.kind,
    role: hint.role,
    source: hint.source,
    displayName: hint.displayName,
    validity: invalidReason ? 'invalid' : 'valid',
    invalidReason,
    canAddCredentials: hint.canAddCredentials,
  }
}

function compareOwners(a: ResolvedOwner, b: ResolvedOwner): number {
  return (
    (a.validity === 'valid' ? 0 : 1) - (b.validity === 'valid' ? 0 : 1) ||
    SOURCE_RANK[a.source] - SOURCE_RANK[b.source] ||
    ROLE_RANK[a.role] - ROLE_RANK[b.role] ||
    KIND_RANK[a.kind] - KIND_RANK[b.kind] ||
    (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0)
  )
}

export function resolveOwnership(
  hints: OwnerHintInput[],
  claim: ClaimInput | null,
  directory: OwnerDirectory,
  ownersUnreadable: boolean,
): Ownership {
  const all = hints.map((hint) => resolveOwner(hint, directory))
  let accountable: ResolvedOwner[]
  if (claim) {
    const claimOwner = resolveOwner(
      {
        ref: claim.userRef,
        kind: 'person',
        role: 'owner',
        source: 'claim',
        displayName: claim.displayName,
        active: claim.disabled ? false : null,
        canAddCredentials: false,
      },
      directory,
    )
    if (claim.disabled) claimOwner.invalidReason = 'their Leash account is disabled'
    accountable = [claimOwner]
    all.unshift(claimOwner)
  } else {
    accountable = all.filter((owner) => owner.role === 'owner' || owner.role === 'sponsor')
  }
  accountable.sort(compareOwners)
  let status: Ownership['status']
  if (accountable.length === 0) status = ownersUnreadable ? 'unknown' : 'none'
  else status = accountable.some((owner) => owner.validity === 'valid') ? 'valid' : 'invalid'
  return { status, primary: accountable[0] ?? null, accountable, all }
}
