import { parseWithZod } from '@conform-to/zod'
import type { ActionFunctionArgs, AppLoadContext, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Form, Link, Outlet, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { z } from 'zod'
import { LeashError } from '../../cli/errors.js'
import { appendAuditEvent } from '../../db/audit.js'
import { getIdentityDetail, type IdentityDetail } from '../../db/queries/identity-detail.js'
import { identitiesHref } from '../../db/queries/identity-filter.js'
import type { StoredBreakdown } from '../../scoring/breakdown.js'
import type { ProviderName } from '../../connectors/contract.js'
import { COMMAND_TOOLS } from '../../scoring/rules/commands.js'
import { rulesById } from '../../scoring/rules/index.js'
import type { Rule } from '../../scoring/types.js'
import { acceptFinding, revokeAcceptance, type RecordFindingDecision } from '../../scoring/decisions.js'
import { scoreIdentities } from '../../scoring/pass.js'
import { isIdentityOwner } from '../../jobs/claims/index.js'
import { AgentBadge, Badge, OwnerStatusBadge, RiskBadge, SeverityBadge, StatusBadge } from '~/components/badges'
import { formatAgo, formatAgeDays, formatCount, formatDate, formatDateTime, kindLabel, label } from '~/components/format'
import { IdentityActions } from '~/components/identity-actions'
import { RouteErrorBoundary } from '~/components/route-error'
import { auditActor, clientIp, denyAccess, requireUser, requireUserWithPermission, type AuthenticatedActor } from '~/utils/auth.server'

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: data ? `${data.detail.identity.display_name} · Identities · Leash` : 'Identity · Leash' }]

function notFound(message: string): Response {
  return new Response(message, { status: 404, statusText: 'Not Found', headers: { 'Content-Type': 'text/plain; charset=utf-8' } })
}

function parseId(raw: string | undefined): number {
  const id = Number(raw)
  if (!raw || !/^\d{1,15}$/.test(raw) || !Number.isSafeInteger(id)) throw notFound(`"${raw ?? ''}" is not an identity id. Identity pages are /identities/<number>.`)
  return id
}

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { user } = await requireUserWithPermission(request, context, 'read:identity:any')
  const id = parseId(params.id)
  const detail = await getIdentityDetail(context.db, id)
  if (!detail) throw notFound(`There is no identity ${id}. It may have been removed with its source.`)
  // Rule metadata for the findings on this page only (title, why, how to fix).
  const provider = detail.identity.provider as ProviderName
  const rules = Object.fromEntries(
    [...new Set([...detail.findings.map((finding) => finding.rule_id), ...breakdownRuleIds(detail.score?.breakdown)])].flatMap((ruleId) => {
      const rule = rulesById.get(ruleId)
      return rule
        ? [[ruleId, { title: rule.title, dimension: rule.dimension, rationale: rule.rationale, remediation: remediationFor(rule.remediation, provider), nhi: rule.nhi, remedyActionId: rule.remedyActionId }]]
        : []
    }),
  )
  return {
    detail,
    rules,
    canClassify: user.can('update:classification:any'),
    canDecideFindings: await mayDecideFindings(context.db, user, id),
  }
}

function breakdownRuleIds(breakdown: StoredBreakdown | null | undefined): string[] {
  return breakdown ? [...breakdown.findings, ...breakdown.excluded].map((item) => item.rule) : []
}

const reasonField = z
  .string({ required_error: 'Say why, so the next person understands the decision.' })
  .trim()
  .min(3, 'Say why in a few words (at least 3 characters).')
  .max(500, 'Keep the reason under 500 characters.')

const overrideSchema = z.object({
  intent: z.literal('classify'),
  decision: z.enum(['agent', 'not_agent', 'clear'], { message: 'Choose confirm, reject or clear.' }),
  reason: reasonField,
})

const findingIdField = z.coerce.number({ message: 'The form names no finding: reload the page.' }).int().positive()

const acceptRiskSchema = z.object({
  intent: z.literal('accept-risk'),
  findingId: findingIdField,
  until: z
    .string({ required_error: 'Pick the date until which the risk is accepted.' })
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'Enter a date as YYYY-MM-DD.')
    .refine((value) => !Number.isNaN(Date.parse(`${value}T23:59:59Z`)), 'That is not a date on the calendar.'),
  reason: reasonField,
})

const endAcceptanceSchema = z.object({ intent: z.literal('end-acceptance'), findingId: findingIdField })

