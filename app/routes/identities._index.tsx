import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Form, Link, useLoaderData, useLocation, useNavigation } from '@remix-run/react'
import { identitySummary, listIdentities, prepareIdentityFilter } from '../../db/queries/identities.js'
import {
  DEFAULT_DIRECTION,
  DIMENSIONS,
  identitiesHref,
  identitySearch,
  isFilterEmpty,
  OWNER_STATUSES,
  RISK_BANDS,
  SEVERITIES,
  type IdentityFilter,
  type IdentitySort,
} from '../../db/queries/identity-filter.js'
import { AgentBadge, OwnerStatusBadge, RiskBadge, StatusBadge } from '~/components/badges'
import { EmptyState } from '~/components/empty-state'
import { FacetGroup, type FacetOption } from '~/components/facets'
import { ActiveFilters, FilterSelect, FilterText } from '~/components/filter-controls'
import { formatAgo, formatAgeDays, formatCapped, formatDate, formatTime, kindLabel, label } from '~/components/format'
import { PageHeader } from '~/components/page-header'
import { KeysetPager } from '~/components/pager'
import { RouteErrorBoundary } from '~/components/route-error'
import { requireUserWithPermission } from '~/utils/auth.server'
import { readFilter, sourceOptions, withFilterErrors } from '~/utils/dashboard.server'

export const meta: MetaFunction = () => [{ title: 'Identities · Leash' }]

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { user } = await requireUserWithPermission(request, context, 'read:identity:any')
  const { db } = context
  const { filter, view } = readFilter(new URL(request.url))
  const prepared = await prepareIdentityFilter(db, filter)
  const [page, summary, sources] = await Promise.all([withFilterErrors(() => listIdentities(db, prepared, view)), identitySummary(db, prepared), sourceOptions(db)])
  return {
    filter,
    page,
    total: summary.total,
    facets: summary.facets,
    countedAt: summary.cachedAt,
    sources,
    canExport: user.can('export:identity:any'),
  }
}

const SORT_LABELS: Record<IdentitySort, string> = {
  risk: 'Risk',
  name: 'Name',
  last_used: 'Last used',
  oldest_credential: 'Oldest credential',
}

const FILTER_LABELS: Partial<Record<keyof IdentityFilter, string>> = {
  q: 'Search',
  source: 'Source',
  provider: 'Provider',
  kind: 'Kind',
  account: 'Account',
  agent: 'Agent',
  platform: 'Platform',
  owner: 'Owner',
  ownerStatus: 'Owner status',
  orphan: 'Orphaned agents',
  risk: 'Risk',
  dimension: 'Open findings in',
  severity: 'Open findings of severity',
  findings: 'Has open findings',
  access: 'Highest access',
  credAgeMin: 'Oldest credential older than (days)',
  credAgeMax: 'Oldest credential newer than (days)',
  status: 'Status',
}

