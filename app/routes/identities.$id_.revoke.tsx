import { randomUUID } from 'node:crypto'
import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { z } from 'zod'
import { PageHeader } from '~/components/page-header'
import { RouteErrorBoundary } from '~/components/route-error'
import { ActionFailureNotice } from '~/components/workflow-parts'
import { denyAccess, requireUser } from '~/utils/auth.server'
import { revocationDeps, runWorkflow, workflowErrorResponse } from '~/utils/workflow.server'
import { previewRevocation, requestRevocation } from '../../jobs/revocation/index.js'

export const meta: MetaFunction = () => [{ title: 'Revoke · Leash' }]

const SelectionSchema = z.object({
  identityId: z.coerce.number().int().positive(),
  credentialId: z.preprocess((v) => (v === '' || v === null || v === undefined ? undefined : v), z.coerce.number().int().positive().optional()),
  actionId: z.preprocess((v) => (v === '' || v === null ? undefined : v), z.string().max(200).optional()),
  killSwitch: z.preprocess((v) => v === '1' || v === 'true' || v === 'on', z.boolean()),
})

function selectionFrom(params: { id?: string }, search: URLSearchParams) {
  const parsed = SelectionSchema.safeParse({
    identityId: params.id,
    credentialId: search.get('credential'),
    actionId: search.get('action'),
    killSwitch: search.get('kill'),
  })
  if (!parsed.success) throw new Response(`The revocation link is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}.`, { status: 400 })
  return parsed.data
}

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const user = await requireUser(request, context)
  if (!user.can('create:revocation:any') && !user.can('create:revocation:own')) throw await denyAccess(request, context, user, 'create:revocation:any')
  const selection = selectionFrom(params, new URL(request.url).searchParams)
  try {
    const preview = await previewRevocation(context.db, revocationDeps(context), user, selection)
    // A fresh key per rendering of the form: a double submit or a retried POST makes one request.
    return { preview, selection, idempotencyKey: randomUUID() }
  } catch (error) {
    workflowErrorResponse(error)
  }
}

const RequestSchema = z.object({
  credentialId: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().positive().optional()),
  actionId: z.preprocess((v) => (v === '' ? undefined : v), z.string().max(200).optional()),
  killSwitch: z.preprocess((v) => v === '1' || v === 'true' || v === 'on', z.boolean()),
  reason: z.string().max(2000).default(''),
  idempotencyKey: z.string().max(100).optional(),
})

export async function action({ request, context, params }: ActionFunctionArgs) {
  const user = await requireUser(request, context)
  const identityId = z.coerce.number().int().positive().safeParse(params.id)
  if (!identityId.success) throw new Response('That is not an identity id.', { status: 404 })
  const parsed = RequestSchema.safeParse(Object.fromEntries(await request.formData()))
  if (!parsed.success) return { ok: false as const, error: 'The request was not understood.', remedy: parsed.error.issues.map((i) => i.message).join(' ') }
  if (!user.can('create:revocation:any') && !user.can('create:revocation:own')) {
    throw await denyAccess(request, context, user, 'create:revocation:any', { type: 'identity', id: String(identityId.data) })
  }
  const result = await runWorkflow(() => requestRevocation(context.db, revocationDeps(context), user, { identityId: identityId.data, ...parsed.data }))
  if (!result.ok) return result.response
  const first = result.value.revocations[0]
  throw redirect(first ? `/revocations/${first.id}` : '/revocations')
}

