/**
 * transform: Google Cloud IAM records → normalized identities. Pure functions over what the
 * scan fetched (Prowler's habit: fetch once, evaluate only what was fetched). A record without
 * a required field throws, so a malformed page never becomes a malformed row.
 */
import type {
  AgentSignal,
  NormalizedCredential,
  NormalizedEntitlement,
  NormalizedIdentity,
  OwnerHint,
  ScanScope,
  UnreadablePart,
} from '../contract.js'
import { nameSignals } from '../saas-kit/agent-names.js'
import { credential, environmentsFromName, fromIso, identity, latest } from '../saas-kit/identity.js'
import { escalationPaths, roleLevel, VERTEX_ROLES } from './roles.js'

// ---------------------------------------------------------------------------------------------
// Raw API shapes (only the fields Leash reads)
// ---------------------------------------------------------------------------------------------

/** iam v1 ServiceAccount (https://cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts). */
export interface RawServiceAccount {
  name?: string
  projectId?: string
  uniqueId?: string
  email?: string
  displayName?: string
  etag?: string
  description?: string
  oauth2ClientId?: string
  disabled?: boolean
}

/** iam v1 ServiceAccountKey (https://cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts.keys). */
export interface RawKey {
  name?: string
  validAfterTime?: string
  validBeforeTime?: string
  keyAlgorithm?: string
  keyOrigin?: string
  keyType?: string
  disabled?: boolean
  disableReason?: string
  extendedStatus?: { key?: string; value?: string }[]
}

/** The IAM Policy (https://cloud.google.com/iam/docs/reference/rest/v1/Policy). */
export interface RawPolicy {
  version?: number
  etag?: string
  bindings?: { role?: string; members?: string[]; condition?: { title?: string; description?: string; expression?: string } }[]
}

/** Policy Analyzer Activity (policyanalyzer v1 projects.locations.activityTypes.activities/query). */
export interface RawActivity {
  activityType?: string
  fullResourceName?: string
  observationPeriod?: { startTime?: string; endTime?: string }
  activity?: {
    lastAuthenticatedTime?: string
    serviceAccount?: { serviceAccountId?: string; projectNumber?: string; fullResourceName?: string }
    serviceAccountKey?: { serviceAccountId?: string; projectNumber?: string; fullResourceName?: string }
  }
}

/** cloudresourcemanager v3 Project. */
export interface RawProject {
  name?: string
  projectId?: string
  displayName?: string
  state?: string
  parent?: string
  labels?: Record<string, string>
}

/** aiplatform v1 ReasoningEngine (Vertex AI Agent Engine). */
export interface RawReasoningEngine {
  name?: string
  displayName?: string
  description?: string
  createTime?: string
  updateTime?: string
  labels?: Record<string, string>
  spec?: { serviceAccount?: string; identityType?: string; effectiveIdentity?: string; agentFramework?: string }
}

// ---------------------------------------------------------------------------------------------
// Context shared by the transforms
// ---------------------------------------------------------------------------------------------

export interface ProjectInfo {
  projectId: string
  projectNumber: string
  labels: Record<string, string>
  environments: ('production' | 'non_production')[]
  scope: ScanScope
}

export interface Grant {
  role: string
  projectId: string
  conditional: boolean
  conditionTitle: string | null
}

/** Last authentication by service account (unique id or email) and by key id; null = not readable. */
export interface UsageIndex {
  accounts: Map<string, Date>
  keys: Map<string, Date>
  observedSince: Date | null
}

export interface EngineRef {
  name: string
  displayName: string
  location: string
  projectId: string
  identityType: string
  agentFramework: string | null
}

export interface GcpContext {
  now: Date
  /** Every scanned project by id, and by number. */
  projects: Map<string, ProjectInfo>
  projectsByNumber: Map<string, ProjectInfo>
  /** Grants by member (`serviceAccount:email`, `principal://…`) across every scanned project. */
  grants: Map<string, Grant[]>
  /** Projects whose IAM policy could not be read. */
  policyUnreadable: Set<string>
  /** Usage per project; null when Policy Analyzer could not be read there. */
  usage: Map<string, UsageIndex | null>
  usageUnreadable: Map<string, UnreadablePart[]>
  /** Reasoning engines by the identity they run as (lower-cased email or principal). */
  enginesByIdentity: Map<string, EngineRef[]>
}