const findingDecisionSchema = z.discriminatedUnion('intent', [acceptRiskSchema, endAcceptanceSchema])

/** Security leads decide on any identity's findings; an owner on the identities they answer for. */
async function mayDecideFindings(db: AppLoadContext['db'], user: AuthenticatedActor, identityId: number): Promise<boolean> {
  if (user.can('update:finding:any')) return true
  return user.can('update:finding:own') && (await isIdentityOwner(db, user.userId, identityId))
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const id = parseId(params.id)
  const formData = await request.formData()
  if (formData.get('intent') === 'classify') return classify(request, context, id, formData)
  const user = await requireUser(request, context)
  const submission = parseWithZod(formData, { schema: findingDecisionSchema })
  if (submission.status !== 'success') return Response.json({ result: submission.reply() }, { status: 400 })
  const value = submission.value
  const { db } = context
  const finding = await db
    .selectFrom('findings')
    .select('id')
    .where('identity_id', '=', id)
    .where('id', '=', value.findingId)
    .executeTakeFirst()
  if (!finding) throw notFound(`Identity ${id} has no finding ${value.findingId}. Reload the page.`)
  if (!(await mayDecideFindings(db, user, id))) throw await denyAccess(request, context, user, 'update:finding:any')
  const record: RecordFindingDecision = async (trx, { before, after }) => {
    await appendAuditEvent(trx, {
      actor: auditActor(user),
      action: value.intent === 'accept-risk' ? 'finding.risk_accepted' : 'finding.acceptance_ended',
      object: { type: 'finding', id: String(finding.id) },
      before: { identity_id: id, rule_id: before.rule_id, status: before.status, accepted_until: before.accepted_until },
      after: { status: after.status, accepted_until: after.accepted_until },
      reason: value.intent === 'accept-risk' ? value.reason : null,
      ip: clientIp(context),
    })
  }
  try {
    if (value.intent === 'accept-risk') {
      // Accepted through the end of the chosen day (UTC), so the date on the page is the last day it holds.
      await acceptFinding(db, { identityId: id, findingId: finding.id }, { until: new Date(`${value.until}T23:59:59.999Z`), reason: value.reason, by: user.username }, { record })
    } else await revokeAcceptance(db, { identityId: id, findingId: finding.id }, { record })
  } catch (error) {
    if (!(error instanceof LeashError)) throw error
    const field = value.intent === 'accept-risk' && /date|days/i.test(error.message) ? 'until' : 'findingId'
    return Response.json({ result: submission.reply({ fieldErrors: { [field]: [`${error.message} ${error.remedy}`] } }), findingId: finding.id }, { status: 400 })
  }
  return Response.json({ result: submission.reply({ resetForm: true }), findingId: finding.id })
}

async function classify(request: Request, context: AppLoadContext, id: number, formData: FormData) {
  const { user } = await requireUserWithPermission(request, context, 'update:classification:any')
  const submission = parseWithZod(formData, { schema: overrideSchema })
  if (submission.status !== 'success') return Response.json({ result: submission.reply() }, { status: 400 })
  const { decision, reason } = submission.value
  const { db } = context
  const before = await db.selectFrom('identities').select(['id', 'is_agent', 'agent_override', 'agent_override_reason']).where('id', '=', id).executeTakeFirst()
  if (!before) throw notFound(`There is no identity ${id}.`)
  const override = decision === 'clear' ? null : decision
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('identities')
      .set({
        agent_override: override,
        agent_override_by: override ? user.username : null,
        agent_override_at: override ? new Date() : null,
        agent_override_reason: override ? reason : null,
        needs_scoring: true,
      })
      .where('id', '=', id)
      .execute()
    // If the audit write fails, the decision is not stored either.
    await appendAuditEvent(trx, {
      actor: auditActor(user),
      action: decision === 'clear' ? 'classification.override_cleared' : decision === 'agent' ? 'classification.confirmed' : 'classification.rejected',
      object: { type: 'identity', id: String(id) },
      before: { agent_override: before.agent_override, is_agent: before.is_agent },
      after: { agent_override: override },
      reason,
      ip: clientIp(context),
    })
  })
  // The override changes is_agent and the score: rescore this identity now rather than at the next scan.
  await scoreIdentities(db, [id])
  return Response.json({ result: submission.reply({ resetForm: true }), saved: decision })
}

type Detail = IdentityDetail
type RuleMeta = { title: string; dimension: string; rationale: string; remediation: Remediation; nhi: string; remedyActionId: string | null }

