import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { z } from 'zod'
import { RiskBadge } from '~/components/badges'
import { EmptyState } from '~/components/empty-state'
import { formatAgo, formatDateTime, label } from '~/components/format'
import { PageHeader } from '~/components/page-header'
import { RouteErrorBoundary } from '~/components/route-error'
import { ActionFailureNotice, WorkflowStatus } from '~/components/workflow-parts'
import { denyAccess, requireUser } from '~/utils/auth.server'
import { claimDeps, runWorkflow } from '~/utils/workflow.server'
import { acceptHandover, cancelClaim, declineHandover, listClaimsOfUser, listMyIdentities } from '../../jobs/claims/index.js'

export const meta: MetaFunction = () => [{ title: 'My identities · Leash' }]

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireUser(request, context)
  if (!user.can('read:claim:own') && !user.can('read:claim:any')) throw await denyAccess(request, context, user, 'read:claim:own')
  const me = await context.db.selectFrom('users').select(['id', 'username', 'email']).where('id', '=', user.userId).executeTakeFirstOrThrow()
  const [identities, claims] = await Promise.all([listMyIdentities(context.db, me), listClaimsOfUser(context.db, user.userId)])
  return {
    identities,
    incoming: claims.filter((c) => c.kind === 'handover' && c.status === 'pending' && c.toUserId === user.userId),
    requests: claims.filter((c) => c.requestedBy === user.userId),
    userId: user.userId,
  }
}

const ActionSchema = z.object({
  intent: z.enum(['accept', 'decline', 'cancel']),
  claimId: z.string().uuid('Pick a request from the list.'),
  reason: z.string().max(2000).default(''),
})

export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireUser(request, context)
  if (!user.can('update:claim:own') && !user.can('confirm:claim:any')) throw await denyAccess(request, context, user, 'update:claim:own')
  const parsed = ActionSchema.safeParse(Object.fromEntries(await request.formData()))
  if (!parsed.success) return { ok: false as const, error: 'The request was not understood.', remedy: parsed.error.issues.map((i) => i.message).join(' ') }
  const { intent, claimId, reason } = parsed.data
  const deps = claimDeps(context)
  const result = await runWorkflow(() => {
    if (intent === 'accept') return acceptHandover(context.db, deps, user, claimId, reason)
    if (intent === 'decline') return declineHandover(context.db, deps, user, claimId, reason)
    return cancelClaim(context.db, deps, user, claimId)
  })
  if (!result.ok) return result.response
  throw redirect('/my-identities')
}

export default function MyIdentitiesPage() {
  const { identities, incoming, requests } = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>()
  const navigation = useNavigation()
  const busy = navigation.state !== 'idle'
  return (
    <>
      <PageHeader title="My identities" description="The identities you own, handovers waiting for you, and your claims." />
      <ActionFailureNotice result={result} />
      {incoming.length > 0 ? (
        <section className="workflow-section" aria-labelledby="incoming-heading">
          <h2 id="incoming-heading">Handed to you ({incoming.length})</h2>
          <ul className="plain-list">
            {incoming.map((claim) => (
              <li key={claim.id}>
                <p>
                  <strong>{claim.requestedByName}</strong> hands you <Link to={`/identities/${claim.identityId}`}>{claim.identityName}</Link>: {claim.reason}
                </p>
                <div className="button-row">
                  <Form method="post" className="inline-form">
                    <input type="hidden" name="claimId" value={claim.id} />
                    <button type="submit" name="intent" value="accept" className="button" disabled={busy}>
                      Accept {claim.identityName}
                    </button>
                  </Form>
                  <Form method="post" className="inline-form">
                    <input type="hidden" name="claimId" value={claim.id} />
                    <label htmlFor={`decline-${claim.id}`} className="visually-hidden">
                      Reason to decline
                    </label>
                    <input id={`decline-${claim.id}`} name="reason" placeholder="Reason to decline" required minLength={3} maxLength={2000} />
                    <button type="submit" name="intent" value="decline" className="button secondary" disabled={busy}>
                      Decline
                    </button>
                  </Form>
                </div>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      <section className="workflow-section" aria-labelledby="owned-heading">
        <h2 id="owned-heading">Owned by you ({identities.length})</h2>
        {identities.length === 0 ? (
          <EmptyState title="You own no identity yet">
            <p>
              Claim the agent identities your team runs from the <Link to="/orphans">Orphans</Link> page; a security lead confirms the claim.
            </p>
          </EmptyState>
        ) : (
          <div className="table-scroll">
            <table className="data-table">
              <caption className="visually-hidden">Identities you own</caption>
              <thead>
                <tr>
                  <th scope="col">Identity</th>
                  <th scope="col">Provider</th>
                  <th scope="col">Risk</th>
                  <th scope="col">Owned through</th>
                  <th scope="col">Since</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {identities.map((identity) => (
                  <tr key={identity.id}>
                    <td>
                      <Link to={`/identities/${identity.id}`}>{identity.displayName}</Link> <span className="small muted">{label(identity.kind)}</span>
                    </td>
                    <td>{label(identity.provider)}</td>
                    <td>
                      <RiskBadge score={identity.riskScore} />
                    </td>
                    <td>{identity.via === 'claim' ? 'Confirmed claim' : identity.via === 'handover' ? 'Handover' : 'Provider data (owner tag)'}</td>
                    <td>{identity.ownedSince ? formatDateTime(identity.ownedSince) : '—'}</td>
                    <td>
                      <Link to={`/identities/${identity.id}/handover`} className="small">
                        Hand over
                      </Link>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section className="workflow-section" aria-labelledby="requests-heading">
        <h2 id="requests-heading">Your claims and handovers</h2>
        {requests.length === 0 ? (
          <p className="muted">None yet.</p>
        ) : (
          <ul className="plain-list">
            {requests.map((claim) => (
              <li key={claim.id}>
                <WorkflowStatus status={claim.status} /> {claim.kind === 'claim' ? 'Claim of' : `Handover to ${claim.toUserName ?? 'someone'} of`}{' '}
                <Link to={`/identities/${claim.identityId}`}>{claim.identityName}</Link> <span className="small muted">{formatAgo(claim.createdAt)}</span>
                {claim.decisionReason ? <div className="small muted">{claim.decisionReason}</div> : null}
                {claim.status === 'pending' ? (
                  <Form method="post" className="inline-form">
                    <input type="hidden" name="claimId" value={claim.id} />
                    <button type="submit" name="intent" value="cancel" className="button secondary" disabled={busy}>
                      Withdraw
                    </button>
                  </Form>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  )
}

export function ErrorBoundary() {
  return <RouteErrorBoundary title="My identities" />
}
