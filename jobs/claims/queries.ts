/** Read models for the claims pages: My identities, the review queue, an identity's claims. */
import { sql } from 'kysely'
import type { Db } from '../revocation/types.js'

export interface MyIdentityRow {
  id: number
  displayName: string
  provider: string
  kind: string
  accountId: string
  riskScore: number
  agentPlatform: string | null
  ownedSince: Date | null
  /** How the user came to own it: their confirmed claim, a handover, or the provider data naming them. */
  via: 'claim' | 'handover' | 'provider'
}

/** Identities this user owns: by confirmed claim or accepted handover, or named owner in provider data. */
export async function listMyIdentities(db: Db, user: { id: string; username: string; email: string | null }): Promise<MyIdentityRow[]> {
  const refs = [user.username, user.email].filter((r): r is string => !!r).map((r) => r.toLowerCase())
  const rows = await db
    .selectFrom('identities')
    .leftJoin('claims', (join) =>
      join
        .onRef('claims.identity_id', '=', 'identities.id')
        .on('claims.status', 'in', ['confirmed', 'accepted'])
        .on('claims.ended_at', 'is', null),
    )
    .select([
      'identities.id',
      'identities.display_name',
      'identities.provider',
      'identities.kind',
      'identities.account_id',
      'identities.risk_score',
      'identities.agent_platform',
      'claims.kind as claim_kind',
      'claims.decided_at',
      sql<string | null>`coalesce(claims.to_user_id, claims.requested_by)`.as('claim_owner'),
    ])
    .where((eb) =>
      eb.or([
        eb(sql`coalesce(claims.to_user_id, claims.requested_by)`, '=', user.id),
        eb.and([eb('claims.id', 'is', null), eb(sql`lower(identities.owner_ref)`, 'in', refs)]),
      ]),
    )
    .where('identities.status', '!=', 'gone')
    .orderBy('identities.risk_score', 'desc')
    .orderBy('identities.id', 'desc')
    .limit(500)
    .execute()
  return rows.map((row) => ({
    id: row.id,
    displayName: row.display_name,
    provider: row.provider,
    kind: row.kind,
    accountId: row.account_id,
    riskScore: row.risk_score,
    agentPlatform: row.agent_platform,
    ownedSince: row.decided_at,
    via: row.claim_kind === 'handover' ? 'handover' : row.claim_kind === 'claim' ? 'claim' : 'provider',
  }))
}

export interface ClaimRow {
  id: string
  kind: 'claim' | 'handover'
  status: string
  identityId: number
  identityName: string
  requestedBy: string
  requestedByName: string
  toUserId: string | null
  toUserName: string | null
  reason: string
  decidedByName: string | null
  decisionReason: string | null
  createdAt: Date
  decidedAt: Date | null
  endedAt: Date | null
}

function claimQuery(db: Db) {
  return db
    .selectFrom('claims')
    .innerJoin('identities', 'identities.id', 'claims.identity_id')
    .innerJoin('users as requester', 'requester.id', 'claims.requested_by')
    .leftJoin('users as to_user', 'to_user.id', 'claims.to_user_id')
    .leftJoin('users as decider', 'decider.id', 'claims.decided_by')
    .select([
      'claims.id',
      'claims.kind',
      'claims.status',
      'claims.identity_id',
      'identities.display_name as identity_name',
      'claims.requested_by',
      'requester.display_name as requested_by_name',
      'claims.to_user_id',
      'to_user.display_name as to_user_name',
      'claims.reason',
      'decider.display_name as decided_by_name',
      'claims.decision_reason',
      'claims.created_at',
      'claims.decided_at',
      'claims.ended_at',
    ])
}

type RawClaim = Awaited<ReturnType<ReturnType<typeof claimQuery>['execute']>>[number]

function toClaimRow(row: RawClaim): ClaimRow {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    identityId: row.identity_id,
    identityName: row.identity_name,
    requestedBy: row.requested_by,
    requestedByName: row.requested_by_name,
    toUserId: row.to_user_id,
    toUserName: row.to_user_name,
    reason: row.reason,
    decidedByName: row.decided_by_name,
    decisionReason: row.decision_reason,
    createdAt: row.created_at,
    decidedAt: row.decided_at,
    endedAt: row.ended_at,
  }
}

/** Claims waiting for a security lead. */
export async function listPendingClaims(db: Db, limit = 200): Promise<ClaimRow[]> {
  const rows = await claimQuery(db).where('claims.kind', '=', 'claim').where('claims.status', '=', 'pending').orderBy('claims.created_at', 'asc').limit(limit).execute()
  return rows.map(toClaimRow)
}

/** A user's own requests and the handovers addressed to them, newest first. */
export async function listClaimsOfUser(db: Db, userId: string, limit = 100): Promise<ClaimRow[]> {
  const rows = await claimQuery(db)
    .where((eb) => eb.or([eb('claims.requested_by', '=', userId), eb('claims.to_user_id', '=', userId)]))
    .orderBy('claims.created_at', 'desc')
    .limit(limit)
    .execute()
  return rows.map(toClaimRow)
}

export async function listClaimsOfIdentity(db: Db, identityId: number): Promise<ClaimRow[]> {
  const rows = await claimQuery(db).where('claims.identity_id', '=', identityId).orderBy('claims.created_at', 'desc').limit(50).execute()
  return rows.map(toClaimRow)
}

export async function getClaim(db: Db, claimId: string): Promise<ClaimRow | null> {
  const row = await claimQuery(db).where('claims.id', '=', claimId).executeTakeFirst()
  return row ? toClaimRow(row) : null
}
