import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { z } from 'zod'
import { PageHeader } from '~/components/page-header'
import { RouteErrorBoundary } from '~/components/route-error'
import { formatAgo, formatDateTime } from '~/components/format'
import { auditActor, clientIp, requireUserWithPermission } from '~/utils/auth.server'
import {
  loadScoringSettings,
  removeThresholdOverride,
  saveDepartedOwners,
  ScoringSettingsError,
  setThresholdOverride,
  SETTING_ACTIONS,
  thresholdCatalogue,
} from '~/utils/scoring-settings.server'

export const meta: MetaFunction = () => [{ title: 'Scoring settings · Leash' }]

const ActionSchema = z.discriminatedUnion('intent', [
  z.object({
    intent: z.literal('set-override'),
    scopeType: z.enum(['source', 'tag'], { message: 'Choose whether the override applies to a source or to a tag.' }),
    scopeValue: z.string().trim().min(1, 'Enter the source name, or the tag as key=value.').max(400, 'The scope is longer than 400 characters.'),
    threshold: z.string().min(1, 'Choose a threshold.'),
    value: z.string().trim().min(1, 'Enter a value.'),
  }),
  z.object({ intent: z.literal('remove-override'), overrideId: z.coerce.number().int().positive() }),
  z.object({ intent: z.literal('save-departed'), departed: z.string().max(200_000, 'The list is longer than 200,000 characters.') }),
])

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { user } = await requireUserWithPermission(request, context, 'read:setting:any')
  const settings = await loadScoringSettings(context.db)
  return { ...settings, thresholds: thresholdCatalogue(), canEdit: user.can('update:setting:any'), auditHref: user.can('read:audit:any') ? `/audit?action=${encodeURIComponent(SETTING_ACTIONS)}` : null }
}

type ActionResult = { ok: true; message: string } | { ok: false; error: string }

const AFTER_CHANGE = 'The identities it applies to are scored again at the next scoring pass, which runs after each scan.'

export async function action({ request, context }: ActionFunctionArgs) {
  const { user } = await requireUserWithPermission(request, context, 'update:setting:any')
  const parsed = ActionSchema.safeParse(Object.fromEntries(await request.formData()))
  if (!parsed.success) return data<ActionResult>({ ok: false, error: parsed.error.issues.map((issue) => issue.message).join(' ') }, { status: 400 })
  const actor = auditActor(user)
  const ip = clientIp(context)
  const input = parsed.data
  try {
    switch (input.intent) {
      case 'set-override': {
        const saved = await setThresholdOverride(context.db, actor, input, ip)
        return data<ActionResult>({ ok: true, message: `${saved.threshold} is ${saved.value} for ${input.scopeType} ${input.scopeValue}. ${AFTER_CHANGE}` })
      }
      case 'remove-override':
        await removeThresholdOverride(context.db, actor, input.overrideId, ip)
        return data<ActionResult>({ ok: true, message: `Override removed. ${AFTER_CHANGE}` })
      case 'save-departed': {
        const { added, removed } = await saveDepartedOwners(context.db, actor, input.departed, ip)
        return data<ActionResult>({ ok: true, message: `Departed owners saved: ${added.length} added, ${removed.length} removed. ${AFTER_CHANGE}` })
      }
    }
  } catch (error) {
    if (error instanceof ScoringSettingsError) return data<ActionResult>({ ok: false, error: error.message }, { status: 400 })
    throw error
  }
}

