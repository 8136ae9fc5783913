import { sql, type Kysely } from 'kysely'

/**
 * findings.evidence becomes json, as identity_scores.breakdown did (2026-11-22T0100): a pass
 * writes ~4 findings per identity, the detail page reads the evidence whole, and no query looks
 * inside it. Parsing it into jsonb cost more than twice the json check: 2.7–2.9 s against
 * 1.1–1.2 s for the same 422,000 documents (docs/decisions/032).
 *
 * Frozen: later changes are new files.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table findings alter column evidence drop default`.execute(db)
  await sql`alter table findings alter column evidence type json using evidence::json`.execute(db)
  await sql`alter table findings alter column evidence set default '{}'::json`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Leash migrations are forward-only.')
}
