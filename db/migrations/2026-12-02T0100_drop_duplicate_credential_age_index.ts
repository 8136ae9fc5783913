import { sql, type Kysely } from 'kysely'

/**
 * identities_oldest_credential_idx (oldest_credential_at, id) duplicates
 * identities_oldest_credential_keyset_idx (coalesce(oldest_credential_at, 'infinity'), id): the
 * credential-age filters now compare the same coalesced expression (db/queries/identities.ts),
 * so the keyset index serves the sort and the filters alike. Every scoring pass and every
 * ingest of a changed identity wrote an entry into both (docs/decisions/033).
 *
 * Frozen: later changes are new files.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists identities_oldest_credential_idx`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Leash migrations are forward-only.')
}
