/**
 * What a revocation acts on: the identity and credential as Leash last saw them, the provider
 * actions that apply, and the plan each action would carry out, with what will stop working
 * according to last-use data.
 */
import type { ActionContext, ApiCallCounter, RevocationAction, RevocationPlan, RevocationTarget } from '../../connectors/contract.js'
import type { Credential } from '../../db/schema.js'
import { WorkflowError, resolveProviderWith, type Db, type RevocationProvider, type WorkflowDeps } from './types.js'

export interface IdentityContext {
  identity: {
    id: number
    sourceId: string
    provider: string
    kind: string
    externalId: string
    displayName: string
    accountId: string
    tags: Record<string, string>
    attributes: Record<string, unknown>
    status: string
    lastUsedAt: Date | null
    lastUsedKnown: boolean
    maxAccessLevel: string | null
    environments: string[]
    workloads: string[]
    ownerRef: string | null
  }
  source: { id: string; name: string; provider: string; settings: Record<string, unknown> }
  credentials: Credential[]
}

const LEVEL_ORDER = ['list', 'read', 'tagging', 'write', 'permissions_management', 'admin']

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []
}

export async function loadIdentityContext(db: Db, identityId: number): Promise<IdentityContext> {
  const row = await db
    .selectFrom('identities')
    .innerJoin('sources', 'sources.id', 'identities.source_id')
    .select([
      'identities.id',
      'identities.source_id',
      'identities.provider',
      'identities.kind',
      'identities.external_id',
      'identities.display_name',
      'identities.account_id',
      'identities.tags',
      'identities.attributes',
      'identities.status',
      'identities.last_used_at',
      'identities.last_used_known',
      'identities.max_access_level',
      'identities.posture_inputs',
      'identities.owner_ref',
      'sources.name as source_name',
      'sources.provider as source_provider',
      'sources.settings as source_settings',
    ])
    .where('identities.id', '=', identityId)
    .executeTakeFirst()
  if (!row) throw new WorkflowError(404, `Identity ${identityId} does not exist.`, 'Pick the identity from the Identities page; it may have been removed with its source.')
  const credentials = await db.selectFrom('credentials').selectAll().where('identity_id', '=', identityId).orderBy('id').execute()
  // The scored maximum may lag behind a fresh scan: take the higher of it and the entitlements.
  const levels = await db.selectFrom('entitlements').select('access_level').distinct().where('identity_id', '=', identityId).execute()
  let maxAccessLevel = row.max_access_level
  for (const { access_level } of levels) {
    if (LEVEL_ORDER.indexOf(access_level) > LEVEL_ORDER.indexOf(maxAccessLevel ?? '')) maxAccessLevel = access_level
  }
  const posture = (row.posture_inputs ?? {}) as Record<string, unknown>
  return {
    identity: {
      id: row.id,
      sourceId: row.source_id,
      provider: row.provider,
      kind: row.kind,
      externalId: row.external_id,
      displayName: row.display_name,
      accountId: row.account_id,
      tags: row.tags ?? {},
      attributes: row.attributes ?? {},
      status: row.status,
      lastUsedAt: row.last_used_at,
      lastUsedKnown: row.last_used_known,
      maxAccessLevel,
      environments: stringArray(posture.environments),
      workloads: stringArray(posture.workloads),
      ownerRef: row.owner_ref,
    },
    source: { id: row.source_id, name: row.source_name, provider: row.source_provider, settings: row.source_settings ?? {} },
    credentials,
  }
}

export function findCredential(context: IdentityContext, credentialId: number): Credential {
  const credential = context.credentials.find((c) => c.id === credentialId)
  if (!credential) {
    throw new WorkflowError(404, `Credential ${credentialId} does not belong to identity ${context.identity.id}.`, 'Pick the credential from the identity page.')
  }
  return credential
}

export function toTarget(context: IdentityContext, credential: Credential | null): RevocationTarget {
  return {
    identity: {
      externalId: context.identity.externalId,
      kind: context.identity.kind as RevocationTarget['identity']['kind'],
      accountId: context.identity.accountId,
      displayName: context.identity.displayName,
      attributes: context.identity.attributes,
    },
    credential: credential ? { externalId: credential.external_id, type: credential.type as NonNullable<RevocationTarget['credential']>['type'], status: credential.status } : null,
  }
}

