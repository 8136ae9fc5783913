import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { z } from 'zod'
import { OwnerStatusBadge } from '~/components/badges'
import { EmptyState } from '~/components/empty-state'
import { formatAgo, formatDateTime } from '~/components/format'
import { PageHeader } from '~/components/page-header'
import { RouteErrorBoundary } from '~/components/route-error'
import { ActionFailureNotice } from '~/components/workflow-parts'
import { denyAccess, requireUser, requireUserWithPermission } from '~/utils/auth.server'
import { claimDeps, runWorkflow } from '~/utils/workflow.server'
import { confirmClaim, listPendingClaims, rejectClaim } from '../../jobs/claims/index.js'

export const meta: MetaFunction = () => [{ title: 'Claims · Leash' }]

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { user } = await requireUserWithPermission(request, context, 'read:claim:any')
  const pending = await listPendingClaims(context.db)
  const identities = pending.length
    ? await context.db
        .selectFrom('identities')
        .select(['id', 'owner_ref', 'owner_status', 'owner_source'])
        .where('id', 'in', [...new Set(pending.map((c) => c.identityId))])
        .execute()
    : []
  const ownership = new Map(identities.map((i) => [i.id, i]))
  return {
    pending: pending.map((claim) => ({ ...claim, owner: ownership.get(claim.identityId) ?? null })),
    canDecide: user.kind === 'user' && user.can('confirm:claim:any'),
    userId: user.userId,
  }
}

const ActionSchema = z.object({ intent: z.enum(['confirm', 'reject']), claimId: z.string().uuid(), reason: z.string().max(2000).default('') })

export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireUser(request, context)
  const parsed = ActionSchema.safeParse(Object.fromEntries(await request.formData()))
  if (!parsed.success) return { ok: false as const, error: 'The request was not understood.', remedy: 'Reload the page and use its buttons.' }
  if (!user.can('confirm:claim:any')) throw await denyAccess(request, context, user, 'confirm:claim:any', { type: 'claim', id: parsed.data.claimId })
  const { intent, claimId, reason } = parsed.data
  const deps = claimDeps(context)
  const result = await runWorkflow(() => (intent === 'confirm' ? confirmClaim(context.db, deps, user, claimId, reason) : rejectClaim(context.db, deps, user, claimId, reason)))
  if (!result.ok) return result.response
  throw redirect('/claims')
}

export default function ClaimsPage() {
  const { pending, canDecide, userId } = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>()
  const navigation = useNavigation()
  const busy = navigation.state !== 'idle'
  return (
    <>
      <PageHeader title="Claims" description="Ownership claims waiting for a security lead. A confirmed claim makes the claimant the owner and survives rescans." />
      <ActionFailureNotice result={result} />
      {pending.length === 0 ? (
        <EmptyState title="No claim is waiting">
          <p>Owners claim orphaned identities from the Orphans page or an identity&apos;s page.</p>
        </EmptyState>
      ) : (
        <ul className="plain-list" aria-label="Pending claims">
          {pending.map((claim) => (
            <li key={claim.id} aria-label={`Claim of ${claim.identityName} by ${claim.requestedByName}`}>
              <p>
                <strong>{claim.requestedByName}</strong> claims <Link to={`/identities/${claim.identityId}`}>{claim.identityName}</Link>{' '}
                <span className="small muted" title={formatDateTime(claim.createdAt)}>
                  {formatAgo(claim.createdAt)}
                </span>
              </p>
              <p>Reason: {claim.reason}</p>
              {claim.owner ? (
                <p className="small">
                  Current ownership: <OwnerStatusBadge status={claim.owner.owner_status} /> {claim.owner.owner_ref ? `${claim.owner.owner_ref} (${claim.owner.owner_source ?? 'unknown'})` : ''}
                </p>
              ) : null}
              {canDecide && claim.requestedBy !== userId ? (
                <div className="button-row">
                  <Form method="post" className="inline-form">
                    <input type="hidden" name="claimId" value={claim.id} />
                    <button type="submit" name="intent" value="confirm" className="button" disabled={busy}>
                      Confirm claim
                    </button>
                  </Form>
                  <Form method="post" className="inline-form">
                    <input type="hidden" name="claimId" value={claim.id} />
                    <label htmlFor={`reject-${claim.id}`} className="visually-hidden">
                      Reason to reject
                    </label>
                    <input id={`reject-${claim.id}`} name="reason" placeholder="Reason to reject" required minLength={3} maxLength={2000} />
                    <button type="submit" name="intent" value="reject" className="button secondary" disabled={busy}>
                      Reject claim
                    </button>
                  </Form>
                </div>
              ) : canDecide ? (
                <p className="small muted">You made this claim; a different security lead decides on it.</p>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </>
  )
}

export function ErrorBoundary() {
  return <RouteErrorBoundary title="Claims" />
}
