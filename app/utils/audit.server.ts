/**
 * Queries behind the Audit page: filtered, keyset-paginated reads of the trail, and the chain
 * status shown on the page (verified incrementally from the last verified event, with a full
 * re-verification at most every 10 minutes; `npx leash audit verify` always checks everything).
 */
import type { Kysely } from 'kysely'
import { verifyAuditChain, type AuditVerification } from '../../db/audit.js'
import type { Database } from '../../db/schema.js'

export interface AuditFilter {
  actor?: string
  action?: string
  objectType?: string
  objectId?: string
  since?: Date
  until?: Date
}

export const AUDIT_PAGE_SIZE = 50

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, '\\$&')
}

/** Newest first; `beforeSeq` continues after the last row of the previous page. */
export async function listAuditEvents(db: Kysely<Database>, filter: AuditFilter, options: { beforeSeq?: number; limit?: number } = {}) {
  const limit = options.limit ?? AUDIT_PAGE_SIZE
  let query = db
    .selectFrom('audit_events')
    .select(['seq', 'occurred_at', 'actor_type', 'actor_id', 'actor_display', 'action', 'object_type', 'object_id', 'before', 'after', 'reason', 'ip', 'hash'])
  if (options.beforeSeq !== undefined) query = query.where('seq', '<', options.beforeSeq)
  if (filter.actor) {
    const actor = filter.actor
    query = query.where((eb) => eb.or([eb('actor_id', '=', actor), eb('actor_display', 'ilike', `%${escapeLike(actor)}%`)]))
  }
  if (filter.action) query = query.where('action', 'like', `${escapeLike(filter.action)}%`)
  if (filter.objectType) query = query.where('object_type', '=', filter.objectType)
  if (filter.objectId) query = query.where('object_id', '=', filter.objectId)
  if (filter.since) query = query.where('occurred_at', '>=', filter.since)
  if (filter.until) query = query.where('occurred_at', '<', filter.until)
  const rows = await query.orderBy('seq', 'desc').limit(limit + 1).execute()
  const hasMore = rows.length > limit
  const page = hasMore ? rows.slice(0, limit) : rows
  return { rows: page, nextBeforeSeq: hasMore ? page[page.length - 1]!.seq : null }
}

export interface ChainStatus {
  ok: boolean
  events: number
  brokenAtSeq: number | null
  reason: string | null
  checkedAt: string
  full: boolean
}

const FULL_CHECK_INTERVAL_MS = 10 * 60_000
const checkpoints = new WeakMap<object, { seq: number; hash: string; events: number; fullAt: number }>()

export async function auditChainStatus(db: Kysely<Database>): Promise<ChainStatus> {
  const now = Date.now()
  const checkpoint = checkpoints.get(db)
  const full = !checkpoint || now - checkpoint.fullAt > FULL_CHECK_INTERVAL_MS
  const result: AuditVerification = await verifyAuditChain(db, full || !checkpoint ? {} : { startAfter: { seq: checkpoint.seq, hash: checkpoint.hash } })
  if (!result.ok) {
    checkpoints.delete(db)
    return { ok: false, events: result.events, brokenAtSeq: result.brokenAtSeq, reason: result.reason, checkedAt: new Date(now).toISOString(), full }
  }
  const events = full || !checkpoint ? result.events : checkpoint.events + result.events
  if (result.headSeq !== null) checkpoints.set(db, { seq: result.headSeq, hash: result.headHash, events, fullAt: full ? now : checkpoint!.fullAt })
  return { ok: true, events, brokenAtSeq: null, reason: null, checkedAt: new Date(now).toISOString(), full }
}

export function parseAuditFilter(params: URLSearchParams): { filter: AuditFilter; errors: string[] } {
  const errors: string[] = []
  const text = (name: string) => {
    const value = params.get(name)?.trim()
    return value ? value.slice(0, 200) : undefined
  }
  const date = (name: string, label: string) => {
    const value = params.get(name)?.trim()
    if (!value) return undefined
    const parsed = new Date(value.length === 10 ? `${value}T00:00:00Z` : value)
    if (Number.isNaN(parsed.getTime())) {
      errors.push(`${label} "${value}" is not a date; use YYYY-MM-DD or an ISO-8601 time.`)
      return undefined
    }
    return parsed
  }
  const since = date('from', 'From')
  let until = date('to', 'To')
  // A plain date as "to" includes that whole day.
  if (until && /^\d{4}-\d{2}-\d{2}$/.test(params.get('to')?.trim() ?? '')) until = new Date(until.getTime() + 86_400_000)
  return { filter: { actor: text('actor'), action: text('action'), objectType: text('objectType'), objectId: text('objectId'), since, until }, errors }
}
