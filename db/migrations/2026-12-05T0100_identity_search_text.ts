import { sql, type Kysely } from 'kysely'

/**
 * The trigram index of identity search moves off `identities` into a narrow table of its own,
 * `identity_search_text`: one row per identity, holding the text the search box matches.
 *
 * Why: an update of an identity row that changes an indexed column (every scoring write does:
 * risk, owner, agent) cannot be HOT, so it adds an entry for the new row version to every index
 * of the table, including the GIN index over name and external id, whose key had not changed.
 * That index was about a fifth of the cost of each identity update, and 13 % of the WAL of a
 * first scoring pass (docs/decisions/039). Name and external id change rarely; the score
 * columns change on every pass.
 *
 * Triggers keep the table in step with every writer of `identities`: a statement-level insert
 * trigger (set-based, for ingest's batches), a row-level update trigger that fires only when the
 * name or external id changed, and the statement-level delete trigger that already removes an
 * identity's findings and scores.
 *
 * Frozen: later changes are new files.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create table identity_search_text (identity_id bigint primary key, search_text text not null)`.execute(db)
  await sql`
    create or replace function leash_identity_search_text(display_name text, external_id text) returns text
    language sql immutable parallel safe as $$ select lower(display_name || E'\n' || external_id) $$`.execute(db)
  await sql`
    create or replace function leash_insert_identity_search_text() returns trigger language plpgsql as $$
    begin
      insert into identity_search_text (identity_id, search_text)
      select n.id, leash_identity_search_text(n.display_name, n.external_id) from inserted_identities n;
      return null;
    end
    $$`.execute(db)
  await sql`
    create or replace function leash_update_identity_search_text() returns trigger language plpgsql as $$
    begin
      update identity_search_text set search_text = leash_identity_search_text(new.display_name, new.external_id)
      where identity_id = new.id;
      return null;
    end
    $$`.execute(db)
  // Deleted with the other rows derived from a deleted identity, by the statement-level trigger
  // of migration 2026-11-22T0200_derived_rows_cascade.
  await sql`
    create or replace function leash_delete_derived_rows() returns trigger language plpgsql as $$
    begin
      delete from findings f using deleted_identities d where f.identity_id = d.id;
      delete from identity_scores s using deleted_identities d where s.identity_id = d.id;
      delete from identity_search_text t using deleted_identities d where t.identity_id = d.id;
      return null;
    end
    $$`.execute(db)
  await sql`
    create trigger identities_insert_search_text after insert on identities
    referencing new table as inserted_identities
    for each statement execute function leash_insert_identity_search_text()`.execute(db)
  await sql`
    create trigger identities_update_search_text after update of display_name, external_id on identities
    for each row when (old.display_name is distinct from new.display_name or old.external_id is distinct from new.external_id)
    execute function leash_update_identity_search_text()`.execute(db)
  await sql`
    insert into identity_search_text (identity_id, search_text)
    select id, leash_identity_search_text(display_name, external_id) from identities`.execute(db)
  await sql`create index identity_search_text_trgm_idx on identity_search_text using gin (search_text gin_trgm_ops)`.execute(db)
  await sql`drop index if exists identities_search_trgm_idx`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Leash migrations are forward-only.')
}
