import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { z } from 'zod'
import { OwnerStatusBadge } from '~/components/badges'
import { label } from '~/components/format'
import { PageHeader } from '~/components/page-header'
import { RouteErrorBoundary } from '~/components/route-error'
import { ActionFailureNotice } from '~/components/workflow-parts'
import { requireUserWithPermission } from '~/utils/auth.server'
import { claimDeps, runWorkflow } from '~/utils/workflow.server'
import { claimIdentity, currentClaimOwners } from '../../jobs/claims/index.js'
import { loadWorkflowSettings } from '../../jobs/revocation/settings.js'

export const meta: MetaFunction = () => [{ title: 'Claim identity · Leash' }]

const IdSchema = z.coerce.number().int().positive()

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  await requireUserWithPermission(request, context, 'claim:identity:any')
  const id = IdSchema.safeParse(params.id)
  if (!id.success) throw new Response('That is not an identity id.', { status: 404 })
  const identity = await context.db
    .selectFrom('identities')
    .select(['id', 'display_name', 'provider', 'kind', 'account_id', 'owner_ref', 'owner_status', 'owner_source', 'status'])
    .where('id', '=', id.data)
    .executeTakeFirst()
  if (!identity) throw new Response('This identity does not exist.', { status: 404 })
  const hints = await context.db
    .selectFrom('identity_owners')
    .select(['owner_ref', 'role', 'source', 'display_name', 'active'])
    .where('identity_id', '=', identity.id)
    .orderBy('role')
    .limit(20)
    .execute()
  const owner = (await currentClaimOwners(context.db, [identity.id])).get(identity.id) ?? null
  const settings = await loadWorkflowSettings(context.db)
  return { identity, hints, claimedBy: owner?.displayName ?? null, autoConfirm: settings['claims.auto_confirm'] }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { user } = await requireUserWithPermission(request, context, 'claim:identity:any')
  const id = IdSchema.safeParse(params.id)
  if (!id.success) throw new Response('That is not an identity id.', { status: 404 })
  const form = await request.formData()
  const reason = String(form.get('reason') ?? '')
  const result = await runWorkflow(() => claimIdentity(context.db, claimDeps(context), user, { identityId: id.data, reason }))
  if (!result.ok) return result.response
  throw redirect('/my-identities')
}

export default function ClaimPage() {
  const { identity, hints, claimedBy, autoConfirm } = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>()
  const navigation = useNavigation()
  return (
    <>
      <PageHeader title={`Claim ${identity.display_name}`} description={`${label(identity.provider)} ${label(identity.kind)} in account ${identity.account_id}`} />
      <ActionFailureNotice result={result} />
      <div className="workflow-grid">
        <section className="panel" aria-labelledby="claim-heading">
          <h2 id="claim-heading">Why is it yours?</h2>
          {claimedBy ? (
            <p className="form-notice">
              {claimedBy} already owns it through a confirmed claim. Ask them to hand it over from My identities.
            </p>
          ) : (
            <Form method="post">
              <div className="form-field">
                <label htmlFor="claim-reason">Reason</label>
                <textarea id="claim-reason" name="reason" rows={3} required minLength={3} maxLength={2000} aria-describedby="claim-reason-hint" />
                <span id="claim-reason-hint" className="hint">
                  E.g. the team, service or agent that uses it. A security lead reads this before confirming.
                </span>
              </div>
              <button type="submit" className="button" disabled={navigation.state !== 'idle'}>
                Claim ownership
              </button>{' '}
              <Link to={`/identities/${identity.id}`} className="button secondary">
                Back
              </Link>
              <p className="small muted">{autoConfirm ? 'Claims are confirmed automatically on this installation.' : 'A security lead confirms or rejects the claim.'}</p>
            </Form>
          )}
        </section>
        <aside className="panel" aria-labelledby="hints-heading">
          <h2 id="hints-heading">Ownership now</h2>
          <p>
            <OwnerStatusBadge status={identity.owner_status} /> {identity.owner_ref ? `${identity.owner_ref} (${identity.owner_source ?? 'unknown source'})` : null}
          </p>
          {hints.length > 0 ? (
            <ul className="plain small">
              {hints.map((hint) => (
                <li key={`${hint.owner_ref}-${hint.role}-${hint.source}`}>
                  {hint.display_name ?? hint.owner_ref} — {hint.role.replace('_', ' ')} from {hint.source}
                  {hint.active === false ? ' (left or disabled)' : ''}
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted small">No hints about who owns it.</p>
          )}
        </aside>
      </div>
    </>
  )
}

export function ErrorBoundary() {
  return <RouteErrorBoundary title="The claim form" backTo="/orphans" backLabel="Back to Orphans" />
}
