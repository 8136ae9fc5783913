/**
 * The OpenAI organization the stand-in serves: users, projects, project service accounts,
 * project API keys and admin keys, seeded deterministically with the flaws a real
 * organization has (keys never used, keys of people who left, old keys, an agent service
 * account with the project owner role, an admin key without expiry).
 */
import { DAY, pick, rng, token } from '../../saas-kit/seed.js'

export interface OAUser {
  id: string
  name: string
  email: string
  role: 'owner' | 'reader'
  added_at: number
}
export interface OAProject {
  id: string
  name: string
  created_at: number
  archived_at: number | null
}
export interface OAServiceAccount {
  id: string
  project_id: string
  name: string
  role: 'owner' | 'member'
  created_at: number
}
export interface OAKey {
  id: string
  project_id: string
  name: string
  created_at: number
  last_used_at: number | null
  redacted_value: string
  owner: { type: 'user'; user_id: string; project_role: 'owner' | 'member' } | { type: 'service_account'; service_account_id: string }
}
export interface OAAdminKey {
  id: string
  name: string
  created_at: number
  expires_at: number | null
  last_used_at: number | null
  redacted_value: string
  owner_user_id: string
}

export interface OpenAIEstate {
  users: OAUser[]
  /** People who left: still the owners of keys, no longer organization members. */
  formerUsers: OAUser[]
  projects: OAProject[]
  serviceAccounts: OAServiceAccount[]
  keys: OAKey[]
  adminKeys: OAAdminKey[]
}

export type Seed = 'demo' | 'test' | { identities: number }

const FIRST = ['Ada', 'Grace', 'Linus', 'Margaret', 'Ken', 'Barbara', 'Dennis', 'Frances', 'Alan', 'Radia', 'Edsger', 'Shafi']
const LAST = [
  'Lovelace',
  'Hopper',
  'Torvalds',
  'Hamilton',
  'Thompson',
  'Liskov',
  'Ritchie',
  'Allen',
  'Turing',
  'Perlman',
  'Dijkstra',
  'Goldwasser',
]
const PROJECTS = [
  'Support Assistant (prod)',
  'Sales Copilot (prod)',
  'Research sandbox',
  'Code Review Agent (staging)',
  'Docs Search (prod)',
  'Eval harness (dev)',
  'Marketing drafts',
  'Data labeling (test)',
]
const SA_NAMES = [
  'support-agent-runner',
  'triage-bot',
  'nightly-eval-pipeline',
  'rag-indexer',
  'code-review-agent',
  'ci-smoke-tests',
  'langgraph-worker',
  'crm-sync-agent',
]
const KEY_NAMES = ['laptop', 'notebook experiments', 'prod deploy', 'zapier', 'temp debugging', 'staging agent', 'cursor', 'batch jobs']

function day(now: number, daysAgo: number): number {
  return Math.floor((now - daysAgo * DAY) / 1000)
}

function redacted(random: () => number, prefix: string): string {
  return `${prefix}${token(random, 3, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789')}...${token(random, 4, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789')}`
}

