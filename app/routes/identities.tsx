import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { EmptyState } from '~/components/empty-state'
import { PageHeader } from '~/components/page-header'

export const meta: MetaFunction = () => [{ title: 'Identities · Leash' }]

export async function loader({ context }: LoaderFunctionArgs) {
  const rows = await context.db
    .selectFrom('identities')
    .select(['id', 'display_name', 'provider', 'kind', 'agent_platform', 'owner_ref', 'risk_score', 'last_used_at'])
    .where('status', '!=', 'gone')
    .orderBy('risk_score', 'desc')
    .orderBy('id', 'desc')
    .limit(50)
    .execute()
  return { rows }
}

export default function IdentitiesPage() {
  const { rows } = useLoaderData<typeof loader>()
  return (
    <>
      <PageHeader title="Identities" description="Every non-human identity Leash has seen, riskiest first." />
      {rows.length === 0 ? (
        <EmptyState title="No identities yet">
          <p>
            Identities appear here after a source is scanned. Configure one on the <Link to="/sources">Sources</Link> page.
          </p>
        </EmptyState>
      ) : (
        <table className="data-table">
          <caption className="visually-hidden">Identities, riskiest first</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Provider</th>
              <th scope="col">Kind</th>
              <th scope="col">Agent platform</th>
              <th scope="col">Owner</th>
              <th scope="col">Risk</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.id}>
                <td>{row.display_name}</td>
                <td>{row.provider}</td>
                <td>{row.kind}</td>
                <td>{row.agent_platform ?? '—'}</td>
                <td>{row.owner_ref ?? 'none'}</td>
                <td>{row.risk_score}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  )
}
