import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { z } from 'zod'
import { EmptyState } from '~/components/empty-state'
import { formatAgo, formatDateTime } from '~/components/format'
import { PageHeader } from '~/components/page-header'
import { RouteErrorBoundary } from '~/components/route-error'
import { ActionFailureNotice, WorkflowStatus } from '~/components/workflow-parts'
import { denyAccess, requireUser } from '~/utils/auth.server'
import { revocationDeps, runWorkflow } from '~/utils/workflow.server'
import { listRevocations, retryRevocation, type RevocationListRow } from '../../jobs/revocation/index.js'

export const meta: MetaFunction = () => [{ title: 'Revocations · Leash' }]

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireUser(request, context)
  if (!user.can('read:revocation:any') && !user.can('read:revocation:own')) throw await denyAccess(request, context, user, 'read:revocation:own')
  const ownUserId = user.can('read:revocation:any') ? undefined : user.userId
  const [pending, attention, history] = await Promise.all([
    listRevocations(context.db, { ownUserId, status: ['pending_approval'], limit: 200 }),
    listRevocations(context.db, { ownUserId, status: ['failed', 'partial', 'executing'], limit: 100 }),
    listRevocations(context.db, { ownUserId, limit: 100 }),
  ])
  return {
    pending,
    attention,
    history,
    canApprove: user.kind === 'user' && user.can('approve:revocation:any'),
    canExecute: user.can('execute:revocation:any'),
    userId: user.userId,
    ownOnly: ownUserId !== undefined,
  }
}

const ActionSchema = z.object({ intent: z.literal('retry'), id: z.string().uuid('Pick a revocation from the list.') })

export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireUser(request, context)
  const parsed = ActionSchema.safeParse(Object.fromEntries(await request.formData()))
  if (!parsed.success) return { ok: false as const, error: 'The request was not understood.', remedy: parsed.error.issues.map((i) => i.message).join(' ') }
  if (!user.can('execute:revocation:any')) throw await denyAccess(request, context, user, 'execute:revocation:any', { type: 'revocation', id: parsed.data.id })
  const result = await runWorkflow(() => retryRevocation(context.db, revocationDeps(context), user, parsed.data.id))
  if (!result.ok) return result.response
  throw redirect(`/revocations/${parsed.data.id}`)
}

function RevocationTable({ rows, caption, retry }: { rows: RevocationListRow[]; caption: string; retry: boolean }) {
  const navigation = useNavigation()
  return (
    <div className="table-scroll">
      <table className="data-table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col">Identity</th>
            <th scope="col">What</th>
            <th scope="col">Impact</th>
            <th scope="col">Requested by</th>
            <th scope="col">When</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id}>
              <td>
                <WorkflowStatus status={row.status} />
                {row.batchId ? <span className="small muted"> · kill switch</span> : null}
                {row.isUndo ? <span className="small muted"> · undo</span> : null}
              </td>
              <td>
                <Link to={`/identities/${row.identityId}`}>{row.identityName}</Link>
              </td>
              <td>
                <Link to={`/revocations/${row.id}`} aria-label={`${row.actionTitle} ${row.target} (${row.status.replace('_', ' ')})`}>
                  {row.actionTitle}
                </Link>{' '}
                <span className="mono small">{row.target}</span>
                {row.error ? <div className="small field-error">{row.error}</div> : null}
              </td>
              <td>{row.impact === 'high' ? 'High' : 'Normal'}</td>
              <td>{row.requestedBy}</td>
              <td title={formatDateTime(row.createdAt)}>{formatAgo(row.createdAt)}</td>
              <td>
                {retry && (row.status === 'failed' || row.status === 'partial') ? (
                  <Form method="post" className="inline-form">
                    <input type="hidden" name="id" value={row.id} />
                    <button type="submit" name="intent" value="retry" className="button secondary" disabled={navigation.state === 'submitting'}>
                      Retry
                    </button>
                  </Form>
                ) : (
                  <Link to={`/revocations/${row.id}`} className="small">
                    Open
                  </Link>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

export default function RevocationsPage() {
  const { pending, attention, history, canApprove, canExecute, ownOnly } = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>()
  return (
    <>
      <PageHeader
        title="Revocations"
        description={
          ownOnly
            ? 'The revocations you requested and those of the identities you own.'
            : 'Requests waiting for a second person, revocations that need attention, and the history with its verification.'
        }
      />
      <ActionFailureNotice result={result} />
      <section className="workflow-section" aria-labelledby="queue-heading">
        <h2 id="queue-heading">Waiting for approval ({pending.length})</h2>
        {pending.length === 0 ? (
          <p className="muted">No request is waiting for approval.</p>
        ) : (
          <>
            {canApprove ? <p className="small muted">Open a request to see its plan, then approve or reject it. You cannot approve your own requests.</p> : null}
            <RevocationTable rows={pending} caption="Waiting for approval" retry={false} />
          </>
        )}
      </section>
      {attention.length > 0 ? (
        <section className="workflow-section" aria-labelledby="attention-heading">
          <h2 id="attention-heading">Needs attention ({attention.length})</h2>
          <RevocationTable rows={attention} caption="Needs attention" retry={canExecute} />
        </section>
      ) : null}
      <section className="workflow-section" aria-labelledby="history-heading">
        <h2 id="history-heading">History</h2>
        {history.length === 0 ? (
          <EmptyState title="No revocations yet">
            <p>Revoke a credential from the page of an identity; requests that need a second approver wait here.</p>
          </EmptyState>
        ) : (
          <RevocationTable rows={history} caption="History" retry={canExecute} />
        )}
      </section>
    </>
  )
}

export function ErrorBoundary() {
  return <RouteErrorBoundary title="Revocations" />
}
