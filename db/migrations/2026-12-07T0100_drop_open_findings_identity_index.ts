import { sql, type Kysely } from 'kysely'

/**
 * findings_open_identity_idx (identity_id, dimension, severity) where status = 'open' cost a
 * first scoring pass ~4.3 s of PostgreSQL's CPU per million identities: one more index entry
 * for each of ~4.2 findings per identity (docs/decisions/045). Every query that used it starts
 * from a page of identities or a sample of a few thousand, and finds an identity's findings as
 * fast through the unique key (identity_id, rule_id, subject_key), whose rows for one identity
 * share a page: the 1M dashboard benchmark kept every page under 200 ms p95 without it.
 *
 * Frozen: later changes are new files.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists findings_open_identity_idx`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Leash migrations are forward-only.')
}