export default function ScoringSettingsPage() {
  const { thresholds, overrides, sources, departedOwners, departedOwnersProblem, pending, recentChanges, canEdit, auditHref } = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>()
  const busy = useNavigation().state === 'submitting'
  const configured = sources.filter((source) => Object.keys(source.thresholds).length > 0)
  return (
    <>
      <PageHeader
        title="Scoring settings"
        description="The limits the rules apply, and who has left the organisation. Precedence: default, then source, then tag; when several tags match, the strictest limit wins."
      />
      {result ? (
        result.ok ? (
          <p className="form-notice" role="status">
            {result.message}
          </p>
        ) : (
          <p className="form-error" role="alert">
            {result.error}
          </p>
        )
      ) : null}

      <section className="panel" aria-labelledby="defaults-heading">
        <h2 id="defaults-heading">Thresholds and their defaults</h2>
        <div className="table-scroll">
          <table className="data-table compact">
            <caption className="visually-hidden">Thresholds with their defaults and where each default comes from</caption>
            <thead>
              <tr>
                <th scope="col">Threshold</th>
                <th scope="col">Default</th>
                <th scope="col">Allowed</th>
                <th scope="col">Meaning and source</th>
              </tr>
            </thead>
            <tbody>
              {thresholds.map((threshold) => (
                <tr key={threshold.name}>
                  <td className="mono">{threshold.name}</td>
                  <td>{threshold.unit === 'days' ? `${threshold.default} days` : threshold.default}</td>
                  <td>
                    {threshold.min}–{threshold.max}
                  </td>
                  <td>
                    {threshold.description} <span className="muted small">{threshold.source}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {configured.length > 0 ? (
          <p className="small">
            Set in leash.config.yaml:{' '}
            {configured.map((source) => `${source.name} (${Object.entries(source.thresholds).map(([name, value]) => `${name} ${String(value)}`).join(', ')})`).join('; ')}.
          </p>
        ) : null}
      </section>

      <section className="panel" aria-labelledby="overrides-heading" style={{ marginTop: 24 }}>
        <h2 id="overrides-heading">Overrides</h2>
        {overrides.length === 0 ? (
          <p className="muted">No overrides: every source uses the defaults and its leash.config.yaml settings.</p>
        ) : (
          <table className="data-table compact">
            <caption className="visually-hidden">Threshold overrides</caption>
            <thead>
              <tr>
                <th scope="col">Applies to</th>
                <th scope="col">Threshold</th>
                <th scope="col">Value</th>
                {canEdit ? <th scope="col">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {overrides.map((override) => (
                <tr key={override.id}>
                  <td>
                    {override.scopeType === 'tag' ? 'Tag ' : 'Source '}
                    <span className="mono">{override.scopeType === 'source' ? (override.sourceName ?? override.scopeValue) : override.scopeValue}</span>
                    {override.scopeType === 'source' && override.sourceName === null ? <span className="muted small"> (no such source: ignored)</span> : null}
                  </td>
                  <td className="mono">{override.threshold}</td>
                  <td>{String(override.value)}</td>
                  {canEdit ? (
                    <td>
                      <Form method="post" className="inline-form">
                        <input type="hidden" name="overrideId" value={override.id} />
                        <button type="submit" name="intent" value="remove-override" className="button secondary" disabled={busy}>
                          Remove {override.threshold} for {override.scopeValue}
                        </button>
                      </Form>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {canEdit ? (
          <Form method="post" aria-labelledby="new-override-heading" style={{ marginTop: 16, maxWidth: 520 }}>
            <h3 id="new-override-heading" className="h4">
              Set an override
            </h3>
            <input type="hidden" name="intent" value="set-override" />
            <div className="form-field">
              <label htmlFor="override-scope-type">Applies to</label>
              <select id="override-scope-type" name="scopeType" defaultValue="tag">
                <option value="tag">Identities with a tag</option>
                <option value="source">A source</option>
              </select>
            </div>
            <div className="form-field">
              <label htmlFor="override-scope-value">Tag (key=value) or source name</label>
              <input id="override-scope-value" name="scopeValue" required maxLength={400} placeholder="env=production" list="source-names" />
              <datalist id="source-names">
                {sources.map((source) => (
                  <option key={source.id} value={source.name} />
                ))}
              </datalist>
            </div>
            <div className="form-field">
              <label htmlFor="override-threshold">Threshold</label>
              <select id="override-threshold" name="threshold" defaultValue="maxCredentialAgeDays">
                {thresholds.map((threshold) => (
                  <option key={threshold.name} value={threshold.name}>
                    {threshold.name}
                  </option>
                ))}
              </select>
            </div>
            <div className="form-field">
              <label htmlFor="override-value">Value</label>
              <input id="override-value" name="value" required inputMode="numeric" />
            </div>
            <button type="submit" className="button" disabled={busy}>
              Save override
            </button>
          </Form>
        ) : null}
      </section>

      <section className="panel" aria-labelledby="departed-heading" style={{ marginTop: 24 }}>
        <h2 id="departed-heading">Departed owners</h2>
        <p className="small">
          People who have left the organisation. An identity whose owner is listed here gets the finding &ldquo;owner has left or is disabled&rdquo;. Leash
          users who are disabled count as departed without being listed.
        </p>
        {departedOwnersProblem ? (
          <p className="form-error" role="alert">
            The stored list cannot be used, and scoring passes stop until it is fixed: {departedOwnersProblem} Saving the list below replaces it.
          </p>
        ) : null}
        {canEdit ? (
          <Form method="post" style={{ maxWidth: 520 }}>
            <input type="hidden" name="intent" value="save-departed" />
            <div className="form-field">
              <label htmlFor="departed-owners">One email address, UPN or login per line</label>
              <textarea id="departed-owners" name="departed" rows={8} defaultValue={departedOwners.join('\n')} key={departedOwners.join('\n')} />
            </div>
            <button type="submit" className="button" disabled={busy}>
              Save departed owners
            </button>
          </Form>
        ) : departedOwners.length === 0 ? (
          <p className="muted">Nobody is listed.</p>
        ) : (
          <ul>
            {departedOwners.map((ref) => (
              <li key={ref} className="mono">
                {ref}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section className="panel" aria-labelledby="history-heading" style={{ marginTop: 24 }}>
        <h2 id="history-heading">Recent changes</h2>
        <p className="small">
          {pending.scopes === 0 && pending.identities === 0
            ? 'Every saved change has been applied by a scoring pass.'
            : `Waiting for the next scoring pass: ${pending.scopes.toLocaleString('en')} saved ${pending.scopes === 1 ? 'change' : 'changes'} to apply, ${pending.identities.toLocaleString('en')} ${pending.identities === 1 ? 'identity' : 'identities'} to assess again.`}
        </p>
        {recentChanges.length === 0 ? (
          <p className="muted">No changes yet. Every change is kept in the audit trail.</p>
        ) : (
          <table className="data-table compact">
            <caption className="visually-hidden">Recent changes to scoring settings</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Change</th>
              </tr>
            </thead>
            <tbody>
              {recentChanges.map((change) => (
                <tr key={change.seq}>
                  <td>
                    <time dateTime={change.occurredAt} title={formatDateTime(change.occurredAt)}>
                      {formatAgo(change.occurredAt)}
                    </time>
                  </td>
                  <td>{change.actor}</td>
                  <td>
                    {change.action}: <span className="mono">{change.summary}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p className="muted small">
          The latest changes are listed here; the audit trail holds every one
          {auditHref ? (
            <>
              {' '}
              (<Link to={auditHref}>all setting changes in the audit trail</Link>)
            </>
          ) : null}
          .
        </p>
      </section>
    </>
  )
}

export function ErrorBoundary() {
  return <RouteErrorBoundary title="Scoring settings" backTo="/posture" backLabel="Back to Posture" />
}
