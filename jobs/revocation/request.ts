/**
 * Requesting a revocation: resolve the targets, plan each provider call, apply the approval
 * policy, store the request (idempotently) and, when no second person is needed, execute it.
 */
import { randomUUID } from 'node:crypto'
import type { Credential, Revocation } from '../../db/schema.js'
import { json } from '../../db/connection.js'
import { isIdentityOwner } from '../claims/ownership.js'
import { auditRevocation, revocationSnapshot } from './audit.js'
import { executeRevocations } from './execute.js'
import { assessImpact, type ImpactAssessment } from './policy.js'
import { loadWorkflowSettings, type WorkflowSettings } from './settings.js'
import {
  actionOptions,
  buildPlan,
  defaultAction,
  findAction,
  findCredential,
  loadIdentityContext,
  providerFor,
  type ActionOption,
  type IdentityContext,
  type StoredPlan,
} from './targets.js'
import { WorkflowError, clock, requireReason, type Db, type WorkflowActor, type WorkflowDeps } from './types.js'
import type { Kysely } from 'kysely'
import type { Database } from '../../db/schema.js'

export interface RevocationSelection {
  identityId: number
  /** One credential; null or absent for an identity-level action or the kill switch. */
  credentialId?: number | null
  /** The provider action; absent picks the default (reversible first). Ignored by the kill switch. */
  actionId?: string | null
  /** Revoke every active credential of the identity (and its identity-level access) at once. */
  killSwitch?: boolean
}

export interface PlannedItem {
  credentialId: number | null
  /** What is revoked, for people: "access key AKIA…", "identity role/agent". */
  label: string
  action: ActionOption
  plan: StoredPlan
}

export interface RevocationPreview {
  identity: IdentityContext['identity']
  sourceName: string
  killSwitch: boolean
  /** For a single target: every action that applies, so the operator can choose. */
  options: ActionOption[]
  items: PlannedItem[]
  assessment: ImpactAssessment
  settings: Pick<WorkflowSettings, 'revocation.approval_ttl_hours' | 'revocation.undo_grace_days' | 'revocation.approval_policy'>
}

export async function assertMayRequest(db: Db, actor: WorkflowActor, identityId: number): Promise<void> {
  if (actor.can('create:revocation:any')) return
  if (actor.can('create:revocation:own') && (await isIdentityOwner(db, actor.userId, identityId))) return
  throw new WorkflowError(403, 'You may not request a revocation of this identity.', 'Ask an operator or security lead, or claim the identity first if it is yours.')
}

/**
 * What a request is about, in the page's title and the audit trail: a credential by its name
 * (or its id when it has none), after its type unless the name already says it ("Access key 1
 * (created …)" read "access key Access key 1 …").
 */
function labelOf(context: IdentityContext, credential: Credential | null): string {
  if (!credential) return `${context.identity.kind.replace(/_/g, ' ')} ${context.identity.displayName}`
  const type = credential.type.replace(/_/g, ' ')
  const name = credential.display_name ?? credential.external_id
  return name.toLowerCase().startsWith(type.toLowerCase()) ? name : `${type} ${name}`
}

