/**
 * The TypeScript view of the tables the migrations create. `db/schema.test.ts` compares it
 * with the live database, so the two cannot drift apart unnoticed.
 *
 * Conventions (Kysely's): Generated<T> for values the database makes, `T | null` for
 * nullable columns, ColumnType<Select, Insert, Update> where they differ.
 */
import type { ColumnType, Generated, GeneratedAlways, Insertable, Selectable, Updateable } from 'kysely'

type Timestamp = ColumnType<Date, Date | string, Date | string>
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>
/** jsonb: objects go in (serialized by the query layer), parsed objects come out. */
export type Json<T = unknown> = ColumnType<T, string, string>
type GeneratedJson<T = unknown> = ColumnType<T, string | undefined, string>

export type ScanStatus = 'queued' | 'running' | 'succeeded' | 'partial' | 'failed' | 'cancelled'
export type IdentityStatus = 'active' | 'disabled' | 'revoked' | 'gone'
export type CredentialStatus = 'active' | 'inactive' | 'expired' | 'revoked' | 'gone'
export type Dimension = 'ownership' | 'privilege' | 'credential_age' | 'monitoring'
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info'
export type FindingStatus = 'open' | 'resolved' | 'accepted' | 'unknown'
export type OwnerStatus = 'valid' | 'invalid' | 'none' | 'unknown'
export type Role = 'viewer' | 'owner' | 'security_lead' | 'operator' | 'admin'
export type RevocationStatus =
  | 'pending_approval'
  | 'approved'
  | 'rejected'
  | 'expired'
  | 'executing'
  | 'verified'
  | 'failed'
  | 'partial'
  | 'undone'
  | 'cancelled'
export type ChangeType =
  | 'identity_new'
  | 'identity_gone'
  | 'identity_returned'
  | 'status_changed'
  | 'credential_added'
  | 'credential_removed'
  | 'credential_status_changed'
  | 'privilege_gained'
  | 'privilege_lost'
  | 'owner_changed'
  | 'agent_classification_changed'

export interface SourcesTable {
  id: Generated<string>
  provider: string
  name: string
  settings: GeneratedJson<Record<string, unknown>>
  credential_ref: GeneratedJson<Record<string, unknown>>
  schedule: Generated<string>
  enabled: Generated<boolean>
  is_demo: Generated<boolean>
  origin: Generated<string>
  thresholds: GeneratedJson<Record<string, unknown>>
  created_at: GeneratedTimestamp
  updated_at: GeneratedTimestamp
}

export interface ScanRunsTable {
  id: Generated<string>
  source_id: string
  status: Generated<ScanStatus>
  trigger: Generated<string>
  requested_by: string | null
  queued_at: GeneratedTimestamp
  started_at: Timestamp | null
  finished_at: Timestamp | null
  heartbeat_at: Timestamp | null
  worker_id: string | null
  identities_seen: Generated<number>
  credentials_seen: Generated<number>
  entitlements_seen: Generated<number>
  identities_new: Generated<number>
  identities_retired: Generated<number>
  api_calls: Generated<number>
  api_calls_by_operation: GeneratedJson<Record<string, number>>
  errors: GeneratedJson<unknown[]>
  retire_warning: Json<Record<string, unknown>> | null
  summary: GeneratedJson<Record<string, unknown>>
  job_id: string | null
  attempt: Generated<number>
  retry_of: string | null
}

export interface ScanScheduleSlotsTable {
  source_id: string
  slot_time: Timestamp
  claimed_by: string
  claimed_at: GeneratedTimestamp
  scan_run_id: string | null
  outcome: Generated<'queued' | 'skipped_active'>
}

export interface ScanScopesTable {
  scan_run_id: string
  account_id: string
  status: 'running' | 'complete' | 'incomplete'
  identities_seen: Generated<number>
  started_at: GeneratedTimestamp
  finished_at: Timestamp | null
}

