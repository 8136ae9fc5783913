/**
 * The Anthropic organization the stand-in serves: members, workspaces, service accounts and
 * API keys, seeded deterministically with realistic flaws (a key whose creator left, keys
 * without expiry, an inactive key, an agent service account with the admin role, old keys).
 */
import { DAY, pick, rng, token } from '../../saas-kit/seed.js'

export interface AUser {
  id: string
  name: string
  email: string
  role: 'admin' | 'developer' | 'user' | 'billing'
  added_at: string
}
export interface AWorkspace {
  id: string
  name: string
  created_at: string
  archived_at: string | null
}
export interface AServiceAccount {
  id: string
  name: string
  description: string | null
  organization_role: 'admin' | 'developer'
  created_at: string
  archived_at: string | null
  created_by_actor_id: string | null
}
export interface AKey {
  id: string
  name: string
  created_at: string
  expires_at: string | null
  created_by: { id: string; type: 'user' | 'service_account' }
  partial_key_hint: string
  status: 'active' | 'inactive' | 'archived' | 'expired'
  workspace_id: string | null
  service_account_id: string | null
}
export interface AnthropicEstate {
  users: AUser[]
  formerUsers: AUser[]
  workspaces: AWorkspace[]
  serviceAccounts: AServiceAccount[]
  keys: AKey[]
}
export type Seed = 'demo' | 'test' | { identities: number }

const iso = (now: number, daysAgo: number) => new Date(now - daysAgo * DAY).toISOString()
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
const hint = (random: () => number) => `sk-ant-api03-${token(random, 3, ALNUM)}...${token(random, 4, ALNUM)}`
const id = (random: () => number, prefix: string) => `${prefix}_01${token(random, 22, ALNUM)}`

function testEstate(now: number): AnthropicEstate {
  const users: AUser[] = [
    { id: 'user_01Alice', name: 'Alice Admin', email: 'alice@example.com', role: 'admin', added_at: iso(now, 700) },
    { id: 'user_01Bob', name: 'Bob Builder', email: 'bob@example.com', role: 'developer', added_at: iso(now, 300) },
  ]
  const formerUsers: AUser[] = [
    { id: 'user_01Dave', name: 'Dave Departed', email: 'dave@example.com', role: 'developer', added_at: iso(now, 800) },
  ]
  const workspaces: AWorkspace[] = [
    { id: 'wrkspc_01Prod', name: 'Production agents', created_at: iso(now, 600), archived_at: null },
    { id: 'wrkspc_01Sandbox', name: 'Sandbox (dev)', created_at: iso(now, 400), archived_at: null },
  ]
  const serviceAccounts: AServiceAccount[] = [
    {
      id: 'svcacct_01ClaudeCodeCI',
      name: 'claude-code-ci',
      description: 'Claude Code in CI for the platform repo',
      organization_role: 'admin',
      created_at: iso(now, 120),
      archived_at: null,
      created_by_actor_id: 'user_01Alice',
    },
  ]
  const k = (
    keyId: string,
    name: string,
    daysAgo: number,
    by: string,
    ws: string | null,
    status: AKey['status'],
    extra: Partial<AKey> = {},
  ): AKey => ({
    id: keyId,
    name,
    created_at: iso(now, daysAgo),
    expires_at: null,
    created_by: { id: by, type: 'user' },
    partial_key_hint: `sk-ant-api03-${keyId.slice(-3)}...${keyId.slice(-7, -3)}`,
    status,
    workspace_id: ws,
    service_account_id: null,
    ...extra,
  })
  const keys: AKey[] = [
    k('apikey_01ProdSupport', 'support-agent prod', 200, 'user_01Alice', 'wrkspc_01Prod', 'active', { expires_at: iso(now, -165) }),
    k('apikey_01BobDefault', 'bob laptop', 500, 'user_01Bob', null, 'active'),
    k('apikey_01DaveOrphan', 'dave zapier integration', 430, 'user_01Dave', 'wrkspc_01Prod', 'active'),
    k('apikey_01BobInactive', 'old notebook', 260, 'user_01Bob', 'wrkspc_01Sandbox', 'inactive'),
    k('apikey_01Archived', 'retired', 900, 'user_01Alice', 'wrkspc_01Sandbox', 'archived'),
    k('apikey_01ClaudeCodeCI', 'claude-code-ci', 120, 'user_01Alice', 'wrkspc_01Prod', 'active', {
      service_account_id: 'svcacct_01ClaudeCodeCI',
    }),
  ]
  return { users, formerUsers, workspaces, serviceAccounts, keys }
}