/** How to fix a finding on this identity: the steps, and the command for its own provider only. */
interface Remediation {
  console: string[]
  provider: ProviderName
  /** null when no single command does it for this provider; the steps still apply. */
  command: { tool: string; text: string } | null
}

function remediationFor(remediation: Rule['remediation'], provider: ProviderName): Remediation {
  const text = remediation.cli[provider]
  return { console: remediation.console, provider, command: text ? { tool: COMMAND_TOOLS[provider], text } : null }
}

export default function IdentityPage() {
  const { detail, rules, canClassify, canDecideFindings } = useLoaderData<typeof loader>()
  const { identity } = detail
  const openFindings = detail.findings.filter((finding) => finding.status === 'open')
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb small">
        <Link to="/identities">Identities</Link> <span aria-hidden="true">/</span> <span aria-current="page">{identity.display_name}</span>
      </nav>
      <header className="identity-header panel">
        <div className="identity-title">
          <h1>{identity.display_name}</h1>
          <div className="badge-row">
            <RiskBadge score={identity.risk_score} />
            {identity.is_agent ? <AgentBadge platform={identity.agent_platform} confidence={identity.agent_confidence} /> : null}
            <Badge tone="neutral">{label(identity.provider)}</Badge>
            <Badge tone="neutral">{kindLabel(identity.kind)}</Badge>
            <StatusBadge status={identity.status} />
            <OwnerStatusBadge status={identity.owner_status} />
          </div>
        </div>
        <dl className="facts">
          <div>
            <dt>External id</dt>
            <dd className="mono break">{identity.external_id}</dd>
          </div>
          <div>
            <dt>Account / tenant</dt>
            <dd>
              <Link to={identitiesHref({ account: identity.account_id })}>{identity.account_id}</Link>
            </dd>
          </div>
          <div>
            <dt>Source</dt>
            <dd>
              <Link to={identitiesHref({ source: identity.source_id })}>{identity.source_name}</Link>
              {identity.source_is_demo ? ' (demo)' : ''}
            </dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>{formatDate(identity.created_at, 'unknown')}</dd>
          </div>
          <div>
            <dt>Last used</dt>
            <dd>{identity.last_used_known || identity.last_used_at ? formatAgo(identity.last_used_at, 'never') : 'no usage data from the provider'}</dd>
          </div>
          <div>
            <dt>Seen by Leash</dt>
            <dd>
              {formatDate(identity.first_seen_at)} – {formatDate(identity.last_seen_at)}
            </dd>
          </div>
        </dl>
        {identity.console_url ? (
          <p>
            <a href={identity.console_url} target="_blank" rel="noreferrer noopener" className="button button-ghost">
              Open in the {label(identity.provider)} console <span aria-hidden="true">↗</span>
              <span className="visually-hidden"> (opens in a new tab)</span>
            </a>
          </p>
        ) : null}
      </header>

      <div className="detail-grid">
        <div className="detail-main">
          <FindingsPanel findings={detail.findings} rules={rules} openCount={openFindings.length} canDecide={canDecideFindings} />
          <CredentialsPanel credentials={detail.credentials} />
          <EntitlementsPanel groups={detail.entitlements} />
          <HistoryPanel changes={detail.changes} />
        </div>
        <aside className="detail-side">
          <ScorePanel identity={identity} score={detail.score} rules={rules} />
          <AgentPanel identity={identity} signals={detail.agentSignals} canClassify={canClassify} />
          <OwnerPanel identity={identity} owners={detail.owners} />
          <IdentityActions
            identity={{
              id: identity.id,
              displayName: identity.display_name,
              provider: identity.provider,
              isAgent: identity.is_agent,
              ownerRef: identity.owner_ref,
              ownerStatus: identity.owner_status,
              status: identity.status,
            }}
            credentials={detail.credentials.map((credential) => ({ id: credential.id, externalId: credential.external_id, type: credential.type, status: credential.status }))}
          />
          <Outlet />
        </aside>
      </div>
    </>
  )
}

