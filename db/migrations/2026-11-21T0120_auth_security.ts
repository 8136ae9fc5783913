import { sql, type Kysely } from 'kysely'

/**
 * Access control (issue 7, part A): sign-in throttling that works across processes, and
 * the server-side state of OpenID Connect sign-ins in flight.
 */
export async function up(db: Kysely<any>): Promise<void> {
  // One row per throttled key ('user:<name>' or 'ip:<address>'): failures in the current window.
  await db.schema
    .createTable('auth_throttle')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('window_started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('locked_until', 'timestamptz')
    .execute()

  // An OIDC authorization request in flight, keyed by the SHA-256 of its `state`; deleted when used.
  await db.schema
    .createTable('oidc_login_states')
    .addColumn('state_hash', 'text', (c) => c.primaryKey())
    .addColumn('code_verifier', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('redirect_to', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()

  await sql`create index sessions_expires_idx on sessions (expires_at)`.execute(db)
  await sql`create index audit_events_actor_idx on audit_events (actor_id, seq desc)`.execute(db)
  await sql`create index audit_events_action_idx on audit_events (action, seq desc)`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Leash migrations are forward-only.')
}
