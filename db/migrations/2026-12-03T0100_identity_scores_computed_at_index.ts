import { sql, type Kysely } from 'kysely'

/**
 * Identities are scored again when their last scoring is older than the re-evaluation interval
 * (LEASH_REEVALUATE_HOURS): rules on ages, expiries and unused periods change with the clock,
 * not with the data (docs/decisions/035). This index finds the identities that are due.
 *
 * Frozen: later changes are new files.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index if not exists identity_scores_computed_at_idx on identity_scores (computed_at)`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Leash migrations are forward-only.')
}
