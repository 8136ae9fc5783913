import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { useLoaderData } from '@remix-run/react'
import { EmptyState } from '~/components/empty-state'
import { PageHeader } from '~/components/page-header'

export const meta: MetaFunction = () => [{ title: 'Revocations · Leash' }]

export async function loader({ context }: LoaderFunctionArgs) {
  const rows = await context.db
    .selectFrom('revocations')
    .select(['id', 'action_id', 'status', 'reason', 'created_at'])
    .orderBy('created_at', 'desc')
    .limit(50)
    .execute()
  return { rows }
}

export default function RevocationsPage() {
  const { rows } = useLoaderData<typeof loader>()
  return (
    <>
      <PageHeader title="Revocations" description="Requested, approved and executed revocations, with their verification." />
      {rows.length === 0 ? (
        <EmptyState title="No revocations yet">
          <p>Revoke a credential from the page of an identity; requests that need a second approver wait here.</p>
        </EmptyState>
      ) : (
        <ul className="plain-list">
          {rows.map((row) => (
            <li key={row.id}>
              {row.action_id} · {row.status} · {row.reason}
            </li>
          ))}
        </ul>
      )}
    </>
  )
}
