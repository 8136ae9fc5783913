import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { z } from 'zod'
import { formatAgo, formatDateTime } from '~/components/format'
import { PageHeader } from '~/components/page-header'
import { RouteErrorBoundary } from '~/components/route-error'
import { ActionFailureNotice, WorkflowStatus } from '~/components/workflow-parts'
import { denyAccess, requireUser } from '~/utils/auth.server'
import { revocationDeps, runWorkflow } from '~/utils/workflow.server'
import {
  approveRevocation,
  canReadRevocation,
  cancelRevocation,
  getRevocationDetail,
  rejectRevocation,
  retryRevocation,
  undoRevocation,
} from '../../jobs/revocation/index.js'

export const meta: MetaFunction = () => [{ title: 'Revocation · Leash' }]

const IdSchema = z.string().uuid()

async function loadFor(request: Request, context: LoaderFunctionArgs['context'], id: string | undefined) {
  const user = await requireUser(request, context)
  const parsedId = IdSchema.safeParse(id)
  if (!parsedId.success) throw new Response('That is not a revocation id.', { status: 404 })
  const detail = await getRevocationDetail(context.db, parsedId.data)
  if (!detail) throw new Response('This revocation does not exist.', { status: 404 })
  if (!(await canReadRevocation(context.db, user, detail))) {
    throw await denyAccess(request, context, user, 'read:revocation:any', { type: 'revocation', id: detail.id })
  }
  return { user, detail }
}

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { user, detail } = await loadFor(request, context, params.id)
  const now = Date.now()
  const isRequester = detail.requestedByUserId === user.userId
  const pending = detail.status === 'pending_approval'
  return {
    detail,
    can: {
      approve: pending && user.kind === 'user' && user.can('approve:revocation:any') && !isRequester,
      cancel: (detail.status === 'pending_approval' || detail.status === 'approved') && (isRequester || (user.kind === 'user' && user.can('approve:revocation:any'))),
      retry: (detail.status === 'failed' || detail.status === 'partial') && user.can('execute:revocation:any'),
      undo:
        detail.status === 'verified' &&
        !detail.undoOfRevocationId &&
        detail.plan.providerPlan.reversible &&
        !!detail.undoUntil &&
        new Date(detail.undoUntil).getTime() > now &&
        user.kind === 'user' &&
        user.can('execute:revocation:any'),
    },
    isRequester,
    pendingSelfApproval: pending && isRequester,
    canReadAudit: user.can('read:audit:any'),
  }
}

const ActionSchema = z.discriminatedUnion('intent', [
  z.object({ intent: z.literal('approve'), note: z.string().max(2000).optional() }),
  z.object({ intent: z.literal('reject'), reason: z.string().max(2000).default('') }),
  z.object({ intent: z.literal('cancel'), reason: z.string().max(2000).default('') }),
  z.object({ intent: z.literal('retry') }),
  z.object({ intent: z.literal('undo'), reason: z.string().max(2000).default('') }),
])

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { user, detail } = await loadFor(request, context, params.id)
  const parsed = ActionSchema.safeParse(Object.fromEntries(await request.formData()))
  if (!parsed.success) return { ok: false as const, error: 'The request was not understood.', remedy: 'Reload the page and use its buttons.' }
  const form = parsed.data
  const object = { type: 'revocation', id: detail.id }
  // The permission first (a refusal is audited), then the workflow's own rules (self-approval, state, expiry).
  const needed = form.intent === 'approve' || form.intent === 'reject' ? 'approve:revocation:any' : form.intent === 'retry' || form.intent === 'undo' ? 'execute:revocation:any' : null
  if (needed && !user.can(needed)) throw await denyAccess(request, context, user, needed, object)
  const deps = revocationDeps(context)
  const result = await runWorkflow(async () => {
    switch (form.intent) {
      case 'approve':
        return approveRevocation(context.db, deps, user, detail.id, form.note)
      case 'reject':
        return rejectRevocation(context.db, deps, user, detail.id, form.reason)
      case 'cancel':
        return cancelRevocation(context.db, deps, user, detail.id, form.reason)
      case 'retry':
        return retryRevocation(context.db, deps, user, detail.id)
      case 'undo':
        return [await undoRevocation(context.db, deps, user, detail.id, form.reason)]
    }
  })
  if (!result.ok) return result.response
  const undo = form.intent === 'undo' ? result.value[0] : undefined
  throw redirect(undo ? `/revocations/${undo.id}` : `/revocations/${detail.id}`)
}

function describeResponse(value: Record<string, unknown> | null): string {
  if (!value || Object.keys(value).length === 0) return ''
  return JSON.stringify(value)
}