/**
 * An identity as readers see it: the view `identities`, which joins what ingest records
 * (identity_records) with what scoring decides (identity_posture) (docs/decisions/043). Low-volume
 * writes through the view reach the right table by its INSTEAD OF triggers; bulk writers write the
 * tables themselves.
 */
export interface IdentitiesTable extends IdentityRecordsTable, Omit<IdentityPostureTable, 'identity_id' | 'provider'> {
  /** identity_posture.identity_id: keyset conditions on posture sorts compare it, to use that table's indexes. */
  posture_identity_id: Generated<number>
}

/** What ingest records about an identity. */
export interface IdentityRecordsTable {
  id: Generated<number>
  provider: string
  source_id: string
  kind: string
  external_id: string
  display_name: string
  account_id: string
  tags: GeneratedJson<Record<string, string>>
  attributes: GeneratedJson<Record<string, unknown>>
  console_url: string | null
  created_at: Timestamp | null
  last_used_at: Timestamp | null
  last_used_known: Generated<boolean>
  status: Generated<IdentityStatus>
  status_changed_at: Timestamp | null
  posture_inputs: GeneratedJson<Record<string, unknown>>
  agent_reasons: GeneratedJson<unknown[]>
  first_seen_scan_id: string | null
  last_seen_scan_id: string | null
  first_seen_at: GeneratedTimestamp
  last_seen_at: GeneratedTimestamp
  data_hash: string | null
  credentials_hash: string | null
  entitlements_hash: string | null
  owners_hash: string | null
}

/** What scoring decides about an identity, one narrow row each (docs/decisions/043). */
export interface IdentityPostureTable {
  identity_id: number
  /** A copy of the record's provider (it never changes), for the provider-and-risk index. */
  provider: string
  classified_is_agent: Generated<boolean>
  agent_confidence: Generated<number>
  agent_platform: string | null
  agent_override: 'agent' | 'not_agent' | null
  agent_override_by: string | null
  agent_override_at: Timestamp | null
  agent_override_reason: string | null
  is_agent: Generated<boolean>
  owner_ref: string | null
  owner_kind: string | null
  owner_source: 'tag' | 'provider' | 'claim' | 'inferred' | null
  owner_status: Generated<OwnerStatus>
  risk_score: Generated<number>
  score_ownership: Generated<number>
  score_privilege: Generated<number>
  score_credential_age: Generated<number>
  score_monitoring: Generated<number>
  max_access_level: string | null
  credential_count: Generated<number>
  oldest_credential_at: Timestamp | null
  needs_scoring: Generated<boolean>
}

/** What identity search matches, one row per identity, kept by triggers on identities (docs/decisions/039). */
export interface IdentitySearchTextTable {
  identity_id: number
  /** leash_identity_search_text(display_name, external_id): lower(display_name || E'\n' || external_id) */
  search_text: string
}

export interface IdentityOwnersTable {
  identity_id: number
  owner_ref: string
  role: string
  kind: string
  source: string
  display_name: string | null
  active: boolean | null
  can_add_credentials: Generated<boolean>
}

export interface CredentialsTable {
  id: Generated<number>
  identity_id: number
  external_id: string
  type: string
  display_name: string | null
  status: Generated<CredentialStatus>
  created_at: Timestamp | null
  expires_at: Timestamp | null
  last_used_at: Timestamp | null
  last_used_known: Generated<boolean>
  last_rotated_at: Timestamp | null
  rotation_enabled: boolean | null
  is_static: Generated<boolean>
  attributes: GeneratedJson<Record<string, unknown>>
  first_seen_scan_id: string | null
  last_seen_scan_id: string | null
  first_seen_at: GeneratedTimestamp
  last_seen_at: GeneratedTimestamp
}

export interface EntitlementsTable {
  id: Generated<number>
  identity_id: number
  action: string
  resource: string
  access_level: string
  source_kind: string
  source_ref: string
  conditional: Generated<boolean>
  last_seen_scan_id: string | null
  /** Computed by PostgreSQL: whether a rule or the agent classifier reads this grant (docs/decisions/044). */
  notable: GeneratedAlways<boolean>
}

