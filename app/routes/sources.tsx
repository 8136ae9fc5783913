import { parseWithZod } from '@conform-to/zod'
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData, useNavigation, useRevalidator } from '@remix-run/react'
import { useEffect } from 'react'
import { z } from 'zod'
import { identitiesHref } from '../../db/queries/identity-filter.js'
import { listSourceStatuses, type ScanRunSummary, type SourceStatus } from '../../db/queries/sources.js'
import { HealthBadge } from '~/components/badges'
import { EmptyState } from '~/components/empty-state'
import { formatAgo, formatCount, formatDateTime, label } from '~/components/format'
import { PageHeader } from '~/components/page-header'
import { RouteErrorBoundary } from '~/components/route-error'
import { requireUserWithPermission } from '~/utils/auth.server'

export const meta: MetaFunction = () => [{ title: 'Sources · Leash' }]

/** How often the page refreshes while a scan is queued or running. */
const POLL_MS = 3000

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { user } = await requireUserWithPermission(request, context, 'read:source:any')
  const sources = await listSourceStatuses(context.db)
  return { sources, canScan: user.can('scan:source:any'), canCreate: user.can('create:source:any'), canTest: user.can('update:source:any'), now: new Date() }
}

const scanSchema = z.object({
  intent: z.literal('scan'),
  sourceId: z.string({ required_error: 'Choose a source to scan.' }).uuid('That is not a source id.'),
})

export async function action({ request, context }: ActionFunctionArgs) {
  const { user } = await requireUserWithPermission(request, context, 'scan:source:any')
  const submission = parseWithZod(await request.formData(), { schema: scanSchema })
  if (submission.status !== 'success') return Response.json({ ok: false, error: 'Choose a source to scan.' }, { status: 400 })
  const { sourceId } = submission.value
  const source = await context.db.selectFrom('sources').select(['id', 'name', 'enabled']).where('id', '=', sourceId).executeTakeFirst()
  if (!source) return Response.json({ ok: false, error: 'That source no longer exists.' }, { status: 404 })
  // The job service queues the run (jobs/queue.ts); a source already being scanned keeps its run.
  const result = await context.requestScan({ sourceId, requestedBy: user.username, trigger: 'manual' })
  return Response.json({
    ok: true,
    sourceId,
    message: result.alreadyActive ? `${source.name} is already being scanned; that scan continues.` : `Scan of ${source.name} queued.`,
  })
}

export default function SourcesPage() {
  const { sources, canScan, canCreate, canTest, now } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const revalidator = useRevalidator()
  const scanning = sources.some((source) => source.active !== null)
  useEffect(() => {
    if (!scanning) return
    const timer = setInterval(() => {
      if (revalidator.state === 'idle' && document.visibilityState === 'visible') revalidator.revalidate()
    }, POLL_MS)
    return () => clearInterval(timer)
  }, [scanning, revalidator])

  return (
    <>
      <PageHeader
        title="Sources"
        description="Connectors that scan cloud IAM, secret vaults and SaaS on a schedule."
        actions={
          canCreate ? (
            <Link to="/sources/new" className="button">
              Add source
            </Link>
          ) : null
        }
      />
      {actionData ? (
        <p className={actionData.ok ? 'callout' : 'callout callout-error'} role="status">
          {'message' in actionData ? actionData.message : actionData.error}
        </p>
      ) : null}
      {sources.length === 0 ? (
        <EmptyState title="No sources configured">
          <p>
            Add a source in <code>leash.config.yaml</code> (see the README), then scan it with <code>npx leash scan --all</code> or from this page.
          </p>
        </EmptyState>
      ) : (
        <ul className="source-list">
          {sources.map((source) => (
            <SourceCard key={source.id} source={source} canScan={canScan} canTest={canTest} now={new Date(now)} />
          ))}
        </ul>
      )}
      {scanning ? (
        <p className="small muted" role="status">
          A scan is in progress; this page refreshes every {POLL_MS / 1000} seconds.
        </p>
      ) : null}
    </>
  )
}