/** The small, hand-written estate the tests check against item by item. */
function testEstate(now: number): OpenAIEstate {
  const u = (id: string, name: string, email: string, role: OAUser['role'], ago: number): OAUser => ({
    id,
    name,
    email,
    role,
    added_at: day(now, ago),
  })
  const users = [
    u('user_alice', 'Alice Admin', 'alice@example.com', 'owner', 900),
    u('user_bob', 'Bob Builder', 'bob@example.com', 'reader', 300),
  ]
  const formerUsers = [u('user_carol', 'Carol Gone', 'carol@example.com', 'reader', 800)]
  const projects: OAProject[] = [
    { id: 'proj_support', name: 'Support Assistant (prod)', created_at: day(now, 700), archived_at: null },
    { id: 'proj_sandbox', name: 'Research sandbox', created_at: day(now, 500), archived_at: null },
    { id: 'proj_oldpilot', name: 'Old pilot', created_at: day(now, 1000), archived_at: day(now, 200) },
  ]
  const serviceAccounts: OAServiceAccount[] = [
    { id: 'svc_acct_support_agent', project_id: 'proj_support', name: 'support-agent-runner', role: 'owner', created_at: day(now, 400) },
    { id: 'svc_acct_eval', project_id: 'proj_sandbox', name: 'nightly-eval-pipeline', role: 'member', created_at: day(now, 90) },
    { id: 'svc_acct_idle', project_id: 'proj_sandbox', name: 'unused-bot', role: 'member', created_at: day(now, 60) },
  ]
  const keys: OAKey[] = [
    {
      id: 'key_alice_prod',
      project_id: 'proj_support',
      name: 'prod deploy',
      created_at: day(now, 30),
      last_used_at: day(now, 1),
      redacted_value: 'sk-proj-Ab1...x9Q2',
      owner: { type: 'user', user_id: 'user_alice', project_role: 'owner' },
    },
    {
      id: 'key_bob_never',
      project_id: 'proj_sandbox',
      name: 'notebook experiments',
      created_at: day(now, 200),
      last_used_at: null,
      redacted_value: 'sk-proj-Kq7...m3Ze',
      owner: { type: 'user', user_id: 'user_bob', project_role: 'member' },
    },
    {
      id: 'key_carol_orphan',
      project_id: 'proj_support',
      name: 'zapier',
      created_at: day(now, 420),
      last_used_at: day(now, 5),
      redacted_value: 'sk-proj-Zt4...p0Lw',
      owner: { type: 'user', user_id: 'user_carol', project_role: 'member' },
    },
    {
      id: 'key_svc_support',
      project_id: 'proj_support',
      name: 'support-agent-runner',
      created_at: day(now, 400),
      last_used_at: day(now, 0),
      redacted_value: 'sk-svcacct-Hh2...r7Tn',
      owner: { type: 'service_account', service_account_id: 'svc_acct_support_agent' },
    },
    {
      id: 'key_svc_eval',
      project_id: 'proj_sandbox',
      name: 'nightly-eval-pipeline',
      created_at: day(now, 90),
      last_used_at: day(now, 2),
      redacted_value: 'sk-svcacct-Pp9...c1Vb',
      owner: { type: 'service_account', service_account_id: 'svc_acct_eval' },
    },
    {
      id: 'key_archived_proj',
      project_id: 'proj_oldpilot',
      name: 'pilot',
      created_at: day(now, 900),
      last_used_at: day(now, 300),
      redacted_value: 'sk-proj-Oo0...q8Rr',
      owner: { type: 'user', user_id: 'user_alice', project_role: 'owner' },
    },
  ]
  const adminKeys: OAAdminKey[] = [
    {
      id: 'key_admin_ops',
      name: 'ops automation',
      created_at: day(now, 380),
      expires_at: null,
      last_used_at: day(now, 3),
      redacted_value: 'sk-admin-Jk3...w2Ss',
      owner_user_id: 'user_alice',
    },
  ]
  return { users, formerUsers, projects, serviceAccounts, keys, adminKeys }
}