function FindingsPanel({
  findings,
  rules,
  openCount,
  canDecide,
}: {
  findings: Detail['findings']
  rules: Record<string, RuleMeta>
  openCount: number
  canDecide: boolean
}) {
  return (
    <section className="panel" aria-labelledby="findings-heading">
      <h2 id="findings-heading">
        Findings <span className="muted">({formatCount(openCount)} open)</span>
      </h2>
      {findings.length === 0 ? (
        <p className="muted">No findings: every rule passed for this identity at the last scoring.</p>
      ) : (
        <ul className="finding-list">
          {findings.map((finding) => {
            const rule = rules[finding.rule_id]
            return (
              <li key={finding.id} className={`finding finding-${finding.status}`}>
                <details open={finding.status === 'open' && (finding.severity === 'critical' || finding.severity === 'high')}>
                  <summary>
                    <SeverityBadge severity={finding.severity} />
                    <span className="finding-title">{rule?.title ?? finding.rule_id}</span>
                    <span className="small muted">
                      {label(finding.dimension)}
                      {finding.nhi ? ` · OWASP ${finding.nhi}` : ''}
                      {finding.credential_external_id ? ` · ${finding.credential_external_id}` : ''}
                    </span>
                    {finding.status !== 'open' ? <Badge tone={finding.status === 'unknown' ? 'unknown' : 'neutral'}>{finding.status}</Badge> : null}
                  </summary>
                  <div className="finding-body">
                    {finding.status === 'accepted' ? (
                      <div className="callout small">
                        <p>
                          Accepted by {finding.accepted_by ?? 'someone'} until {formatDate(finding.accepted_until)}: {finding.accepted_reason} It
                          counts again from then, or as soon as the acceptance is ended.
                        </p>
                        {canDecide ? <EndAcceptanceForm findingId={finding.id} title={rule?.title ?? finding.rule_id} /> : null}
                      </div>
                    ) : null}
                    {finding.status === 'unknown' ? <p className="small">Leash could not decide this rule because data could not be read (see evidence).</p> : null}
                    {rule ? <p>{rule.rationale}</p> : null}
                    <h3 className="h4">Evidence</h3>
                    <Evidence value={finding.evidence} />
                    <p className="small muted">
                      First seen {formatDate(finding.first_seen_at)}, last seen {formatDate(finding.last_seen_at)}
                      {finding.resolved_at ? `, resolved ${formatDate(finding.resolved_at)}` : ''}.
                    </p>
                    {rule ? (
                      <>
                        <h3 className="h4">How to fix it</h3>
                        <ol className="steps">
                          {rule.remediation.console.map((step, index) => (
                            <li key={index}>{step}</li>
                          ))}
                        </ol>
                        {rule.remediation.command ? (
                          <>
                            <p className="small muted">With the {rule.remediation.command.tool}:</p>
                            <pre className="cli" aria-label={`Command line (${rule.remediation.command.tool})`}>
                              <code>{rule.remediation.command.text}</code>
                            </pre>
                          </>
                        ) : (
                          <p className="small muted">No single command does this for {label(rule.remediation.provider)}: follow the steps above.</p>
                        )}
                      </>
                    ) : (
                      <p className="small muted">This rule ({finding.rule_id}) is not in this version of Leash&apos;s catalogue.</p>
                    )}
                    {/* Last: fixing comes first; accepting is for when the fix must wait. */}
                    {canDecide && (finding.status === 'open' || finding.status === 'unknown') ? (
                      <AcceptRiskForm findingId={finding.id} title={rule?.title ?? finding.rule_id} />
                    ) : null}
                  </div>
                </details>
              </li>
            )
          })}
        </ul>
      )}
    </section>
  )
}

/** What the action answered about one finding's form (errors to show next to it). */
function useFindingAnswer(findingId: number) {
  const actionData = useActionData<typeof action>()
  const navigation = useNavigation()
  const busy = navigation.state === 'submitting' && navigation.formData?.get('findingId') === String(findingId)
  const answer = actionData && 'findingId' in actionData && actionData.findingId === findingId ? actionData : null
  const errors = answer ? (answer.result as { error?: Record<string, string[] | null> }).error : undefined
  return { busy, errors }
}

const DAY_MS = 86_400_000

