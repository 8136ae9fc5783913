/**
 * get + transform for Google Cloud IAM: one scope per project. Resolves the projects (listed,
 * or every active project under an organization or folders), then per project reads service
 * accounts, their user-managed keys, the project IAM policy, last authentication from Policy
 * Analyzer and Vertex AI Agent Engine reasoning engines. Grants are joined across projects (a
 * service account of one project may hold roles in another) before anything is emitted.
 *
 * Completeness: a failed service account, key or policy read leaves the project incomplete
 * (the policy is where service agents and agent identities are found, so nothing may be
 * retired without it); a refused Policy Analyzer query only makes usage unreadable.
 */
import { LeashError } from '../../cli/errors.js'
import type { NormalizedIdentity, ScanContext, ScanEvent, ScanProblem, ScanScope, UnreadablePart } from '../contract.js'
import { httpStatusOf, problemFromError, rethrowIfAborted } from '../saas-kit/failures.js'
import { mapPool, problem } from '../saas-kit/identity.js'
import { createGcpClient, type GcpClient, GoogleApiError } from './client.js'
import type { GcpSettings } from './settings.js'
import {
  AGENT_PRINCIPAL,
  AGENT_PRINCIPAL_SET,
  type EngineRef,
  environmentsOfProject,
  type GcpContext,
  type Grant,
  indexActivities,
  memberKey,
  type ProjectInfo,
  type RawActivity,
  type RawKey,
  type RawPolicy,
  type RawProject,
  type RawReasoningEngine,
  type RawServiceAccount,
  REASONING_ENGINE_AGENT,
  transformAgentIdentity,
  transformServiceAccount,
  transformServiceAgent,
  type UsageIndex,
} from './transform.js'

const BATCH = 500
const PROJECT_CONCURRENCY = 4
const KEY_CONCURRENCY = 8

/** The permission each call needs; named in problems and in docs/providers/gcp.md. */
export const PERMISSIONS = {
  projectsGet: 'resourcemanager.projects.get',
  projectsList: 'resourcemanager.projects.list',
  foldersList: 'resourcemanager.folders.list',
  getIamPolicy: 'resourcemanager.projects.getIamPolicy',
  serviceAccountsList: 'iam.serviceAccounts.list',
  keysList: 'iam.serviceAccountKeys.list',
  accountActivity: 'policyanalyzer.serviceAccountLastAuthenticationActivities.query',
  keyActivity: 'policyanalyzer.serviceAccountKeyLastAuthenticationActivities.query',
  reasoningEngines: 'aiplatform.reasoningEngines.list',
} as const

interface ProjectData {
  info: ProjectInfo
  accounts: { sa: RawServiceAccount; keys: RawKey[] }[]
  policy: RawPolicy | null
  usage: UsageIndex | null
  usageUnreadable: UnreadablePart[]
  engines: (RawReasoningEngine & { location: string })[]
  problems: ScanProblem[]
}

function projectScope(projectId: string, displayName?: string): ScanScope {
  return { accountId: projectId, kind: 'project', displayName: displayName ? `${displayName} (${projectId})` : projectId }
}

function grantRemedy(permission: string): string {
  return `Grant "${permission}" to the Leash scanner (the custom role in docs/providers/gcp.md), on the project or above it.`
}

function fail(
  error: unknown,
  scope: ScanScope | null,
  operation: string,
  permission: string,
  fatal: boolean,
  signal: AbortSignal,
): ScanProblem {
  rethrowIfAborted(error, signal)
  const p = problemFromError(error, {
    provider: 'Google Cloud',
    scope,
    operation: `gcp:${operation}`,
    permission,
    fatalForScope: fatal,
    grantRemedy: grantRemedy(permission),
  })
  if (error instanceof GoogleApiError && error.serviceDisabled)
    return {
      ...p,
      permission: null,
      remedy: `Enable the API in the project (${error.message.slice(0, 160)}), or leave this part out in the source settings.`,
    }
  return p
}

