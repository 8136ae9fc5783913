import { sql, type Kysely } from 'kysely'

/**
 * What scoring decides about an identity moves off the identity row into a narrow table of its
 * own, `identity_posture`; what ingest records stays in `identities`, renamed
 * `identity_records`. A view named `identities` joins the two, so every reader keeps its query
 * (docs/decisions/043).
 *
 * Why: a scoring pass rewrites the posture of every identity it scores. On the wide identity
 * row that update changed indexed columns (risk, owner, agent), so it could not be HOT and added
 * an entry to all thirteen indexes of the table, name, last-used and ingest keys included,
 * and copied the row's JSON documents: 40–48 µs per identity, the largest single cost of a
 * first pass. The posture row is narrow, and its indexes are the ones whose keys scoring
 * changes (docs/decisions/042 measured 12–15 µs).
 *
 * - `provider` is copied onto the posture row (it never changes), so a provider filter sorted by
 *   risk reads one index. Everything else is in one place only.
 * - The view exposes the posture row's key as `posture_identity_id`: a keyset condition on a risk
 *   or credential-age sort must compare the posture table's own column to use its index.
 * - INSTEAD OF triggers let the low-volume writers (claims, classification decisions, tests,
 *   seeds) keep writing `identities`. They write a side only when one of its columns changed, or
 *   when the write flags the identity for scoring: a flag must always give the posture row a new
 *   version, because the scoring pass's guard against a concurrent change compares that version.
 *   The bulk writers (ingest, the scoring pass, scope marks) write the tables themselves.
 *
 * Frozen: later changes are new files.
 */

/** Columns of the view from the posture row, in the order the view lists them after the record's. */
const POSTURE_COLUMNS = [
  'classified_is_agent',
  'agent_confidence',
  'agent_platform',
  'agent_override',
  'agent_override_by',
  'agent_override_at',
  'agent_override_reason',
  'is_agent',
  'owner_ref',
  'owner_kind',
  'owner_source',
  'owner_status',
  'risk_score',
  'score_ownership',
  'score_privilege',
  'score_credential_age',
  'score_monitoring',
  'max_access_level',
  'credential_count',
  'oldest_credential_at',
  'needs_scoring',
] as const

/** Columns of the view from the record, `id` and `provider` aside. */
const RECORD_COLUMNS = [
  'source_id',
  'kind',
  'external_id',
  'display_name',
  'account_id',
  'tags',
  'attributes',
  'console_url',
  'created_at',
  'last_used_at',
  'last_used_known',
  'status',
  'status_changed_at',
  'posture_inputs',
  'agent_reasons',
  'first_seen_scan_id',
  'last_seen_scan_id',
  'first_seen_at',
  'last_seen_at',
  'data_hash',
  'credentials_hash',
  'entitlements_hash',
  'owners_hash',
] as const

/** The defaults of the tables, repeated on the view: an INSERT through it that leaves a column out gets the same value. */
const VIEW_DEFAULTS: Record<string, string> = {
  tags: `'{}'::jsonb`,
  attributes: `'{}'::jsonb`,
  last_used_known: 'false',
  status: `'active'`,
  posture_inputs: `'{}'::jsonb`,
  agent_reasons: `'[]'::jsonb`,
  first_seen_at: 'now()',
  last_seen_at: 'now()',
  classified_is_agent: 'false',
  agent_confidence: '0',
  is_agent: 'false',
  owner_status: `'none'`,
  risk_score: '0',
  score_ownership: '0',
  score_privilege: '0',
  score_credential_age: '0',
  score_monitoring: '0',
  credential_count: '0',
  needs_scoring: 'true',
}

