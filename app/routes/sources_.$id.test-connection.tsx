import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData, useNavigation, useSearchParams } from '@remix-run/react'
import { z } from 'zod'
import { label } from '~/components/format'
import { PageHeader } from '~/components/page-header'
import { RouteErrorBoundary } from '~/components/route-error'
import { auditActor, clientIp, requireUserWithPermission } from '~/utils/auth.server'
import { testSourceConnection } from '~/utils/sources.server'

export const meta: MetaFunction = () => [{ title: 'Test connection · Leash' }]

const IdSchema = z.string().uuid()

async function loadSource(context: LoaderFunctionArgs['context'], id: string | undefined) {
  const parsed = IdSchema.safeParse(id)
  if (!parsed.success) throw new Response('That is not a source id.', { status: 404 })
  const source = await context.db
    .selectFrom('sources')
    .select(['id', 'name', 'provider', 'origin', 'is_demo', 'settings'])
    .where('id', '=', parsed.data)
    .executeTakeFirst()
  if (!source) throw new Response('This source does not exist.', { status: 404 })
  return source
}

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { user } = await requireUserWithPermission(request, context, 'read:source:any')
  const source = await loadSource(context, params.id)
  return { source, canTest: user.can('update:source:any') }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { user } = await requireUserWithPermission(request, context, 'update:source:any')
  const source = await loadSource(context, params.id)
  const result = await testSourceConnection(context.db, auditActor(user), source.id, clientIp(context))
  if (!result) throw new Response('This source does not exist.', { status: 404 })
  return result
}

const STATUS_TEXT = { present: 'present', missing: 'missing', unknown: 'could not tell' } as const

export default function TestConnectionPage() {
  const { source, canTest } = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>()
  const navigation = useNavigation()
  const [searchParams] = useSearchParams()
  const testing = navigation.state === 'submitting'
  const count = (status: 'present' | 'missing' | 'unknown') => result?.checks.filter((c) => c.status === status).length ?? 0
  return (
    <>
      <PageHeader
        title={`Test connection: ${source.name}`}
        description={`${label(source.provider)} source${source.is_demo ? ' (demo)' : ''}, from ${source.origin === 'config' ? 'leash.config.yaml' : source.origin === 'demo' ? 'the demo estate' : 'the Sources page'}.`}
      />
      {searchParams.get('created') ? (
        <p className="callout" role="status">
          Source added. Test the connection to see which permissions Leash has; its first scheduled scan follows its schedule, or scan it
          now from the Sources page.
        </p>
      ) : null}
      <section className="panel" aria-labelledby="settings-heading">
        <h2 id="settings-heading">Settings</h2>
        <pre className="small">{JSON.stringify(source.settings, null, 2)}</pre>
        <p className="small muted">
          Non-secret settings only. Credentials come from the environment variables named here or from the provider SDK&apos;s standard
          credential chain.
        </p>
        {canTest ? (
          <Form method="post">
            <button type="submit" className="button" disabled={testing}>
              {testing ? 'Testing…' : result ? 'Test again' : 'Test connection'}
            </button>{' '}
            <Link to="/sources" className="button secondary">
              Back to Sources
            </Link>
          </Form>
        ) : (
          <p className="small muted">Testing a connection needs the permission to change sources.</p>
        )}
      </section>
      {result ? (
        <section className="panel" aria-labelledby="result-heading" aria-live="polite">
          <h2 id="result-heading">
            {result.error ? 'The connection failed' : result.ok ? 'Every permission is present' : 'Some permissions are missing or unknown'}
          </h2>
          {result.error ? (
            <div className="callout callout-error" role="alert">
              <p>
                <strong>{result.error.message}</strong>
              </p>
              <p className="small">
                <strong>What to do:</strong> {result.error.remedy}
              </p>
            </div>
          ) : (
            <>
              <p>
                {count('present')} present, {count('missing')} missing, {count('unknown')} could not be checked ({result.apiCalls} API
                calls, {(result.durationMs / 1000).toFixed(1)} s). A missing permission leaves that part of the scan &quot;unknown&quot;,
                never a false finding.
              </p>
              <table className="data-table">
                <caption className="visually-hidden">Permissions Leash checked</caption>
                <thead>
                  <tr>
                    <th scope="col">Permission</th>
                    <th scope="col">Status</th>
                    <th scope="col">Detail</th>
                  </tr>
                </thead>
                <tbody>
                  {result.checks.map((check) => (
                    <tr key={check.permission}>
                      <th scope="row">
                        <code>{check.permission}</code>
                      </th>
                      <td>
                        <span
                          className={`badge ${check.status === 'present' ? 'badge-ok' : check.status === 'missing' ? 'badge-critical' : 'badge-neutral'}`}
                        >
                          {STATUS_TEXT[check.status]}
                        </span>
                      </td>
                      <td>{check.detail}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </section>
      ) : null}
    </>
  )
}

export function ErrorBoundary() {
  return <RouteErrorBoundary title="The connection test" backTo="/sources" backLabel="Back to Sources" />
}