export default function RevokePage() {
  const { preview, selection, idempotencyKey } = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>()
  const navigation = useNavigation()
  const { identity, assessment, items, options, settings } = preview
  const single = items[0]
  const title = preview.killSwitch ? `Kill switch: revoke everything of ${identity.displayName}` : `Revoke ${single?.label ?? identity.displayName}`
  const base = `/identities/${identity.id}/revoke`
  return (
    <>
      <PageHeader title={title} description={`${identity.provider.toUpperCase()} · ${preview.sourceName} · account ${identity.accountId}`} />
      <ActionFailureNotice result={result} />
      <div className="workflow-grid">
        <div>
          {!preview.killSwitch && options.length > 1 ? (
            <section className="panel workflow-section" aria-labelledby="choose-heading">
              <h2 id="choose-heading">Action</h2>
              <ul className="identity-actions-list">
                {options.map((option) => (
                  <li key={option.id}>
                    {option.id === single?.action.id ? (
                      <strong aria-current="true">{option.title}</strong>
                    ) : option.available ? (
                      <Link to={`${base}?${new URLSearchParams({ ...(selection.credentialId ? { credential: String(selection.credentialId) } : {}), action: option.id })}`}>{option.title}</Link>
                    ) : (
                      <span className="muted">{option.title}</span>
                    )}{' '}
                    <span className="small muted">
                      {option.destructive ? 'destructive' : option.reversible ? 'reversible' : 'not reversible'}
                      {option.unavailableReason ? ` — ${option.unavailableReason}` : ''}
                    </span>
                  </li>
                ))}
              </ul>
            </section>
          ) : null}
          {items.map((item, index) => (
            <section key={index} className="panel workflow-section" aria-label={`Plan for ${item.label}`}>
              <h2>
                {item.action.title}: <span className="mono">{item.label}</span>
              </h2>
              <p>{item.plan.providerPlan.summary}</p>
              <ol className="plan-calls" aria-label={`Provider calls for ${item.label}`}>
                {item.plan.providerPlan.calls.map((call, callIndex) => (
                  <li key={callIndex}>
                    <span className="mono">{call.operation}</span> — {call.effect}
                    <div className="small muted mono break">{JSON.stringify(call.parameters)}</div>
                  </li>
                ))}
              </ol>
              <h3 className="h4">What will stop working</h3>
              <ul>
                {item.plan.stopsWorking.map((line, lineIndex) => (
                  <li key={lineIndex}>{line}</li>
                ))}
              </ul>
              {item.plan.providerPlan.caveats.length > 0 ? (
                <ul className="small muted">
                  {item.plan.providerPlan.caveats.map((line, lineIndex) => (
                    <li key={lineIndex}>{line}</li>
                  ))}
                </ul>
              ) : null}
              <p className="small muted">
                {item.plan.providerPlan.reversible
                  ? `Reversible: can be undone for ${settings['revocation.undo_grace_days']} days; deletion is offered only after that.`
                  : 'Not reversible.'}
              </p>
            </section>
          ))}
        </div>
        <aside>
          <section className="panel workflow-section" aria-labelledby="confirm-heading">
            <h2 id="confirm-heading">Confirm</h2>
            <div className={assessment.impact === 'high' ? 'impact-high' : 'impact-normal'}>
              <strong>{assessment.impact === 'high' ? 'High impact' : 'Normal impact'}</strong>
              {assessment.reasons.length ? (
                <ul>
                  {assessment.reasons.map((reason) => (
                    <li key={reason}>{reason}</li>
                  ))}
                </ul>
              ) : null}
              <p className="small">
                {assessment.approvalRequired
                  ? `A different security lead or operator must approve this within ${settings['revocation.approval_ttl_hours']} hours before it runs.`
                  : 'No second approval is needed: it runs as soon as you confirm.'}
              </p>
            </div>
            <Form method="post">
              <input type="hidden" name="idempotencyKey" value={idempotencyKey} />
              <input type="hidden" name="credentialId" value={selection.credentialId ?? ''} />
              <input type="hidden" name="actionId" value={preview.killSwitch ? '' : (single?.action.id ?? '')} />
              <input type="hidden" name="killSwitch" value={preview.killSwitch ? '1' : ''} />
              <div className="form-field">
                <label htmlFor="revoke-reason">Reason</label>
                <textarea id="revoke-reason" name="reason" rows={3} required minLength={3} maxLength={2000} aria-describedby="revoke-reason-hint" />
                <span id="revoke-reason-hint" className="hint">
                  Kept in the audit trail and shown to the approver.
                </span>
              </div>
              <button type="submit" className="button danger" disabled={navigation.state !== 'idle'}>
                {assessment.approvalRequired ? 'Request approval' : 'Revoke now'}
              </button>{' '}
              <Link to={`/identities/${identity.id}`} className="button secondary">
                Back
              </Link>
            </Form>
          </section>
        </aside>
      </div>
    </>
  )
}

export function ErrorBoundary() {
  return <RouteErrorBoundary title="The revocation plan" backTo="/identities" backLabel="Back to Identities" />
}
