/**
 * Who owns an identity, as far as Leash's workflows are concerned: the person whose claim a
 * security lead confirmed (or who accepted a handover), or the person the provider data names
 * (owner tag, provider owner field) when it matches a Leash user's email or username.
 */
import { sql } from 'kysely'
import type { Db } from '../revocation/types.js'

export interface ClaimOwner {
  identityId: number
  claimId: string
  userId: string
  username: string
  email: string | null
  displayName: string
  /** false when the user has been disabled since: the identity is orphaned again. */
  active: boolean
  since: Date | null
}

/** The owner by claim of each identity, for scoring and listing. Identities without one are absent. */
export async function currentClaimOwners(db: Db, identityIds: readonly number[]): Promise<Map<number, ClaimOwner>> {
  const owners = new Map<number, ClaimOwner>()
  if (identityIds.length === 0) return owners
  const rows = await db
    .selectFrom('claims')
    .innerJoin('users', (join) => join.onRef('users.id', '=', sql<string>`coalesce(claims.to_user_id, claims.requested_by)`))
    .select([
      'claims.id as claimId',
      'claims.identity_id',
      'claims.decided_at',
      'users.id as userId',
      'users.username',
      'users.email',
      'users.display_name',
      'users.disabled_at',
    ])
    .where('claims.identity_id', 'in', [...identityIds])
    .where('claims.status', 'in', ['confirmed', 'accepted'])
    .where('claims.ended_at', 'is', null)
    .execute()
  for (const row of rows) {
    owners.set(row.identity_id, {
      identityId: row.identity_id,
      claimId: row.claimId,
      userId: row.userId,
      username: row.username,
      email: row.email,
      displayName: row.display_name,
      active: row.disabled_at === null,
      since: row.decided_at,
    })
  }
  return owners
}

/** The reference Leash writes as owner_ref for a user: the email when known, else the username. */
export function ownerRefOf(user: { email: string | null; username: string }): string {
  return user.email ?? user.username
}

export async function isIdentityOwner(db: Db, userId: string, identityId: number): Promise<boolean> {
  const claim = await currentClaimOwners(db, [identityId])
  if (claim.get(identityId)?.userId === userId) return true
  const user = await db.selectFrom('users').select(['email', 'username']).where('id', '=', userId).executeTakeFirst()
  if (!user) return false
  const refs = [user.username, user.email].filter((r): r is string => !!r).map((r) => r.toLowerCase())
  const match = await db
    .selectFrom('identity_owners')
    .select('identity_id')
    .where('identity_id', '=', identityId)
    .where('role', 'in', ['owner', 'sponsor'])
    .where(sql<string>`lower(owner_ref)`, 'in', refs)
    .executeTakeFirst()
  if (match) return true
  const identity = await db.selectFrom('identities').select('owner_ref').where('id', '=', identityId).executeTakeFirst()
  return !!identity?.owner_ref && refs.includes(identity.owner_ref.toLowerCase())
}
