import { sql, type Kysely } from 'kysely'

/**
 * Indexes the dashboard's keyset pages and finding filters need at a million identities.
 * Frozen: later changes are new files.
 */
export async function up(db: Kysely<any>): Promise<void> {
  // Keyset sort "last used" (never used first) and "oldest credential" (none last) over
  // expressions without NULLs, so a row comparison (key, id) > (…) is one index range scan.
  await sql`create index if not exists identities_last_used_keyset_idx on identities ((coalesce(last_used_at, '-infinity'::timestamptz)), id)`.execute(db)
  await sql`create index if not exists identities_oldest_credential_keyset_idx on identities ((coalesce(oldest_credential_at, 'infinity'::timestamptz)), id)`.execute(db)
  // "Identities with open findings in dimension X / of severity Y": an EXISTS probe per identity.
  await sql`create index if not exists findings_open_identity_idx on findings (identity_id, dimension, severity) where status = 'open'`.execute(db)
  // Inventory filtered by provider, sorted by risk.
  await sql`create index if not exists identities_provider_risk_idx on identities (provider, risk_score desc, id desc)`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Leash migrations are forward-only.')
}
