/**
 * Change history: "what changed since the last scan" (identity_changes, written by ingest).
 */
import { sql, type Kysely } from 'kysely'
import type { ChangeType, Database } from '../db/schema.js'

export interface ChangeEntry {
  id: number
  identityId: number
  identityName: string
  identityExternalId: string
  identityKind: string
  sourceId: string
  scanRunId: string | null
  changeType: ChangeType
  details: Record<string, unknown>
  occurredAt: Date
}

export interface ChangesFilter {
  /** Changes written after this run started (that run's own changes included). */
  sinceScanRunId?: string
  since?: Date
  sourceId?: string
  changeTypes?: ChangeType[]
  identityId?: number
  /** Default 500, at most 5000. Newest first; page with `beforeId`. */
  limit?: number
  beforeId?: number
}

/**
 * Changes since a scan run (inclusive) or a time, newest first. With neither, changes of the
 * latest finished scan of the source (or of any source).
 */
export async function listChangesSince(db: Kysely<Database>, filter: ChangesFilter): Promise<ChangeEntry[]> {
  let since: Date | null = filter.since ?? null
  let sinceRunId = filter.sinceScanRunId ?? null
  if (!since && !sinceRunId) {
    let latest = db.selectFrom('scan_runs').select('id').where('status', 'in', ['succeeded', 'partial', 'failed']).orderBy('queued_at', 'desc').limit(1)
    if (filter.sourceId) latest = latest.where('source_id', '=', filter.sourceId)
    const row = await latest.executeTakeFirst()
    if (!row) return []
    sinceRunId = row.id
  }
  if (sinceRunId) {
    const run = await db.selectFrom('scan_runs').select(['queued_at', 'started_at']).where('id', '=', sinceRunId).executeTakeFirst()
    if (!run) return []
    since = run.started_at ?? run.queued_at
  }
  let query = db
    .selectFrom('identity_changes as c')
    .innerJoin('identities as i', 'i.id', 'c.identity_id')
    .select([
      'c.id',
      'c.identity_id as identityId',
      'i.display_name as identityName',
      'i.external_id as identityExternalId',
      'i.kind as identityKind',
      'c.source_id as sourceId',
      'c.scan_run_id as scanRunId',
      'c.change_type as changeType',
      'c.details',
      'c.occurred_at as occurredAt',
    ])
    .orderBy('c.occurred_at', 'desc')
    .orderBy('c.id', 'desc')
    .limit(Math.min(Math.max(filter.limit ?? 500, 1), 5000))
  if (since) query = query.where('c.occurred_at', '>=', since)
  if (filter.sourceId) query = query.where('c.source_id', '=', filter.sourceId)
  if (filter.changeTypes?.length) query = query.where('c.change_type', 'in', filter.changeTypes)
  if (filter.identityId !== undefined) query = query.where('c.identity_id', '=', filter.identityId)
  if (filter.beforeId !== undefined) query = query.where('c.id', '<', filter.beforeId)
  const rows = await query.execute()
  return rows.map((r) => ({ ...r, details: r.details }))
}

/** Counts by change type since a run or a time (the Overview's "since the last scan" strip). */
export async function countChangesSince(db: Kysely<Database>, filter: { since: Date; sourceId?: string }): Promise<Partial<Record<ChangeType, number>>> {
  let query = db
    .selectFrom('identity_changes')
    .select(['change_type', sql<number>`count(*)::int`.as('n')])
    .where('occurred_at', '>=', filter.since)
    .groupBy('change_type')
  if (filter.sourceId) query = query.where('source_id', '=', filter.sourceId)
  const rows = await query.execute()
  return Object.fromEntries(rows.map((r) => [r.change_type, r.n]))
}
