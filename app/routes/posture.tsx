import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Form, Link, useLoaderData, useLocation } from '@remix-run/react'
import { identitiesHref, type IdentityFilter } from '../../db/queries/identity-filter.js'
import { DEFAULT_TREND_RANGE, getPostureOverview, isTrendRange, TREND_RANGES, type PostureFilter, type TrendRange } from '../../db/queries/posture.js'
import { AgentBadge, OwnerStatusBadge, RiskBadge } from '~/components/badges'
import { ChartCard } from '~/components/chart-card'
import { ColumnBars, HorizontalBars, SERIES_COLOURS, SEVERITY_COLOURS, TrendLines } from '~/components/charts'
import { EmptyState } from '~/components/empty-state'
import { ActiveFilters, FilterSelect, FilterText } from '~/components/filter-controls'
import { formatAgo, formatCount, formatDateTime, formatEstimate, label } from '~/components/format'
import { PageHeader } from '~/components/page-header'
import { RouteErrorBoundary } from '~/components/route-error'
import { StatCard, StatGrid } from '~/components/stat-card'
import { requireUserWithPermission } from '~/utils/auth.server'
import { badRequest, readFilter, sourceOptions } from '~/utils/dashboard.server'

export const meta: MetaFunction = () => [{ title: 'Posture · Leash' }]

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireUserWithPermission(request, context, 'read:posture:any')
  const url = new URL(request.url)
  const { filter: parsed } = readFilter(url)
  const filter: PostureFilter = { source: parsed.source, provider: parsed.provider, account: parsed.account, owner: parsed.owner, agent: parsed.agent }
  const range = url.searchParams.get('range') ?? DEFAULT_TREND_RANGE
  if (!isTrendRange(range)) {
    throw badRequest(`The trend range "${range}" is not one Leash offers. Use range=${Object.keys(TREND_RANGES).join(', range=')}, or leave it out for ${TREND_RANGE_LABELS[DEFAULT_TREND_RANGE]}.`)
  }
  const [overview, sources] = await Promise.all([getPostureOverview(context.db, filter, range), sourceOptions(context.db)])
  return { filter, range, overview, sources }
}

const TREND_RANGE_LABELS: Record<TrendRange, string> = { '30d': '30 days', '90d': '90 days', '1y': '1 year' }

const DIMENSION_ORDER = ['ownership', 'privilege', 'credential_age', 'monitoring'] as const
const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low', 'info'] as const