/** Accepting a risk: until a date at most a year away, with a reason (docs/scoring.md, findings lifecycle). */
function AcceptRiskForm({ findingId, title }: { findingId: number; title: string }) {
  const { busy, errors } = useFindingAnswer(findingId)
  const untilError = errors?.until?.[0] ?? errors?.findingId?.[0] ?? null
  const reasonError = errors?.reason?.[0] ?? null
  const today = Date.now()
  const day = (offset: number) => new Date(today + offset * DAY_MS).toISOString().slice(0, 10)
  return (
    <>
      <h3 className="h4">Or accept the risk until a date</h3>
      <Form method="post" className="stack" aria-label={`Accept the risk: ${title}`}>
        <input type="hidden" name="intent" value="accept-risk" />
        <input type="hidden" name="findingId" value={findingId} />
        <div className="field">
          <label htmlFor={`until-${findingId}`}>Accepted until (at most a year)</label>
          <input
            id={`until-${findingId}`}
            name="until"
            type="date"
            required
            min={day(1)}
            max={day(365)}
            defaultValue={day(90)}
            aria-invalid={untilError ? true : undefined}
            aria-describedby={untilError ? `until-${findingId}-error` : undefined}
          />
          {untilError ? (
            <p id={`until-${findingId}-error`} className="field-error" role="alert">
              {untilError}
            </p>
          ) : null}
        </div>
        <div className="field">
          <label htmlFor={`accept-reason-${findingId}`}>Why the risk is acceptable, and what limits it</label>
          <input
            id={`accept-reason-${findingId}`}
            name="reason"
            required
            minLength={3}
            maxLength={500}
            aria-invalid={reasonError ? true : undefined}
            aria-describedby={reasonError ? `accept-reason-${findingId}-error` : undefined}
          />
          {reasonError ? (
            <p id={`accept-reason-${findingId}-error`} className="field-error" role="alert">
              {reasonError}
            </p>
          ) : null}
        </div>
        <div className="button-row">
          <button type="submit" className="button button-ghost" disabled={busy}>
            Accept the risk
          </button>
        </div>
      </Form>
    </>
  )
}

function EndAcceptanceForm({ findingId, title }: { findingId: number; title: string }) {
  const { busy, errors } = useFindingAnswer(findingId)
  const error = errors?.findingId?.[0] ?? null
  return (
    <Form method="post" aria-label={`End the acceptance: ${title}`}>
      <input type="hidden" name="intent" value="end-acceptance" />
      <input type="hidden" name="findingId" value={findingId} />
      <button type="submit" className="button button-ghost" disabled={busy}>
        End the acceptance
      </button>
      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </Form>
  )
}

function Evidence({ value }: { value: unknown }) {
  const empty = value === null || value === undefined || (typeof value === 'object' && Object.keys(value).length === 0)
  if (empty) return <p className="muted small">None recorded.</p>
  return <EvidenceValue value={value} depth={0} />
}

/**
 * Evidence as a reader takes it in: objects as labelled fields, lists as numbered items, dates
 * with their age. Escalation paths, grants and owners are nested objects, which shown as JSON
 * text asked the reader to parse braces. Past a few levels, the JSON is shown as it is stored.
 */
function EvidenceValue({ value, depth }: { value: unknown; depth: number }): React.ReactElement {
  if (value === null || value === undefined) return <span className="muted">none</span>
  if (typeof value === 'string' && EVIDENCE_TIMESTAMP.test(value)) return <EvidenceTime value={value} />
  if (typeof value !== 'object') return <span className="mono break">{String(value)}</span>
  if (depth >= MAX_EVIDENCE_DEPTH) return <code className="break">{JSON.stringify(value)}</code>
  if (Array.isArray(value)) {
    if (value.length === 0) return <span className="muted">none</span>
    if (value.every((item) => item === null || typeof item !== 'object')) {
      return <span className="mono break">{value.map((item) => String(item)).join(', ')}</span>
    }
    return (
      <ol className="evidence-items">
        {value.map((item, index) => (
          <li key={index}>
            <EvidenceValue value={item} depth={depth + 1} />
          </li>
        ))}
      </ol>
    )
  }
  const entries = Object.entries(value as Record<string, unknown>)
  if (entries.length === 0) return <span className="muted">none</span>
  return (
    <dl className="evidence">
      {entries.map(([key, item]) => (
        <div key={key}>
          <dt>{key}</dt>
          <dd>
            <EvidenceValue value={item} depth={depth + 1} />
          </dd>
        </div>
      ))}
    </dl>
  )
}

const MAX_EVIDENCE_DEPTH = 4

/** Evidence dates as rules store them (Date#toISOString). */
const EVIDENCE_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/

/**
 * Evidence keeps dates, not ages (an age would change the stored finding every day): the age
 * is worked out here, when the page is read (docs/decisions/036).
 */
function EvidenceTime({ value }: { value: string }) {
  return (
    <>
      <time className="mono" dateTime={value}>
        {value}
      </time>{' '}
      <span className="muted small">({formatAgo(value)})</span>
    </>
  )
}

