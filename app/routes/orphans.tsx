import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { useLoaderData } from '@remix-run/react'
import { EmptyState } from '~/components/empty-state'
import { PageHeader } from '~/components/page-header'

export const meta: MetaFunction = () => [{ title: 'Orphans · Leash' }]

export async function loader({ context }: LoaderFunctionArgs) {
  const rows = await context.db
    .selectFrom('identities')
    .select(['id', 'display_name', 'provider', 'agent_platform', 'risk_score'])
    .where('is_agent', '=', true)
    .where('status', '=', 'active')
    .where('owner_status', 'in', ['none', 'invalid'])
    .orderBy('risk_score', 'desc')
    .orderBy('id', 'desc')
    .limit(50)
    .execute()
  return { rows }
}

export default function OrphansPage() {
  const { rows } = useLoaderData<typeof loader>()
  return (
    <>
      <PageHeader title="Orphans" description="Agent identities with no valid owner, riskiest first." />
      {rows.length === 0 ? (
        <EmptyState title="No orphaned agent identities">
          <p>Every agent identity Leash knows has a valid owner, or no source has been scanned yet.</p>
        </EmptyState>
      ) : (
        <ul className="plain-list">
          {rows.map((row) => (
            <li key={row.id}>
              {row.display_name} · {row.provider} · risk {row.risk_score}
            </li>
          ))}
        </ul>
      )}
    </>
  )
}
