/**
 * The Google Cloud organization the stand-in serves: folders, projects (with labels), service
 * accounts with user-managed keys, project IAM policies, Policy Analyzer last-authentication
 * data and Vertex AI Agent Engine reasoning engines. Each seeded service account says whether
 * it is an agent, so tests check recognition against what was planted.
 *
 * 'test' is a hand-written estate with one of every flaw; 'demo' is the same estate plus a
 * generated tail; `{identities: N}` is N generated service accounts for scale tests.
 */
import { DAY, pick, rng, token } from '../../saas-kit/seed.js'

export interface GKey {
  id: string
  validAfterTime: string
  validBeforeTime: string
  keyAlgorithm: 'KEY_ALG_RSA_2048'
  keyOrigin: 'GOOGLE_PROVIDED' | 'USER_PROVIDED'
  disabled: boolean
  disableReason?: string
  extendedStatus?: { key: string; value: string }[]
  /** Last authentication with this key (Policy Analyzer), null = none in the observation period. */
  lastAuth: string | null
}
export interface GAccount {
  projectId: string
  email: string
  uniqueId: string
  displayName: string
  description: string
  disabled: boolean
  keys: GKey[]
  lastAuth: string | null
  agent: boolean
}
export interface GProject {
  projectId: string
  number: string
  displayName: string
  parent: string
  labels: Record<string, string>
}
export interface GBinding {
  role: string
  members: string[]
  condition?: { title: string; description?: string; expression: string }
}
export interface GEngine {
  projectId: string
  location: string
  id: string
  displayName: string
  description: string
  serviceAccount: string | null
  identityType: 'AGENT_IDENTITY' | 'SERVICE_ACCOUNT' | 'IDENTITY_TYPE_UNSPECIFIED'
  agentFramework: string
  createTime: string
}
export interface GcpEstate {
  orgId: string
  folders: { name: string; displayName: string; parent: string }[]
  projects: GProject[]
  accounts: GAccount[]
  policies: Map<string, { version: number; etag: string; bindings: GBinding[] }>
  engines: GEngine[]
  observedSince: string
}
export type Seed = 'demo' | 'test' | { identities: number }

export const SCANNER_SUBJECT = 'standin-subject-leash-scanner'
export const LIMITED_SUBJECT = 'standin-subject-leash-limited'
export const SCANNER_TOKEN = 'ya29.standin-scanner'
export const LIMITED_TOKEN = 'ya29.standin-limited'

