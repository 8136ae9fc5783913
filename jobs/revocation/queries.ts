/** Read models for the Revocations pages, and who may see which revocation. */
import { sql } from 'kysely'
import type { Revocation } from '../../db/schema.js'
import { isIdentityOwner } from '../claims/ownership.js'
import type { StoredPlan } from './targets.js'
import type { Db, WorkflowActor } from './types.js'

export interface RevocationListRow {
  id: string
  batchId: string | null
  status: Revocation['status']
  actionId: string
  actionTitle: string
  identityId: number
  identityName: string
  provider: string
  credentialExternalId: string | null
  target: string
  impact: 'normal' | 'high'
  approvalRequired: boolean
  reason: string
  requestedBy: string
  approvedBy: string | null
  createdAt: Date
  updatedAt: Date
  approvalExpiresAt: Date | null
  undoUntil: Date | null
  error: string | null
  isUndo: boolean
}

function listQuery(db: Db) {
  return db
    .selectFrom('revocations as r')
    .innerJoin('identities as i', 'i.id', 'r.identity_id')
    .leftJoin('credentials as c', 'c.id', 'r.credential_id')
    .leftJoin('users as requester', 'requester.id', 'r.requested_by_user_id')
    .leftJoin('api_tokens as t', 't.id', 'r.requested_by_token_id')
    .leftJoin('users as approver', 'approver.id', 'r.approved_by')
    .select([
      'r.id',
      'r.batch_id',
      'r.status',
      'r.action_id',
      sql<string>`r.plan->'action'->>'title'`.as('action_title'),
      sql<string>`coalesce(r.plan->'target'->'credential'->>'externalId', r.plan->'target'->'identity'->>'displayName')`.as('target'),
      'r.identity_id',
      'i.display_name as identity_name',
      'i.provider',
      'c.external_id as credential_external_id',
      'r.impact',
      'r.approval_required',
      'r.reason',
      sql<string>`coalesce(requester.display_name, 'API token ' || t.name, 'unknown')`.as('requested_by'),
      'approver.display_name as approved_by',
      'r.created_at',
      'r.updated_at',
      'r.approval_expires_at',
      'r.undo_until',
      'r.error',
      'r.undo_of_revocation_id',
    ])
}

type RawRow = Awaited<ReturnType<ReturnType<typeof listQuery>['execute']>>[number]

function toListRow(row: RawRow): RevocationListRow {
  return {
    id: row.id,
    batchId: row.batch_id,
    status: row.status,
    actionId: row.action_id,
    actionTitle: row.action_title ?? row.action_id,
    identityId: row.identity_id,
    identityName: row.identity_name,
    provider: row.provider,
    credentialExternalId: row.credential_external_id,
    target: row.target,
    impact: row.impact,
    approvalRequired: row.approval_required,
    reason: row.reason,
    requestedBy: row.requested_by,
    approvedBy: row.approved_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    approvalExpiresAt: row.approval_expires_at,
    undoUntil: row.undo_until,
    error: row.error,
    isUndo: row.undo_of_revocation_id !== null,
  }
}

export interface RevocationListFilter {
  /** Only revocations this user requested or whose identity they own (for read:revocation:own). */
  ownUserId?: string
  status?: Revocation['status'][]
  limit?: number
  /** Keyset: continue after this created_at/id. */
  before?: { createdAt: Date; id: string }
}

export async function listRevocations(db: Db, filter: RevocationListFilter = {}): Promise<RevocationListRow[]> {
  let query = listQuery(db).orderBy('r.created_at', 'desc').orderBy('r.id', 'desc').limit(filter.limit ?? 100)
  if (filter.status?.length) query = query.where('r.status', 'in', filter.status)
  if (filter.before) {
    const { createdAt, id } = filter.before
    query = query.where((eb) => eb.or([eb('r.created_at', '<', createdAt), eb.and([eb('r.created_at', '=', createdAt), eb('r.id', '<', id)])]))
  }
  if (filter.ownUserId) {
    const me = filter.ownUserId
    query = query.where((eb) =>
      eb.or([
        eb('r.requested_by_user_id', '=', me),
        eb(
          'r.identity_id',
          'in',
          eb
            .selectFrom('claims')
            .select('claims.identity_id')
            .where('claims.status', 'in', ['confirmed', 'accepted'])
            .where('claims.ended_at', 'is', null)
            .where(sql`coalesce(claims.to_user_id, claims.requested_by)`, '=', me),
        ),
      ]),
    )
  }
  return (await query.execute()).map(toListRow)
}

