import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { useLoaderData } from '@remix-run/react'
import { EmptyState } from '~/components/empty-state'
import { PageHeader } from '~/components/page-header'

export const meta: MetaFunction = () => [{ title: 'Audit · Leash' }]

export async function loader({ context }: LoaderFunctionArgs) {
  const rows = await context.db
    .selectFrom('audit_events')
    .select(['seq', 'occurred_at', 'actor_display', 'action', 'object_type', 'object_id'])
    .orderBy('seq', 'desc')
    .limit(50)
    .execute()
  return { rows }
}

export default function AuditPage() {
  const { rows } = useLoaderData<typeof loader>()
  return (
    <>
      <PageHeader title="Audit" description="The tamper-evident trail of every sign-in, claim, approval, revocation step and scan." />
      {rows.length === 0 ? (
        <EmptyState title="No audit events yet">
          <p>Sign-ins, claims, approvals, revocations and scans are recorded here as they happen.</p>
        </EmptyState>
      ) : (
        <ul className="plain-list">
          {rows.map((row) => (
            <li key={row.seq}>
              {new Date(row.occurred_at).toISOString()} · {row.actor_display} · {row.action}
            </li>
          ))}
        </ul>
      )}
    </>
  )
}