function generatedEstate(seed: string, target: number, now: number): OpenAIEstate {
  const random = rng(`openai:${seed}`)
  const userCount = Math.max(3, Math.min(200, Math.ceil(target / 4)))
  const users: OAUser[] = []
  const formerUsers: OAUser[] = []
  for (let i = 0; i < userCount; i++) {
    const first = pick(random, FIRST)
    const last = pick(random, LAST)
    const user: OAUser = {
      id: `user_${token(random, 20)}`,
      name: `${first} ${last}`,
      email: `${first}.${last}${i}@example.com`.toLowerCase(),
      role: i === 0 ? 'owner' : 'reader',
      added_at: day(now, 30 + Math.floor(random() * 900)),
    }
    // About one in eight has left the organization but still owns keys.
    if (i > 0 && random() < 0.125) formerUsers.push(user)
    else users.push(user)
  }
  const everyone = [...users, ...formerUsers]
  const projectCount = Math.max(2, Math.min(500, Math.ceil(target / 10)))
  const projects: OAProject[] = []
  for (let i = 0; i < projectCount; i++) {
    const base = PROJECTS[i % PROJECTS.length] as string
    projects.push({
      id: `proj_${token(random, 24)}`,
      name: i < PROJECTS.length ? base : `${base} ${Math.floor(i / PROJECTS.length) + 1}`,
      created_at: day(now, 100 + Math.floor(random() * 800)),
      archived_at: null,
    })
  }
  const serviceAccounts: OAServiceAccount[] = []
  const keys: OAKey[] = []
  const adminKeys: OAAdminKey[] = []
  const adminCount = Math.max(1, Math.round(target / 50))
  for (let i = 0; i < adminCount; i++) {
    adminKeys.push({
      id: `key_${token(random, 16)}`,
      name: i === 0 ? 'ops automation' : `admin ${i}`,
      created_at: day(now, 20 + Math.floor(random() * 600)),
      expires_at: random() < 0.3 ? day(now, -90) : null,
      last_used_at: random() < 0.3 ? null : day(now, Math.floor(random() * 20)),
      redacted_value: redacted(random, 'sk-admin-'),
      owner_user_id: (users[0] as OAUser).id,
    })
  }
  let identities = adminKeys.length
  while (identities < target) {
    const project = projects[identities % projects.length] as OAProject
    const ageDays = Math.floor(random() ** 2 * 800)
    const neverUsed = random() < 0.2
    const lastUsed = neverUsed ? null : day(now, Math.floor(random() * Math.min(ageDays + 1, 200)))
    if (random() < 0.35) {
      const sa: OAServiceAccount = {
        id: `svc_acct_${token(random, 20)}`,
        project_id: project.id,
        name: pick(random, SA_NAMES),
        role: random() < 0.25 ? 'owner' : 'member',
        created_at: day(now, ageDays),
      }
      serviceAccounts.push(sa)
      if (random() < 0.9)
        keys.push({
          id: `key_${token(random, 16)}`,
          project_id: project.id,
          name: sa.name,
          created_at: sa.created_at,
          last_used_at: lastUsed,
          redacted_value: redacted(random, 'sk-svcacct-'),
          owner: { type: 'service_account', service_account_id: sa.id },
        })
    } else {
      const owner = pick(random, everyone)
      keys.push({
        id: `key_${token(random, 16)}`,
        project_id: project.id,
        name: pick(random, KEY_NAMES),
        created_at: day(now, ageDays),
        last_used_at: lastUsed,
        redacted_value: redacted(random, 'sk-proj-'),
        owner: { type: 'user', user_id: owner.id, project_role: random() < 0.3 ? 'owner' : 'member' },
      })
    }
    identities += 1
  }
  return { users, formerUsers, projects, serviceAccounts, keys, adminKeys }
}

export function buildEstate(seed: Seed, now = Date.now()): OpenAIEstate {
  const today = Math.floor(now / DAY) * DAY
  if (seed === 'test') return testEstate(today)
  if (seed === 'demo') return generatedEstate('demo', 40, today)
  return generatedEstate(`n${seed.identities}`, seed.identities, today)
}

/** What a complete scan of this estate must report. */
export function declaredCounts(estate: OpenAIEstate): { identities: number; agents: number; credentials: number } {
  const live = new Set(estate.projects.filter((p) => p.archived_at == null).map((p) => p.id))
  const userKeys = estate.keys.filter((k) => live.has(k.project_id) && k.owner.type === 'user').length
  const sas = estate.serviceAccounts.filter((s) => live.has(s.project_id)).length
  const credentials = estate.keys.filter((k) => live.has(k.project_id)).length + estate.adminKeys.length
  const identities = userKeys + sas + estate.adminKeys.length
  // Every OpenAI key and service account is an AI credential by definition.
  return { identities, agents: identities, credentials }
}