export interface RevocationDetail extends RevocationListRow {
  plan: StoredPlan
  impactReasons: string[]
  providerCalls: { operation: string; parameters: Record<string, unknown>; ok: boolean; response: Record<string, unknown> | null; error: string | null; at: string; attempt?: number }[]
  verification: { verified: boolean; observed: string; at?: string; attempt?: number } | null
  remaining: { summary?: string; calls?: { operation: string; error: string | null }[] } | null
  attempts: number
  approvedAt: Date | null
  executedAt: Date | null
  verifiedAt: Date | null
  decidedBy: string | null
  decisionReason: string | null
  decidedAt: Date | null
  requestedByUserId: string | null
  requestedByTokenId: string | null
  undoOfRevocationId: string | null
  undoneByRevocationId: string | null
  batch: RevocationListRow[]
}

export async function getRevocationDetail(db: Db, id: string): Promise<RevocationDetail | null> {
  const row = await listQuery(db).where('r.id', '=', id).executeTakeFirst()
  if (!row) return null
  const full = await db
    .selectFrom('revocations as r')
    .leftJoin('users as decider', 'decider.id', 'r.decided_by')
    .select([
      'r.plan',
      'r.impact_reasons',
      'r.provider_calls',
      'r.verification',
      'r.remaining',
      'r.attempts',
      'r.approved_at',
      'r.executed_at',
      'r.verified_at',
      'decider.display_name as decided_by',
      'r.decision_reason',
      'r.decided_at',
      'r.requested_by_user_id',
      'r.requested_by_token_id',
      'r.undo_of_revocation_id',
      'r.undone_by_revocation_id',
    ])
    .where('r.id', '=', id)
    .executeTakeFirstOrThrow()
  const batch = row.batch_id ? (await listQuery(db).where('r.batch_id', '=', row.batch_id).orderBy('r.idempotency_key').execute()).map(toListRow) : []
  return {
    ...toListRow(row),
    plan: full.plan as unknown as StoredPlan,
    impactReasons: (full.impact_reasons ?? []) as string[],
    providerCalls: (full.provider_calls ?? []) as RevocationDetail['providerCalls'],
    verification: (full.verification ?? null) as RevocationDetail['verification'],
    remaining: (full.remaining ?? null) as RevocationDetail['remaining'],
    attempts: full.attempts,
    approvedAt: full.approved_at,
    executedAt: full.executed_at,
    verifiedAt: full.verified_at,
    decidedBy: full.decided_by,
    decisionReason: full.decision_reason,
    decidedAt: full.decided_at,
    requestedByUserId: full.requested_by_user_id,
    requestedByTokenId: full.requested_by_token_id,
    undoOfRevocationId: full.undo_of_revocation_id,
    undoneByRevocationId: full.undone_by_revocation_id,
    batch,
  }
}

/** read:revocation:any, or read:revocation:own for the requester and the identity's owner. */
export async function canReadRevocation(db: Db, actor: WorkflowActor, row: { requestedByUserId: string | null; identityId: number }): Promise<boolean> {
  if (actor.can('read:revocation:any')) return true
  if (!actor.can('read:revocation:own')) return false
  if (row.requestedByUserId === actor.userId) return true
  return isIdentityOwner(db, actor.userId, row.identityId)
}

/** The latest revocation of each credential (and of the identity itself) for the identity page. */
export async function latestRevocationsOfIdentity(db: Db, identityId: number): Promise<RevocationListRow[]> {
  const rows = await listQuery(db).where('r.identity_id', '=', identityId).orderBy('r.created_at', 'desc').limit(50).execute()
  return rows.map(toListRow)
}
