import { sql, type Kysely } from 'kysely'

/**
 * The normalized model every provider writes into. Frozen: later changes are new files.
 * Typed as Kysely<any> and importing nothing from the app, so it never drifts with the code.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create extension if not exists pg_trgm`.execute(db)

  await db.schema
    .createTable('sources')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    // Non-secret settings only (account ids, role names, endpoints). Secrets come from env or the SDK chain.
    .addColumn('settings', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    // Where credentials come from: {"kind":"default_chain"} or {"kind":"env","variables":{...names}}.
    .addColumn('credential_ref', 'jsonb', (c) => c.notNull().defaultTo(sql`'{"kind":"default_chain"}'::jsonb`))
    .addColumn('schedule', 'text', (c) => c.notNull().defaultTo('0 */6 * * *'))
    .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('is_demo', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('origin', 'text', (c) => c.notNull().defaultTo('ui')) // ui | config | demo
    .addColumn('thresholds', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()

  await db.schema
    .createTable('scan_runs')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('source_id', 'uuid', (c) => c.notNull().references('sources.id').onDelete('cascade'))
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('queued').check(sql`status in ('queued','running','succeeded','partial','failed','cancelled')`),
    )
    .addColumn('trigger', 'text', (c) => c.notNull().defaultTo('schedule')) // schedule | manual | cli | demo
    .addColumn('requested_by', 'text')
    .addColumn('queued_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .addColumn('heartbeat_at', 'timestamptz')
    .addColumn('worker_id', 'text')
    .addColumn('identities_seen', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('credentials_seen', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('entitlements_seen', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('identities_new', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('identities_retired', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('api_calls', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('api_calls_by_operation', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    // [{scope, operation, permission, message, remedy, fatalForScope}] in plain words.
    .addColumn('errors', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    // Set when a cleanup would retire more than half a scope: nothing retired until a person confirms.
    .addColumn('retire_warning', 'jsonb')
    .addColumn('summary', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute()
  await db.schema.createIndex('scan_runs_source_queued_idx').on('scan_runs').columns(['source_id', 'queued_at desc']).execute()
  // At most one active run per source: the database, not the code, guarantees "never scanned twice at once".
  await sql`create unique index scan_runs_one_active_per_source on scan_runs (source_id) where status in ('queued','running')`.execute(
    db,
  )

  await db.schema
    .createTable('scan_scopes')
    .addColumn('scan_run_id', 'uuid', (c) => c.notNull().references('scan_runs.id').onDelete('cascade'))
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('running','complete','incomplete')`))
    .addColumn('identities_seen', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .addPrimaryKeyConstraint('scan_scopes_pk', ['scan_run_id', 'account_id'])
    .execute()

  await db.schema
    .createTable('identities')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('source_id', 'uuid', (c) => c.notNull().references('sources.id').onDelete('cascade'))
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('external_id', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('tags', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('attributes', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('console_url', 'text')
    .addColumn('created_at', 'timestamptz')
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('last_used_known', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('active').check(sql`status in ('active','disabled','revoked','gone')`),
    )
    .addColumn('status_changed_at', 'timestamptz')
    // Normalized posture inputs the rules read (escalation paths, unused grants, environments, workloads, monitoring).
    .addColumn('posture_inputs', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    // AI-agent classification: the classifier's view, a human override, and the effective answer.
    .addColumn('classified_is_agent', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('agent_confidence', 'real', (c) => c.notNull().defaultTo(0))
    .addColumn('agent_platform', 'text')
    .addColumn('agent_reasons', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('agent_override', 'text', (c) => c.check(sql`agent_override in ('agent','not_agent')`))
    .addColumn('agent_override_by', 'text')
    .addColumn('agent_override_at', 'timestamptz')
    .addColumn('agent_override_reason', 'text')
    .addColumn('is_agent', 'boolean', (c) => c.notNull().defaultTo(false))
    // Primary owner, denormalized from identity_owners for listing and filtering.
    .addColumn('owner_ref', 'text')
    .addColumn('owner_kind', 'text')
    .addColumn('owner_source', 'text', (c) => c.check(sql`owner_source in ('tag','provider','claim','inferred')`))
    .addColumn('owner_status', 'text', (c) =>
      c.notNull().defaultTo('none').check(sql`owner_status in ('valid','invalid','none','unknown')`),
    )
    // Scores (0..100), denormalized from identity_scores for sorting.
    .addColumn('risk_score', 'smallint', (c) => c.notNull().defaultTo(0))
    .addColumn('score_ownership', 'smallint', (c) => c.notNull().defaultTo(0))
    .addColumn('score_privilege', 'smallint', (c) => c.notNull().defaultTo(0))
    .addColumn('score_credential_age', 'smallint', (c) => c.notNull().defaultTo(0))
    .addColumn('score_monitoring', 'smallint', (c) => c.notNull().defaultTo(0))
    .addColumn('max_access_level', 'text')
    .addColumn('credential_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('oldest_credential_at', 'timestamptz')
    .addColumn('needs_scoring', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('first_seen_scan_id', 'uuid')
    .addColumn('last_seen_scan_id', 'uuid')
    .addColumn('first_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('identities_source_external_id_key', ['source_id', 'external_id'])
    .execute()
  // Indexes for the dashboard at a million rows: keyset pagination by risk and by name, facets, search.
  await sql`create index identities_risk_keyset_idx on identities (risk_score desc, id desc)`.execute(db)
  await sql`create index identities_name_keyset_idx on identities (lower(display_name), id)`.execute(db)
  await sql`create index identities_last_used_idx on identities (last_used_at, id)`.execute(db)
  await sql`create index identities_oldest_credential_idx on identities (oldest_credential_at, id)`.execute(db)
  await sql`create index identities_provider_kind_idx on identities (provider, kind)`.execute(db)
  await sql`create index identities_source_account_idx on identities (source_id, account_id, status)`.execute(db)
  await sql`create index identities_agent_risk_idx on identities (is_agent, risk_score desc, id desc)`.execute(db)
  await sql`create index identities_owner_idx on identities (owner_ref)`.execute(db)
  await sql`create index identities_orphans_idx on identities (risk_score desc, id desc) where is_agent and owner_status in ('none','invalid') and status = 'active'`.execute(
    db,
  )
  await sql`create index identities_needs_scoring_idx on identities (id) where needs_scoring`.execute(db)
  await sql`create index identities_name_trgm_idx on identities using gin (lower(display_name) gin_trgm_ops)`.execute(db)
  await sql`create index identities_external_id_trgm_idx on identities using gin (lower(external_id) gin_trgm_ops)`.execute(db)

  await db.schema
    .createTable('identity_owners')
    .addColumn('identity_id', 'bigint', (c) => c.notNull().references('identities.id').onDelete('cascade'))
    .addColumn('owner_ref', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull()) // owner | sponsor | creator | last_user
    .addColumn('kind', 'text', (c) => c.notNull()) // person | team | group | unknown
    .addColumn('source', 'text', (c) => c.notNull()) // tag | provider | claim | inferred
    .addColumn('display_name', 'text')
    .addColumn('active', 'boolean')
    .addColumn('can_add_credentials', 'boolean', (c) => c.notNull().defaultTo(false))
    .addPrimaryKeyConstraint('identity_owners_pk', ['identity_id', 'owner_ref', 'role', 'source'])
    .execute()

  await db.schema
    .createTable('credentials')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('identity_id', 'bigint', (c) => c.notNull().references('identities.id').onDelete('cascade'))
    .addColumn('external_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text')
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('active').check(sql`status in ('active','inactive','expired','revoked','gone')`),
    )
    .addColumn('created_at', 'timestamptz')
    .addColumn('expires_at', 'timestamptz')
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('last_used_known', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('last_rotated_at', 'timestamptz')
    .addColumn('rotation_enabled', 'boolean')
    .addColumn('is_static', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('attributes', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('first_seen_scan_id', 'uuid')
    .addColumn('last_seen_scan_id', 'uuid')
    .addColumn('first_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('credentials_identity_external_id_key', ['identity_id', 'external_id'])
    .execute()
  await sql`create index credentials_external_id_idx on credentials (lower(external_id))`.execute(db)

  await db.schema
    .createTable('entitlements')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('identity_id', 'bigint', (c) => c.notNull().references('identities.id').onDelete('cascade'))
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('access_level', 'text', (c) =>
      c.notNull().check(sql`access_level in ('list','read','tagging','write','permissions_management','admin')`),
    )
    .addColumn('source_kind', 'text', (c) => c.notNull())
    .addColumn('source_ref', 'text', (c) => c.notNull())
    .addColumn('conditional', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('last_seen_scan_id', 'uuid')
    .execute()
  await sql`create index entitlements_identity_idx on entitlements (identity_id, access_level)`.execute(db)

  await db.schema
    .createTable('identity_changes')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('identity_id', 'bigint', (c) => c.notNull().references('identities.id').onDelete('cascade'))
    .addColumn('source_id', 'uuid', (c) => c.notNull().references('sources.id').onDelete('cascade'))
    .addColumn('scan_run_id', 'uuid', (c) => c.references('scan_runs.id').onDelete('set null'))
    .addColumn('change_type', 'text', (c) =>
      c
        .notNull()
        .check(
          sql`change_type in ('identity_new','identity_gone','identity_returned','status_changed','credential_added','credential_removed','credential_status_changed','privilege_gained','privilege_lost','owner_changed','agent_classification_changed')`,
        ),
    )
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await sql`create index identity_changes_identity_idx on identity_changes (identity_id, occurred_at desc)`.execute(db)
  await sql`create index identity_changes_scan_idx on identity_changes (scan_run_id)`.execute(db)
  await sql`create index identity_changes_time_idx on identity_changes (occurred_at desc)`.execute(db)

  await db.schema
    .createTable('findings')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('identity_id', 'bigint', (c) => c.notNull().references('identities.id').onDelete('cascade'))
    .addColumn('credential_id', 'bigint', (c) => c.references('credentials.id').onDelete('cascade'))
    // '' for identity-level findings, the credential's external id otherwise: one finding per rule and subject.
    .addColumn('subject_key', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('rule_id', 'text', (c) => c.notNull())
    .addColumn('dimension', 'text', (c) =>
      c.notNull().check(sql`dimension in ('ownership','privilege','credential_age','monitoring')`),
    )
    .addColumn('severity', 'text', (c) => c.notNull().check(sql`severity in ('critical','high','medium','low','info')`))
    .addColumn('nhi', 'text') // OWASP NHI Top 10 item, e.g. NHI5
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('open').check(sql`status in ('open','resolved','accepted','unknown')`),
    )
    .addColumn('evidence', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('first_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('resolved_at', 'timestamptz')
    .addColumn('accepted_until', 'timestamptz')
    .addColumn('accepted_reason', 'text')
    .addColumn('accepted_by', 'text')
    .addUniqueConstraint('findings_identity_rule_subject_key', ['identity_id', 'rule_id', 'subject_key'])
    .execute()
  await sql`create index findings_open_idx on findings (dimension, severity) where status = 'open'`.execute(db)
  await sql`create index findings_rule_idx on findings (rule_id, status)`.execute(db)

  await db.schema
    .createTable('identity_scores')
    .addColumn('identity_id', 'bigint', (c) => c.primaryKey().references('identities.id').onDelete('cascade'))
    .addColumn('risk_score', 'smallint', (c) => c.notNull())
    // Every point traced to the findings behind it.
    .addColumn('breakdown', 'jsonb', (c) => c.notNull())
    .addColumn('computed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()

  await db.schema
    .createTable('posture_snapshots')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('taken_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('source_id', 'uuid', (c) => c.references('sources.id').onDelete('cascade')) // null = whole estate
    .addColumn('scan_run_id', 'uuid', (c) => c.references('scan_runs.id').onDelete('set null'))
    .addColumn('identities', 'integer', (c) => c.notNull())
    .addColumn('agents', 'integer', (c) => c.notNull())
    .addColumn('open_findings', 'integer', (c) => c.notNull())
    .addColumn('orphans', 'integer', (c) => c.notNull())
    .addColumn('mean_risk', 'real', (c) => c.notNull())
    .addColumn('posture_score', 'real', (c) => c.notNull())
    // Counts by dimension, severity, provider, platform, owner; credential-age histogram; MTTR.
    .addColumn('aggregates', 'jsonb', (c) => c.notNull())
    .execute()
  await sql`create index posture_snapshots_taken_idx on posture_snapshots (source_id, taken_at desc)`.execute(db)

  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'jsonb', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_by', 'text')
    .execute()

  // Threshold overrides per source or per tag (key=value), without code changes.
  await db.schema
    .createTable('threshold_overrides')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('scope_type', 'text', (c) => c.notNull().check(sql`scope_type in ('source','tag')`))
    .addColumn('scope_value', 'text', (c) => c.notNull())
    .addColumn('threshold', 'text', (c) => c.notNull())
    .addColumn('value', 'jsonb', (c) => c.notNull())
    .addUniqueConstraint('threshold_overrides_key', ['scope_type', 'scope_value', 'threshold'])
    .execute()

  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('email', 'text')
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) =>
      c.notNull().check(sql`role in ('viewer','owner','security_lead','operator','admin')`),
    )
    .addColumn('password_hash', 'text')
    .addColumn('must_change_password', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('oidc_issuer', 'text')
    .addColumn('oidc_subject', 'text')
    .addColumn('team', 'text')
    .addColumn('disabled_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_sign_in_at', 'timestamptz')
    .addUniqueConstraint('users_oidc_key', ['oidc_issuer', 'oidc_subject'])
    .execute()

  await db.schema
    .createTable('sessions')
    // SHA-256 of the session token; the token itself is only ever in the cookie.
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .execute()
  await db.schema.createIndex('sessions_user_idx').on('sessions').column('user_id').execute()

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('token_prefix', 'text', (c) => c.notNull())
    .addColumn('scopes', 'jsonb', (c) => c.notNull())
    .addColumn('created_by', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .execute()

  await db.schema
    .createTable('claims')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('identity_id', 'bigint', (c) => c.notNull().references('identities.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('claim','handover')`))
    .addColumn('requested_by', 'uuid', (c) => c.notNull().references('users.id'))
    // For a handover: who is asked to take the identity.
    .addColumn('to_user_id', 'uuid', (c) => c.references('users.id'))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('pending').check(sql`status in ('pending','confirmed','rejected','accepted','declined','cancelled')`),
    )
    .addColumn('decided_by', 'uuid', (c) => c.references('users.id'))
    .addColumn('decided_at', 'timestamptz')
    .addColumn('decision_reason', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema.createIndex('claims_identity_idx').on('claims').columns(['identity_id', 'status']).execute()

  await db.schema
    .createTable('revocations')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('identity_id', 'bigint', (c) => c.notNull().references('identities.id').onDelete('cascade'))
    .addColumn('credential_id', 'bigint', (c) => c.references('credentials.id').onDelete('set null'))
    .addColumn('action_id', 'text', (c) => c.notNull())
    // Groups the revocations of one kill-switch request.
    .addColumn('batch_id', 'uuid')
    .addColumn('requested_by_user_id', 'uuid', (c) => c.references('users.id'))
    .addColumn('requested_by_token_id', 'uuid', (c) => c.references('api_tokens.id'))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('plan', 'jsonb', (c) => c.notNull())
    .addColumn('impact', 'text', (c) => c.notNull().check(sql`impact in ('normal','high')`))
    .addColumn('impact_reasons', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('approval_required', 'boolean', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .check(
          sql`status in ('pending_approval','approved','rejected','expired','executing','verified','failed','partial','undone','cancelled')`,
        ),
    )
    .addColumn('approved_by', 'uuid', (c) => c.references('users.id'))
    .addColumn('approved_at', 'timestamptz')
    .addColumn('approval_expires_at', 'timestamptz')
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('provider_calls', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('verification', 'jsonb')
    .addColumn('error', 'text')
    .addColumn('executed_at', 'timestamptz')
    .addColumn('verified_at', 'timestamptz')
    .addColumn('undo_until', 'timestamptz')
    .addColumn('undone_by_revocation_id', 'uuid')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema.createIndex('revocations_status_idx').on('revocations').columns(['status', 'created_at']).execute()
  await db.schema.createIndex('revocations_identity_idx').on('revocations').column('identity_id').execute()

  await db.schema
    .createTable('audit_events')
    .addColumn('seq', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
    .addColumn('actor_type', 'text', (c) => c.notNull()) // user | token | system | anonymous
    .addColumn('actor_id', 'text')
    .addColumn('actor_display', 'text')
    .addColumn('action', 'text', (c) => c.notNull()) // e.g. auth.sign_in.failed, revocation.executed
    .addColumn('object_type', 'text')
    .addColumn('object_id', 'text')
    .addColumn('before', 'jsonb')
    .addColumn('after', 'jsonb')
    .addColumn('reason', 'text')
    .addColumn('ip', 'text')
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull().unique())
    .execute()
  await sql`create index audit_events_time_idx on audit_events (occurred_at desc)`.execute(db)
  await sql`create index audit_events_object_idx on audit_events (object_type, object_id)`.execute(db)
  // Append-only, enforced by PostgreSQL for every role that does not own the trigger away.
  await sql`
    create function audit_events_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_events is append-only: % is not allowed', tg_op using errcode = 'insufficient_privilege';
    end $$`.execute(db)
  await sql`create trigger audit_events_no_update_delete before update or delete on audit_events
    for each row execute function audit_events_append_only()`.execute(db)
  await sql`create trigger audit_events_no_truncate before truncate on audit_events
    for each statement execute function audit_events_append_only()`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Leash migrations are forward-only.')
}
