import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { useLoaderData } from '@remix-run/react'
import { EmptyState } from '~/components/empty-state'
import { PageHeader } from '~/components/page-header'

export const meta: MetaFunction = () => [{ title: 'Sources · Leash' }]

export async function loader({ context }: LoaderFunctionArgs) {
  const rows = await context.db.selectFrom('sources').select(['id', 'name', 'provider', 'schedule', 'enabled', 'is_demo']).orderBy('name').execute()
  return { rows }
}

export default function SourcesPage() {
  const { rows } = useLoaderData<typeof loader>()
  return (
    <>
      <PageHeader title="Sources" description="Connectors that scan cloud IAM, secret vaults and SaaS on a schedule." />
      {rows.length === 0 ? (
        <EmptyState title="No sources configured">
          <p>
            Add a source in <code>leash.config.yaml</code> (see README), then scan it with <code>npx leash scan --all</code>.
          </p>
        </EmptyState>
      ) : (
        <ul className="plain-list">
          {rows.map((row) => (
            <li key={row.id}>
              {row.name} · {row.provider} · {row.schedule}
            </li>
          ))}
        </ul>
      )}
    </>
  )
}
