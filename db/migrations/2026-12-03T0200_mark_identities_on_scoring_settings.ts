import { sql, type Kysely } from 'kysely'

/**
 * A change to what the scoring rules read, outside the identities themselves, reaches the
 * identities it applies to at the next scoring pass, not at the next daily re-evaluation
 * (docs/decisions/036):
 * - a row of `threshold_overrides` added, changed or removed records its scope (the source it
 *   names, by id or by name, or the tag `key=value`) in `scoring_scope_changes`. An override
 *   can apply to most of a million identities, and marking them takes about 130 µs a row, so
 *   the statement that makes the change only records it. The scoring pass marks the
 *   identities in short chunks before it starts (scoring/scope-changes.ts).
 * - the `departed_owners` setting changed: the identities with an owner hint naming a reference
 *   that joined or left the list (case-insensitive, as scoring/load.ts compares them) are
 *   marked in the same statement. Those are the identities of a few people.
 * Both are edited with SQL, by the demo and on the Scoring page, so a trigger is the one place
 * that sees every edit.
 *
 * A malformed `departed_owners` value reads as an empty list here and is stored as written: the
 * scoring pass refuses it with a message that says what is wrong (parseDepartedOwners), so no
 * identity is scored against it, and fixing it marks what the fix changes.
 *
 * Frozen: later changes are new files.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table scoring_scope_changes (
      id bigint generated always as identity primary key,
      scope_type text not null,
      scope_value text not null,
      requested_at timestamptz not null default now())`.execute(db)
  // A trigger with transition tables has one event, so three triggers share one function.
  // PL/pgSQL plans a statement when it first runs it, so each branch names only the
  // transition table its event has.
  await sql`
    create or replace function leash_mark_threshold_scopes() returns trigger language plpgsql as $$
    begin
      if tg_op in ('INSERT', 'UPDATE') then
        insert into scoring_scope_changes (scope_type, scope_value) select distinct scope_type, scope_value from new_overrides;
      end if;
      if tg_op in ('UPDATE', 'DELETE') then
        insert into scoring_scope_changes (scope_type, scope_value) select distinct scope_type, scope_value from old_overrides;
      end if;
      return null;
    end
    $$`.execute(db)
  await sql`
    create trigger threshold_overrides_mark_inserted after insert on threshold_overrides
    referencing new table as new_overrides for each statement execute function leash_mark_threshold_scopes()`.execute(db)
  await sql`
    create trigger threshold_overrides_mark_updated after update on threshold_overrides
    referencing old table as old_overrides new table as new_overrides for each statement execute function leash_mark_threshold_scopes()`.execute(db)
  await sql`
    create trigger threshold_overrides_mark_deleted after delete on threshold_overrides
    referencing old table as old_overrides for each statement execute function leash_mark_threshold_scopes()`.execute(db)

  await sql`
    create or replace function leash_owner_refs(value jsonb) returns setof text language sql immutable as $$
      select lower(btrim(case jsonb_typeof(entry) when 'string' then entry #>> '{}' else entry ->> 'ref' end))
      from jsonb_array_elements(case when jsonb_typeof(value) = 'array' then value else '[]'::jsonb end) as entry
      where jsonb_typeof(entry) = 'string' or jsonb_typeof(entry -> 'ref') = 'string'
    $$`.execute(db)
  await sql`
    create or replace function leash_mark_departed_owners() returns trigger language plpgsql as $$
    declare
      before_refs text[] := '{}';
      after_refs text[] := '{}';
      changed text[];
    begin
      if tg_op in ('UPDATE', 'DELETE') then
        if old.key = 'departed_owners' then before_refs := array(select leash_owner_refs(old.value)); end if;
      end if;
      if tg_op in ('INSERT', 'UPDATE') then
        if new.key = 'departed_owners' then after_refs := array(select leash_owner_refs(new.value)); end if;
      end if;
      -- The references that joined or left the list: their owners' identities change status.
      changed := array(
        (select unnest(after_refs) except select unnest(before_refs))
        union
        (select unnest(before_refs) except select unnest(after_refs)));
      if cardinality(changed) > 0 then
        update identities set needs_scoring = true
        where not needs_scoring and id in (select identity_id from identity_owners where lower(btrim(owner_ref)) = any(changed));
      end if;
      return null;
    end
    $$`.execute(db)
  await sql`
    create trigger settings_mark_departed_owners after insert or update or delete on settings
    for each row execute function leash_mark_departed_owners()`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Leash migrations are forward-only.')
}