export default function IdentitiesPage() {
  const { filter, page, total, facets, countedAt, sources, canExport } = useLoaderData<typeof loader>()
  const location = useLocation()
  const navigation = useNavigation()
  const busy = navigation.state === 'loading' && navigation.location?.pathname === '/identities'
  const view = { sort: page.sort, dir: page.dir }
  const sourceName = (id: string) => sources.find((source) => source.id === id)?.name ?? id
  const estimated = facets.mode === 'estimated'

  const toggle = (key: keyof IdentityFilter, value: string): FacetOption['href'] =>
    identitiesHref({ ...filter, [key]: filter[key] === value ? undefined : value }, view)
  const options = (key: keyof IdentityFilter, values: { value: string; count: number }[], labelOf: (value: string) => string = (v) => label(v)) =>
    values.map((facet) => ({ value: facet.value, label: labelOf(facet.value), count: facet.count, href: toggle(key, facet.value), active: filter[key] === facet.value }))

  const active = (Object.keys(FILTER_LABELS) as (keyof IdentityFilter)[])
    .filter((key) => filter[key] !== undefined)
    .map((key) => {
      const raw = String(filter[key])
      const shown = key === 'source' ? sourceName(raw) : key === 'q' || key === 'account' || key === 'owner' ? `“${raw}”` : label(raw)
      return { key, label: `${FILTER_LABELS[key]}: ${shown}`, removeHref: identitiesHref({ ...filter, [key]: undefined }, view) }
    })

  const sortHref = (sort: IdentitySort) => {
    const dir = page.sort === sort ? (page.dir === 'asc' ? 'desc' : 'asc') : DEFAULT_DIRECTION[sort]
    return identitiesHref(filter, { sort, dir })
  }
  const ariaSort = (sort: IdentitySort) => (page.sort === sort ? (page.dir === 'asc' ? 'ascending' : 'descending') : undefined)
  const SortHeader = ({ sort, children }: { sort: IdentitySort; children: React.ReactNode }) => (
    <th scope="col" aria-sort={ariaSort(sort)}>
      <Link to={sortHref(sort)} className="sort-link">
        {children}
        <span aria-hidden="true" className="sort-mark">
          {page.sort === sort ? (page.dir === 'asc' ? ' ▲' : ' ▼') : ''}
        </span>
      </Link>
    </th>
  )

  return (
    <>
      <PageHeader
        title="Identities"
        description="Every non-human identity Leash has seen, with who owns it, what it can do and how risky it is."
        actions={
          canExport ? (
            <a className="button button-ghost" href={`/identities/export.csv${identitySearch(filter, view)}`} download>
              Export CSV
            </a>
          ) : null
        }
      />
      <Form method="get" className="panel filter-bar" role="search" aria-label="Filter identities">
        <FilterText name="q" type="search" label="Search" value={filter.q} placeholder="Name, ARN / external id, or key id" />
        <FilterSelect name="provider" label="Provider" value={filter.provider} options={[...new Set(sources.map((s) => s.provider))].map((p) => ({ value: p, label: label(p) }))} />
        <FilterSelect name="source" label="Source" value={filter.source} options={sources.map((s) => ({ value: s.id, label: s.is_demo ? `${s.name} (demo)` : s.name }))} />
        <FilterSelect name="agent" label="Agent" value={filter.agent} anyLabel="All NHIs" options={[{ value: 'yes', label: 'AI agents only' }, { value: 'no', label: 'Not agents' }]} />
        <FilterSelect name="ownerStatus" label="Owner" value={filter.ownerStatus} options={OWNER_STATUSES.map((v) => ({ value: v, label: label(v) }))} />
        <FilterSelect name="risk" label="Risk" value={filter.risk} options={RISK_BANDS.map((v) => ({ value: v, label: label(v) }))} />
        <FilterSelect name="dimension" label="Open findings in" value={filter.dimension} options={DIMENSIONS.map((v) => ({ value: v, label: label(v) }))} />
        <FilterSelect name="severity" label="Finding severity" value={filter.severity} options={SEVERITIES.map((v) => ({ value: v, label: label(v) }))} />
        <FilterText name="account" label="Account / tenant" value={filter.account} />
        <FilterText name="owner" label="Owner or team" value={filter.owner} placeholder="e.g. alice@acme.example" />
        {/* Filters set by links (kind, platform, orphan, access, credential age, status) survive a form submit. */}
        {(['kind', 'platform', 'orphan', 'access', 'findings', 'credAgeMin', 'credAgeMax', 'status'] as const).map((key) =>
          filter[key] !== undefined ? <input key={key} type="hidden" name={key} value={String(filter[key])} /> : null,
        )}
        <input type="hidden" name="sort" value={page.sort} />
        <input type="hidden" name="dir" value={page.dir} />
        <div className="filter-actions">
          <button type="submit" className="button">
            Apply
          </button>
        </div>
      </Form>
      <ActiveFilters items={active} clearHref={identitiesHref({}, view)} />

      <div className="inventory">
        <aside className="facets panel" aria-label="Refine by">
          <p className="small muted facet-note">
            {estimated ? 'Counts are estimates from a sample of the estate (≈)' : 'Counts are exact for the current filter'}, as of {formatTime(countedAt)}.
          </p>
          <FacetGroup title="Provider" options={options('provider', facets.provider)} estimated={estimated} />
          <FacetGroup title="AI agent" options={options('agent', facets.agent, (v) => (v === 'yes' ? 'Agents' : 'Not agents'))} estimated={estimated} />
          <FacetGroup title="Agent platform" options={options('platform', facets.platform)} estimated={estimated} />
          <FacetGroup title="Kind" options={options('kind', facets.kind, kindLabel)} estimated={estimated} />
          <FacetGroup title="Owner" options={options('ownerStatus', facets.ownerStatus)} estimated={estimated} />
          <FacetGroup title="Risk" options={options('risk', facets.risk)} estimated={estimated} />
          <FacetGroup title="Open findings in" options={options('dimension', facets.dimension)} estimated={estimated} />
          <FacetGroup title="Source" options={options('source', facets.source, sourceName)} estimated={estimated} />
          <FacetGroup title="Top accounts" options={options('account', facets.account, (v) => v)} estimated={estimated} />
        </aside>

        <section className="inventory-results" aria-labelledby="results-heading" aria-busy={busy}>
          <div className="results-bar">
            <h2 id="results-heading" className="results-count" aria-live="polite">
              {formatCapped(total)} {total.exact && total.count === 1 ? 'identity' : 'identities'}
              {!total.exact ? <span className="small muted"> — more than Leash counts exactly per request</span> : null}
            </h2>
            <span className="small muted">
              Sorted by {SORT_LABELS[page.sort].toLowerCase()}, {page.dir === 'asc' ? 'ascending' : 'descending'}
            </span>
          </div>
          {page.rows.length === 0 ? (
            <EmptyState title={isFilterEmpty(filter) ? 'No identities yet' : 'No identities match these filters'}>
              {isFilterEmpty(filter) ? (
                <p>
                  Identities appear here after a source is scanned. Configure or scan one on the <Link to="/sources">Sources</Link> page.
                </p>
              ) : (
                <p>
                  Remove a filter above, or <Link to={identitiesHref({})}>start over with every identity</Link>.
                </p>
              )}
            </EmptyState>
          ) : (
            <div className="table-scroll">
              <table className="data-table">
                <caption className="visually-hidden">
                  Identities sorted by {SORT_LABELS[page.sort]} ({location.search ? 'filtered' : 'all'})
                </caption>
                <thead>
                  <tr>
                    <SortHeader sort="name">Name</SortHeader>
                    <SortHeader sort="risk">Risk</SortHeader>
                    <th scope="col">Provider</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Agent</th>
                    <th scope="col">Owner</th>
                    <SortHeader sort="last_used">Last used</SortHeader>
                    <SortHeader sort="oldest_credential">Oldest credential</SortHeader>
                  </tr>
                </thead>
                <tbody>
                  {page.rows.map((row) => (
                    <tr key={row.id}>
                      <td className="cell-name">
                        <Link to={`/identities/${row.id}`}>{row.display_name}</Link>
                        <div className="small muted mono truncate" title={row.external_id}>
                          {row.external_id}
                        </div>
                        {row.status !== 'active' ? <StatusBadge status={row.status} /> : null}
                      </td>
                      <td>
                        <RiskBadge score={row.risk_score} />
                      </td>
                      <td className="nowrap">
                        {label(row.provider)}
                        <div className="small muted truncate-short" title={row.account_id}>
                          {row.account_id}
                        </div>
                      </td>
                      <td>{kindLabel(row.kind)}</td>
                      <td>{row.is_agent ? <AgentBadge platform={row.agent_platform} confidence={row.agent_confidence} /> : <span className="muted">—</span>}</td>
                      <td className="cell-owner">
                        {row.owner_ref ? (
                          <div className="truncate" title={row.owner_ref}>
                            {row.owner_ref}
                          </div>
                        ) : null}
                        <OwnerStatusBadge status={row.owner_status} />
                      </td>
                      <td className="nowrap" title={formatDate(row.last_used_at, '')}>{row.last_used_known || row.last_used_at ? formatAgo(row.last_used_at, 'never') : <span className="muted">no data</span>}</td>
                      <td className="nowrap" title={formatDate(row.oldest_credential_at, '')}>
                        {row.credential_count === 0 && !row.oldest_credential_at ? <span className="muted">none</span> : formatAgeDays(row.oldest_credential_at, 'unknown')}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <KeysetPager prev={page.prev} next={page.next} label="Identity pages" />
        </section>
      </div>
    </>
  )
}

export function ErrorBoundary() {
  return <RouteErrorBoundary title="The identity inventory" backTo="/identities" backLabel="Back to all identities" />
}
