import { sql, type Kysely } from 'kysely'

/**
 * Scheduled scans and streaming ingest (issue 5).
 *
 * - identities.*_hash: digests of what a connector last reported for an identity, so a rescan
 *   compares four short strings instead of re-reading every credential and entitlement row,
 *   and rewrites only what changed.
 * - identities fillfactor 85: the free space lets the per-scan "last seen" stamp be a HOT update.
 * - scan_runs.job_id / attempt / retry_of: the queue job behind a run, and the chain of retries
 *   after a worker died.
 * - scan_schedule_slots: one row per (source, scheduled minute); the unique key makes a slot
 *   fire once however many schedulers run.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('identities')
    .addColumn('data_hash', 'text')
    .addColumn('credentials_hash', 'text')
    .addColumn('entitlements_hash', 'text')
    .addColumn('owners_hash', 'text')
    .execute()
  await sql`alter table identities set (fillfactor = 85)`.execute(db)

  await db.schema
    .alterTable('scan_runs')
    .addColumn('job_id', 'text')
    .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('retry_of', 'uuid', (c) => c.references('scan_runs.id').onDelete('set null'))
    .execute()
  await sql`create index scan_runs_running_heartbeat_idx on scan_runs (heartbeat_at) where status = 'running'`.execute(db)

  await db.schema
    .createTable('scan_schedule_slots')
    .addColumn('source_id', 'uuid', (c) => c.notNull().references('sources.id').onDelete('cascade'))
    .addColumn('slot_time', 'timestamptz', (c) => c.notNull())
    .addColumn('claimed_by', 'text', (c) => c.notNull())
    .addColumn('claimed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // The run it queued, or null when the source was already being scanned.
    .addColumn('scan_run_id', 'uuid', (c) => c.references('scan_runs.id').onDelete('set null'))
    .addColumn('outcome', 'text', (c) => c.notNull().defaultTo('queued').check(sql`outcome in ('queued','skipped_active')`))
    .addPrimaryKeyConstraint('scan_schedule_slots_pk', ['source_id', 'slot_time'])
    .execute()
}

export async function down(): Promise<void> {
  throw new Error('Leash migrations are forward-only.')
}
