/**
 * The connector contract: what every provider under connectors/ produces and accepts.
 *
 * A connector turns one provider's API into Leash's normalized model. It follows the
 * get → transform → (ingest does load and cleanup) shape: a scan is an async stream of
 * events, batches of normalized identities among them, so an estate is never held in
 * memory whole. Everything a provider could not read is reported as a ScanProblem and
 * leaves the affected data "unknown"; it never turns into a finding or a deletion.
 */
import type { z } from 'zod'

export const PROVIDER_NAMES = ['aws', 'openai', 'anthropic', 'azure', 'github', 'vault', 'gcp'] as const
/** Extend PROVIDER_NAMES (and the registry) when a provider folder is added. */
export type ProviderName = (typeof PROVIDER_NAMES)[number]

export const IDENTITY_KINDS = [
  'user',
  'role',
  'application',
  'service_principal',
  'managed_identity',
  'agent_identity',
  'agent_blueprint',
  'agent_user',
  'service_account',
  'app_installation',
  'token',
  'api_key',
  'deploy_key',
  'secret',
] as const
export type IdentityKind = (typeof IDENTITY_KINDS)[number]

export const CREDENTIAL_TYPES = [
  'access_key',
  'console_password',
  'client_secret',
  'certificate',
  'token',
  'api_key',
  'admin_key',
  'deploy_key',
  'service_account_key',
  'secret_value',
  'secret_id',
] as const
export type CredentialType = (typeof CREDENTIAL_TYPES)[number]

/** Ordered from least to most power; rules compare by index. */
export const ACCESS_LEVELS = ['list', 'read', 'tagging', 'write', 'permissions_management', 'admin'] as const
export type AccessLevel = (typeof ACCESS_LEVELS)[number]

export const AGENT_PLATFORMS = [
  'bedrock',
  'bedrock_agentcore',
  'sagemaker',
  'entra_agent_id',
  'azure_openai',
  'vertex_ai',
  'openai',
  'anthropic',
  'github_copilot',
  'other_ai',
] as const
export type AgentPlatform = (typeof AGENT_PLATFORMS)[number]

/** The unit whose completeness decides whether unseen identities may be retired. */
export interface ScanScope {
  /** AWS account id, Entra tenant id, GCP project, GitHub org, … */
  accountId: string
  kind: 'account' | 'tenant' | 'project' | 'organization' | 'vault' | 'workspace'
  displayName?: string
}

export interface NormalizedCredential {
  /** Key id, credential key id, or a fingerprint. Never the secret value. */
  externalId: string
  type: CredentialType
  displayName: string | null
  status: 'active' | 'inactive' | 'expired'
  createdAt: Date | null
  expiresAt: Date | null
  /** null with lastUsedKnown=false means "could not be read", not "never used". */
  lastUsedAt: Date | null
  lastUsedKnown: boolean
  lastRotatedAt: Date | null
  /** Rotation configured at the provider (e.g. Secrets Manager rotation), null when not applicable. */
  rotationEnabled: boolean | null
  /** A long-lived static secret (as opposed to a short-lived or federated one). */
  isStatic: boolean
  attributes: Record<string, unknown>
}

export interface NormalizedEntitlement {
  /** Provider action or permission, e.g. `s3:PutObject`, `Application.ReadWrite.All`, `roles/editor`. */
  action: string
  /** Resource scope, `*` for everything. */
  resource: string
  accessLevel: AccessLevel
  /** Where the right comes from. */
  sourceKind: 'managed_policy' | 'inline_policy' | 'group_policy' | 'role_assignment' | 'app_role' | 'grant' | 'binding' | 'scope'
  /** Policy ARN, role name, grant id: what to change to take this right away. */
  sourceRef: string
  /** Granted under a condition (e.g. IAM Condition block) we did not evaluate. */
  conditional: boolean
}

export interface OwnerHint {
  /** Email, UPN, login or team name. */
  ref: string
  kind: 'person' | 'team' | 'group' | 'unknown'
  role: 'owner' | 'sponsor' | 'creator' | 'last_user'
  /** How it was learned: a tag, the provider's own owner field, or inferred from activity. */
  source: 'tag' | 'provider' | 'inferred'
  displayName: string | null
  /** false = left or disabled; null = the provider cannot tell. */
  active: boolean | null
  /** The owner can add credentials to this identity (e.g. an Entra application owner). */
  canAddCredentials: boolean
}

export interface AgentSignal {
  /** Stable id, e.g. `aws.trust.bedrock`. */
  id: string
  platform: AgentPlatform | null
  /** 0..1: how strongly this signal alone says "AI agent". */
  weight: number
  reason: string
  evidence: Record<string, unknown>
}

export interface EscalationPath {
  id: string
  title: string
  permissions: string[]
}

export interface NormalizedIdentity {
  /** ARN, object id, resource name: unique within the source. */
  externalId: string
  kind: IdentityKind
  displayName: string
  scope: ScanScope
  status: 'active' | 'disabled'
  createdAt: Date | null
  lastUsedAt: Date | null
  /** false when usage could not be read or the provider has no usage data. */
  lastUsedKnown: boolean
  tags: Record<string, string>
  /** Provider-specific, non-secret detail shown on the detail page (path, trust policy, …). */
  attributes: Record<string, unknown>
  consoleUrl: string | null
  credentials: NormalizedCredential[]
  entitlements: NormalizedEntitlement[]
  owners: OwnerHint[]
  agentSignals: AgentSignal[]
  escalationPaths: EscalationPath[]
  /** Services or permissions granted but not used in the usage window; null when no usage data. */
  unusedGrants: { name: string; lastUsedAt: Date | null }[] | null
  /** Environment from tags/naming, for NHI8 (prod and non-prod on one identity). */
  environments: ('production' | 'non_production')[]
  /** Distinct workloads or agents seen using this identity, for NHI9. */
  workloads: string[]
  monitoring: {
    /** Whether the source can see sign-in or usage logs for this identity. */
    usageData: 'available' | 'unavailable' | 'unknown'
    /** For agent runtimes: is invocation logging on? null when not applicable or unknown. */
    runtimeLogging: boolean | null
  }
  /** A static secret is used where federation or a managed identity is possible (NHI7). */
  federationPossible: boolean
  /**
   * Parts of this identity that could not be read (missing permission, failed call). Rules
   * that depend on such a part answer "unknown" naming the permission, never a failing finding.
   */
  unreadable: UnreadablePart[]
}