const list = (columns: readonly string[], prefix = '') => columns.map((column) => `${prefix}${column}`).join(', ')
const assign = (columns: readonly string[]) => columns.map((column) => `${column} = new.${column}`).join(', ')

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table identities rename to identity_records`.execute(db)
  await sql`
    create table identity_posture (
      identity_id bigint primary key references identity_records (id) on delete cascade,
      provider text not null,
      classified_is_agent boolean not null default false,
      agent_confidence real not null default 0,
      agent_platform text,
      agent_override text check (agent_override in ('agent', 'not_agent')),
      agent_override_by text,
      agent_override_at timestamptz,
      agent_override_reason text,
      is_agent boolean not null default false,
      owner_ref text,
      owner_kind text,
      owner_source text check (owner_source in ('tag', 'provider', 'claim', 'inferred')),
      owner_status text not null default 'none' check (owner_status in ('valid', 'invalid', 'none', 'unknown')),
      risk_score smallint not null default 0,
      score_ownership smallint not null default 0,
      score_privilege smallint not null default 0,
      score_credential_age smallint not null default 0,
      score_monitoring smallint not null default 0,
      max_access_level text,
      credential_count integer not null default 0,
      oldest_credential_at timestamptz,
      needs_scoring boolean not null default true
    )`.execute(db)
  await sql
    .raw(
      `insert into identity_posture (identity_id, provider, ${list(POSTURE_COLUMNS)})
       select id, provider, ${list(POSTURE_COLUMNS)} from identity_records`,
    )
    .execute(db)
  // Dropping the columns drops the indexes over them (risk, agent and risk, provider and risk,
  // owner, orphans, oldest credential, pending scoring); they are built again on the posture row.
  await sql.raw(`alter table identity_records ${POSTURE_COLUMNS.map((column) => `drop column ${column}`).join(', ')}`).execute(db)
  await sql`create index identity_posture_risk_idx on identity_posture (risk_score desc, identity_id desc)`.execute(db)
  await sql`create index identity_posture_agent_risk_idx on identity_posture (is_agent, risk_score desc, identity_id desc)`.execute(db)
  await sql`create index identity_posture_provider_risk_idx on identity_posture (provider, risk_score desc, identity_id desc)`.execute(db)
  await sql`create index identity_posture_owner_idx on identity_posture (owner_ref)`.execute(db)
  // The Orphans page and filter: the record's status ('active') is checked through the join.
  await sql`create index identity_posture_orphans_idx on identity_posture (risk_score desc, identity_id desc)
            where is_agent and owner_status in ('none', 'invalid')`.execute(db)
  await sql`create index identity_posture_oldest_credential_idx on identity_posture ((coalesce(oldest_credential_at, 'infinity'::timestamptz)), identity_id)`.execute(
    db,
  )
  await sql`create index identity_posture_needs_scoring_idx on identity_posture (identity_id) where needs_scoring`.execute(db)

  await sql
    .raw(
      `create view identities as
       select r.id, p.provider, ${list(RECORD_COLUMNS, 'r.')}, ${list(POSTURE_COLUMNS, 'p.')}, p.identity_id as posture_identity_id
         from identity_records r join identity_posture p on p.identity_id = r.id`,
    )
    .execute(db)
  for (const [column, value] of Object.entries(VIEW_DEFAULTS))
    await sql.raw(`alter view identities alter column ${column} set default ${value}`).execute(db)

  await sql
    .raw(
      `create function leash_identities_insert() returns trigger language plpgsql as $$
       begin
         insert into identity_records (source_id, provider, ${list(RECORD_COLUMNS.filter((c) => c !== 'source_id'))})
         values (new.source_id, new.provider, ${list(
           RECORD_COLUMNS.filter((c) => c !== 'source_id'),
           'new.',
         )})
         returning id into new.id;
         insert into identity_posture (identity_id, provider, ${list(POSTURE_COLUMNS)})
         values (new.id, new.provider, ${list(POSTURE_COLUMNS, 'new.')});
         new.posture_identity_id := new.id;
         return new;
       end
       $$`,
    )
    .execute(db)
  await sql
    .raw(
      `create function leash_identities_update() returns trigger language plpgsql as $$
       begin
         if row(new.provider, ${list(RECORD_COLUMNS, 'new.')}) is distinct from row(old.provider, ${list(RECORD_COLUMNS, 'old.')}) then
           update identity_records set provider = new.provider, ${assign(RECORD_COLUMNS)} where id = old.id;
         end if;
         if new.needs_scoring
            or row(new.provider, ${list(POSTURE_COLUMNS, 'new.')}) is distinct from row(old.provider, ${list(POSTURE_COLUMNS, 'old.')}) then
           update identity_posture set provider = new.provider, ${assign(POSTURE_COLUMNS)} where identity_id = old.id;
         end if;
         new.id := old.id;
         new.posture_identity_id := old.id;
         return new;
       end
       $$`,
    )
    .execute(db)
  await sql`
    create function leash_identities_delete() returns trigger language plpgsql as $$
    begin
      delete from identity_records where id = old.id;
      return old;
    end
    $$`.execute(db)
  await sql`create trigger identities_insert instead of insert on identities for each row execute function leash_identities_insert()`.execute(db)
  await sql`create trigger identities_update instead of update on identities for each row execute function leash_identities_update()`.execute(db)
  await sql`create trigger identities_delete instead of delete on identities for each row execute function leash_identities_delete()`.execute(db)
  await sql`analyze identity_records, identity_posture`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Leash migrations are forward-only.')
}