function SourceCard({ source, canScan, canTest, now }: { source: SourceStatus; canScan: boolean; canTest: boolean; now: Date }) {
  const navigation = useNavigation()
  const submitting = navigation.state !== 'idle' && navigation.formData?.get('sourceId') === source.id
  const headingId = `source-${source.id}`
  return (
    <li className="panel source" aria-labelledby={headingId}>
      <header className="source-header">
        <div>
          <h2 id={headingId}>
            {source.name} {source.isDemo ? <span className="badge badge-neutral">Demo</span> : null}
          </h2>
          <p className="small muted">
            {label(source.provider)} · <Link to={identitiesHref({ source: source.id })}>{formatCount(source.identities)} identities</Link>
            {canTest ? (
              <>
                {' · '}
                <Link to={`/sources/${source.id}/test-connection`} aria-label={`Test the connection of ${source.name}`}>
                  Test connection
                </Link>
              </>
            ) : null}
          </p>
        </div>
        <div className="source-status">
          <HealthBadge health={source.health} />
          {canScan ? (
            <Form method="post">
              <input type="hidden" name="intent" value="scan" />
              <input type="hidden" name="sourceId" value={source.id} />
              <button type="submit" className="button" disabled={submitting || source.active !== null || !source.enabled} aria-label={`Scan ${source.name} now`}>
                {source.active ? 'Scanning…' : submitting ? 'Queuing…' : 'Scan now'}
              </button>
            </Form>
          ) : null}
        </div>
      </header>
      <dl className="facts">
        <div>
          <dt>Schedule</dt>
          <dd>
            <code>{source.schedule}</code> {source.scheduleValid ? null : <span className="field-error">not a valid cron expression — no scheduled scans</span>}
            {!source.enabled ? <span className="muted"> (disabled)</span> : null}
          </dd>
        </div>
        <div>
          <dt>Next run</dt>
          <dd>{source.nextRunAt ? `${formatDateTime(source.nextRunAt)} (${formatAgo(source.nextRunAt, '', now)})` : '—'}</dd>
        </div>
        <div>
          <dt>Last scan</dt>
          <dd>{source.last ? `${source.last.status} ${formatAgo(source.last.finishedAt ?? source.last.queuedAt, '', now)}` : 'never'}</dd>
        </div>
        <div>
          <dt>Last complete scan</dt>
          <dd>{source.lastSucceededAt ? formatDateTime(source.lastSucceededAt) : 'none yet'}</dd>
        </div>
      </dl>
      {source.active ? <Progress run={source.active} now={now} /> : null}
      {source.health === 'unknown' ? (
        <p className="callout callout-error small">
          Leash does not know the current state of this source: its last scan failed. The identities shown are from the last complete scan
          {source.lastSucceededAt ? ` (${formatDateTime(source.lastSucceededAt)})` : ''} and may be out of date. Nothing was removed.
        </p>
      ) : source.health === 'incomplete' ? (
        <p className="callout small">The last scan could not read everything. What it could not read is unknown, not healthy; nothing was removed for those parts.</p>
      ) : null}
      {source.last && source.last.errors.length > 0 ? <Errors run={source.last} /> : null}
      {source.last?.retireWarning ? (
        <p className="callout small">
          The last scan would have retired more than half of a scope&apos;s identities, so it retired none. A person must confirm before anything is marked gone.
        </p>
      ) : null}
    </li>
  )
}

function Progress({ run, now }: { run: ScanRunSummary; now: Date }) {
  const stale = run.heartbeatAt ? now.getTime() - new Date(run.heartbeatAt).getTime() > 120_000 : false
  return (
    <div className="progress" role="status" aria-live="polite">
      <p>
        <strong>{run.status === 'queued' ? 'Queued' : 'Scanning'}</strong>{' '}
        {run.status === 'running'
          ? `— ${formatCount(run.identitiesSeen)} identities so far, ${formatCount(run.apiCalls)} API calls, started ${formatAgo(run.startedAt, '', now)}`
          : `since ${formatAgo(run.queuedAt, '', now)}, waiting for a worker`}
      </p>
      {run.status === 'running' ? <div className="progress-bar indeterminate" aria-hidden="true" /> : null}
      {run.scopes.length > 0 ? (
        <ul className="plain small">
          {run.scopes.map((scope) => (
            <li key={scope.accountId}>
              {scope.accountId}: {scope.status} ({formatCount(scope.identitiesSeen)})
            </li>
          ))}
        </ul>
      ) : null}
      {stale ? <p className="small field-error">No heartbeat for over two minutes: the worker may have stopped. The run will be marked failed and retried.</p> : null}
    </div>
  )
}

function Errors({ run }: { run: ScanRunSummary }) {
  return (
    <section aria-label="Errors in the last scan" className="scan-errors">
      <h3 className="h4">
        {run.errors.length === 1 ? 'One problem' : `${run.errors.length} problems`} in the last scan
      </h3>
      <ul className="plain">
        {run.errors.slice(0, 10).map((error, index) => (
          <li key={index} className="scan-error">
            <p>
              <strong>{error.message}</strong>
            </p>
            <p className="small muted">
              {error.scope ? `In ${error.scope}` : null}
              {error.operation ? ` · call ${error.operation}` : null}
              {error.permission ? ` · needs ${error.permission}` : null}
              {error.fatalForScope ? ' · nothing from this scope was read' : null}
            </p>
            {error.remedy ? (
              <p className="small">
                <strong>What to do:</strong> {error.remedy}
              </p>
            ) : null}
          </li>
        ))}
      </ul>
      {run.errors.length > 10 ? <p className="small muted">And {run.errors.length - 10} more.</p> : null}
    </section>
  )
}

export function ErrorBoundary() {
  return <RouteErrorBoundary title="The source list" backTo="/sources" backLabel="Back to Sources" />
}
