import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { countIdentities, listIdentities } from '../../db/queries/identities.js'
import { ownerHints } from '../../db/queries/identity-detail.js'
import { identitiesHref, type IdentityFilter } from '../../db/queries/identity-filter.js'
import { AgentBadge, OwnerStatusBadge, RiskBadge } from '~/components/badges'
import { EmptyState } from '~/components/empty-state'
import { formatAgo, formatCapped, kindLabel, label } from '~/components/format'
import { PageHeader } from '~/components/page-header'
import { KeysetPager } from '~/components/pager'
import { RouteErrorBoundary } from '~/components/route-error'
import { requireUserWithPermission } from '~/utils/auth.server'
import { readFilter, withFilterErrors } from '~/utils/dashboard.server'

export const meta: MetaFunction = () => [{ title: 'Orphans · Leash' }]

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { user } = await requireUserWithPermission(request, context, 'read:identity:any')
  const { db } = context
  const { filter: parsed, view } = readFilter(new URL(request.url))
  // Agent identities with no valid owner, riskiest first (index identities_orphans_idx).
  const filter: IdentityFilter = { orphan: 'yes', source: parsed.source, provider: parsed.provider, account: parsed.account }
  const [page, total] = await Promise.all([withFilterErrors(() => listIdentities(db, filter, { sort: 'risk', after: view.after, before: view.before }, 25)), countIdentities(db, filter)])
  const hints = await ownerHints(
    db,
    page.rows.map((row) => row.id),
  )
  return {
    filter,
    page,
    total: { count: total.count, exact: total.exact },
    hints: Object.fromEntries(hints),
    canClaim: user.can('claim:identity:any'),
  }
}

export default function OrphansPage() {
  const { filter, page, total, hints, canClaim } = useLoaderData<typeof loader>()
  return (
    <>
      <PageHeader
        title="Orphans"
        description="Agent identities with no valid owner, riskiest first, with the signals that hint at who owns them."
        actions={
          <Link className="button button-ghost" to={identitiesHref(filter)}>
            Open in inventory
          </Link>
        }
      />
      <p className="results-count" aria-live="polite">
        {formatCapped(total)} orphaned agent {total.exact && total.count === 1 ? 'identity' : 'identities'}
      </p>
      {page.rows.length === 0 ? (
        <EmptyState title="No orphaned agent identities">
          <p>Every agent identity Leash knows has a valid owner, or no source has been scanned yet.</p>
        </EmptyState>
      ) : (
        <ul className="orphan-list">
          {page.rows.map((row) => {
            const hint = hints[row.id] ?? { people: [], tags: [] }
            return (
              <li key={row.id} className="panel orphan">
                <div className="orphan-main">
                  <h2 className="orphan-name">
                    <Link to={`/identities/${row.id}`}>{row.display_name}</Link>
                  </h2>
                  <div className="badge-row">
                    <RiskBadge score={row.risk_score} />
                    <AgentBadge platform={row.agent_platform} confidence={row.agent_confidence} />
                    <OwnerStatusBadge status={row.owner_status} />
                  </div>
                  <p className="small muted">
                    {label(row.provider)} {kindLabel(row.kind)} in {row.account_id} · last used {row.last_used_known || row.last_used_at ? formatAgo(row.last_used_at) : 'unknown'}
                    {row.owner_ref ? ` · recorded owner ${row.owner_ref} is no longer valid` : ''}
                  </p>
                </div>
                <div className="orphan-hints">
                  <h3 className="h4">Who might own it</h3>
                  {hint.people.length === 0 && hint.tags.length === 0 ? (
                    <p className="small muted">No hints: no creator, last user or owner tag was found.</p>
                  ) : (
                    <ul className="plain small">
                      {hint.people.map((person) => (
                        <li key={`${person.ownerRef}-${person.role}-${person.source}`}>
                          <strong>{label(person.role)}</strong>: {person.displayName ?? person.ownerRef}
                          {person.displayName ? <span className="muted"> ({person.ownerRef})</span> : null}
                          {person.active === false ? <span className="muted"> — inactive</span> : null}
                        </li>
                      ))}
                      {hint.tags.map(([key, value]) => (
                        <li key={`tag-${key}`}>
                          <strong>Tag</strong> <code>{key}</code> = {value}
                        </li>
                      ))}
                    </ul>
                  )}
                </div>
                <div className="orphan-actions">
                  {canClaim ? (
                    <Link className="button" to={`/identities/${row.id}/claim`}>
                      Claim…
                    </Link>
                  ) : null}
                </div>
              </li>
            )
          })}
        </ul>
      )}
      <KeysetPager prev={page.prev} next={page.next} label="Orphan pages" />
    </>
  )
}

export function ErrorBoundary() {
  return <RouteErrorBoundary title="The orphan list" backTo="/orphans" backLabel="Back to Orphans" />
}