function toProjectInfo(raw: RawProject): ProjectInfo | null {
  const number = raw.name?.startsWith('projects/') ? raw.name.slice('projects/'.length) : null
  if (!raw.projectId || !number) return null
  const labels = raw.labels ?? {}
  return {
    projectId: raw.projectId,
    projectNumber: number,
    labels,
    environments: environmentsOfProject(raw.projectId, labels),
    scope: projectScope(raw.projectId, raw.displayName),
  }
}

/** Projects to scan: the listed ones (read for number and labels), and every active one under the org/folders. */
async function resolveProjects(
  client: GcpClient,
  settings: GcpSettings,
  signal: AbortSignal,
): Promise<{ projects: ProjectInfo[]; failed: { projectId: string; problem: ScanProblem }[]; problems: ScanProblem[]; rejected: boolean }> {
  const rm = client.endpoints.resourceManager
  const found = new Map<string, ProjectInfo>()
  const failed: { projectId: string; problem: ScanProblem }[] = []
  const problems: ScanProblem[] = []
  const exclude = new Set(settings.excludeProjects ?? [])
  let rejected = false
  for (const projectId of settings.projects ?? []) {
    try {
      const raw = await client.get<RawProject>(`${rm}/v3/projects/${encodeURIComponent(projectId)}`)
      if (raw.state && raw.state !== 'ACTIVE') continue
      const info = toProjectInfo(raw)
      if (!info) throw new SyntaxError(`projects/${projectId}: the answer has no name or projectId (malformed JSON)`)
      found.set(info.projectId, info)
    } catch (error) {
      rejected ||= httpStatusOf(error) === 401
      failed.push({
        projectId,
        problem: fail(error, projectScope(projectId), 'resourcemanager.projects.get', PERMISSIONS.projectsGet, true, signal),
      })
      if (rejected) break
    }
  }
  const parents = [
    ...(settings.organizationId ? [`organizations/${settings.organizationId}`] : []),
    ...(settings.folderIds ?? []).map((f) => `folders/${f}`),
  ]
  const visited = new Set<string>()
  while (parents.length && !rejected) {
    const parent = parents.shift() as string
    if (visited.has(parent)) continue
    visited.add(parent)
    try {
      const projects = await client.list<RawProject>(`${rm}/v3/projects?parent=${encodeURIComponent(parent)}`, 'projects', 100)
      for (const raw of projects) {
        if (raw.state && raw.state !== 'ACTIVE') continue
        const info = toProjectInfo(raw)
        if (!info) throw new SyntaxError(`${parent}: a project without name or projectId (malformed JSON)`)
        if (!exclude.has(info.projectId) && !found.has(info.projectId)) found.set(info.projectId, info)
      }
    } catch (error) {
      rejected ||= httpStatusOf(error) === 401
      problems.push(fail(error, null, 'resourcemanager.projects.list', PERMISSIONS.projectsList, true, signal))
      continue
    }
    try {
      const folders = await client.list<{ name?: string; state?: string }>(
        `${rm}/v3/folders?parent=${encodeURIComponent(parent)}`,
        'folders',
        100,
      )
      for (const f of folders) if (f.name && (!f.state || f.state === 'ACTIVE')) parents.push(f.name)
    } catch (error) {
      problems.push(fail(error, null, 'resourcemanager.folders.list', PERMISSIONS.foldersList, true, signal))
    }
  }
  return { projects: [...found.values()], failed, problems, rejected }
}

