/**
 * Scoring settings kept in the database: threshold overrides per source or per tag, and the list
 * of departed owners. Before this page they could only be changed with SQL.
 *
 * Each change is validated the way the scoring pass reads it (parseThresholdValue,
 * parseDepartedOwners), so a value saved here cannot stop the next pass. Each change and its
 * audit event are one transaction. The database triggers of migration
 * 2026-12-03T0200_mark_identities_on_scoring_settings see the change: the next scoring pass
 * marks and scores the identities it applies to (docs/decisions/036).
 */
import { sql, type Kysely } from 'kysely'
import { LeashError } from '../../cli/errors.js'
import { appendAuditEvent, type AuditActor } from '../../db/audit.js'
import { json } from '../../db/connection.js'
import type { Database } from '../../db/schema.js'
import { DEPARTED_OWNERS_SETTING, departedOwnerRefs, parseDepartedOwners } from '../../scoring/load.js'
import { isThresholdName, parseTagScope, parseThresholdValue, THRESHOLD_NAMES, THRESHOLDS, type ThresholdName } from '../../scoring/thresholds.js'
import { listAuditEvents } from './audit.server.js'

/** A change the form must refuse: the message says what was wrong and what to enter. */
export class ScoringSettingsError extends Error {}

export interface ThresholdOverrideView {
  id: number
  scopeType: 'source' | 'tag'
  scopeValue: string
  /** The source an override by source names, or null when no source has that id or name. */
  sourceName: string | null
  threshold: string
  value: unknown
}

export interface ScoringSettings {
  overrides: ThresholdOverrideView[]
  /** Each source with the thresholds set for it in leash.config.yaml (sources.thresholds). */
  sources: { id: string; name: string; thresholds: Record<string, unknown> }[]
  departedOwners: string[]
  /** Set when the stored departed_owners value is not a valid list: the pass refuses it. */
  departedOwnersProblem: string | null
  /**
   * What the next scoring pass has still to do for changes already saved: recorded scopes it
   * has not marked yet, and identities marked for reassessment (docs/decisions/037).
   */
  pending: { scopes: number; identities: number }
  /** The latest changes to these settings, newest first, from the audit trail. */
  recentChanges: SettingChangeView[]
}

export interface SettingChangeView {
  seq: number
  occurredAt: string
  actor: string
  action: string
  /** What changed, in words: e.g. "maxCredentialAgeDays 90 → 30 for tag env=production". */
  summary: string
}

/** How many changes the page lists; the audit trail holds all of them. */
const RECENT_CHANGES = 20
/** The prefix of every audit action this module writes (the audit page filters by it too). */
export const SETTING_ACTIONS = 'setting.'

export async function loadScoringSettings(db: Kysely<Database>): Promise<ScoringSettings> {
  const [overrides, sources, departed, pendingScopes, marked, changes] = await Promise.all([
    db.selectFrom('threshold_overrides').select(['id', 'scope_type', 'scope_value', 'threshold', 'value']).orderBy('scope_type').orderBy('scope_value').orderBy('threshold').execute(),
    db.selectFrom('sources').select(['id', 'name', 'thresholds']).orderBy('name').execute(),
    db.selectFrom('settings').select('value').where('key', '=', DEPARTED_OWNERS_SETTING).executeTakeFirst(),
    db.selectFrom('scoring_scope_changes').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    // The partial index on reassess_after holds only the marked rows.
    db.selectFrom('identity_scores').select((eb) => eb.fn.countAll<string>().as('n')).where('reassess_after', 'is not', null).executeTakeFirstOrThrow(),
    listAuditEvents(db, { action: SETTING_ACTIONS }, { limit: RECENT_CHANGES }),
  ])
  let departedOwners: string[] = []
  let departedOwnersProblem: string | null = null
  try {
    // Shown as they were entered; the pass compares them in lower case.
    departedOwners = departedOwnerRefs(departed?.value)
  } catch (error) {
    departedOwnersProblem = error instanceof LeashError ? `${error.message} ${error.remedy}` : String(error)
  }
  const sourceNameOf = (value: string) => sources.find((source) => source.id === value || source.name === value)?.name ?? null
  return {
    overrides: overrides.map((row) => ({
      id: Number(row.id),
      scopeType: row.scope_type as 'source' | 'tag',
      scopeValue: row.scope_value,
      sourceName: row.scope_type === 'source' ? sourceNameOf(row.scope_value) : null,
      threshold: row.threshold,
      value: row.value,
    })),
    sources: sources.map((source) => ({ id: source.id, name: source.name, thresholds: (source.thresholds ?? {}) as Record<string, unknown> })),
    departedOwners,
    departedOwnersProblem,
    pending: { scopes: Number(pendingScopes.n), identities: Number(marked.n) },
    recentChanges: changes.rows.map((event) => ({
      seq: Number(event.seq),
      occurredAt: new Date(event.occurred_at).toISOString(),
      actor: event.actor_display ?? event.actor_type,
      action: CHANGE_NAMES[event.action] ?? event.action,
      summary: summarizeChange(event.action, event.before as AuditPayload, event.after as AuditPayload),
    })),
  }
}