class CallCounter implements ApiCallCounter {
  private counts: Record<string, number> = {}
  total = 0
  record(operation: string): void {
    this.counts[operation] = (this.counts[operation] ?? 0) + 1
    this.total++
  }
  get byOperation(): Readonly<Record<string, number>> {
    return this.counts
  }
}

export interface ProviderHandle {
  provider: RevocationProvider
  context(signal?: AbortSignal): ActionContext<unknown>
}

export function providerFor(context: IdentityContext, deps: WorkflowDeps): ProviderHandle {
  let provider: RevocationProvider
  try {
    provider = resolveProviderWith(deps)(context.source.provider)
  } catch (error) {
    throw new WorkflowError(
      400,
      `Leash has no connector for the provider "${context.source.provider}" of source "${context.source.name}".`,
      error instanceof Error ? error.message : 'Check the source configuration.',
    )
  }
  const parsed = provider.settingsSchema.safeParse(context.source.settings)
  if (!parsed.success) {
    throw new WorkflowError(
      400,
      `The settings of source "${context.source.name}" are not valid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}.`,
      'Fix the source on the Sources page, then request the revocation again.',
    )
  }
  return {
    provider,
    context: (signal) => ({ sourceName: context.source.name, settings: parsed.data, signal: signal ?? AbortSignal.timeout(120_000), apiCalls: new CallCounter() }),
  }
}

export function findAction(provider: RevocationProvider, actionId: string): RevocationAction<unknown> {
  const action = provider.revocationActions.find((a) => a.id === actionId)
  if (!action) {
    throw new WorkflowError(400, `The action "${actionId}" does not exist for this provider.`, `Use one of: ${provider.revocationActions.map((a) => a.id).join(', ') || '(none)'}.`)
  }
  return action
}

export interface ActionOption {
  id: string
  title: string
  reversible: boolean
  destructive: boolean
  available: boolean
  /** Why a destructive action is not offered yet (the grace period of its reversible step). */
  unavailableReason: string | null
}

/**
 * The actions that apply to a target. A destructive action is offered only once a verified,
 * reversible revocation of the same target has passed its undo period without being undone.
 */
export async function actionOptions(db: Db, provider: RevocationProvider, context: IdentityContext, credential: Credential | null, now: Date): Promise<ActionOption[]> {
  const target = toTarget(context, credential)
  const applicable = provider.revocationActions.filter((action) => action.appliesTo(target))
  const needsGrace = applicable.some((a) => a.destructive)
  const graceEnded = needsGrace ? await reversibleStepEnded(db, context.identity.id, credential?.id ?? null, now) : null
  return applicable.map((action) => {
    let unavailableReason: string | null = null
    if (action.destructive && graceEnded && !graceEnded.ended) unavailableReason = graceEnded.why
    return { id: action.id, title: action.title, reversible: action.reversible, destructive: action.destructive, available: unavailableReason === null, unavailableReason }
  })
}

async function reversibleStepEnded(db: Db, identityId: number, credentialId: number | null, now: Date): Promise<{ ended: boolean; why: string }> {
  let query = db
    .selectFrom('revocations')
    .select(['id', 'undo_until', 'plan'])
    .where('identity_id', '=', identityId)
    .where('status', '=', 'verified')
    .where('undone_by_revocation_id', 'is', null)
    .where('undo_of_revocation_id', 'is', null)
    .where('undo_until', 'is not', null)
    .orderBy('undo_until', 'asc')
  query = credentialId === null ? query.where('credential_id', 'is', null) : query.where('credential_id', '=', credentialId)
  const rows = await query.execute()
  if (rows.length === 0) {
    return { ended: false, why: 'Deletion is offered only after a reversible revocation (e.g. deactivation) has been verified and its undo period has ended.' }
  }
  const first = rows[0]!
  if (first.undo_until && first.undo_until.getTime() <= now.getTime()) return { ended: true, why: '' }
  return { ended: false, why: `Deletion is offered once the undo period of the deactivation ends, on ${first.undo_until?.toISOString() ?? 'an unknown date'}.` }
}

/** The first non-destructive action that applies, preferring reversible ones. */
export function defaultAction(options: ActionOption[]): ActionOption | null {
  const usable = options.filter((o) => o.available && !o.destructive)
  return usable.find((o) => o.reversible) ?? usable[0] ?? null
}

