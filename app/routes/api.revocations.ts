/**
 * JSON API for automation (SOAR, scripts): request revocations and read their state.
 *
 *   POST /api/revocations   Authorization: Bearer leash_…   (scope create:revocation:any)
 *     {"identityId": 42, "credentialId": 7, "reason": "…", "actionId"?: "…", "killSwitch"?: false}
 *     Idempotency-Key header (or "idempotencyKey"): the same key returns the same request.
 *     201 with the new request(s); 200 when the key matched an earlier request.
 *   GET  /api/revocations?status=pending_approval   (scope read:revocation:any)
 *
 * A token can request but never approve: approval happens on the Revocations page, by a person.
 */
import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { z } from 'zod'
import type { Revocation } from '../../db/schema.js'
import { denyAccess, requireUser } from '~/utils/auth.server'
import { revocationDeps } from '~/utils/workflow.server'
import { listRevocations, requestRevocation, WorkflowError } from '../../jobs/revocation/index.js'

const STATUSES = ['pending_approval', 'approved', 'rejected', 'expired', 'executing', 'verified', 'failed', 'partial', 'undone', 'cancelled'] as const

const RequestBody = z
  .object({
    identityId: z.number({ required_error: 'identityId is required (the Leash identity id).' }).int().positive(),
    credentialId: z.number().int().positive().nullable().optional(),
    actionId: z.string().max(200).nullable().optional(),
    killSwitch: z.boolean().optional(),
    reason: z.string({ required_error: 'reason is required.' }).max(2000),
    idempotencyKey: z.string().max(100).optional(),
  })
  .strict()

function jsonError(status: number, error: string, remedy: string) {
  return data({ error, remedy }, { status, headers: { 'Cache-Control': 'no-store' } })
}

function present(row: Revocation, origin: string) {
  return {
    id: row.id,
    status: row.status,
    identityId: row.identity_id,
    credentialId: row.credential_id,
    actionId: row.action_id,
    batchId: row.batch_id,
    impact: row.impact,
    impactReasons: row.impact_reasons,
    approvalRequired: row.approval_required,
    approvalExpiresAt: row.approval_expires_at,
    error: row.error,
    verification: row.verification,
    url: `${origin}/revocations/${row.id}`,
  }
}

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireUser(request, context)
  if (!user.can('read:revocation:any') && !user.can('read:revocation:own')) throw await denyAccess(request, context, user, 'read:revocation:any')
  const url = new URL(request.url)
  const status = url.searchParams.getAll('status')
  const invalid = status.filter((s) => !(STATUSES as readonly string[]).includes(s))
  if (invalid.length) return jsonError(400, `Unknown status ${invalid.map((s) => JSON.stringify(s)).join(', ')}.`, `Use one of: ${STATUSES.join(', ')}.`)
  const rows = await listRevocations(context.db, {
    ownUserId: user.can('read:revocation:any') ? undefined : user.userId,
    status: status as (typeof STATUSES)[number][],
    limit: 200,
  })
  return data({ revocations: rows }, { headers: { 'Cache-Control': 'no-store' } })
}

export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireUser(request, context)
  if (request.method !== 'POST') return jsonError(405, `${request.method} is not supported here.`, 'POST a revocation request, or GET the list.')
  if (!user.can('create:revocation:any') && !user.can('create:revocation:own')) throw await denyAccess(request, context, user, 'create:revocation:any')
  let body: unknown
  try {
    body = await request.json()
  } catch {
    return jsonError(400, 'The body is not valid JSON.', 'Send Content-Type: application/json with {"identityId": …, "reason": "…"}.')
  }
  const parsed = RequestBody.safeParse(body)
  if (!parsed.success) {
    return jsonError(400, `The request body is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}.`, 'Fix the fields named and send it again.')
  }
  const idempotencyKey = request.headers.get('Idempotency-Key') ?? parsed.data.idempotencyKey ?? null
  try {
    const outcome = await requestRevocation(context.db, revocationDeps(context), user, { ...parsed.data, idempotencyKey })
    const origin = new URL(request.url).origin
    return data(
      { created: outcome.created, batchId: outcome.batchId, revocations: outcome.revocations.map((row) => present(row, origin)) },
      { status: outcome.created ? 201 : 200, headers: { 'Cache-Control': 'no-store' } },
    )
  } catch (error) {
    if (error instanceof WorkflowError) return jsonError(error.status, error.message, error.remedy)
    throw error
  }
}