async function readProject(client: GcpClient, info: ProjectInfo, settings: GcpSettings, signal: AbortSignal): Promise<ProjectData> {
  const { scope, projectId } = info
  const data: ProjectData = { info, accounts: [], policy: null, usage: null, usageUnreadable: [], engines: [], problems: [] }
  const iam = client.endpoints.iam
  const pid = encodeURIComponent(projectId)

  // Service accounts and their user-managed keys.
  try {
    const accounts = await client.list<RawServiceAccount>(`${iam}/v1/projects/${pid}/serviceAccounts`, 'accounts', 100)
    let keyFailure: unknown = null
    const withKeys = await mapPool(accounts, KEY_CONCURRENCY, async (sa) => {
      if (!sa.email) return { sa, keys: [] as RawKey[] }
      try {
        const res = await client.get<{ keys?: RawKey[] }>(
          `${iam}/v1/projects/${pid}/serviceAccounts/${encodeURIComponent(sa.email)}/keys?keyTypes=USER_MANAGED`,
        )
        if (res.keys !== undefined && !Array.isArray(res.keys))
          throw new SyntaxError(`keys of ${sa.email}: "keys" is not a list (malformed JSON)`)
        return { sa, keys: res.keys ?? [] }
      } catch (error) {
        rethrowIfAborted(error, signal)
        // Deleted between the list and this call: it is simply gone.
        if (httpStatusOf(error) === 404) return null
        keyFailure ??= error
        return { sa, keys: [] as RawKey[] }
      }
    })
    if (keyFailure) data.problems.push(fail(keyFailure, scope, 'iam.serviceAccountKeys.list', PERMISSIONS.keysList, true, signal))
    data.accounts = withKeys.filter((a): a is { sa: RawServiceAccount; keys: RawKey[] } => a !== null)
  } catch (error) {
    data.problems.push(fail(error, scope, 'iam.serviceAccounts.list', PERMISSIONS.serviceAccountsList, true, signal))
  }

  // The project IAM policy (version 3, so conditional bindings come back whole).
  try {
    const policy = await client.post<RawPolicy>(`${client.endpoints.resourceManager}/v1/projects/${pid}:getIamPolicy`, {
      options: { requestedPolicyVersion: 3 },
    })
    if (policy.bindings !== undefined && !Array.isArray(policy.bindings))
      throw new SyntaxError('getIamPolicy: "bindings" is not a list (malformed JSON)')
    data.policy = policy
  } catch (error) {
    data.problems.push(fail(error, scope, 'resourcemanager.projects.getIamPolicy', PERMISSIONS.getIamPolicy, true, signal))
  }

  // Last authentication (Policy Analyzer activity). Refused → usage unreadable, never "unused".
  if (settings.usageActivity !== false) {
    const base = `${client.endpoints.policyAnalyzer}/v1/projects/${pid}/locations/global/activityTypes`
    let step: keyof typeof PERMISSIONS = 'accountActivity'
    try {
      const accounts = await client.list<RawActivity>(`${base}/serviceAccountLastAuthentication/activities:query`, 'activities', 1000)
      step = 'keyActivity'
      const keys = await client.list<RawActivity>(`${base}/serviceAccountKeyLastAuthentication/activities:query`, 'activities', 1000)
      data.usage = indexActivities(accounts, keys)
    } catch (error) {
      const operation = PERMISSIONS[step]
      data.problems.push(fail(error, scope, operation, operation, false, signal))
      data.usageUnreadable = [{ field: 'usage', operation: `policyanalyzer:${operation}`, permission: operation }]
    }
  } else {
    data.usageUnreadable = [{ field: 'usage', operation: 'policyanalyzer activities:query (turned off in settings)', permission: null }]
  }

  // Vertex AI Agent Engine: which identities the deployed agents run as.
  for (const location of settings.vertexLocations ?? ['us-central1']) {
    try {
      const engines = await client.list<RawReasoningEngine>(
        `${client.aiplatformBase(location)}/v1/projects/${pid}/locations/${location}/reasoningEngines`,
        'reasoningEngines',
        100,
      )
      data.engines.push(...engines.map((e) => ({ ...e, location })))
    } catch (error) {
      rethrowIfAborted(error, signal)
      // The Vertex AI API not enabled (or no such region) means no agents there.
      if (error instanceof GoogleApiError && (error.serviceDisabled || error.status === 404)) continue
      data.problems.push(fail(error, scope, 'aiplatform.reasoningEngines.list', PERMISSIONS.reasoningEngines, true, signal))
    }
  }
  return data
}

