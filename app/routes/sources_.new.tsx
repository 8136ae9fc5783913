import { parseWithZod } from '@conform-to/zod'
import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { useState } from 'react'
import { PageHeader } from '~/components/page-header'
import { RouteErrorBoundary } from '~/components/route-error'
import { auditActor, clientIp, requireUserWithPermission } from '~/utils/auth.server'
import { createSource, NewSourceSchema, providerChoices, validateNewSource, type SourceFieldErrors } from '~/utils/sources.server'
import { DEFAULT_SCHEDULE } from '../../connectors/source-config.js'

export const meta: MetaFunction = () => [{ title: 'Add a source · Leash' }]

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireUserWithPermission(request, context, 'create:source:any')
  const demoRunning = await context.db
    .selectFrom('sources')
    .select('id')
    .where('is_demo', '=', true)
    .where('enabled', '=', true)
    .executeTakeFirst()
  return { providers: providerChoices(), defaultSchedule: DEFAULT_SCHEDULE, demoRunning: Boolean(demoRunning) }
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { user } = await requireUserWithPermission(request, context, 'create:source:any')
  const formData = await request.formData()
  const values = {
    provider: String(formData.get('provider') ?? ''),
    name: String(formData.get('name') ?? ''),
    schedule: String(formData.get('schedule') ?? ''),
    settings: String(formData.get('settings') ?? ''),
  }
  const submission = parseWithZod(formData, { schema: NewSourceSchema })
  if (submission.status !== 'success') {
    return Response.json({ values, errors: (submission.error ?? {}) as SourceFieldErrors }, { status: 400 })
  }
  const checked = validateNewSource(submission.value)
  if (!checked.ok) return Response.json({ values, errors: checked.errors }, { status: 400 })
  const created = await createSource(
    context.db,
    auditActor(user),
    { provider: submission.value.provider, name: submission.value.name, schedule: checked.schedule, settings: checked.settings },
    clientIp(context),
  )
  if ('nameTaken' in created) {
    return Response.json(
      {
        values,
        errors: { name: [`A source named "${submission.value.name}" exists already; choose another name.`] } satisfies SourceFieldErrors,
      },
      { status: 400 },
    )
  }
  throw redirect(`/sources/${created.id}/test-connection?created=1`)
}

export default function NewSourcePage() {
  const { providers, defaultSchedule, demoRunning } = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>()
  const navigation = useNavigation()
  const errors: SourceFieldErrors = result?.errors ?? {}
  const [provider, setProvider] = useState(result?.values.provider ?? '')
  const chosen = providers.find((p) => p.name === provider)
  const fieldError = (name: keyof SourceFieldErrors) =>
    errors[name]?.length ? (
      <ul className="field-error plain" id={`source-${name}-error`} role="alert">
        {errors[name]!.map((message) => (
          <li key={message}>{message}</li>
        ))}
      </ul>
    ) : null
  const describedBy = (name: keyof SourceFieldErrors, hint: string) =>
    [hint, errors[name]?.length ? `source-${name}-error` : null].filter(Boolean).join(' ')

  return (
    <>
      <PageHeader
        title="Add a source"
        description="Connect a cloud account, vault or SaaS organisation. Leash stores only non-secret settings: credentials stay in environment variables or the provider's standard credential chain."
      />
      {demoRunning ? (
        <p className="callout" role="note">
          Leash is running its demo estate. Once you add a real source, restart Leash: the demo turns off and its fake credentials leave the
          environment (until then, a source that uses the SDK&apos;s default credential chain may see the demo&apos;s keys).
        </p>
      ) : null}
      {fieldError('form')}
      <Form method="post" className="panel" aria-labelledby="new-source-heading" noValidate>
        <h2 id="new-source-heading" className="visually-hidden">
          Source
        </h2>
        <div className="form-field">
          <label htmlFor="source-provider">Provider</label>
          <select
            id="source-provider"
            name="provider"
            value={provider}
            onChange={(e) => setProvider(e.target.value)}
            aria-invalid={errors.provider ? true : undefined}
            aria-describedby={describedBy('provider', 'source-provider-hint')}
            required
          >
            <option value="">Choose…</option>
            {providers.map((p) => (
              <option key={p.name} value={p.name}>
                {p.displayName}
              </option>
            ))}
          </select>
          <span id="source-provider-hint" className="hint">
            {chosen ? (
              <>
                Least-privilege permissions for scanning and, separately, for revocation: <code>docs/providers/{chosen.name}.md</code>.
              </>
            ) : (
              'Each provider documents a copy-paste least-privilege permission set in docs/providers/.'
            )}
          </span>
          {fieldError('provider')}
        </div>
        <div className="form-field">
          <label htmlFor="source-name">Name</label>
          <input
            id="source-name"
            name="name"
            defaultValue={result?.values.name ?? ''}
            maxLength={80}
            required
            aria-invalid={errors.name ? true : undefined}
            aria-describedby={describedBy('name', 'source-name-hint')}
          />
          <span id="source-name-hint" className="hint">
            Unique, e.g. &quot;prod AWS organization&quot;. Letters, digits, spaces and . : @ / _ -
          </span>
          {fieldError('name')}
        </div>
        <div className="form-field">
          <label htmlFor="source-schedule">Scan schedule</label>
          <input
            id="source-schedule"
            name="schedule"
            defaultValue={result?.values.schedule || defaultSchedule}
            aria-invalid={errors.schedule ? true : undefined}
            aria-describedby={describedBy('schedule', 'source-schedule-hint')}
          />
          <span id="source-schedule-hint" className="hint">
            A cron expression; <code>{defaultSchedule}</code> scans every 6 hours.
          </span>
          {fieldError('schedule')}
        </div>
        <div className="form-field">
          <label htmlFor="source-settings">Settings (YAML)</label>
          <textarea
            id="source-settings"
            name="settings"
            rows={10}
            spellCheck={false}
            defaultValue={result?.values.settings ?? ''}
            aria-invalid={errors.settings ? true : undefined}
            aria-describedby={describedBy('settings', 'source-settings-hint')}
          />
          <span id="source-settings-hint" className="hint">
            The same settings as under <code>settings:</code> in leash.config.yaml.{' '}
            {chosen && chosen.fields.length > 0 ? (
              <>
                Fields:{' '}
                {chosen.fields.map((f, index) => (
                  <span key={f.key}>
                    {index > 0 ? ', ' : null}
                    <code>{f.key}</code>
                    {f.optional ? ' (optional' : ''}
                    {f.defaultValue ? `${f.optional ? ', ' : ' ('}default ${f.defaultValue}` : ''}
                    {f.optional || f.defaultValue ? ')' : ''}
                  </span>
                ))}
                .{' '}
              </>
            ) : null}
            Never paste a secret here: name the environment variable that holds it (e.g. <code>apiKeyEnv: OPENAI_ADMIN_KEY</code>).
          </span>
          {fieldError('settings')}
        </div>
        <button type="submit" className="button" disabled={navigation.state !== 'idle'}>
          {navigation.state === 'submitting' ? 'Adding…' : 'Add source'}
        </button>{' '}
        <Link to="/sources" className="button secondary">
          Cancel
        </Link>
      </Form>
    </>
  )
}

export function ErrorBoundary() {
  return <RouteErrorBoundary title="The new-source form" backTo="/sources" backLabel="Back to Sources" />
}
