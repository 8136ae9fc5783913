/** The audit trail as JSON lines (for `leash audit export` and the Audit page's export). */
import type { Kysely } from 'kysely'
import type { Database } from './schema.js'

export interface AuditExportFilter {
  since?: Date
  until?: Date
  afterSeq?: number
  actor?: string
  action?: string
  objectType?: string
  objectId?: string
}

/** One JSON object per line, in seq order, read in pages so any size streams in constant memory. */
export async function* auditJsonLines(db: Kysely<Database>, filter: AuditExportFilter = {}, pageSize = 1000): AsyncGenerator<string> {
  let after = filter.afterSeq ?? 0
  for (;;) {
    let query = db.selectFrom('audit_events').selectAll().where('seq', '>', after)
    if (filter.since) query = query.where('occurred_at', '>=', filter.since)
    if (filter.until) query = query.where('occurred_at', '<', filter.until)
    if (filter.actor) query = query.where((eb) => eb.or([eb('actor_id', '=', filter.actor!), eb('actor_display', '=', filter.actor!)]))
    if (filter.action) query = query.where('action', 'like', `${filter.action.replace(/[\\%_]/g, '\\$&')}%`)
    if (filter.objectType) query = query.where('object_type', '=', filter.objectType)
    if (filter.objectId) query = query.where('object_id', '=', filter.objectId)
    const rows = await query.orderBy('seq', 'asc').limit(pageSize).execute()
    for (const row of rows) {
      yield `${JSON.stringify({
        seq: row.seq,
        occurred_at: new Date(row.occurred_at).toISOString(),
        actor: { type: row.actor_type, id: row.actor_id, display: row.actor_display },
        action: row.action,
        object: row.object_type ? { type: row.object_type, id: row.object_id } : null,
        before: row.before,
        after: row.after,
        reason: row.reason,
        ip: row.ip,
        prev_hash: row.prev_hash,
        hash: row.hash,
      })}\n`
    }
    if (rows.length < pageSize) return
    after = rows[rows.length - 1]!.seq
  }
}