function engineIdentity(engine: RawReasoningEngine & { location: string }, info: ProjectInfo, orgId: string | undefined): string | null {
  const spec = engine.spec ?? {}
  if (spec.identityType === 'AGENT_IDENTITY') {
    if (spec.effectiveIdentity)
      return spec.effectiveIdentity.startsWith('principal://') ? spec.effectiveIdentity : `principal://${spec.effectiveIdentity}`
    const id = engine.name?.split('/').pop()
    return orgId && id
      ? `principal://agents.global.org-${orgId}.system.id.goog/resources/aiplatform/projects/${info.projectNumber}/locations/${engine.location}/reasoningEngines/${id}`
      : null
  }
  if (spec.serviceAccount) return spec.serviceAccount.toLowerCase()
  return `service-${info.projectNumber}@gcp-sa-aiplatform-re.iam.gserviceaccount.com`
}

export function buildContext(datas: ProjectData[], settings: GcpSettings, now: Date): GcpContext {
  const ctx: GcpContext = {
    now,
    projects: new Map(datas.map((d) => [d.info.projectId, d.info])),
    projectsByNumber: new Map(datas.map((d) => [d.info.projectNumber, d.info])),
    grants: new Map(),
    policyUnreadable: new Set(),
    usage: new Map(datas.map((d) => [d.info.projectId, d.usage])),
    usageUnreadable: new Map(datas.map((d) => [d.info.projectId, d.usageUnreadable])),
    enginesByIdentity: new Map(),
  }
  for (const d of datas) {
    if (!d.policy) {
      ctx.policyUnreadable.add(d.info.projectId)
      continue
    }
    for (const b of d.policy.bindings ?? []) {
      if (!b.role) continue
      const grant: Grant = {
        role: b.role,
        projectId: d.info.projectId,
        conditional: Boolean(b.condition),
        conditionTitle: b.condition?.title ?? null,
      }
      for (const member of b.members ?? []) {
        const key = memberKey(member)
        const list = ctx.grants.get(key) ?? []
        list.push(grant)
        ctx.grants.set(key, list)
      }
    }
    for (const e of d.engines) {
      const who = engineIdentity(e, d.info, settings.organizationId)
      if (!who || !e.name) continue
      const ref: EngineRef = {
        name: e.name,
        displayName: e.displayName || e.name.split('/').pop() || e.name,
        location: e.location,
        projectId: d.info.projectId,
        identityType: e.spec?.identityType ?? 'IDENTITY_TYPE_UNSPECIFIED',
        agentFramework: e.spec?.agentFramework ?? null,
      }
      const list = ctx.enginesByIdentity.get(who) ?? []
      list.push(ref)
      ctx.enginesByIdentity.set(who, list)
    }
  }
  return ctx
}

/** Every identity of every project, each once, in the scope of the project that owns it. */
export function transformAll(
  datas: ProjectData[],
  ctx: GcpContext,
): { byProject: Map<string, NormalizedIdentity[]>; problems: ScanProblem[] } {
  const byProject = new Map<string, NormalizedIdentity[]>(datas.map((d) => [d.info.projectId, []]))
  const problems: ScanProblem[] = []
  const emitted = new Set<string>()
  const add = (projectId: string, build: () => NormalizedIdentity, scope: ScanScope) => {
    try {
      const id = build()
      if (emitted.has(id.externalId)) return
      emitted.add(id.externalId)
      byProject.get(projectId)?.push(id)
    } catch (error) {
      problems.push(
        problem({
          scope,
          operation: 'gcp:transform',
          fatalForScope: true,
          message: `A record could not be understood: ${error instanceof Error ? error.message : String(error)}`,
          remedy: 'Retry the scan; if it persists, report the record shape (no secrets are involved).',
        }),
      )
    }
  }
  const ownerProject = (number: string | undefined, fallback: ProjectInfo) => (number && ctx.projectsByNumber.get(number)) || fallback
  for (const d of datas) {
    for (const { sa, keys } of d.accounts) add(d.info.projectId, () => transformServiceAccount(sa, keys, d.info, ctx), d.info.scope)
  }
  // Service agents and agent identities: from engines, and from bindings alone.
  const bindingProject = new Map<string, ProjectInfo>()
  for (const d of datas)
    for (const b of d.policy?.bindings ?? [])
      for (const m of b.members ?? []) if (!bindingProject.has(memberKey(m))) bindingProject.set(memberKey(m), d.info)
  const enginesByWho = [...ctx.enginesByIdentity.entries()]
  const candidates = new Set<string>([
    ...bindingProject.keys(),
    ...enginesByWho.map(([who]) => (who.startsWith('principal') ? who : `serviceAccount:${who}`)),
  ])
  for (const member of [...candidates].sort()) {
    const agentEmail = member.startsWith('serviceAccount:') ? member.slice('serviceAccount:'.length) : null
    const agentMatch = agentEmail ? REASONING_ENGINE_AGENT.exec(agentEmail) : null
    if (agentEmail && agentMatch) {
      const engines = ctx.enginesByIdentity.get(agentEmail) ?? []
      const home = ownerProject(agentMatch[1], ctx.projects.get(engines[0]?.projectId ?? '') ?? (bindingProject.get(member) as ProjectInfo))
      if (home) add(home.projectId, () => transformServiceAgent(agentEmail, home, ctx), home.scope)
      continue
    }
    const principal = AGENT_PRINCIPAL.exec(member)
    if (principal || AGENT_PRINCIPAL_SET.test(member)) {
      const engine = ctx.enginesByIdentity.get(member)?.[0] ?? null
      const fallback = ctx.projects.get(engine?.projectId ?? '') ?? bindingProject.get(member)
      if (!fallback) continue
      const home = ownerProject(principal?.[3], fallback)
      add(home.projectId, () => transformAgentIdentity(member, engine, home, ctx), home.scope)
    }
  }
  return { byProject, problems }
}