export const NO_EXPIRY_PREFIX = '9999-'
const EXPOSED_REASONS = new Set(['SERVICE_ACCOUNT_KEY_DISABLE_REASON_EXPOSED', 'SERVICE_ACCOUNT_KEY_DISABLE_REASON_COMPROMISE_DETECTED'])
const EXPOSED_STATUS = new Set([
  'SERVICE_ACCOUNT_KEY_EXTENDED_STATUS_KEY_EXPOSED',
  'SERVICE_ACCOUNT_KEY_EXTENDED_STATUS_KEY_COMPROMISE_DETECTED',
])

export const REASONING_ENGINE_AGENT = /^service-(\d+)@gcp-sa-aiplatform-re\.iam\.gserviceaccount\.com$/i
/** principal://agents.global.org-ORG.system.id.goog/resources/aiplatform/projects/NUMBER/locations/LOC/reasoningEngines/ID */
export const AGENT_PRINCIPAL =
  /^principal:\/\/agents\.global\.(org|proj|project)-([0-9]+)\.system\.id\.goog\/resources\/aiplatform\/projects\/([0-9]+)\/locations\/([a-z0-9-]+)\/reasoningEngines\/([0-9A-Za-z_-]+)$/
/** principalSet://agents.global.org-ORG.system.id.goog/attribute.platformContainer/aiplatform/projects/NUMBER: every agent of a project. */
export const AGENT_PRINCIPAL_SET = /^principalSet:\/\/agents\.global\.(org|proj|project)-([0-9]+)\.system\.id\.goog\/(.+)$/

export function memberKey(member: string): string {
  return member.startsWith('serviceAccount:') ? `serviceAccount:${member.slice('serviceAccount:'.length).toLowerCase()}` : member
}

export function keyIdOf(key: RawKey): string {
  const id = key.name?.split('/').pop()
  if (!id) throw new Error('Google returned a service account key without a name')
  return id
}

/** Indexes the activities of both types by the last segment of their resource name. */
export function indexActivities(accountActivities: RawActivity[], keyActivities: RawActivity[]): UsageIndex {
  const accounts = new Map<string, Date>()
  const keys = new Map<string, Date>()
  let observedSince: Date | null = null
  const put = (map: Map<string, Date>, id: string | undefined, at: Date | null) => {
    if (!id || !at) return
    const prev = map.get(id)
    if (!prev || at > prev) map.set(id, at)
  }
  for (const a of accountActivities) {
    const at = fromIso(a.activity?.lastAuthenticatedTime)
    const resource = a.activity?.serviceAccount?.fullResourceName ?? a.fullResourceName
    put(accounts, resource?.split('/').pop()?.toLowerCase(), at)
    put(accounts, a.activity?.serviceAccount?.serviceAccountId, at)
    const start = fromIso(a.observationPeriod?.startTime)
    if (start && (!observedSince || start < observedSince)) observedSince = start
  }
  for (const a of keyActivities) {
    const at = fromIso(a.activity?.lastAuthenticatedTime)
    const resource = a.activity?.serviceAccountKey?.fullResourceName ?? a.fullResourceName
    put(keys, resource?.split('/').pop(), at)
  }
  return { accounts, keys, observedSince }
}

// ---------------------------------------------------------------------------------------------
// Pieces
// ---------------------------------------------------------------------------------------------

export function environmentsOfProject(projectId: string, labels: Record<string, string>): ('production' | 'non_production')[] {
  const labelled = labels.env ?? labels.environment ?? labels.stage ?? labels.tier ?? ''
  const fromLabel = environmentsFromName(labelled)
  return fromLabel.length ? fromLabel : environmentsFromName(projectId, labels['display-name'])
}

function entitlementsOf(grants: readonly Grant[]): NormalizedEntitlement[] {
  return grants.map((g) => ({
    action: g.role,
    resource: `//cloudresourcemanager.googleapis.com/projects/${g.projectId}`,
    accessLevel: roleLevel(g.role).level,
    sourceKind: 'binding',
    sourceRef: `projects/${g.projectId}#${g.role}${g.conditionTitle ? ` (condition: ${g.conditionTitle})` : ''}`,
    conditional: g.conditional,
  }))
}