function CredentialsPanel({ credentials }: { credentials: Detail['credentials'] }) {
  return (
    <section className="panel" aria-labelledby="credentials-heading">
      <h2 id="credentials-heading">
        Credentials <span className="muted">({formatCount(credentials.length)})</span>
      </h2>
      {credentials.length === 0 ? (
        <p className="muted">No credentials of its own (it is used through federation, a role assumption or a managed identity).</p>
      ) : (
        <div className="table-scroll">
          <table className="data-table compact">
            <caption className="visually-hidden">Credentials with their age and last use</caption>
            <thead>
              <tr>
                <th scope="col">Key id / fingerprint</th>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Age</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">Rotation</th>
              </tr>
            </thead>
            <tbody>
              {credentials.map((credential) => (
                <tr key={credential.id}>
                  <td className="mono break">{credential.external_id}</td>
                  <td>{kindLabel(credential.type)}</td>
                  <td>
                    <StatusBadge status={credential.status} />
                  </td>
                  <td title={formatDate(credential.created_at, '')}>{formatAgeDays(credential.created_at, 'unknown')}</td>
                  <td title={formatDate(credential.last_used_at, '')}>{credential.last_used_known || credential.last_used_at ? formatAgo(credential.last_used_at, 'never') : <span className="muted">no data</span>}</td>
                  <td>{credential.expires_at ? formatDate(credential.expires_at) : <span className="muted">never</span>}</td>
                  <td>
                    {credential.rotation_enabled === null ? <span className="muted">unknown</span> : credential.rotation_enabled ? 'on' : 'off'}
                    {credential.last_rotated_at ? <div className="small muted">last {formatDate(credential.last_rotated_at)}</div> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="small muted">Leash stores identifiers and fingerprints only, never a secret value.</p>
    </section>
  )
}

function EntitlementsPanel({ groups }: { groups: Detail['entitlements'] }) {
  const total = groups.reduce((sum, group) => sum + group.total, 0)
  return (
    <section className="panel" aria-labelledby="entitlements-heading">
      <h2 id="entitlements-heading">
        Entitlements <span className="muted">({formatCount(total)})</span>
      </h2>
      {groups.length === 0 ? (
        <p className="muted">No entitlements recorded: the identity can do nothing Leash can see, or its policies could not be read.</p>
      ) : (
        groups.map((group, index) => (
          <details key={group.level} className="entitlement-group" open={index === 0}>
            <summary>
              <span className={`level level-${group.level}`}>{label(group.level)}</span> <span className="muted">({formatCount(group.total)})</span>
            </summary>
            <div className="table-scroll">
              <table className="data-table compact">
                <caption className="visually-hidden">{label(group.level)} entitlements</caption>
                <thead>
                  <tr>
                    <th scope="col">Action / permission</th>
                    <th scope="col">Resource</th>
                    <th scope="col">Granted by</th>
                  </tr>
                </thead>
                <tbody>
                  {group.entitlements.map((entitlement) => (
                    <tr key={entitlement.id}>
                      <td className="mono">
                        {entitlement.action}
                        {entitlement.conditional ? <span className="small muted"> (conditional)</span> : null}
                      </td>
                      <td className="mono break">{entitlement.resource}</td>
                      <td>
                        <span className="mono">{entitlement.source_ref}</span> <span className="small muted">{kindLabel(entitlement.source_kind)}</span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {group.total > group.entitlements.length ? (
              <p className="small muted">
                Showing {formatCount(group.entitlements.length)} of {formatCount(group.total)}.
              </p>
            ) : null}
          </details>
        ))
      )}
    </section>
  )
}

function HistoryPanel({ changes }: { changes: Detail['changes'] }) {
  return (
    <section className="panel" aria-labelledby="history-heading">
      <h2 id="history-heading">Change history</h2>
      {changes.length === 0 ? (
        <p className="muted">No changes recorded since Leash first saw this identity.</p>
      ) : (
        <ol className="timeline">
          {changes.map((change) => (
            <li key={change.id}>
              <time dateTime={new Date(change.occurred_at).toISOString()}>{formatDateTime(change.occurred_at)}</time>
              <span className="timeline-what">{label(change.change_type)}</span>
              {Object.keys(change.details ?? {}).length > 0 ? <code className="small break">{JSON.stringify(change.details)}</code> : null}
            </li>
          ))}
        </ol>
      )}
    </section>
  )
}

function ScorePanel({ identity, score, rules }: { identity: Detail['identity']; score: Detail['score']; rules: Record<string, RuleMeta> }) {
  const dimensions = [
    ['ownership', identity.score_ownership],
    ['privilege', identity.score_privilege],
    ['credential_age', identity.score_credential_age],
    ['monitoring', identity.score_monitoring],
  ] as const
  const breakdown = score?.breakdown ?? null
  // Findings that carry points, most first; a finding whose share rounds to 0 is still listed below.
  const contributions = breakdown ? [...breakdown.findings].sort((a, b) => b.points - a.points || a.rule.localeCompare(b.rule)) : []
  const title = (rule: string) => rules[rule]?.title ?? rule
  return (
    <section className="panel" aria-labelledby="score-heading">
      <h2 id="score-heading">Risk score</h2>
      <p className="score-big">
        <RiskBadge score={identity.risk_score} /> <span className="muted small">of 100</span>
      </p>
      <ul className="meters">
        {dimensions.map(([dimension, value]) => (
          <li key={dimension}>
            <span>{label(dimension)}</span>
            <meter min={0} max={100} low={30} high={60} optimum={0} value={value} aria-label={`${label(dimension)} score`}>
              {value}
            </meter>
            <span className="num">{value}</span>
          </li>
        ))}
      </ul>
      {contributions.length > 0 ? (
        <>
          <h3 className="h4" id="points-heading">
            Where the points come from
          </h3>
          <ul className="plain small" aria-labelledby="points-heading">
            {contributions.map((item) => (
              <li key={`${item.rule}\u0000${item.subject}`}>
                <strong className="num">{item.points}</strong> {title(item.rule)}
                {item.subject ? <span className="mono"> · {item.subject}</span> : null}
                <DimensionShare points={item.dimensionPoints} dimension={rules[item.rule]?.dimension} dimensions={breakdown!.dimensions} />
              </li>
            ))}
          </ul>
          <p className="small muted">
            These add up to the risk of {breakdown!.risk}: see docs/scoring.md for the formula.
          </p>
        </>
      ) : null}
      {breakdown && breakdown.excluded.length > 0 ? (
        <>
          <h3 className="h4" id="excluded-heading">
            Left out of the score
          </h3>
          <ul className="plain small" aria-labelledby="excluded-heading">
            {breakdown.excluded.map((item) => (
              <li key={`${item.rule}\u0000${item.subject}`}>
                {title(item.rule)}
                {item.subject ? <span className="mono"> · {item.subject}</span> : null}
                <span className="muted"> — {item.reason === 'accepted' ? 'accepted as a risk' : 'could not be read'}</span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {breakdown ? (
        <p className="small muted">
          Exposure: highest access {label(breakdown.exposure.maxAccessLevel, 'none')}
          {breakdown.exposure.isAgent ? ', an AI agent' : ''}, weight ×{breakdown.exposure.exponent}.
        </p>
      ) : score ? (
        <p className="small muted">The stored breakdown of this score is not readable; the next scoring pass writes it again.</p>
      ) : null}
      <p className="small muted">{score ? `Scored ${formatDateTime(score.computedAt)}.` : 'Not scored yet.'}</p>
    </section>
  )
}

/** "(30 of Credential age 85)": a finding's share of its dimension's score, when the rule is known. */
function DimensionShare({ points, dimension, dimensions }: { points: number; dimension: string | undefined; dimensions: StoredBreakdown['dimensions'] }) {
  if (!dimension) return null
  return (
    <span className="muted">
      {' '}
      ({points} of {label(dimension)} {dimensions[dimension as keyof StoredBreakdown['dimensions']]})
    </span>
  )
}

function AgentPanel({ identity, signals, canClassify }: { identity: Detail['identity']; signals: Detail['agentSignals']; canClassify: boolean }) {
  const actionData = useActionData<typeof action>()
  const navigation = useNavigation()
  const saving = navigation.state === 'submitting' && navigation.formData?.get('intent') === 'classify'
  // Answers to a finding's forms carry its id; only the classification's own answer belongs here.
  const errors =
    actionData && 'result' in actionData && !('findingId' in actionData) ? (actionData.result as { error?: Record<string, string[] | null> }).error : undefined
  const reasonError = errors?.reason?.[0] ?? errors?.decision?.[0] ?? null
  return (
    <section className="panel" aria-labelledby="agent-heading">
      <h2 id="agent-heading">AI agent?</h2>
      <p>
        {identity.is_agent ? (
          <>
            <strong>Yes</strong>
            {identity.agent_platform ? ` — ${label(identity.agent_platform)}` : ''}
          </>
        ) : (
          <strong>No</strong>
        )}
        <span className="muted small"> · classifier confidence {Math.round(identity.agent_confidence * 100)}%</span>
      </p>
      {identity.agent_override ? (
        <p className="small callout">
          A person {identity.agent_override === 'agent' ? 'confirmed' : 'rejected'} this classification: {identity.agent_override_by}, {formatDate(identity.agent_override_at)}
          {identity.agent_override_reason ? ` — “${identity.agent_override_reason}”` : ''}. It survives rescans.
        </p>
      ) : null}
      {signals.length > 0 ? (
        <>
          <h3 className="h4">Why Leash thinks so</h3>
          <ul className="reasons">
            {signals.map((reason, index) => (
              <li key={index} className={reason.counted ? undefined : 'muted'}>
                {reason.detail ?? reason.signal}
                <span className="small muted">
                  {' '}
                  ({reason.signal}
                  {reason.weight !== null ? `, weight ${reason.weight}` : ''}
                  {reason.source === 'leash' ? ', found by Leash' : reason.source === 'connector' ? ', from the connector' : ''}
                  {reason.counted ? '' : ', not counted'})
                </span>
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p className="small muted">No agent signals were found for this identity.</p>
      )}
      {canClassify ? (
        <Form method="post" className="stack" aria-label="Confirm or reject the agent classification">
          <input type="hidden" name="intent" value="classify" />
          <div className="field">
            <label htmlFor="classify-reason">Reason</label>
            <input
              id="classify-reason"
              name="reason"
              required
              minLength={3}
              maxLength={500}
              aria-invalid={reasonError ? true : undefined}
              aria-describedby={reasonError ? 'classify-reason-error' : undefined}
            />
            {reasonError ? (
              <p id="classify-reason-error" className="field-error" role="alert">
                {reasonError}
              </p>
            ) : null}
          </div>
          <div className="button-row">
            <button type="submit" name="decision" value="agent" className="button" disabled={saving}>
              Confirm agent
            </button>
            <button type="submit" name="decision" value="not_agent" className="button button-ghost" disabled={saving}>
              Not an agent
            </button>
            {identity.agent_override ? (
              <button type="submit" name="decision" value="clear" className="button button-ghost" disabled={saving}>
                Clear decision
              </button>
            ) : null}
          </div>
          {actionData && 'saved' in actionData ? (
            <p className="small" role="status">
              Saved. The identity was rescored.
            </p>
          ) : null}
        </Form>
      ) : null}
    </section>
  )
}

function OwnerPanel({ identity, owners }: { identity: Detail['identity']; owners: Detail['owners'] }) {
  const SOURCE: Record<string, string> = { tag: 'declared by a tag', provider: 'recorded by the provider', claim: 'claimed in Leash', inferred: 'inferred by Leash' }
  return (
    <section className="panel" aria-labelledby="owner-heading">
      <h2 id="owner-heading">Owner</h2>
      {identity.owner_ref ? (
        <p>
          <Link to={identitiesHref({ owner: identity.owner_ref })}>{identity.owner_ref}</Link> <OwnerStatusBadge status={identity.owner_status} />
          <br />
          <span className="small muted">
            {identity.owner_kind ?? 'owner'}, {SOURCE[identity.owner_source ?? ''] ?? 'source unknown'}
          </span>
        </p>
      ) : (
        <p>
          <OwnerStatusBadge status={identity.owner_status} /> <span className="small muted">Nobody is accountable for this identity.</span>
        </p>
      )}
      {owners.length > 0 ? (
        <>
          <h3 className="h4">People and teams linked to it</h3>
          <ul className="plain small">
            {owners.map((owner) => (
              <li key={`${owner.owner_ref}-${owner.role}-${owner.source}`}>
                <strong>{label(owner.role)}</strong>: {owner.display_name ?? owner.owner_ref}
                {owner.display_name && owner.display_name !== owner.owner_ref ? <span className="muted"> ({owner.owner_ref})</span> : null}
                <span className="muted"> · {SOURCE[owner.source] ?? owner.source}</span>
                {owner.active === false ? <Badge tone="high">inactive</Badge> : null}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  )
}

export function ErrorBoundary() {
  return <RouteErrorBoundary title="This identity" backTo="/identities" backLabel="Back to all identities" />
}