export async function* scanGcp(ctx: ScanContext<GcpSettings>): AsyncGenerator<ScanEvent> {
  let client: GcpClient
  try {
    client = createGcpClient(ctx.settings, ctx)
  } catch (error) {
    if (!(error instanceof LeashError)) throw error
    const scopes = (ctx.settings.projects ?? []).map((p) => projectScope(p))
    const p = problem({
      scope: scopes[0] ?? null,
      operation: 'gcp:Configure',
      message: error.message,
      remedy: error.remedy,
      fatalForScope: true,
    })
    yield { type: 'problem', problem: p }
    for (const scope of scopes) {
      yield { type: 'scope_started', scope }
      yield { type: 'scope_finished', scope, complete: false }
    }
    return
  }

  const resolved = await resolveProjects(client, ctx.settings, ctx.signal)
  for (const p of resolved.problems) yield { type: 'problem', problem: p }
  for (const f of resolved.failed) {
    const scope = f.problem.scope ?? projectScope(f.projectId)
    yield { type: 'scope_started', scope }
    yield { type: 'problem', problem: f.problem }
    yield { type: 'scope_finished', scope, complete: false }
  }
  // A rejected credential fails every call alike: report it once, not once per project.
  if (resolved.rejected) {
    const reported = new Set(resolved.failed.map((f) => f.projectId))
    for (const projectId of ctx.settings.projects ?? []) {
      if (reported.has(projectId)) continue
      yield { type: 'scope_started', scope: projectScope(projectId) }
      yield { type: 'scope_finished', scope: projectScope(projectId), complete: false }
    }
    return
  }

  const datas = await mapPool(resolved.projects, PROJECT_CONCURRENCY, (info) => readProject(client, info, ctx.settings, ctx.signal))
  const gctx = buildContext(datas, ctx.settings, ctx.now)
  const { byProject, problems: transformProblems } = transformAll(datas, gctx)
  for (const d of datas) {
    const scope = d.info.scope
    yield { type: 'scope_started', scope }
    const problems = [...d.problems, ...transformProblems.filter((p) => p.scope?.accountId === scope.accountId)]
    for (const p of problems) yield { type: 'problem', problem: p }
    const identities = byProject.get(d.info.projectId) ?? []
    for (let i = 0; i < identities.length; i += BATCH) yield { type: 'batch', scope, identities: identities.slice(i, i + BATCH) }
    yield { type: 'scope_finished', scope, complete: !problems.some((p) => p.fatalForScope) }
  }
}