function grantSignals(grants: readonly Grant[], prefix: string): AgentSignal[] {
  const vertex = [...new Set(grants.filter((g) => VERTEX_ROLES.has(g.role)).map((g) => g.role))]
  if (!vertex.length) return []
  return [
    {
      id: `${prefix}.grant.vertex_ai`,
      platform: 'vertex_ai',
      weight: 0.55,
      reason: `Granted ${vertex.join(', ')}: it calls Vertex AI models or agents.`,
      evidence: { roles: vertex },
    },
  ]
}

function envUnion(...lists: ('production' | 'non_production')[][]): ('production' | 'non_production')[] {
  const all = new Set(lists.flat())
  return (['production', 'non_production'] as const).filter((e) => all.has(e))
}

function grantEnvironments(grants: readonly Grant[], ctx: GcpContext): ('production' | 'non_production')[] {
  return envUnion(...grants.map((g) => ctx.projects.get(g.projectId)?.environments ?? []))
}

const OWNER_PATTERNS: [RegExp, OwnerHint['role']][] = [
  [
    /\b(?:owner|owned[ _-]by|maintainer|contact)\s*[:=]?\s*([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+|[A-Za-z0-9._-]+-team|team[:=/][A-Za-z0-9._-]+)/i,
    'owner',
  ],
  [/\bteam\s*[:=]\s*([A-Za-z0-9._-]+)/i, 'owner'],
  [/\b(?:created[ _-]by|creator|requested[ _-]by)\s*[:=]?\s*([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+|[A-Za-z0-9._-]+)/i, 'creator'],
]

/** Owner hints from the description conventions `owner: alice@example.com`, `team=payments`, `created by bob@…`. */
export function ownersFromDescription(text: string | undefined): OwnerHint[] {
  if (!text) return []
  const out: OwnerHint[] = []
  for (const [re, role] of OWNER_PATTERNS) {
    const m = re.exec(text)
    const ref = m?.[1]?.replace(/^team[:=/]/i, '')
    if (!ref || out.some((o) => o.ref === ref)) continue
    const isPerson = ref.includes('@') && !/gserviceaccount\.com$/i.test(ref)
    out.push({
      ref,
      kind: isPerson ? 'person' : /team|squad|group/i.test(ref) || re.source.includes('team') ? 'team' : 'unknown',
      role,
      source: 'provider',
      displayName: null,
      active: null,
      canAddCredentials: false,
    })
  }
  return out
}

function usageOf(ctx: GcpContext, projectId: string): { usage: UsageIndex | null; unreadable: UnreadablePart[] } {
  return { usage: ctx.usage.get(projectId) ?? null, unreadable: ctx.usageUnreadable.get(projectId) ?? [] }
}

export function transformKey(key: RawKey, usage: UsageIndex | null, now: Date): NormalizedCredential {
  const id = keyIdOf(key)
  const createdAt = fromIso(key.validAfterTime)
  const expiresAt = key.validBeforeTime?.startsWith(NO_EXPIRY_PREFIX) ? null : fromIso(key.validBeforeTime)
  const extended = (key.extendedStatus ?? []).map((s) => s.key ?? '').filter(Boolean)
  const exposed = EXPOSED_REASONS.has(key.disableReason ?? '') || extended.some((k) => EXPOSED_STATUS.has(k))
  const lastUsedAt = usage?.keys.get(id) ?? null
  return credential({
    externalId: id,
    type: 'service_account_key',
    displayName: `key ${id.slice(0, 8)}…`,
    status: key.disabled ? 'inactive' : expiresAt && expiresAt <= now ? 'expired' : 'active',
    createdAt,
    expiresAt,
    lastUsedAt,
    lastUsedKnown: usage !== null,
    lastRotatedAt: createdAt,
    rotationEnabled: false,
    isStatic: true,
    attributes: {
      keyName: key.name,
      keyAlgorithm: key.keyAlgorithm ?? null,
      keyOrigin: key.keyOrigin ?? null,
      keyType: key.keyType ?? 'USER_MANAGED',
      disabled: key.disabled === true,
      disableReason: key.disableReason ?? null,
      extendedStatus: extended,
      exposed,
      usageObservedSince: usage?.observedSince?.toISOString() ?? null,
    },
  })
}

// ---------------------------------------------------------------------------------------------
// Identities
// ---------------------------------------------------------------------------------------------

export function transformServiceAccount(sa: RawServiceAccount, keys: RawKey[], project: ProjectInfo, ctx: GcpContext): NormalizedIdentity {
  if (!sa.email || !sa.uniqueId)
    throw new Error(`Google returned a service account without email or uniqueId in project ${project.projectId}`)
  const email = sa.email.toLowerCase()
  const projectId = sa.projectId ?? project.projectId
  const grants = ctx.grants.get(`serviceAccount:${email}`) ?? []
  const { usage, unreadable: usageUnreadable } = usageOf(ctx, projectId)
  const credentials = keys.filter((k) => (k.keyType ?? 'USER_MANAGED') === 'USER_MANAGED').map((k) => transformKey(k, usage, ctx.now))
  const engines = ctx.enginesByIdentity.get(email) ?? []
  const signals: AgentSignal[] = []
  if (engines.length)
    signals.push({
      id: 'gcp.runtime.reasoning_engine',
      platform: 'vertex_ai',
      weight: 0.9,
      reason: `Vertex AI Agent Engine runs as this service account (${engines.map((e) => e.displayName).join(', ')}).`,
      evidence: {
        reasoningEngines: engines.map((e) => e.name),
        frameworks: [...new Set(engines.map((e) => e.agentFramework).filter(Boolean))],
      },
    })
  signals.push(...grantSignals(grants, 'gcp'))
  signals.push(
    ...nameSignals('gcp.name.service_account', `${email.split('@')[0]} ${sa.displayName ?? ''} ${sa.description ?? ''}`, 'service account'),
  )
  const accountUsed = usage ? (usage.accounts.get(sa.uniqueId) ?? usage.accounts.get(email) ?? null) : null
  const lastUsedAt = latest(accountUsed, ...credentials.map((c) => c.lastUsedAt))
  const defaultAccount =
    /@(developer|appspot)\.gserviceaccount\.com$/.test(email) || /-compute@developer\.gserviceaccount\.com$/.test(email)
  const unreadable: UnreadablePart[] = [...usageUnreadable]
  for (const pid of ctx.policyUnreadable)
    unreadable.push({
      field: 'entitlements',
      operation: `projects/${pid}:getIamPolicy`,
      permission: 'resourcemanager.projects.getIamPolicy',
    })
  return identity({
    externalId: `projects/${projectId}/serviceAccounts/${email}`,
    kind: 'service_account',
    displayName: sa.displayName?.trim() || email,
    scope: project.scope,
    status: sa.disabled ? 'disabled' : 'active',
    lastUsedAt,
    lastUsedKnown: usage !== null,
    attributes: {
      provider: 'gcp',
      email,
      uniqueId: sa.uniqueId,
      projectId,
      projectNumber: project.projectNumber,
      oauth2ClientId: sa.oauth2ClientId ?? null,
      description: sa.description ?? null,
      defaultServiceAccount: defaultAccount,
      disabled: sa.disabled === true,
      googleManaged: false,
      reasoningEngines: engines.map((e) => e.name),
      usageObservedSince: usage?.observedSince?.toISOString() ?? null,
    },
    consoleUrl: `https://console.cloud.google.com/iam-admin/serviceaccounts/details/${sa.uniqueId}?project=${encodeURIComponent(projectId)}`,
    credentials,
    entitlements: entitlementsOf(grants),
    owners: ownersFromDescription(sa.description),
    agentSignals: signals,
    escalationPaths: escalationPaths(grants),
    environments: envUnion(project.environments, grantEnvironments(grants, ctx), environmentsFromName(email.split('@')[0])),
    workloads: engines.map((e) => e.displayName),
    monitoring: { usageData: usage ? 'available' : 'unavailable', runtimeLogging: null },
    federationPossible: credentials.length > 0,
    unreadable,
  })
}

/** The Agent Engine service agent: Google-managed, seen through engines that run as it or through its grants. */
export function transformServiceAgent(email: string, project: ProjectInfo, ctx: GcpContext): NormalizedIdentity {
  const lower = email.toLowerCase()
  const grants = ctx.grants.get(`serviceAccount:${lower}`) ?? []
  const engines = ctx.enginesByIdentity.get(lower) ?? []
  return identity({
    externalId: `serviceAgent:${lower}`,
    kind: 'service_account',
    displayName: `Vertex AI Agent Engine service agent (${project.projectId})`,
    scope: project.scope,
    attributes: {
      provider: 'gcp',
      email: lower,
      projectId: project.projectId,
      projectNumber: project.projectNumber,
      googleManaged: true,
      serviceAgent: 'aiplatform-re',
      reasoningEngines: engines.map((e) => e.name),
    },
    consoleUrl: `https://console.cloud.google.com/iam-admin/iam?project=${encodeURIComponent(project.projectId)}`,
    entitlements: entitlementsOf(grants),
    agentSignals: [
      {
        id: 'gcp.service_agent.reasoning_engine',
        platform: 'vertex_ai',
        weight: 0.85,
        reason: 'The Vertex AI Agent Engine (Reasoning Engine) service agent: agents without their own identity run as it.',
        evidence: { email: lower, reasoningEngines: engines.map((e) => e.name) },
      },
    ],
    escalationPaths: escalationPaths(grants),
    environments: envUnion(project.environments, grantEnvironments(grants, ctx)),
    workloads: engines.map((e) => e.displayName),
    monitoring: { usageData: 'unavailable', runtimeLogging: null },
    unreadable: [{ field: 'usage', operation: 'policyanalyzer activities:query', permission: null }],
  })
}

/** A Vertex AI agent identity principal: from an engine with AGENT_IDENTITY, or only from policy bindings. */
export function transformAgentIdentity(
  principal: string,
  engine: EngineRef | null,
  project: ProjectInfo,
  ctx: GcpContext,
): NormalizedIdentity {
  const m = AGENT_PRINCIPAL.exec(principal)
  const set = m ? null : AGENT_PRINCIPAL_SET.exec(principal)
  if (!m && !set) throw new Error(`Not an agent identity principal: ${principal}`)
  const grants = ctx.grants.get(principal) ?? []
  const engineId = m?.[5] ?? null
  const displayName = engine
    ? `${engine.displayName} (Agent Engine identity)`
    : m
      ? `Agent Engine ${engineId} (${m[4]})`
      : `All Agent Engine agents: ${set?.[3] ?? principal}`
  return identity({
    externalId: principal,
    kind: 'agent_identity',
    displayName,
    scope: project.scope,
    attributes: {
      provider: 'gcp',
      principal,
      principalSet: Boolean(set),
      trustDomain: m ? `agents.global.${m[1]}-${m[2]}.system.id.goog` : set ? `agents.global.${set[1]}-${set[2]}.system.id.goog` : null,
      projectNumber: m?.[3] ?? null,
      location: m?.[4] ?? null,
      reasoningEngine: engine?.name ?? (m ? `projects/${m[3]}/locations/${m[4]}/reasoningEngines/${m[5]}` : null),
      /** false: a grant names an engine the scan did not find (deleted, or in an unscanned region). */
      engineFound: Boolean(engine),
      agentFramework: engine?.agentFramework ?? null,
      googleManaged: true,
    },
    consoleUrl: m
      ? `https://console.cloud.google.com/vertex-ai/agents/locations/${m[4]}/agent-engines/${m[5]}?project=${encodeURIComponent(project.projectId)}`
      : `https://console.cloud.google.com/iam-admin/iam?project=${encodeURIComponent(project.projectId)}`,
    entitlements: entitlementsOf(grants),
    agentSignals: [
      {
        id: 'gcp.native.agent_identity',
        platform: 'vertex_ai',
        weight: 1,
        reason: set
          ? 'A principal set of Vertex AI agent identities: every Agent Engine agent it covers holds these roles.'
          : 'A Vertex AI Agent Engine agent identity (IAM principal of one deployed agent).',
        evidence: { principal, reasoningEngine: engine?.name ?? null },
      },
    ],
    escalationPaths: escalationPaths(grants),
    environments: envUnion(project.environments, grantEnvironments(grants, ctx)),
    workloads: engine ? [engine.displayName] : [],
    monitoring: { usageData: 'unavailable', runtimeLogging: null },
    unreadable: [{ field: 'usage', operation: 'policyanalyzer activities:query', permission: null }],
  })
}
