import { sql, type Kysely } from 'kysely'

/**
 * A lighter write path for the scoring pass, which writes ~4 findings per identity and
 * rewrites every identity row it scores (docs/decisions/029-scoring-write-path.md).
 *
 * - findings_rule_idx and findings_open_idx served no query: dashboard counts come from
 *   posture snapshots or join findings through identities (findings_open_identity_idx).
 * - The findings → credentials foreign key checked every finding row (one locking lookup each)
 *   but protected nothing: Leash never deletes a credential on its own (one gone upstream is
 *   marked 'gone'), and deleting an identity deletes its findings through findings → identities.
 *   credential_id stays as the reference the detail page joins on.
 * - identity_scores.breakdown becomes json: it is written for every identity scored, read
 *   whole by the detail page and never queried inside, so parsing it into jsonb on every write
 *   (about half the cost of writing the row) bought nothing.
 * - identities_last_used_idx duplicated identities_last_used_keyset_idx for sorting and no
 *   query filters on last_used_at alone; every identity update paid for both.
 *
 * Frozen: later changes are new files.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists findings_rule_idx`.execute(db)
  await sql`drop index if exists findings_open_idx`.execute(db)
  await sql`alter table findings drop constraint if exists findings_credential_id_fkey`.execute(db)
  await sql`drop index if exists identities_last_used_idx`.execute(db)
  await sql`alter table identity_scores alter column breakdown type json using breakdown::json`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Leash migrations are forward-only.')
}
