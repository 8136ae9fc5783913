import { sql, type Kysely } from 'kysely'

/**
 * Workflow columns for ownership claims and revocations (issue 7, part B). Frozen.
 *
 * - revocations: who rejected or cancelled a request and why; the link from an undo back to
 *   what it undoes; an execution lease so a worker that died mid-execution can be taken over
 *   (and two live workers never both act); what remains after a partial execution.
 * - claims: when a confirmed ownership ended (handed over, released), so "the current owner"
 *   is one row and the history stays.
 * The partial unique indexes make the database, not the code, refuse duplicate open requests.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('revocations')
    .addColumn('decided_by', 'uuid', (c) => c.references('users.id'))
    .addColumn('decided_at', 'timestamptz')
    .addColumn('decision_reason', 'text')
    .addColumn('undo_of_revocation_id', 'uuid', (c) => c.references('revocations.id'))
    .addColumn('lease_until', 'timestamptz')
    .addColumn('remaining', 'jsonb')
    .execute()
  // One open request per target and action: a second click or a second operator gets the first request.
  await sql`create unique index revocations_one_open_per_target on revocations
    (identity_id, coalesce(credential_id, 0), action_id) where status in ('pending_approval','approved','executing')`.execute(db)
  await sql`create index revocations_batch_idx on revocations (batch_id) where batch_id is not null`.execute(db)
  await sql`create index revocations_requester_idx on revocations (requested_by_user_id, created_at desc)`.execute(db)

  await db.schema
    .alterTable('claims')
    .addColumn('ended_at', 'timestamptz')
    .addColumn('ended_reason', 'text')
    .execute()
  // At most one current owner by claim per identity, one open claim per person and identity,
  // and one open handover per identity.
  await sql`create unique index claims_one_current_owner on claims (identity_id)
    where status in ('confirmed','accepted') and ended_at is null`.execute(db)
  await sql`create unique index claims_one_pending_claim_per_user on claims (identity_id, requested_by)
    where status = 'pending' and kind = 'claim'`.execute(db)
  await sql`create unique index claims_one_pending_handover on claims (identity_id)
    where status = 'pending' and kind = 'handover'`.execute(db)
  await sql`create index claims_to_user_idx on claims (to_user_id, status) where to_user_id is not null`.execute(db)
  await sql`create index claims_requested_by_idx on claims (requested_by, status)`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Leash migrations are forward-only.')
}