type AuditPayload = Record<string, unknown> | null

/** How many departed owners a change's summary names before "and N more". */
const NAMES_SHOWN = 5

const CHANGE_NAMES: Record<string, string> = {
  'setting.threshold_override.added': 'Override added',
  'setting.threshold_override.changed': 'Override changed',
  'setting.threshold_override.removed': 'Override removed',
  'setting.departed_owners.changed': 'Departed owners changed',
}

/** One line for a settings audit event, from the payloads this module writes. */
function summarizeChange(action: string, before: AuditPayload, after: AuditPayload): string {
  const text = (value: unknown) => (value === undefined || value === null ? '' : String(value))
  if (action.startsWith('setting.threshold_override.')) {
    const row = after ?? before ?? {}
    const scope = `for ${text(row.scope_type)} ${text(row.scope_value)}`
    if (action.endsWith('.changed')) return `${text(row.threshold)} ${text(before?.value)} → ${text(after?.value)} ${scope}`
    if (action.endsWith('.removed')) return `${text(row.threshold)} ${text(row.value)} ${scope} (back to the source or default limit)`
    return `${text(row.threshold)} ${text(row.value)} ${scope}`
  }
  if (action === 'setting.departed_owners.changed') {
    // A list pasted in at once can name thousands: the row names the first few.
    const names = (value: unknown) => {
      const refs = Array.isArray(value) ? value.map(String) : []
      return refs.length > NAMES_SHOWN ? `${refs.slice(0, NAMES_SHOWN).join(', ')} and ${refs.length - NAMES_SHOWN} more` : refs.join(', ')
    }
    const parts = [names(after?.added), names(after?.removed)].map((list, index) => (list ? `${index === 0 ? 'added' : 'removed'} ${list}` : '')).filter(Boolean)
    return `${parts.join('; ') || 'no one added or removed'} (${text(after?.count)} listed)`
  }
  return ''
}

export interface OverrideInput {
  scopeType: 'source' | 'tag'
  scopeValue: string
  threshold: string
  value: string
}

/** Adds an override, or changes the value of the one with the same scope and threshold. */
export async function setThresholdOverride(db: Kysely<Database>, actor: AuditActor, input: OverrideInput, ip: string | null): Promise<{ threshold: ThresholdName; value: number }> {
  if (!isThresholdName(input.threshold)) throw new ScoringSettingsError(`"${input.threshold}" is not a threshold. Choose one of: ${THRESHOLD_NAMES.join(', ')}.`)
  const threshold = input.threshold
  const scopeValue = input.scopeValue.trim()
  if (input.scopeType === 'tag') {
    const tag = parseTagScope(scopeValue)
    if (!tag || /\s/.test(tag.key)) {
      throw new ScoringSettingsError(`The tag "${scopeValue}" is not of the form key=value. Enter the tag as the provider reports it, e.g. env=production.`)
    }
  }
  let value: number
  try {
    value = parseThresholdValue(threshold, input.value, `the ${input.scopeType} override "${scopeValue}"`)
  } catch (error) {
    if (error instanceof LeashError) throw new ScoringSettingsError(`${error.message} ${error.remedy}`)
    throw error
  }
  return db.transaction().execute(async (trx) => {
    if (input.scopeType === 'source') {
      // An override naming no source would be ignored by every pass: refuse it here instead.
      const source = await trx
        .selectFrom('sources')
        .select('id')
        .where((eb) => eb.or([eb(sql`id::text`, '=', scopeValue), eb('name', '=', scopeValue)]))
        .executeTakeFirst()
      if (!source) throw new ScoringSettingsError(`No source has the name or id "${scopeValue}". Enter the name of a source as the Sources page shows it.`)
    }
    const before = await trx
      .selectFrom('threshold_overrides')
      .select(['id', 'value'])
      .where('scope_type', '=', input.scopeType)
      .where('scope_value', '=', scopeValue)
      .where('threshold', '=', threshold)
      .executeTakeFirst()
    const row = await trx
      .insertInto('threshold_overrides')
      .values({ scope_type: input.scopeType, scope_value: scopeValue, threshold, value: json(value) })
      .onConflict((c) => c.constraint('threshold_overrides_key').doUpdateSet({ value: json(value) }))
      .returning('id')
      .executeTakeFirstOrThrow()
    await appendAuditEvent(trx, {
      actor,
      action: before ? 'setting.threshold_override.changed' : 'setting.threshold_override.added',
      object: { type: 'threshold_override', id: String(row.id) },
      before: before ? { scope_type: input.scopeType, scope_value: scopeValue, threshold, value: before.value } : undefined,
      after: { scope_type: input.scopeType, scope_value: scopeValue, threshold, value },
      ip,
    })
    return { threshold, value }
  })
}

