import { sql, type Kysely } from 'kysely'

/**
 * One trigram index over name and external id together instead of one per column: a search
 * then scans one GIN posting list instead of two (half the time at a million identities, where
 * ARNs and generated names share most trigrams), and every identity update maintains one GIN
 * index instead of two. The newline separator cannot occur in a search box's text, so no match
 * spans the two fields.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index identities_search_trgm_idx on identities using gin (lower(display_name || E'\n' || external_id) gin_trgm_ops)`.execute(db)
  await sql`drop index if exists identities_name_trgm_idx`.execute(db)
  await sql`drop index if exists identities_external_id_trgm_idx`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Leash migrations are forward-only.')
}
