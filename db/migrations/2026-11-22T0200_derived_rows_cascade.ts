import { sql, type Kysely } from 'kysely'

/**
 * Findings and score breakdowns are derived rows that only the scoring pass writes, about five
 * per identity scored. Their foreign keys to identities ran a locking lookup of the identity
 * for every row written: half the cost of inserting a finding (docs/decisions/031).
 *
 * What the keys guaranteed is kept by other means:
 * - Deleting identities (directly, or through a source's cascade) deletes their findings and
 *   score breakdowns in the same statement, with the statement-level trigger below.
 * - A scoring batch whose identity was deleted meanwhile removes what it wrote for it, in the
 *   batch's own transaction (scoring/write.ts): it updates every identity it wrote for, which
 *   locks the row, and deletes its own rows for any identity the update no longer found.
 *
 * Frozen: later changes are new files.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table findings drop constraint if exists findings_identity_id_fkey`.execute(db)
  await sql`alter table identity_scores drop constraint if exists identity_scores_identity_id_fkey`.execute(db)
  await sql`
    create or replace function leash_delete_derived_rows() returns trigger language plpgsql as $$
    begin
      delete from findings f using deleted_identities d where f.identity_id = d.id;
      delete from identity_scores s using deleted_identities d where s.identity_id = d.id;
      return null;
    end
    $$`.execute(db)
  await sql`
    create trigger identities_delete_derived_rows after delete on identities
    referencing old table as deleted_identities
    for each statement execute function leash_delete_derived_rows()`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Leash migrations are forward-only.')
}
