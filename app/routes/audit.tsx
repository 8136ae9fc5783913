import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Form, Link, useLoaderData, useSearchParams } from '@remix-run/react'
import { EmptyState } from '~/components/empty-state'
import { PageHeader } from '~/components/page-header'
import { auditChainStatus, listAuditEvents, parseAuditFilter } from '~/utils/audit.server'
import { requireUserWithPermission } from '~/utils/auth.server'

export const meta: MetaFunction = () => [{ title: 'Audit · Leash' }]

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { user } = await requireUserWithPermission(request, context, 'read:audit:any')
  const url = new URL(request.url)
  const { filter, errors } = parseAuditFilter(url.searchParams)
  const before = Number(url.searchParams.get('before'))
  const [page, chain] = await Promise.all([
    listAuditEvents(context.db, filter, { beforeSeq: Number.isInteger(before) && before > 0 ? before : undefined }),
    auditChainStatus(context.db),
  ])
  return {
    rows: page.rows.map((row) => ({ ...row, occurred_at: new Date(row.occurred_at).toISOString() })),
    nextBeforeSeq: page.nextBeforeSeq,
    chain,
    errors,
    canExport: user.can('export:audit:any'),
  }
}

function describeChange(before: unknown, after: unknown): string {
  const show = (value: unknown) => (value === null || value === undefined ? '' : JSON.stringify(value))
  const b = show(before)
  const a = show(after)
  if (b && a) return `${b} → ${a}`
  return a || b
}

export default function AuditPage() {
  const { rows, nextBeforeSeq, chain, errors, canExport } = useLoaderData<typeof loader>()
  const [searchParams] = useSearchParams()
  const filtered = ['actor', 'action', 'objectType', 'objectId', 'from', 'to'].some((key) => searchParams.get(key))
  const exportParams = new URLSearchParams(searchParams)
  exportParams.delete('before')
  const nextParams = new URLSearchParams(searchParams)
  if (nextBeforeSeq !== null) nextParams.set('before', String(nextBeforeSeq))
  return (
    <>
      <PageHeader
        title="Audit"
        description="The tamper-evident trail of every sign-in, claim, approval, revocation step and scan."
        actions={
          canExport ? (
            <a className="button secondary" href={`/audit/export${exportParams.size ? `?${exportParams}` : ''}`} download>
              Export JSON lines
            </a>
          ) : null
        }
      />
      <p role="status" className={chain.ok ? 'chain-ok' : 'chain-broken'}>
        {chain.ok
          ? `Chain verified: ${chain.events} events, each linked to the previous by SHA-256.`
          : `Chain broken at event #${chain.brokenAtSeq}: ${chain.reason}. Run npx leash audit verify and investigate database access.`}
      </p>
      <Form method="get" className="filters" aria-label="Filter the audit trail">
        <div className="form-field">
          <label htmlFor="audit-actor">Actor</label>
          <input id="audit-actor" name="actor" defaultValue={searchParams.get('actor') ?? ''} placeholder="username or id" />
        </div>
        <div className="form-field">
          <label htmlFor="audit-action">Action</label>
          <input id="audit-action" name="action" defaultValue={searchParams.get('action') ?? ''} placeholder="e.g. auth.sign_in" />
        </div>
        <div className="form-field">
          <label htmlFor="audit-object-type">Object type</label>
          <input id="audit-object-type" name="objectType" defaultValue={searchParams.get('objectType') ?? ''} placeholder="e.g. identity" />
        </div>
        <div className="form-field">
          <label htmlFor="audit-object-id">Object id</label>
          <input id="audit-object-id" name="objectId" defaultValue={searchParams.get('objectId') ?? ''} />
        </div>
        <div className="form-field">
          <label htmlFor="audit-from">From</label>
          <input id="audit-from" name="from" type="date" defaultValue={searchParams.get('from') ?? ''} />
        </div>
        <div className="form-field">
          <label htmlFor="audit-to">To</label>
          <input id="audit-to" name="to" type="date" defaultValue={searchParams.get('to') ?? ''} />
        </div>
        <button type="submit" className="button">
          Filter
        </button>
        {filtered ? (
          <Link to="/audit" className="button secondary">
            Clear
          </Link>
        ) : null}
      </Form>
      {errors.length ? (
        <p className="form-error" role="alert">
          {errors.join(' ')}
        </p>
      ) : null}
      {rows.length === 0 ? (
        <EmptyState title={filtered ? 'No events match these filters' : 'No audit events yet'}>
          <p>{filtered ? 'Widen the filters or clear them.' : 'Sign-ins, claims, approvals, revocations and scans are recorded here as they happen.'}</p>
        </EmptyState>
      ) : (
        <table className="data-table">
          <caption className="visually-hidden">Audit events, newest first</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Time (UTC)</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Object</th>
              <th scope="col">Change</th>
              <th scope="col">Reason</th>
              <th scope="col">Address</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.seq}>
                <td className="mono">{row.seq}</td>
                <td className="mono nowrap">{row.occurred_at.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</td>
                <td>
                  {row.actor_display ?? '—'} <span className="muted">({row.actor_type})</span>
                </td>
                <td className="mono">{row.action}</td>
                <td className="audit-object">
                  {row.object_type ? (
                    <>
                      {row.object_type}
                      {row.object_id ? <div className="mono small">{row.object_id}</div> : null}
                    </>
                  ) : (
                    '—'
                  )}
                </td>
                <td className="mono small break">{describeChange(row.before, row.after)}</td>
                <td>{row.reason ?? ''}</td>
                <td className="mono">{row.ip ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav className="pagination" aria-label="Audit pages">
        {searchParams.get('before') ? (
          <Link to={`/audit?${(() => { const p = new URLSearchParams(searchParams); p.delete('before'); return p })()}`}>Newest</Link>
        ) : null}
        {nextBeforeSeq !== null ? <Link to={`/audit?${nextParams}`}>Older events</Link> : null}
      </nav>
    </>
  )
}
