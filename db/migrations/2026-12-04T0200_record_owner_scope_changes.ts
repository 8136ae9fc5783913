import { sql, type Kysely } from 'kysely'

/**
 * A change to the `departed_owners` setting records the references that joined or left the list
 * in `scoring_scope_changes` (scope type 'owner', the reference trimmed and in lower case),
 * where it used to flag their identities in the statement that saved the setting. The scoring
 * pass marks them as it marks threshold scopes: after the change is committed, for reassessment
 * (docs/decisions/037). The Leash user service records 'owner' and 'claim_holder' scopes the
 * same way when a user is disabled or enabled.
 *
 * Frozen: later changes are new files.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create or replace function leash_mark_departed_owners() returns trigger language plpgsql as $$
    declare
      before_refs text[] := '{}';
      after_refs text[] := '{}';
    begin
      if tg_op in ('UPDATE', 'DELETE') then
        if old.key = 'departed_owners' then before_refs := array(select leash_owner_refs(old.value)); end if;
      end if;
      if tg_op in ('INSERT', 'UPDATE') then
        if new.key = 'departed_owners' then after_refs := array(select leash_owner_refs(new.value)); end if;
      end if;
      -- The references that joined or left the list: their owners' identities change status.
      insert into scoring_scope_changes (scope_type, scope_value)
      select 'owner', ref from (
        (select unnest(after_refs) except select unnest(before_refs))
        union
        (select unnest(before_refs) except select unnest(after_refs))) as changed(ref);
      return null;
    end
    $$`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Leash migrations are forward-only.')
}