/** Plans what a request would do, without storing anything. The request page shows this. */
export async function previewRevocation(db: Db, deps: WorkflowDeps, actor: WorkflowActor, selection: RevocationSelection): Promise<RevocationPreview> {
  await assertMayRequest(db, actor, selection.identityId)
  const now = clock(deps)
  const settings = await loadWorkflowSettings(db)
  const context = await loadIdentityContext(db, selection.identityId)
  if (context.identity.status === 'gone') {
    throw new WorkflowError(409, `Identity ${context.identity.displayName} was not found upstream in the last scan.`, 'Rescan its source; there is nothing left to revoke if it is gone.')
  }
  const handle = providerFor(context, deps)
  const targets: { credential: Credential | null; option: ActionOption }[] = []
  let options: ActionOption[] = []
  if (selection.killSwitch) {
    for (const credential of context.credentials.filter((c) => c.status === 'active')) {
      const chosen = defaultAction(await actionOptions(db, handle.provider, context, credential, now))
      if (chosen) targets.push({ credential, option: chosen })
    }
    const identityLevel = (await actionOptions(db, handle.provider, context, null, now)).filter((o) => o.available && !o.destructive)
    for (const option of identityLevel) targets.push({ credential: null, option })
    if (targets.length === 0) {
      throw new WorkflowError(409, `Identity ${context.identity.displayName} has no active credential or access that Leash can revoke.`, 'Rescan the source if you expected otherwise.')
    }
  } else {
    const credential = selection.credentialId ? findCredential(context, selection.credentialId) : null
    options = await actionOptions(db, handle.provider, context, credential, now)
    if (options.length === 0) {
      throw new WorkflowError(409, `No revocation action of ${context.source.provider} applies to ${labelOf(context, credential)}.`, 'Revoke it in the provider console; docs/revocation.md lists what Leash can revoke.')
    }
    let chosen: ActionOption | null
    if (selection.actionId) {
      chosen = options.find((o) => o.id === selection.actionId) ?? null
      if (!chosen) findAction(handle.provider, selection.actionId) // names the valid actions when the id is unknown
      if (!chosen) throw new WorkflowError(400, `The action "${selection.actionId}" does not apply to ${labelOf(context, credential)}.`, `Choose one of: ${options.map((o) => o.id).join(', ')}.`)
      if (!chosen.available) throw new WorkflowError(409, `"${chosen.title}" is not offered yet.`, chosen.unavailableReason ?? 'Try again later.')
    } else {
      chosen = defaultAction(options)
      if (!chosen) throw new WorkflowError(409, `Only destructive actions apply to ${labelOf(context, credential)}, and none is offered yet.`, options[0]?.unavailableReason ?? 'Deactivate it first.')
    }
    targets.push({ credential, option: chosen })
  }
  const items: PlannedItem[] = []
  for (const target of targets) {
    const action = findAction(handle.provider, target.option.id)
    items.push({
      credentialId: target.credential?.id ?? null,
      label: labelOf(context, target.credential),
      action: target.option,
      plan: await buildPlan(handle, action, context, target.credential, now),
    })
  }
  const assessment = assessImpact(
    {
      maxAccessLevel: context.identity.maxAccessLevel,
      tags: context.identity.tags,
      environments: context.identity.environments,
      targetCount: items.length,
      destructive: items.some((i) => i.action.destructive),
    },
    settings,
  )
  return {
    identity: context.identity,
    sourceName: context.source.name,
    killSwitch: !!selection.killSwitch,
    options,
    items,
    assessment,
    settings: {
      'revocation.approval_ttl_hours': settings['revocation.approval_ttl_hours'],
      'revocation.undo_grace_days': settings['revocation.undo_grace_days'],
      'revocation.approval_policy': settings['revocation.approval_policy'],
    },
  }
}

export interface RevocationRequest extends RevocationSelection {
  reason: string
  /**
   * Makes the request idempotent: the same key returns the same request instead of a second
   * one (a double click, a client retry). The request page puts a fresh key in its form.
   */
  idempotencyKey?: string | null
}

export interface RequestOutcome {
  /** false when the idempotency key matched an earlier request, which is returned instead. */
  created: boolean
  batchId: string | null
  revocations: Revocation[]
}

const KEY_PATTERN = /^[A-Za-z0-9_.:-]{8,100}$/

function uniqueViolation(error: unknown): string | null {
  const e = error as { code?: string; constraint?: string }
  return e?.code === '23505' ? (e.constraint ?? 'unique') : null
}

async function findByKey(db: Db, key: string): Promise<Revocation[]> {
  return db
    .selectFrom('revocations')
    .selectAll()
    .where((eb) => eb.or([eb('idempotency_key', '=', key), eb('idempotency_key', 'like', `${key}#%`)]))
    .orderBy('idempotency_key')
    .execute()
}

