import { sql, type Kysely } from 'kysely'

/**
 * A threshold change asks for identities to be assessed again without flagging their rows
 * (docs/decisions/037). `identity_scores.reassess_after` holds when the pass marked the
 * identity; a writer whose settings were read after that time clears it, an older one keeps it.
 * The partial index finds the marked identities in id order, whatever their number.
 *
 * Frozen: later changes are new files.
 */
export async function up(db: Kysely<any>): Promise<void> {
  // Nullable with no default: adding it rewrites nothing.
  await sql`alter table identity_scores add column if not exists reassess_after timestamptz`.execute(db)
  await sql`create index if not exists identity_scores_reassess_idx on identity_scores (identity_id) where reassess_after is not null`.execute(
    db,
  )
}

export async function down(): Promise<void> {
  throw new Error('Leash migrations are forward-only.')
}