const HEX = '0123456789abcdef'
const NO_EXPIRY = '9999-12-31T23:59:59Z'
const iso = (now: number, daysAgo: number) => new Date(now - daysAgo * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z')
/** Activity Analyzer reports dates (Pacific midnight); the stand-in keeps the day. */
const day = (now: number, daysAgo: number | null) =>
  daysAgo === null ? null : `${new Date(now - daysAgo * DAY).toISOString().slice(0, 10)}T08:00:00Z`

export const agentPrincipal = (orgId: string, number: string, location: string, id: string) =>
  `principal://agents.global.org-${orgId}.system.id.goog/resources/aiplatform/projects/${number}/locations/${location}/reasoningEngines/${id}`

function key(
  r: () => number,
  now: number,
  ageDays: number,
  lastUsedDaysAgo: number | null,
  extra: Partial<Pick<GKey, 'disabled' | 'disableReason' | 'extendedStatus' | 'validBeforeTime' | 'keyOrigin'>> = {},
): GKey {
  return {
    id: token(r, 40, HEX),
    validAfterTime: iso(now, ageDays),
    validBeforeTime: NO_EXPIRY,
    keyAlgorithm: 'KEY_ALG_RSA_2048',
    keyOrigin: 'GOOGLE_PROVIDED',
    disabled: false,
    lastAuth: day(now, lastUsedDaysAgo),
    ...extra,
  }
}

function account(
  r: () => number,
  projectId: string,
  name: string,
  fields: Partial<Omit<GAccount, 'projectId' | 'email' | 'uniqueId'>> & { email?: string },
): GAccount {
  return {
    projectId,
    email: fields.email ?? `${name}@${projectId}.iam.gserviceaccount.com`,
    uniqueId: `1${token(r, 20, '0123456789')}`,
    displayName: fields.displayName ?? name,
    description: fields.description ?? '',
    disabled: fields.disabled ?? false,
    keys: fields.keys ?? [],
    lastAuth: fields.lastAuth ?? null,
    agent: fields.agent ?? false,
  }
}

const sa = (email: string) => `serviceAccount:${email}`

/** The hand-written organization: one of every flaw a security team looks for. */
function handWritten(now: number, orgId: string): GcpEstate {
  const r = rng(`gcp:${orgId}`)
  const folder = { name: 'folders/500000000001', displayName: 'Engineering', parent: `organizations/${orgId}` }
  const projects: GProject[] = [
    {
      projectId: 'acme-prod-app',
      number: '400000000001',
      displayName: 'Acme production app',
      parent: `organizations/${orgId}`,
      labels: { env: 'prod', team: 'payments' },
    },
    {
      projectId: 'acme-ai-agents',
      number: '400000000002',
      displayName: 'Acme AI agents',
      parent: `organizations/${orgId}`,
      labels: { env: 'production' },
    },
    { projectId: 'acme-ml-sandbox', number: '400000000003', displayName: 'ML sandbox', parent: folder.name, labels: { env: 'dev' } },
    {
      projectId: 'acme-data-staging',
      number: '400000000004',
      displayName: 'Data staging',
      parent: folder.name,
      labels: { environment: 'staging' },
    },
  ]
  const [prod, ai, sandbox, staging] = projects as [GProject, GProject, GProject, GProject]
  const a = {
    compute: account(r, prod.projectId, '', {
      email: `${prod.number}-compute@developer.gserviceaccount.com`,
      displayName: 'Compute Engine default service account',
      lastAuth: day(now, 1),
    }),
    payments: account(r, prod.projectId, 'payments-api', {
      displayName: 'Payments API',
      description: 'owner: payments-team',
      keys: [key(r, now, 30, 1)],
      lastAuth: day(now, 1),
    }),
    billing: account(r, prod.projectId, 'billing-export', {
      displayName: 'Billing export',
      description: 'Exports invoices nightly. owner: dana@acme.example',
      keys: [key(r, now, 900, 400)],
      lastAuth: day(now, 400),
    }),
    deployer: account(r, prod.projectId, 'ci-deployer', {
      displayName: 'CI deployer',
      description: 'team: platform-team',
      keys: [key(r, now, 500, null)],
      lastAuth: day(now, 3),
    }),
    legacy: account(r, prod.projectId, 'legacy-reporting', {
      displayName: 'legacy-reporting',
      keys: [key(r, now, 1200, 300, { disabled: true, disableReason: 'SERVICE_ACCOUNT_KEY_DISABLE_REASON_USER_INITIATED' })],
      lastAuth: day(now, 300),
    }),
    support: account(r, ai.projectId, 'support-agent', {
      displayName: 'Support agent (LangGraph)',
      description: 'owner: maria@acme.example',
      keys: [key(r, now, 200, 2)],
      lastAuth: day(now, 1),
      agent: true,
    }),
    research: account(r, ai.projectId, 'research-agent', {
      displayName: 'research-agent',
      keys: [
        key(r, now, 420, 90, {
          disabled: true,
          disableReason: 'SERVICE_ACCOUNT_KEY_DISABLE_REASON_EXPOSED',
          extendedStatus: [{ key: 'SERVICE_ACCOUNT_KEY_EXTENDED_STATUS_KEY_EXPOSED', value: 'https://github.com/acme/research-notebooks' }],
        }),
        key(r, now, 380, null),
      ],
      lastAuth: day(now, 120),
      agent: true,
    }),
    rag: account(r, ai.projectId, 'rag-indexer-agent', {
      displayName: 'RAG indexer agent',
      description: 'owner: data-platform-team',
      lastAuth: day(now, 1),
      agent: true,
    }),
    scanner: account(r, ai.projectId, 'leash-scanner', {
      displayName: 'Leash scanner',
      description: 'owner: security@acme.example',
      lastAuth: day(now, 0),
    }),
    notebook: account(r, sandbox.projectId, 'notebook-llm', {
      displayName: 'notebook-llm',
      description: 'created by: jo@acme.example',
      keys: [key(r, now, 700, 650)],
      lastAuth: day(now, 650),
      agent: true,
    }),
    experiments: account(r, sandbox.projectId, 'experiments', {
      displayName: 'Experiments',
      description: 'owner: jo@acme.example',
      keys: [key(r, now, 50, 5)],
      lastAuth: day(now, 5),
    }),
    etl: account(r, staging.projectId, 'etl-pipeline', {
      displayName: 'ETL pipeline',
      description: 'team: data-platform-team',
      keys: [key(r, now, 100, 1)],
      lastAuth: day(now, 1),
    }),
    dbt: account(r, staging.projectId, 'dbt-runner', {
      displayName: 'dbt runner',
      description: 'owner: sam@acme.example',
      disabled: true,
      keys: [key(r, now, 600, 200)],
      lastAuth: day(now, 200),
    }),
  }
  const engines: GEngine[] = [
    {
      projectId: ai.projectId,
      location: 'us-central1',
      id: '7000000000000000001',
      displayName: 'support-agent',
      description: 'Customer support agent',
      serviceAccount: a.support.email,
      identityType: 'SERVICE_ACCOUNT',
      agentFramework: 'langgraph',
      createTime: iso(now, 190),
    },
    {
      projectId: ai.projectId,
      location: 'us-central1',
      id: '7000000000000000002',
      displayName: 'invoice-triage',
      description: 'Runs as the Agent Engine service agent',
      serviceAccount: null,
      identityType: 'IDENTITY_TYPE_UNSPECIFIED',
      agentFramework: 'google-adk',
      createTime: iso(now, 60),
    },
    {
      projectId: ai.projectId,
      location: 'us-central1',
      id: '7000000000000000003',
      displayName: 'sales-copilot',
      description: 'Per-agent identity',
      serviceAccount: null,
      identityType: 'AGENT_IDENTITY',
      agentFramework: 'google-adk',
      createTime: iso(now, 20),
    },
  ]
  const serviceAgent = `service-${ai.number}@gcp-sa-aiplatform-re.iam.gserviceaccount.com`
  const salesPrincipal = agentPrincipal(orgId, ai.number, 'us-central1', '7000000000000000003')
  const deletedPrincipal = agentPrincipal(orgId, ai.number, 'us-central1', '6999999999999999999')
  const policies = new Map<string, { version: number; etag: string; bindings: GBinding[] }>([
    [
      prod.projectId,
      {
        version: 1,
        etag: 'BwXprod0001=',
        bindings: [
          { role: 'roles/owner', members: ['user:cto@acme.example'] },
          { role: 'roles/editor', members: [sa(a.compute.email)] },
          { role: 'roles/cloudsql.client', members: [sa(a.payments.email)] },
          { role: 'roles/bigquery.dataViewer', members: [sa(a.billing.email), sa(a.notebook.email)] },
          { role: 'roles/iam.serviceAccountUser', members: [sa(a.deployer.email)] },
          { role: 'roles/run.admin', members: [sa(a.deployer.email)] },
          { role: 'roles/viewer', members: [sa(a.legacy.email)] },
        ],
      },
    ],
    [
      ai.projectId,
      {
        version: 3,
        etag: 'BwXagents02=',
        bindings: [
          { role: 'roles/owner', members: ['user:cto@acme.example', sa(a.research.email)] },
          { role: 'roles/editor', members: [sa(a.support.email)] },
          { role: 'roles/aiplatform.user', members: [sa(a.support.email), sa(a.research.email), sa(a.rag.email), salesPrincipal] },
          { role: 'roles/storage.admin', members: [sa(a.rag.email), sa(serviceAgent)] },
          { role: 'roles/aiplatform.reasoningEngineServiceAgent', members: [sa(serviceAgent)] },
          {
            role: 'roles/secretmanager.secretAccessor',
            members: [salesPrincipal],
            condition: { title: 'crm secrets only', expression: 'resource.name.startsWith("projects/400000000002/secrets/crm-")' },
          },
          { role: 'roles/bigquery.dataEditor', members: [deletedPrincipal] },
          { role: 'projects/acme-ai-agents/roles/leashScanner', members: [sa(a.scanner.email)] },
        ],
      },
    ],
    [
      sandbox.projectId,
      {
        version: 1,
        etag: 'BwXsandbx03=',
        bindings: [
          { role: 'roles/editor', members: [sa(a.notebook.email), sa(a.experiments.email)] },
          { role: 'roles/aiplatform.user', members: [sa(a.notebook.email)] },
          { role: 'roles/viewer', members: ['group:data-science@acme.example'] },
        ],
      },
    ],
    [
      staging.projectId,
      {
        version: 1,
        etag: 'BwXstage004=',
        bindings: [
          { role: 'roles/iam.serviceAccountTokenCreator', members: [sa(a.etl.email)] },
          { role: 'roles/bigquery.admin', members: [sa(a.etl.email), sa(a.dbt.email)] },
        ],
      },
    ],
  ])
  return {
    orgId,
    folders: [folder],
    projects,
    accounts: Object.values(a),
    policies,
    engines,
    observedSince: iso(now, 730),
  }
}

const AGENT_WORDS = ['support-agent', 'rag-indexer-agent', 'claude-worker', 'openai-proxy', 'mcp-server', 'llm-gateway', 'gemini-bot']
const PLAIN_WORDS = ['billing', 'ci-deployer', 'backup', 'metrics', 'payments', 'crm-sync', 'etl', 'web', 'scheduler', 'exporter']
const ENVS = ['prod', 'staging', 'dev']
const PLAIN_ROLES = [
  'roles/viewer',
  'roles/editor',
  'roles/storage.objectViewer',
  'roles/bigquery.dataEditor',
  'roles/pubsub.publisher',
  'roles/owner',
]
const AGENT_ROLES = ['roles/editor', 'roles/viewer', 'roles/iam.serviceAccountTokenCreator', 'roles/storage.objectViewer', 'roles/owner']

/** N generated service accounts over ⌈N/40⌉ projects; agents have agent names and, some, an engine. */
function generated(seed: string, target: number, now: number, base: GcpEstate | null): GcpEstate {
  const r = rng(`gcp:${seed}`)
  const orgId = base?.orgId ?? '301234567890'
  const estate: GcpEstate = base ?? {
    orgId,
    folders: [],
    projects: [],
    accounts: [],
    policies: new Map(),
    engines: [],
    observedSince: iso(now, 730),
  }
  const perProject = 40
  const projectCount = Math.max(1, Math.ceil(target / perProject))
  const startNumber = 410000000000 + estate.projects.length
  for (let p = 0; p < projectCount; p++) {
    const env = ENVS[p % ENVS.length] as string
    const projectId = `${seed.replace(/[^a-z0-9]/g, '')}-${env}-${String(p).padStart(3, '0')}`.slice(0, 30).replace(/-$/, '')
    const project: GProject = {
      projectId,
      number: String(startNumber + p),
      displayName: `${env} workloads ${p}`,
      parent: `organizations/${orgId}`,
      labels: { env },
    }
    estate.projects.push(project)
    estate.policies.set(projectId, { version: 1, etag: `BwX${token(r, 8)}=`, bindings: [] })
  }
  const newProjects = estate.projects.slice(estate.projects.length - projectCount)
  for (let n = 0; n < target; n++) {
    const project = newProjects[Math.floor(n / perProject)] as GProject
    const agent = r() < 0.3
    const word = agent ? pick(r, AGENT_WORDS) : pick(r, PLAIN_WORDS)
    const name = `${word}-${String(n).padStart(4, '0')}`
    const age = Math.floor(r() ** 2 * 1200) + 1
    const keys: GKey[] = []
    const keyCount = r() < 0.5 ? 0 : r() < 0.8 ? 1 : 2
    for (let k = 0; k < keyCount; k++) {
      const keyAge = Math.max(1, Math.floor(age * r()))
      const used = r() < 0.2 ? null : Math.floor(keyAge * r())
      keys.push(
        key(r, now, keyAge, used, r() < 0.1 ? { disabled: true, disableReason: 'SERVICE_ACCOUNT_KEY_DISABLE_REASON_USER_INITIATED' } : {}),
      )
    }
    const acct = account(r, project.projectId, name, {
      displayName: name,
      description: r() < 0.5 ? `owner: ${pick(r, ['alice', 'bob', 'carol', 'dave'])}@acme.example` : '',
      keys,
      lastAuth: r() < 0.15 ? null : day(now, Math.floor(age * r())),
      agent,
    })
    estate.accounts.push(acct)
    const policy = estate.policies.get(project.projectId)
    // Agents call Vertex AI (roles/aiplatform.user) and hold one more role; other accounts one plain role.
    const roles = agent ? ['roles/aiplatform.user', pick(r, AGENT_ROLES)] : [pick(r, PLAIN_ROLES)]
    for (const role of new Set(roles)) {
      const binding = policy?.bindings.find((b) => b.role === role)
      if (binding) binding.members.push(sa(acct.email))
      else policy?.bindings.push({ role, members: [sa(acct.email)] })
    }
    if (agent && r() < 0.3)
      estate.engines.push({
        projectId: project.projectId,
        location: 'us-central1',
        id: `8${token(r, 18, '0123456789')}`,
        displayName: `${word}-engine`,
        description: '',
        serviceAccount: acct.email,
        identityType: 'SERVICE_ACCOUNT',
        agentFramework: pick(r, ['langgraph', 'google-adk', 'langchain', 'ag2']),
        createTime: iso(now, Math.floor(age / 2)),
      })
  }
  return estate
}

export function buildEstate(seed: Seed, now = Date.now()): GcpEstate {
  const today = Math.floor(now / DAY) * DAY
  if (seed === 'test') return handWritten(today, '123456789012')
  if (seed === 'demo') return generated('demo', 12, today, handWritten(today, '301234567890'))
  return generated(`n${seed.identities}`, seed.identities, today, null)
}

/** What a scan must find: service accounts, plus the service agents and agent principals the seed implies. */
export function declaredCounts(e: GcpEstate): { identities: number; agents: number; credentials: number } {
  const extra = new Set<string>()
  const byNumber = new Map(e.projects.map((p) => [p.projectId, p.number]))
  for (const eng of e.engines) {
    if (eng.identityType === 'AGENT_IDENTITY') extra.add(agentPrincipal(e.orgId, byNumber.get(eng.projectId) ?? '', eng.location, eng.id))
    else if (!eng.serviceAccount) extra.add(`service-${byNumber.get(eng.projectId)}@gcp-sa-aiplatform-re.iam.gserviceaccount.com`)
  }
  for (const policy of e.policies.values())
    for (const b of policy.bindings)
      for (const m of b.members) {
        if (m.startsWith('principal://agents.')) extra.add(m)
        else if (/^serviceAccount:service-\d+@gcp-sa-aiplatform-re\./.test(m)) extra.add(m.slice('serviceAccount:'.length))
      }
  return {
    identities: e.accounts.length + extra.size,
    agents: e.accounts.filter((a) => a.agent).length + extra.size,
    credentials: e.accounts.reduce((n, a) => n + a.keys.length, 0),
  }
}