export interface StoredPlan {
  version: 1
  sourceId: string
  sourceName: string
  provider: string
  target: RevocationTarget
  action: { id: string; title: string; reversible: boolean; destructive: boolean }
  providerPlan: RevocationPlan
  lastUse: { at: string | null; known: boolean; workloads: string[] }
  stopsWorking: string[]
}

const DAY = 86_400_000

/** What will stop working, in plain words, from the last-use data the scan recorded. */
export function describeImpactOfUse(lastUsedAt: Date | null, known: boolean, workloads: string[], now: Date, what: string): string[] {
  const lines: string[] = []
  if (!known) {
    lines.push(`Leash cannot tell when ${what} was last used (the provider gave no usage data): anything that uses it may stop working.`)
  } else if (!lastUsedAt) {
    lines.push(`The provider reports ${what} as never used: nothing should stop working.`)
  } else {
    const days = Math.floor((now.getTime() - lastUsedAt.getTime()) / DAY)
    const when = lastUsedAt.toISOString().slice(0, 16).replace('T', ' ') + ' UTC'
    if (days < 1) lines.push(`${capitalize(what)} was used within the last day (${when}): whatever uses it will be refused immediately.`)
    else if (days <= 30) lines.push(`${capitalize(what)} was last used ${days} days ago (${when}): whatever uses it will be refused from now on.`)
    else if (days <= 90) lines.push(`${capitalize(what)} was last used ${days} days ago (${when}): occasional jobs (monthly, quarterly) may break.`)
    else lines.push(`${capitalize(what)} has not been used for ${days} days (${when}): it is unlikely that anything running depends on it.`)
  }
  if (workloads.length > 0) lines.push(`Seen in use by: ${workloads.slice(0, 10).join(', ')}${workloads.length > 10 ? ` and ${workloads.length - 10} more` : ''}.`)
  return lines
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

export async function buildPlan(
  handle: ProviderHandle,
  action: RevocationAction<unknown>,
  context: IdentityContext,
  credential: Credential | null,
  now: Date,
): Promise<StoredPlan> {
  const target = toTarget(context, credential)
  let providerPlan: RevocationPlan
  try {
    providerPlan = await action.plan(handle.context(), target)
  } catch (error) {
    throw new WorkflowError(400, `The provider could not plan "${action.title}": ${describeProviderError(error)}`, 'Check the source connection on the Sources page, then try again.')
  }
  const lastUse = credential
    ? { at: credential.last_used_at, known: credential.last_used_known }
    : { at: context.identity.lastUsedAt, known: context.identity.lastUsedKnown }
  const what = credential ? `credential ${credential.display_name ?? credential.external_id}` : `identity ${context.identity.displayName}`
  return {
    version: 1,
    sourceId: context.source.id,
    sourceName: context.source.name,
    provider: context.source.provider,
    target,
    action: { id: action.id, title: action.title, reversible: action.reversible, destructive: action.destructive },
    providerPlan,
    lastUse: { at: lastUse.at ? lastUse.at.toISOString() : null, known: lastUse.known, workloads: context.identity.workloads },
    stopsWorking: describeImpactOfUse(lastUse.at, lastUse.known, context.identity.workloads, now, what),
  }
}

/** A provider's error in plain words, with the cause most people need (permission, network). */
export function describeProviderError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const name = (error as { name?: string; Code?: string }).Code ?? error.name
  const code = (error as NodeJS.ErrnoException).code ?? (error.cause as NodeJS.ErrnoException | undefined)?.code
  if (/AccessDenied|UnauthorizedOperation|Forbidden|AuthorizationError/i.test(name)) {
    return `the provider refused the call because Leash's credentials lack the permission (${error.message}). Grant the revocation permissions listed in docs/revocation.md.`
  }
  if (/NoSuchEntity|NotFound|ResourceNotFound/i.test(name)) return `the provider no longer has it (${error.message}).`
  if (/Throttl|TooManyRequests|RequestLimitExceeded/i.test(name)) return `the provider is throttling requests (${error.message}); retry in a minute.`
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT' || /TimeoutError|AbortError/.test(name)) {
    return `the provider could not be reached (${code ?? name}: ${error.message}).`
  }
  return name && name !== 'Error' ? `${name}: ${error.message}` : error.message
}
