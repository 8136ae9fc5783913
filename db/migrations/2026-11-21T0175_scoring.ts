import { sql, type Kysely } from 'kysely'

/**
 * Scoring (issue 4): indexes for the findings lifecycle and posture history.
 * Partial, so they cost nothing for the open findings that make up most of the table.
 */
export async function up(db: Kysely<any>): Promise<void> {
  // Accepted risks whose date has passed are reopened at the start of every scoring pass.
  await sql`create index if not exists findings_accepted_until_idx on findings (accepted_until) where status = 'accepted'`.execute(db)
  // Mean time to remediate over recently resolved findings, in every posture snapshot.
  await sql`create index if not exists findings_resolved_at_idx on findings (resolved_at) where status = 'resolved'`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Leash migrations are forward-only.')
}