export async function requestRevocation(db: Kysely<Database>, deps: WorkflowDeps, actor: WorkflowActor, request: RevocationRequest): Promise<RequestOutcome> {
  const reason = requireReason(request.reason, 'request a revocation')
  const key = request.idempotencyKey?.trim() || randomUUID()
  if (!KEY_PATTERN.test(key)) {
    throw new WorkflowError(400, 'The idempotency key is not valid.', 'Use 8-100 letters, digits, or . _ : - (a UUID works).')
  }
  const earlier = await findByKey(db, key)
  if (earlier.length > 0) return { created: false, batchId: earlier[0]!.batch_id, revocations: earlier }

  const preview = await previewRevocation(db, deps, actor, request)
  const settings = await loadWorkflowSettings(db)
  const now = clock(deps)
  const expiresAt = new Date(now.getTime() + settings['revocation.approval_ttl_hours'] * 3_600_000)
  const batchId = preview.items.length > 1 || preview.killSwitch ? randomUUID() : null
  const status = preview.assessment.approvalRequired ? 'pending_approval' : 'approved'

  let rows: Revocation[]
  try {
    rows = await db.transaction().execute(async (trx) => {
      const inserted: Revocation[] = []
      for (const [index, item] of preview.items.entries()) {
        const row = await trx
          .insertInto('revocations')
          .values({
            identity_id: preview.identity.id,
            credential_id: item.credentialId,
            action_id: item.action.id,
            batch_id: batchId,
            requested_by_user_id: actor.kind === 'user' ? actor.userId : null,
            requested_by_token_id: actor.kind === 'token' ? actor.tokenId : null,
            reason,
            plan: json(item.plan),
            impact: preview.assessment.impact,
            impact_reasons: json(preview.assessment.reasons),
            approval_required: preview.assessment.approvalRequired,
            status,
            approval_expires_at: expiresAt,
            idempotency_key: batchId ? `${key}#${String(index).padStart(3, '0')}` : key,
            created_at: now,
            updated_at: now,
          })
          .returningAll()
          .executeTakeFirstOrThrow()
        await auditRevocation(trx, {
          actor,
          action: 'revocation.requested',
          revocationId: row.id,
          after: {
            ...revocationSnapshot(row),
            target: item.label,
            calls: item.plan.providerPlan.calls.map((c) => c.operation),
            impactReasons: preview.assessment.reasons,
          },
          reason,
          ip: deps.ip,
        })
        if (!preview.assessment.approvalRequired) {
          await auditRevocation(trx, {
            actor: null,
            action: 'revocation.approved',
            revocationId: row.id,
            before: { status: 'requested' },
            after: { status: 'approved', by: 'policy' },
            reason: settings['revocation.approval_policy'] === 'always' ? null : 'Normal impact: the policy needs no second approval.',
          })
        }
        inserted.push(row)
      }
      return inserted
    })
  } catch (error) {
    const constraint = uniqueViolation(error)
    if (constraint === 'revocations_idempotency_key_key') {
      const same = await findByKey(db, key)
      return { created: false, batchId: same[0]?.batch_id ?? null, revocations: same }
    }
    if (constraint === 'revocations_one_open_per_target') {
      const open = await db
        .selectFrom('revocations')
        .select(['id', 'status'])
        .where('identity_id', '=', preview.identity.id)
        .where('status', 'in', ['pending_approval', 'approved', 'executing'])
        .execute()
      throw new WorkflowError(
        409,
        `A revocation of this target is already open (${open.map((o) => `${o.id} ${o.status.replace('_', ' ')}`).join(', ')}).`,
        'Open it on the Revocations page: approve, cancel or wait for it instead of requesting again.',
      )
    }
    throw error
  }

  if (!preview.assessment.approvalRequired) {
    rows = await executeRevocations(db, deps, actor, rows.map((r) => r.id))
  }
  return { created: true, batchId, revocations: rows }
}