export interface IdentityChangesTable {
  id: Generated<number>
  identity_id: number
  source_id: string
  scan_run_id: string | null
  change_type: ChangeType
  details: GeneratedJson<Record<string, unknown>>
  occurred_at: GeneratedTimestamp
}

export interface FindingsTable {
  id: Generated<number>
  identity_id: number
  credential_id: number | null
  subject_key: Generated<string>
  rule_id: string
  dimension: Dimension
  severity: Severity
  nhi: string | null
  status: Generated<FindingStatus>
  evidence: GeneratedJson<Record<string, unknown>> // json, not jsonb: written often, read whole
  first_seen_at: GeneratedTimestamp
  last_seen_at: GeneratedTimestamp
  resolved_at: Timestamp | null
  accepted_until: Timestamp | null
  accepted_reason: string | null
  accepted_by: string | null
}

export interface IdentityScoresTable {
  identity_id: number
  risk_score: number
  breakdown: Json<Record<string, unknown>>
  computed_at: GeneratedTimestamp
  /** When a change to thresholds or owners marked the identity to be assessed again (docs/decisions/037). */
  reassess_after: ColumnType<Date | null, Date | null | undefined, Date | null>
}

export interface PostureSnapshotsTable {
  id: Generated<number>
  taken_at: GeneratedTimestamp
  source_id: string | null
  scan_run_id: string | null
  identities: number
  agents: number
  open_findings: number
  orphans: number
  mean_risk: number
  posture_score: number
  aggregates: Json<Record<string, unknown>>
}

export interface SettingsTable {
  key: string
  value: Json<unknown>
  updated_at: GeneratedTimestamp
  updated_by: string | null
}

export interface ThresholdOverridesTable {
  id: Generated<number>
  scope_type: 'source' | 'tag'
  scope_value: string
  threshold: string
  value: Json<unknown>
}

/**
 * Scopes of what the rules read that changed, waiting for the next scoring pass to mark their
 * identities (scoring/scope-changes.ts): a threshold override's source or tag, an owner
 * reference (departed owners, a disabled user), the claims a user holds.
 */
export interface ScoringScopeChangesTable {
  id: Generated<number>
  scope_type: 'source' | 'tag' | 'owner' | 'claim_holder'
  scope_value: string
  requested_at: GeneratedTimestamp
}

export interface UsersTable {
  id: Generated<string>
  username: string
  email: string | null
  display_name: string
  role: Role
  password_hash: string | null
  must_change_password: Generated<boolean>
  oidc_issuer: string | null
  oidc_subject: string | null
  team: string | null
  disabled_at: Timestamp | null
  created_at: GeneratedTimestamp
  last_sign_in_at: Timestamp | null
}

export interface SessionsTable {
  id_hash: string
  user_id: string
  created_at: GeneratedTimestamp
  last_seen_at: GeneratedTimestamp
  expires_at: Timestamp
  ip: string | null
  user_agent: string | null
}

export interface ApiTokensTable {
  id: Generated<string>
  name: string
  token_hash: string
  token_prefix: string
  scopes: Json<string[]>
  created_by: string
  created_at: GeneratedTimestamp
  expires_at: Timestamp
  last_used_at: Timestamp | null
  revoked_at: Timestamp | null
}

export interface AuthThrottleTable {
  key: string
  failures: Generated<number>
  window_started_at: GeneratedTimestamp
  locked_until: Timestamp | null
}

export interface OidcLoginStatesTable {
  state_hash: string
  code_verifier: string
  nonce: string
  redirect_to: string
  created_at: GeneratedTimestamp
}