export async function removeThresholdOverride(db: Kysely<Database>, actor: AuditActor, id: number, ip: string | null): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const removed = await trx.deleteFrom('threshold_overrides').where('id', '=', id).returning(['scope_type', 'scope_value', 'threshold', 'value']).executeTakeFirst()
    if (!removed) throw new ScoringSettingsError('That override no longer exists (someone removed it meanwhile). Reload the page.')
    await appendAuditEvent(trx, { actor, action: 'setting.threshold_override.removed', object: { type: 'threshold_override', id: String(id) }, before: removed, ip })
  })
}

/** Longest reference kept: an email address is at most 320 characters. */
const MAX_REF_LENGTH = 320

/**
 * Replaces the departed owners with the references in `text`, one per line (email, UPN or
 * login). Blank lines and repeats (compared case-insensitively, as the pass compares them) go.
 */
export async function saveDepartedOwners(db: Kysely<Database>, actor: AuditActor, text: string, ip: string | null): Promise<{ added: string[]; removed: string[] }> {
  const refs: string[] = []
  const seen = new Set<string>()
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    const ref = line.trim()
    if (ref === '') continue
    if (/\s/.test(ref)) throw new ScoringSettingsError(`Line ${index + 1} ("${ref}") holds a space. Enter one email address, UPN or login per line.`)
    if (ref.length > MAX_REF_LENGTH) throw new ScoringSettingsError(`Line ${index + 1} is longer than ${MAX_REF_LENGTH} characters. Enter one email address, UPN or login per line.`)
    const key = ref.toLowerCase()
    if (seen.has(key)) continue
    seen.add(key)
    refs.push(ref)
  }
  return db.transaction().execute(async (trx) => {
    const stored = await trx.selectFrom('settings').select('value').where('key', '=', DEPARTED_OWNERS_SETTING).forUpdate().executeTakeFirst()
    let before: Set<string>
    try {
      before = parseDepartedOwners(stored?.value)
    } catch {
      // A malformed value is replaced by a valid one: that is the way to fix it.
      before = new Set()
    }
    const added = refs.filter((ref) => !before.has(ref.toLowerCase()))
    const removed = [...before].filter((ref) => !seen.has(ref))
    await trx
      .insertInto('settings')
      .values({ key: DEPARTED_OWNERS_SETTING, value: json(refs), updated_by: actor.display })
      .onConflict((c) => c.column('key').doUpdateSet({ value: json(refs), updated_at: sql`now()`, updated_by: actor.display }))
      .execute()
    await appendAuditEvent(trx, {
      actor,
      action: 'setting.departed_owners.changed',
      object: { type: 'setting', id: DEPARTED_OWNERS_SETTING },
      before: { count: before.size },
      after: { count: refs.length, added, removed },
      ip,
    })
    return { added, removed }
  })
}

/** The thresholds, their defaults and where each default comes from (for the page). */
export function thresholdCatalogue() {
  return THRESHOLD_NAMES.map((name) => ({ name, ...THRESHOLDS[name] }))
}