export interface UnreadablePart {
  field: 'credentials' | 'usage' | 'entitlements' | 'owners' | 'tags' | 'unused_grants'
  operation: string
  permission: string | null
}

/** A part of the provider Leash could not read. Shown in plain words; never a finding. */
export interface ScanProblem {
  scope: ScanScope | null
  /** The API call that failed, e.g. `iam:GetAccountAuthorizationDetails`. */
  operation: string
  /** The permission that was missing, when the failure was an authorization error. */
  permission: string | null
  message: string
  /** What the user can do about it. */
  remedy: string
  /** Fatal for the scope: the scope is incomplete and nothing in it may be retired. */
  fatalForScope: boolean
}

export type ScanEvent =
  | { type: 'scope_started'; scope: ScanScope }
  | { type: 'batch'; scope: ScanScope; identities: NormalizedIdentity[] }
  | { type: 'problem'; problem: ScanProblem }
  /** complete=false when any part of the scope could not be read: nothing in it is retired. */
  | { type: 'scope_finished'; scope: ScanScope; complete: boolean }

export interface ApiCallCounter {
  record(operation: string): void
  readonly total: number
  readonly byOperation: Readonly<Record<string, number>>
}

export interface ScanContext<Settings> {
  sourceName: string
  settings: Settings
  signal: AbortSignal
  apiCalls: ApiCallCounter
  now: Date
}

export interface PermissionCheck {
  permission: string
  status: 'present' | 'missing' | 'unknown'
  detail: string
}

/** What a revocation targets: an identity, or one of its credentials. */
export interface RevocationTarget {
  identity: {
    externalId: string
    kind: IdentityKind
    accountId: string
    displayName: string
    attributes: Record<string, unknown>
  }
  credential: { externalId: string; type: CredentialType; status: string } | null
}

export interface PlannedCall {
  /** The provider call, e.g. `iam:UpdateAccessKey`. */
  operation: string
  parameters: Record<string, unknown>
  /** What it changes, in plain words. */
  effect: string
}

export interface RevocationPlan {
  actionId: string
  summary: string
  calls: PlannedCall[]
  reversible: boolean
  /** Action that undoes this one, when reversible. */
  undoActionId: string | null
  /** Things Leash will not do, and who can (e.g. certificate removal needs a proof token). */
  caveats: string[]
}

export interface ExecutedCall {
  operation: string
  parameters: Record<string, unknown>
  ok: boolean
  /** Provider's answer, reduced to non-secret fields. */
  response: Record<string, unknown> | null
  error: string | null
  at: string
}

export interface ExecutionResult {
  calls: ExecutedCall[]
  /** Whether every call succeeded (a no-op because already done counts as success). */
  ok: boolean
  error: string | null
}

export interface VerificationResult {
  verified: boolean
  /** What the provider says now, in plain words. */
  observed: string
}

export interface RevocationAction<Settings> {
  id: string
  title: string
  appliesTo(target: RevocationTarget): boolean
  /** true when a later action can undo this one (e.g. reactivate an access key). */
  reversible: boolean
  /** Destructive actions are only offered after the grace period of their reversible step. */
  destructive: boolean
  plan(ctx: ActionContext<Settings>, target: RevocationTarget): Promise<RevocationPlan>
  /** Must be idempotent: running it twice acts once. */
  execute(ctx: ActionContext<Settings>, target: RevocationTarget): Promise<ExecutionResult>
  /** Re-reads the provider to confirm the result. */
  verify(ctx: ActionContext<Settings>, target: RevocationTarget): Promise<VerificationResult>
}

export interface ActionContext<Settings> {
  sourceName: string
  settings: Settings
  signal: AbortSignal
  apiCalls: ApiCallCounter
}

/** A running local stand-in of a provider, speaking its real wire format. */
export interface RunningStandIn<Settings> {
  /** Source settings that point the official SDK at this stand-in. */
  settings: Settings
  /** Environment variables the SDK's credential chain needs for the stand-in (fake keys). */
  env: Record<string, string>
  /** Counts of what the seed declares, for tests and `scan --demo` to check against. */
  declared: { identities: number; agents: number; credentials: number }
  /**
   * People the seeded organisation treats as having left, when the provider itself cannot say
   * so (e.g. an AWS owner tag). The demo writes them into the `departed_owners` setting.
   */
  departedOwners?: readonly string[]
  stop(): Promise<void>
}

export interface Provider<Settings = unknown> {
  name: ProviderName
  displayName: string
  /** Validates non-secret settings from config or the Sources page. */
  settingsSchema: z.ZodType<Settings>
  scan(ctx: ScanContext<Settings>): AsyncIterable<ScanEvent>
  testConnection(ctx: ScanContext<Settings>): Promise<PermissionCheck[]>
  revocationActions: RevocationAction<Settings>[]
  startStandIn(options: { seed: 'demo' | 'test' | { identities: number }; port?: number }): Promise<RunningStandIn<Settings>>
}
