import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { EmptyState } from '~/components/empty-state'
import { PageHeader } from '~/components/page-header'

export const meta: MetaFunction = () => [{ title: 'Posture · Leash' }]

export async function loader({ context }: LoaderFunctionArgs) {
  const { db } = context
  const counts = await db
    .selectFrom('identities')
    .select((eb) => [eb.fn.countAll<number>().as('identities'), eb.fn.count<number>('id').filterWhere('is_agent', '=', true).as('agents')])
    .where('status', '!=', 'gone')
    .executeTakeFirstOrThrow()
  const sources = await db.selectFrom('sources').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow()
  return { identities: Number(counts.identities), agents: Number(counts.agents), sources: Number(sources.count) }
}

export default function PosturePage() {
  const data = useLoaderData<typeof loader>()
  return (
    <>
      <PageHeader title="Posture" description="Risk across every source: ownership, over-privilege, credential age and monitoring gaps." />
      {data.identities === 0 ? (
        <EmptyState title="No identities yet">
          {data.sources === 0 ? (
            <p>
              No source is configured. Add one on the <Link to="/sources">Sources</Link> page or in <code>leash.config.yaml</code>.
            </p>
          ) : (
            <p>
              Sources are configured but no scan has found identities yet. Start one from <Link to="/sources">Sources</Link>.
            </p>
          )}
        </EmptyState>
      ) : (
        <div className="stat-grid">
          <Link className="stat" to="/identities">
            <span className="stat-value">{data.identities.toLocaleString('en')}</span>
            <span className="stat-label">non-human identities</span>
          </Link>
          <Link className="stat" to="/identities?agent=yes">
            <span className="stat-value">{data.agents.toLocaleString('en')}</span>
            <span className="stat-label">belong to AI agents</span>
          </Link>
        </div>
      )}
    </>
  )
}