const FIRST = ['Ada', 'Grace', 'Linus', 'Margaret', 'Ken', 'Barbara', 'Dennis', 'Frances', 'Alan', 'Radia']
const LAST = ['Lovelace', 'Hopper', 'Torvalds', 'Hamilton', 'Thompson', 'Liskov', 'Ritchie', 'Allen', 'Turing', 'Perlman']
const WORKSPACES = ['Production agents', 'Customer support (prod)', 'Research (dev)', 'Claude Code', 'Evaluations (staging)', 'Sandbox']
const KEY_NAMES = ['support-agent', 'rag service', 'laptop', 'claude code', 'batch summarizer', 'staging agent', 'temp', 'n8n workflow']
const SA_NAMES = ['claude-code-ci', 'triage-agent', 'nightly-evals', 'doc-writer-agent', 'sales-assistant']

function generatedEstate(seed: string, target: number, now: number): AnthropicEstate {
  const random = rng(`anthropic:${seed}`)
  const users: AUser[] = []
  const formerUsers: AUser[] = []
  const userCount = Math.max(3, Math.min(300, Math.ceil(target / 4)))
  for (let i = 0; i < userCount; i++) {
    const first = pick(random, FIRST)
    const last = pick(random, LAST)
    const u: AUser = {
      id: id(random, 'user'),
      name: `${first} ${last}`,
      email: `${first}.${last}${i}@example.com`.toLowerCase(),
      role: i === 0 ? 'admin' : pick(random, ['developer', 'user'] as const),
      added_at: iso(now, 30 + Math.floor(random() * 800)),
    }
    if (i > 0 && random() < 0.12) formerUsers.push(u)
    else users.push(u)
  }
  const everyone = [...users, ...formerUsers]
  const workspaces: AWorkspace[] = []
  for (let i = 0; i < Math.max(2, Math.min(100, Math.ceil(target / 12))); i++) {
    workspaces.push({
      id: id(random, 'wrkspc'),
      name: i < WORKSPACES.length ? (WORKSPACES[i] as string) : `${pick(random, WORKSPACES)} ${i}`,
      created_at: iso(now, 100 + Math.floor(random() * 700)),
      archived_at: null,
    })
  }
  const serviceAccounts: AServiceAccount[] = []
  const keys: AKey[] = []
  let identities = 0
  while (identities < target) {
    const ws = random() < 0.15 ? null : (pick(random, workspaces) as AWorkspace).id
    const age = Math.floor(random() ** 2 * 900)
    const status: AKey['status'] = random() < 0.1 ? 'inactive' : 'active'
    const creator = pick(random, everyone)
    if (random() < 0.2) {
      const sa: AServiceAccount = {
        id: id(random, 'svcacct'),
        name: pick(random, SA_NAMES),
        description: null,
        organization_role: random() < 0.3 ? 'admin' : 'developer',
        created_at: iso(now, age),
        archived_at: null,
        created_by_actor_id: creator.id,
      }
      serviceAccounts.push(sa)
      keys.push({
        id: id(random, 'apikey'),
        name: sa.name,
        created_at: sa.created_at,
        expires_at: random() < 0.3 ? iso(now, -90) : null,
        created_by: { id: creator.id, type: 'user' },
        partial_key_hint: hint(random),
        status,
        workspace_id: ws,
        service_account_id: sa.id,
      })
    } else {
      keys.push({
        id: id(random, 'apikey'),
        name: pick(random, KEY_NAMES),
        created_at: iso(now, age),
        expires_at: random() < 0.2 ? iso(now, -60) : null,
        created_by: { id: creator.id, type: 'user' },
        partial_key_hint: hint(random),
        status,
        workspace_id: ws,
        service_account_id: null,
      })
    }
    identities += 1
    // Now and then an archived key, which a scan must leave out.
    if (random() < 0.05)
      keys.push({
        id: id(random, 'apikey'),
        name: 'retired',
        created_at: iso(now, 800),
        expires_at: null,
        created_by: { id: creator.id, type: 'user' },
        partial_key_hint: hint(random),
        status: 'archived',
        workspace_id: ws,
        service_account_id: null,
      })
  }
  return { users, formerUsers, workspaces, serviceAccounts, keys }
}

export function buildEstate(seed: Seed, now = Date.now()): AnthropicEstate {
  const today = Math.floor(now / DAY) * DAY
  if (seed === 'test') return testEstate(today)
  if (seed === 'demo') return generatedEstate('demo', 30, today)
  return generatedEstate(`n${seed.identities}`, seed.identities, today)
}

export function declaredCounts(estate: AnthropicEstate): { identities: number; agents: number; credentials: number } {
  const live = estate.keys.filter((k) => k.status !== 'archived')
  const personKeys = live.filter((k) => !k.service_account_id).length
  const identities = personKeys + estate.serviceAccounts.filter((s) => !s.archived_at).length
  return { identities, agents: identities, credentials: live.length }
}