export interface ClaimsTable {
  id: Generated<string>
  identity_id: number
  kind: 'claim' | 'handover'
  requested_by: string
  to_user_id: string | null
  reason: string
  status: Generated<'pending' | 'confirmed' | 'rejected' | 'accepted' | 'declined' | 'cancelled'>
  decided_by: string | null
  decided_at: Timestamp | null
  decision_reason: string | null
  created_at: GeneratedTimestamp
  /** When a confirmed ownership ended (handed over or released), and why (2026-11-21T0140). */
  ended_at: Timestamp | null
  ended_reason: string | null
}

export interface RevocationsTable {
  id: Generated<string>
  identity_id: number
  credential_id: number | null
  action_id: string
  batch_id: string | null
  requested_by_user_id: string | null
  requested_by_token_id: string | null
  reason: string
  plan: Json<Record<string, unknown>>
  impact: 'normal' | 'high'
  impact_reasons: GeneratedJson<string[]>
  approval_required: boolean
  status: RevocationStatus
  approved_by: string | null
  approved_at: Timestamp | null
  approval_expires_at: Timestamp | null
  idempotency_key: string
  attempts: Generated<number>
  provider_calls: GeneratedJson<unknown[]>
  verification: Json<Record<string, unknown>> | null
  error: string | null
  executed_at: Timestamp | null
  verified_at: Timestamp | null
  undo_until: Timestamp | null
  undone_by_revocation_id: string | null
  created_at: GeneratedTimestamp
  updated_at: GeneratedTimestamp
  /** Who rejected or cancelled the request, when and why (2026-11-21T0140). */
  decided_by: string | null
  decided_at: Timestamp | null
  decision_reason: string | null
  /** Set on an undo request: the revocation it undoes. */
  undo_of_revocation_id: string | null
  /** Execution lease: a worker that died mid-execution can be taken over once it passes. */
  lease_until: Timestamp | null
  /** After a partial execution: what is still to do, in plain words and calls. */
  remaining: Json<Record<string, unknown>> | null
}

export interface AuditEventsTable {
  seq: Generated<number>
  occurred_at: Timestamp
  actor_type: string
  actor_id: string | null
  actor_display: string | null
  action: string
  object_type: string | null
  object_id: string | null
  before: Json<unknown> | null
  after: Json<unknown> | null
  reason: string | null
  ip: string | null
  prev_hash: string
  hash: string
}

export interface Database {
  sources: SourcesTable
  scan_runs: ScanRunsTable
  scan_scopes: ScanScopesTable
  scan_schedule_slots: ScanScheduleSlotsTable
  identities: IdentitiesTable
  identity_records: IdentityRecordsTable
  identity_posture: IdentityPostureTable
  identity_owners: IdentityOwnersTable
  identity_search_text: IdentitySearchTextTable
  credentials: CredentialsTable
  entitlements: EntitlementsTable
  identity_changes: IdentityChangesTable
  findings: FindingsTable
  identity_scores: IdentityScoresTable
  posture_snapshots: PostureSnapshotsTable
  settings: SettingsTable
  threshold_overrides: ThresholdOverridesTable
  scoring_scope_changes: ScoringScopeChangesTable
  users: UsersTable
  sessions: SessionsTable
  api_tokens: ApiTokensTable
  auth_throttle: AuthThrottleTable
  oidc_login_states: OidcLoginStatesTable
  claims: ClaimsTable
  revocations: RevocationsTable
  audit_events: AuditEventsTable
}

export type Source = Selectable<SourcesTable>
export type NewSource = Insertable<SourcesTable>
export type SourceUpdate = Updateable<SourcesTable>
export type ScanRun = Selectable<ScanRunsTable>
export type Identity = Selectable<IdentitiesTable>
export type Credential = Selectable<CredentialsTable>
export type Entitlement = Selectable<EntitlementsTable>
export type Finding = Selectable<FindingsTable>
export type PostureSnapshot = Selectable<PostureSnapshotsTable>
export type User = Selectable<UsersTable>
export type Claim = Selectable<ClaimsTable>
export type Revocation = Selectable<RevocationsTable>
export type AuditEvent = Selectable<AuditEventsTable>
