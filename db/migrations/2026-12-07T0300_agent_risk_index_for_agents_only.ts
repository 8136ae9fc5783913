import { sql, type Kysely } from 'kysely'

/**
 * The agent filter's risk order, (risk_score desc, identity_id desc), is kept for agents alone.
 * The index on (is_agent, risk_score, identity_id) took an entry for every identity on every
 * posture update, though only the agent side of it serves a page: "agents only" reads it, while
 * "not agents" (most of an estate) fills a page from the risk index within a few rows. Agents are
 * a small share of an estate, so a first scoring pass now writes ~0.9 fewer index entries per
 * identity (docs/decisions/046).
 *
 * Frozen: later changes are new files.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index identity_posture_agents_risk_idx on identity_posture (risk_score desc, identity_id desc) where is_agent`.execute(
    db,
  )
  await sql`drop index identity_posture_agent_risk_idx`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Leash migrations are forward-only.')
}