export default function PosturePage() {
  const { filter, range, overview, sources } = useLoaderData<typeof loader>()
  const { totals, breakdown, basis } = overview
  const estimated = basis.kind === 'estimated'
  const n = (value: number) => formatEstimate(value, estimated)
  const scope: Partial<IdentityFilter> = filter
  const href = (extra: Partial<IdentityFilter>) => identitiesHref({ ...scope, ...extra })
  const sourceName = (id: string) => sources.find((source) => source.id === id)?.name ?? id

  const active = (['source', 'provider', 'account', 'owner', 'agent'] as const)
    .filter((key) => filter[key] !== undefined)
    .map((key) => ({
      key,
      label: `${{ source: 'Source', provider: 'Provider', account: 'Account', owner: 'Owner', agent: 'Scope' }[key]}: ${
        key === 'source' ? sourceName(filter[key]!) : key === 'agent' ? (filter.agent === 'yes' ? 'AI agents only' : 'not agents') : label(filter[key])
      }`,
      removeHref: `/posture${toSearch({ ...filter, [key]: undefined })}`,
    }))

  const ageHref = (bucket: { minDays: number | null; maxDays: number | null }) =>
    bucket.minDays === null ? undefined : href({ credAgeMin: bucket.minDays, credAgeMax: bucket.maxDays ?? undefined })
  const cell = (dimension: string, severity: string) => breakdown.findings.find((c) => c.dimension === dimension && c.severity === severity)?.count ?? 0
  const hasMatrix = breakdown.findings.length > 0

  return (
    <>
      <PageHeader title="Posture" description="Risk across every source: ownership, over-privilege, credential age and monitoring gaps." />
      <Form method="get" className="panel filter-bar" aria-label="Filter the posture">
        <FilterSelect name="source" label="Source" value={filter.source} options={sources.map((s) => ({ value: s.id, label: s.is_demo ? `${s.name} (demo)` : s.name }))} anyLabel="All sources" />
        <FilterSelect name="provider" label="Provider" value={filter.provider} options={[...new Set(sources.map((s) => s.provider))].map((p) => ({ value: p, label: label(p) }))} anyLabel="All providers" />
        <FilterText name="account" label="Account / tenant" value={filter.account} />
        <FilterText name="owner" label="Owner or team" value={filter.owner} />
        <FilterSelect name="agent" label="Identities" value={filter.agent} anyLabel="All NHIs" options={[{ value: 'yes', label: 'AI agents only' }, { value: 'no', label: 'Not agents' }]} />
        {range !== DEFAULT_TREND_RANGE ? <input type="hidden" name="range" value={range} /> : null}
        <div className="filter-actions">
          <button type="submit" className="button">
            Apply
          </button>
        </div>
      </Form>
      <ActiveFilters items={active} clearHref="/posture" />
      <p className="basis small muted" role="note">
        {basis.kind === 'snapshot'
          ? `From the posture snapshot taken ${formatDateTime(basis.takenAt)} after the last scan.`
          : basis.kind === 'live'
            ? 'Computed now from the current inventory.'
            : `Estimated (≈) from a sample of about ${formatCount(basis.sampleRows)} identities: this filter covers too many identities to count exactly on every page view. The inventory behind each number is exact.`}
      </p>

      {overview.empty ? (
        <EmptyState title={sources.length === 0 ? 'No sources yet' : 'No identities in this view'}>
          {sources.length === 0 ? (
            <p>
              Add a source on the <Link to="/sources">Sources</Link> page or in <code>leash.config.yaml</code>, then scan it.
            </p>
          ) : (
            <p>
              Nothing matches these filters, or no scan has found identities yet. See <Link to="/sources">Sources</Link> for scan status.
            </p>
          )}
        </EmptyState>
      ) : (
        <>
          <StatGrid>
            <StatCard value={`${totals.postureScore}`} label="posture score" hint="100 = no open risk" tone={totals.postureScore >= 70 ? 'ok' : totals.postureScore >= 40 ? 'high' : 'critical'} />
            <StatCard value={n(totals.identities)} label="non-human identities" href={href({})} />
            <StatCard value={n(totals.agents)} label="belong to AI agents" href={href({ agent: 'yes' })} />
            <StatCard value={n(totals.orphans)} label="orphaned agent identities" href={href({ orphan: 'yes' })} tone={totals.orphans > 0 ? 'critical' : 'ok'} />
            <StatCard value={n(totals.openFindings)} label="open findings" href={href({ findings: 'open' })} />
            <StatCard value={`${totals.meanRisk}`} label="mean risk" hint={breakdown.mttrDays !== null ? `fixes take ${breakdown.mttrDays} days on average` : undefined} />
          </StatGrid>

          <div className="grid-2">
            <ChartCard
              title="Posture over time"
              description={
                <>
                  Posture score and open findings at the end of each day (UTC), from the day&rsquo;s last snapshot.{' '}
                  <TrendRangeLinks current={range} />
                </>
              }
              summary={trendSummary(overview.trend)}
              chart={
                <TrendLines
                  data={overview.trend.map((point) => ({ at: new Date(point.takenAt).toISOString(), score: point.postureScore, findings: point.openFindings, orphans: point.orphans }))}
                  series={[
                    { key: 'score', label: 'Posture score', colour: SERIES_COLOURS[0]!, axis: 'left' },
                    { key: 'findings', label: 'Open findings', colour: SEVERITY_COLOURS.high!, axis: 'right' },
                  ]}
                />
              }
              columns={[{ header: "The day's last snapshot" }, { header: 'Posture score', align: 'right' }, { header: 'Open findings', align: 'right' }, { header: 'Orphans', align: 'right' }]}
              rows={overview.trend.map((point) => ({
                key: new Date(point.takenAt).toISOString(),
                cells: [formatDateTime(point.takenAt), point.postureScore.toFixed(1), formatCount(point.openFindings), formatCount(point.orphans)],
              }))}
              empty="No posture snapshots yet: one is taken after every scan."
              footer={filter.provider || filter.account || filter.owner ? `Trend of ${filter.source ? sourceName(filter.source) : 'the whole estate'}: snapshots are kept per source.` : undefined}
            />

            <section className="panel" aria-labelledby="matrix-heading">
              <h2 id="matrix-heading">Open findings by dimension and severity</h2>
              {hasMatrix || breakdown.findingsByDimension.length > 0 ? (
                <table className="data-table matrix">
                  <caption className="visually-hidden">Open findings by dimension (rows) and severity (columns); each number links to the identities behind it</caption>
                  <thead>
                    <tr>
                      <th scope="col">Dimension</th>
                      {SEVERITY_ORDER.map((severity) => (
                        <th key={severity} scope="col" className="num">
                          <span className={`sev-dot sev-${severity}`} aria-hidden="true" /> {severity}
                        </th>
                      ))}
                      <th scope="col" className="num">
                        Total
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {DIMENSION_ORDER.map((dimension) => {
                      const total = breakdown.findingsByDimension.find((row) => row.value === dimension)?.count ?? 0
                      return (
                        <tr key={dimension}>
                          <th scope="row">
                            <Link to={href({ dimension })}>{label(dimension)}</Link>
                          </th>
                          {SEVERITY_ORDER.map((severity) => {
                            const count = cell(dimension, severity)
                            return (
                              <td key={severity} className={`num heat heat-${severity}`} data-empty={count === 0 || undefined}>
                                {hasMatrix ? (
                                  count > 0 ? (
                                    <Link to={href({ dimension, severity })} aria-label={`${n(count)} open ${severity} ${label(dimension)} findings: show identities`}>
                                      {n(count)}
                                    </Link>
                                  ) : (
                                    <span className="muted">0</span>
                                  )
                                ) : (
                                  <span className="muted">—</span>
                                )}
                              </td>
                            )
                          })}
                          <td className="num">
                            <Link to={href({ dimension })} aria-label={`${n(total)} open ${label(dimension)} findings: show identities`}>
                              {n(total)}
                            </Link>
                          </td>
                        </tr>
                      )
                    })}
                  </tbody>
                  <tfoot>
                    <tr>
                      <th scope="row">All</th>
                      {SEVERITY_ORDER.map((severity) => {
                        const count = breakdown.findingsBySeverity.find((row) => row.value === severity)?.count ?? 0
                        return (
                          <td key={severity} className="num">
                            <Link to={href({ severity })} aria-label={`${n(count)} open ${severity} findings: show identities`}>
                              {n(count)}
                            </Link>
                          </td>
                        )
                      })}
                      <td className="num">{n(totals.openFindings)}</td>
                    </tr>
                  </tfoot>
                </table>
              ) : (
                <p className="muted">No open findings.</p>
              )}
            </section>
          </div>

          <div className="grid-3">
            <ChartCard
              title="AI agents by platform"
              summary={topSummary(breakdown.agentsByPlatform, 'agent identities')}
              chart={<HorizontalBars data={breakdown.agentsByPlatform.map((row) => ({ label: label(row.value), value: row.count, href: href({ agent: 'yes', platform: row.value }) }))} valueLabel="Agent identities" />}
              columns={[{ header: 'Platform' }, { header: 'Agent identities', align: 'right' }]}
              rows={breakdown.agentsByPlatform.map((row) => ({ key: row.value, href: href({ agent: 'yes', platform: row.value }), cells: [label(row.value), n(row.count)] }))}
              empty="No agent identities found."
            />
            <ChartCard
              title="Identities by provider"
              summary={topSummary(breakdown.identitiesByProvider, 'identities')}
              chart={
                <HorizontalBars
                  data={breakdown.identitiesByProvider.map((row) => ({ label: label(row.value), value: row.count, href: href({ provider: row.value }) }))}
                  valueLabel="Identities"
                />
              }
              columns={[{ header: 'Provider' }, { header: 'Identities', align: 'right' }, { header: 'AI agents', align: 'right' }]}
              rows={breakdown.identitiesByProvider.map((row) => ({
                key: row.value,
                href: href({ provider: row.value }),
                cells: [label(row.value), n(row.count), n(breakdown.agentsByProvider.find((agents) => agents.value === row.value)?.count ?? 0)],
              }))}
            />
            <ChartCard
              title="Credential age"
              description="Active credentials by age since creation or last rotation."
              summary={topSummary(
                breakdown.credentialAge.map((b) => ({ value: b.label, count: b.count })),
                'credentials',
              )}
              chart={
                <ColumnBars
                  data={breakdown.credentialAge.map((bucket) => ({
                    label: bucket.label,
                    value: bucket.count,
                    href: ageHref(bucket),
                    colour: bucket.key === 'unknown' ? '#6b5ca5' : (bucket.minDays ?? 0) >= 366 ? SEVERITY_COLOURS.critical : (bucket.minDays ?? 0) >= 91 ? SEVERITY_COLOURS.high : SERIES_COLOURS[1],
                  }))}
                  valueLabel="Active credentials"
                />
              }
              columns={[{ header: 'Age' }, { header: 'Active credentials', align: 'right' }]}
              rows={breakdown.credentialAge.map((bucket) => ({ key: bucket.key, href: ageHref(bucket), cells: [bucket.label, n(bucket.count)] }))}
              empty="No active credentials."
              footer="Each bar opens the identities whose oldest credential is that old."
            />
          </div>

          <div className="grid-2">
            <section className="panel" aria-labelledby="riskiest-heading">
              <header className="panel-header">
                <h2 id="riskiest-heading">Riskiest identities</h2>
                <Link to={href({})}>Show all</Link>
              </header>
              {overview.riskiest.length === 0 ? (
                <p className="muted">None.</p>
              ) : (
                <table className="data-table compact">
                  <caption className="visually-hidden">The ten riskiest identities in this view</caption>
                  <thead>
                    <tr>
                      <th scope="col">Identity</th>
                      <th scope="col">Owner</th>
                      <th scope="col">Risk</th>
                    </tr>
                  </thead>
                  <tbody>
                    {overview.riskiest.map((row) => (
                      <tr key={row.id}>
                        <td>
                          <Link to={`/identities/${row.id}`}>{row.display_name}</Link>
                          <div className="small muted">
                            {label(row.provider)} · {row.account_id} {row.is_agent ? <AgentBadge platform={row.agent_platform} /> : null}
                          </div>
                        </td>
                        <td>
                          <OwnerStatusBadge status={row.owner_status} />
                        </td>
                        <td>
                          <RiskBadge score={row.risk_score} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
            <section className="panel" aria-labelledby="changes-heading">
              <header className="panel-header">
                <h2 id="changes-heading">Changed in the last scan</h2>
                {overview.changes.since ? <span className="small muted">since {formatDateTime(overview.changes.since)}</span> : null}
              </header>
              {overview.changes.counts.length === 0 ? (
                <p className="muted">{overview.changes.since ? 'Nothing changed in the last scan.' : 'No scan has finished yet.'}</p>
              ) : (
                <>
                  <ul className="change-counts">
                    {overview.changes.counts.map((row) => (
                      <li key={row.value}>
                        <span className="change-count">
                          {formatCount(row.count)}
                          {overview.changes.capped ? '+' : ''}
                        </span>{' '}
                        {label(row.value).toLowerCase()}
                      </li>
                    ))}
                  </ul>
                  <h3 className="h4">Latest</h3>
                  <ul className="plain small">
                    {overview.changes.recent.map((change) => (
                      <li key={change.id}>
                        <Link to={`/identities/${change.identityId}`}>{change.displayName}</Link> — {label(change.changeType).toLowerCase()}{' '}
                        <span className="muted">{formatAgo(change.occurredAt)}</span>
                      </li>
                    ))}
                  </ul>
                </>
              )}
            </section>
          </div>

          <div className="grid-2">
            <ChartCard
              title="Ownership"
              summary={topSummary(breakdown.ownerStatus.map((row) => ({ value: label(row.value), count: row.count })), 'identities')}
              chart={
                <HorizontalBars
                  data={breakdown.ownerStatus.map((row) => ({
                    label: label(row.value),
                    value: row.count,
                    href: href({ ownerStatus: row.value as IdentityFilter['ownerStatus'] }),
                    colour: row.value === 'valid' ? SEVERITY_COLOURS.low : row.value === 'unknown' ? '#6b5ca5' : SEVERITY_COLOURS.high,
                  }))}
                  valueLabel="Identities"
                />
              }
              columns={[{ header: 'Owner status' }, { header: 'Identities', align: 'right' }]}
              rows={breakdown.ownerStatus.map((row) => ({ key: row.value, href: href({ ownerStatus: row.value as IdentityFilter['ownerStatus'] }), cells: [label(row.value), n(row.count)] }))}
            />
            <section className="panel" aria-labelledby="owners-heading">
              <h2 id="owners-heading">Owners with the most identities</h2>
              {breakdown.topOwners.length === 0 ? (
                <p className="muted">No owners recorded.</p>
              ) : (
                <ul className="plain bars">
                  {breakdown.topOwners.map((row) => (
                    <li key={row.value}>
                      <Link to={href({ owner: row.value })}>{row.value}</Link> <span className="muted">{n(row.count)}</span>
                    </li>
                  ))}
                </ul>
              )}
            </section>
          </div>
        </>
      )}
    </>
  )
}

function toSearch(filter: PostureFilter): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(filter)) if (value) params.set(key, String(value))
  const query = params.toString()
  return query ? `?${query}` : ''
}

function topSummary(rows: { value: string; count: number }[], noun: string): string {
  if (rows.length === 0) return `no ${noun}`
  const top = [...rows].sort((a, b) => b.count - a.count).slice(0, 3)
  return top.map((row) => `${label(row.value)} ${formatCount(row.count)}`).join(', ') + ` ${noun}`
}

function trendSummary(trend: { postureScore: number; openFindings: number }[]): string {
  const first = trend[0]
  const last = trend[trend.length - 1]
  if (!first || !last) return 'no snapshots yet'
  return `posture score from ${first.postureScore.toFixed(1)} to ${last.postureScore.toFixed(1)}; open findings from ${formatCount(first.openFindings)} to ${formatCount(last.openFindings)} over ${trend.length} ${trend.length === 1 ? 'day' : 'days'}`
}

/** The trend's range, as links that keep the page's filters. */
function TrendRangeLinks({ current }: { current: TrendRange }) {
  const location = useLocation()
  return (
    <span className="trend-ranges" role="group" aria-label="Trend range">
      {(Object.keys(TREND_RANGES) as TrendRange[]).map((range) => {
        const params = new URLSearchParams(location.search)
        if (range === DEFAULT_TREND_RANGE) params.delete('range')
        else params.set('range', range)
        const search = params.toString()
        return (
          <Link key={range} to={search ? `?${search}` : location.pathname} aria-current={range === current ? 'true' : undefined} preventScrollReset>
            {TREND_RANGE_LABELS[range]}
          </Link>
        )
      })}
    </span>
  )
}

export function ErrorBoundary() {
  return <RouteErrorBoundary title="The posture overview" backTo="/posture" backLabel="Reload Posture without filters" />
}

