import { sql, type Kysely } from 'kysely'

/**
 * A finding is keyed by what it is about, (identity_id, rule_id, subject_key), which becomes its
 * primary key; the index on its surrogate id goes. That index cost a first scoring pass one more
 * index entry for each of ~4.2 findings per identity (~2.5 s of PostgreSQL's CPU per million
 * identities, docs/decisions/046), and nothing needs it: every reader of a finding knows its
 * identity, and an identity's findings share a page or two of the key. `id` stays, unique by its
 * identity sequence, as the short handle forms and the audit trail use, always looked up
 * together with its identity.
 *
 * Frozen: later changes are new files.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table findings drop constraint findings_pkey`.execute(db)
  await sql`create unique index findings_key on findings (identity_id, rule_id, subject_key)`.execute(db)
  await sql`alter table findings add constraint findings_pkey primary key using index findings_key`.execute(db)
  await sql`alter table findings drop constraint findings_identity_rule_subject_key`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Leash migrations are forward-only.')
}