export default function RevocationPage() {
  const { detail, can, pendingSelfApproval, canReadAudit } = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>()
  const navigation = useNavigation()
  const busy = navigation.state !== 'idle'
  const { plan } = detail
  return (
    <>
      <PageHeader
        title={`${detail.actionTitle}: ${detail.target}`}
        description={`Revocation for ${detail.identityName} (${plan.sourceName}), requested by ${detail.requestedBy} ${formatAgo(detail.createdAt)}.`}
        actions={<WorkflowStatus status={detail.status} />}
      />
      <ActionFailureNotice result={result} />
      <div className="workflow-grid">
        <div>
          <section className="panel workflow-section" aria-labelledby="status-heading">
            <h2 id="status-heading">Status</h2>
            <p role="status">
              <WorkflowStatus status={detail.status} />{' '}
              {detail.status === 'pending_approval' ? `Waiting for a second person until ${formatDateTime(detail.approvalExpiresAt)}.` : null}
              {detail.status === 'verified' ? `Verified ${formatDateTime(detail.verifiedAt)}: ${detail.verification?.observed ?? ''}` : null}
              {detail.status === 'failed' ? `Failed: ${detail.error ?? 'the provider reported an error.'}` : null}
              {detail.status === 'partial' ? `Partly done: ${detail.remaining?.summary ?? detail.error ?? ''}` : null}
              {detail.status === 'rejected' || detail.status === 'cancelled' ? `${detail.status === 'rejected' ? 'Rejected' : 'Cancelled'} by ${detail.decidedBy ?? 'unknown'}: ${detail.decisionReason ?? ''}` : null}
              {detail.status === 'expired' ? 'Nobody approved it in time (or the approval ran out before it ran). Request it again if it is still needed.' : null}
              {detail.status === 'undone' ? 'Undone: the access was restored.' : null}
              {detail.status === 'executing' ? 'Running now. Reload in a moment.' : null}
            </p>
            {detail.remaining?.calls?.length ? (
              <>
                <h3 className="h4">What remains</h3>
                <ul>
                  {detail.remaining.calls.map((call, index) => (
                    <li key={index}>
                      <span className="mono">{call.operation}</span>: {call.error}
                    </li>
                  ))}
                </ul>
              </>
            ) : null}
            {detail.undoUntil && detail.status === 'verified' ? <p className="small">Can be undone until {formatDateTime(detail.undoUntil)}; deletion is offered only after that.</p> : null}
            {detail.undoOfRevocationId ? (
              <p className="small">
                This undoes <Link to={`/revocations/${detail.undoOfRevocationId}`}>an earlier revocation</Link>.
              </p>
            ) : null}
            {detail.undoneByRevocationId ? (
              <p className="small">
                Undone by <Link to={`/revocations/${detail.undoneByRevocationId}`}>this request</Link>.
              </p>
            ) : null}
          </section>

          <section className="panel workflow-section" aria-labelledby="plan-heading">
            <h2 id="plan-heading">Plan</h2>
            <p>{plan.providerPlan.summary}</p>
            <ol className="plan-calls" aria-label="Planned provider calls">
              {plan.providerPlan.calls.map((call, index) => (
                <li key={index}>
                  <span className="mono">{call.operation}</span> — {call.effect}
                  <div className="small muted mono break">{JSON.stringify(call.parameters)}</div>
                </li>
              ))}
            </ol>
            <h3 className="h4">What will stop working</h3>
            <ul>
              {plan.stopsWorking.map((line, index) => (
                <li key={index}>{line}</li>
              ))}
            </ul>
            {plan.providerPlan.caveats.length > 0 ? (
              <>
                <h3 className="h4">Caveats</h3>
                <ul>
                  {plan.providerPlan.caveats.map((line, index) => (
                    <li key={index}>{line}</li>
                  ))}
                </ul>
              </>
            ) : null}
            <p className="small muted">{plan.providerPlan.reversible ? 'Reversible: it can be undone during the grace period.' : 'Not reversible.'}</p>
          </section>

          <section className="panel workflow-section" aria-labelledby="calls-heading">
            <h2 id="calls-heading">Provider calls</h2>
            {detail.providerCalls.length === 0 ? (
              <p className="muted">No call has been made yet.</p>
            ) : (
              <ol className="plan-calls" aria-label="Provider calls made">
                {detail.providerCalls.map((call, index) => (
                  <li key={index} className={call.ok ? 'call-ok' : 'call-failed'}>
                    <span className="mono">{call.operation}</span> {call.ok ? 'succeeded' : 'failed'}
                    {call.attempt ? ` (attempt ${call.attempt})` : ''} at {formatDateTime(call.at)}
                    {call.error ? <div className="field-error">{call.error}</div> : null}
                    {describeResponse(call.response) ? <div className="small muted mono break">{describeResponse(call.response)}</div> : null}
                  </li>
                ))}
              </ol>
            )}
            <h3 className="h4">Verification</h3>
            {detail.verification ? (
              <p>
                {detail.verification.verified ? 'Verified' : 'Not verified'}: {detail.verification.observed}
                {detail.verification.at ? <span className="small muted"> ({formatDateTime(detail.verification.at)})</span> : null}
              </p>
            ) : (
              <p className="muted">Not run yet.</p>
            )}
          </section>
        </div>

        <aside>
          <section className="panel workflow-section" aria-labelledby="request-heading">
            <h2 id="request-heading">Request</h2>
            <dl className="kv">
              <dt>Identity</dt>
              <dd>
                <Link to={`/identities/${detail.identityId}`}>{detail.identityName}</Link>
              </dd>
              <dt>Reason</dt>
              <dd>{detail.reason}</dd>
              <dt>Requested by</dt>
              <dd>{detail.requestedBy}</dd>
              <dt>Approved by</dt>
              <dd>{detail.approvedBy ?? (detail.approvalRequired ? '—' : 'Not needed (normal impact)')}</dd>
              <dt>Attempts</dt>
              <dd>{detail.attempts}</dd>
            </dl>
            <div className={detail.impact === 'high' ? 'impact-high' : 'impact-normal'}>
              <strong>{detail.impact === 'high' ? 'High impact' : 'Normal impact'}</strong>
              {detail.impactReasons.length > 0 ? (
                <ul>
                  {detail.impactReasons.map((reason) => (
                    <li key={reason}>{reason}</li>
                  ))}
                </ul>
              ) : null}
            </div>
            {detail.batch.length > 1 ? (
              <>
                <h3 className="h4">Kill switch: {detail.batch.length} revocations</h3>
                <ul className="plain small">
                  {detail.batch.map((item) => (
                    <li key={item.id}>
                      <WorkflowStatus status={item.status} /> <Link to={`/revocations/${item.id}`}>{item.actionTitle}</Link> <span className="mono">{item.target}</span>
                    </li>
                  ))}
                </ul>
                <p className="small muted">Approving, rejecting or retrying acts on the whole batch.</p>
              </>
            ) : null}
            {canReadAudit ? (
              <p className="small">
                <Link to={`/audit?objectType=revocation&objectId=${detail.id}`}>Audit trail of this revocation</Link>
              </p>
            ) : null}
          </section>

          <section className="panel workflow-section decision-forms" aria-labelledby="decide-heading">
            <h2 id="decide-heading">Decide</h2>
            {pendingSelfApproval ? (
              <p className="form-notice">You requested this revocation, so a different security lead or operator must approve it.</p>
            ) : null}
            {can.approve ? (
              <>
                <Form method="post">
                  <div className="form-field">
                    <label htmlFor="approve-note">Approval note (optional)</label>
                    <textarea id="approve-note" name="note" rows={2} maxLength={2000} />
                  </div>
                  <button type="submit" name="intent" value="approve" className="button danger" disabled={busy}>
                    Approve and run
                  </button>
                </Form>
                <Form method="post">
                  <div className="form-field">
                    <label htmlFor="reject-reason">Reason to reject</label>
                    <textarea id="reject-reason" name="reason" rows={2} maxLength={2000} required minLength={3} />
                  </div>
                  <button type="submit" name="intent" value="reject" className="button secondary" disabled={busy}>
                    Reject
                  </button>
                </Form>
              </>
            ) : null}
            {can.retry ? (
              <Form method="post">
                <p className="small">Retrying runs the remaining calls again; what already took effect is not done twice.</p>
                <button type="submit" name="intent" value="retry" className="button" disabled={busy}>
                  Retry
                </button>
              </Form>
            ) : null}
            {can.undo ? (
              <Form method="post">
                <div className="form-field">
                  <label htmlFor="undo-reason">Reason to undo</label>
                  <textarea id="undo-reason" name="reason" rows={2} maxLength={2000} required minLength={3} />
                </div>
                <button type="submit" name="intent" value="undo" className="button secondary" disabled={busy}>
                  Undo ({plan.providerPlan.undoActionId})
                </button>
              </Form>
            ) : null}
            {can.cancel ? (
              <Form method="post">
                <div className="form-field">
                  <label htmlFor="cancel-reason">Reason to cancel</label>
                  <textarea id="cancel-reason" name="reason" rows={2} maxLength={2000} required minLength={3} />
                </div>
                <button type="submit" name="intent" value="cancel" className="button secondary" disabled={busy}>
                  Cancel request
                </button>
              </Form>
            ) : null}
            {!can.approve && !can.retry && !can.undo && !can.cancel && !pendingSelfApproval ? <p className="muted small">Nothing to decide.</p> : null}
          </section>
        </aside>
      </div>
    </>
  )
}

export function ErrorBoundary() {
  return <RouteErrorBoundary title="This revocation" backTo="/revocations" backLabel="Back to Revocations" />
}
