/**
 * The GitHub organization the stand-in serves. Each seeded item says whether it is an agent,
 * so tests compare the scan's agent recognition with what was planted, not with itself.
 */
import { DAY, pick, rng, token } from '../../saas-kit/seed.js'

export interface GUser {
  login: string
  id: number
}
export interface GInstallation {
  id: number
  app_id: number
  app_slug: string
  repository_selection: 'all' | 'selected'
  permissions: Record<string, string>
  events: string[]
  created_at: string
  updated_at: string
  suspended_at: string | null
  agent: boolean
}
export interface GPatGrant {
  id: number
  owner: string
  repository_selection: 'none' | 'all' | 'subset'
  permissions: { organization: Record<string, string>; repository: Record<string, string>; other: Record<string, string> }
  access_granted_at: string
  token_id: number
  token_name: string
  token_expires_at: string | null
  token_last_used_at: string | null
  agent: boolean
}
export interface GSsoAuth {
  login: string
  credential_id: number
  credential_type: 'personal access token' | 'SSH key'
  token_last_eight: string | null
  credential_authorized_at: string
  credential_accessed_at: string | null
  scopes: string[]
  authorized_credential_note: string | null
  authorized_credential_expires_at: string | null
  agent: boolean
}
export interface GRepo {
  id: number
  name: string
  archived: boolean
}
export interface GDeployKey {
  id: number
  repo: string
  key: string
  title: string
  created_at: string
  read_only: boolean
  added_by: string | null
  last_used: string | null
  agent: boolean
}
export interface GitHubEstate {
  org: string
  orgId: number
  sso: boolean
  leashInstallationId: number
  leashAppId: number
  members: GUser[]
  formerMembers: GUser[]
  installations: GInstallation[]
  patGrants: GPatGrant[]
  ssoAuths: GSsoAuth[]
  repos: GRepo[]
  deployKeys: GDeployKey[]
}
export type Seed = 'demo' | 'test' | { identities: number }

export const LEASH_APP_ID = 900001

const iso = (now: number, daysAgo: number) => new Date(now - daysAgo * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z')

function ed25519(random: () => number): string {
  const header = Buffer.from([0, 0, 0, 11, ...Buffer.from('ssh-ed25519'), 0, 0, 0, 32])
  const body = Buffer.from(Array.from({ length: 32 }, () => Math.floor(random() * 256)))
  return `ssh-ed25519 ${Buffer.concat([header, body]).toString('base64')}`
}

const LEASH_INSTALLATION = (now: number): GInstallation => ({
  id: 4242,
  app_id: LEASH_APP_ID,
  app_slug: 'leash-inventory',
  repository_selection: 'all',
  permissions: {
    members: 'read',
    organization_administration: 'read',
    organization_personal_access_tokens: 'write',
    administration: 'write',
    metadata: 'read',
  },
  events: [],
  created_at: iso(now, 30),
  updated_at: iso(now, 30),
  suspended_at: null,
  agent: false,
})

function testEstate(now: number): GitHubEstate {
  const random = rng('github:test')
  const members = [
    { login: 'alice', id: 1001 },
    { login: 'bob', id: 1002 },
  ]
  const formerMembers = [{ login: 'mallory', id: 1003 }]
  const inst = (
    id: number,
    slug: string,
    perms: Record<string, string>,
    sel: 'all' | 'selected',
    agent: boolean,
    suspended = false,
  ): GInstallation => ({
    id,
    app_id: id + 100000,
    app_slug: slug,
    repository_selection: sel,
    permissions: perms,
    events: ['push'],
    created_at: iso(now, 200),
    updated_at: iso(now, 20),
    suspended_at: suspended ? iso(now, 90) : null,
    agent,
  })
  const installations = [
    LEASH_INSTALLATION(now),
    inst(5001, 'claude', { contents: 'write', pull_requests: 'write', issues: 'write', metadata: 'read' }, 'selected', true),
    inst(5002, 'devin-ai-integration', { administration: 'write', contents: 'write', workflows: 'write', metadata: 'read' }, 'all', true),
    inst(5003, 'slack', { metadata: 'read', issues: 'read' }, 'all', false),
    inst(5004, 'old-ci-runner', { contents: 'read', checks: 'write' }, 'all', false, true),
  ]
  const pat = (
    id: number,
    owner: string,
    name: string,
    sel: GPatGrant['repository_selection'],
    org: Record<string, string>,
    repo: Record<string, string>,
    expires: number | null,
    lastUsed: number | null,
    agent: boolean,
  ): GPatGrant => ({
    id,
    owner,
    repository_selection: sel,
    permissions: { organization: org, repository: repo, other: {} },
    access_granted_at: iso(now, 150),
    token_id: id + 70000,
    token_name: name,
    token_expires_at: expires === null ? null : iso(now, -expires),
    token_last_used_at: lastUsed === null ? null : iso(now, lastUsed),
    agent,
  })
  const patGrants = [
    pat(25381, 'bob', 'claude-code-laptop', 'subset', {}, { contents: 'write', pull_requests: 'write', metadata: 'read' }, 60, 2, true),
    pat(25382, 'mallory', 'deploy-script', 'all', {}, { contents: 'write', metadata: 'read' }, null, 200, false),
    pat(
      25383,
      'alice',
      'mcp-github-server',
      'all',
      { members: 'write' },
      { administration: 'write', contents: 'write', metadata: 'read' },
      null,
      1,
      true,
    ),
    pat(25384, 'bob', 'reporting', 'all', {}, { metadata: 'read' }, 30, null, false),
  ]
  const ssoAuths: GSsoAuth[] = [
    {
      login: 'alice',
      credential_id: 161195,
      credential_type: 'personal access token',
      token_last_eight: '71c3fc11',
      credential_authorized_at: iso(now, 500),
      credential_accessed_at: iso(now, 3),
      scopes: ['repo', 'admin:org'],
      authorized_credential_note: 'terraform',
      authorized_credential_expires_at: null,
      agent: false,
    },
    {
      login: 'bob',
      credential_id: 161196,
      credential_type: 'SSH key',
      token_last_eight: null,
      credential_authorized_at: iso(now, 100),
      credential_accessed_at: iso(now, 1),
      scopes: [],
      authorized_credential_note: null,
      authorized_credential_expires_at: null,
      agent: false,
    },
    {
      login: 'bob',
      credential_id: 161197,
      credential_type: 'personal access token',
      token_last_eight: 'a1b2c3d4',
      credential_authorized_at: iso(now, 40),
      credential_accessed_at: null,
      scopes: ['repo'],
      authorized_credential_note: 'gpt-release-notes',
      authorized_credential_expires_at: iso(now, -50),
      agent: true,
    },
  ]
  const repos = [
    { id: 1296269, name: 'platform', archived: false },
    { id: 1296270, name: 'website', archived: false },
    { id: 1296271, name: 'legacy-tool', archived: true },
  ]
  const dk = (
    id: number,
    repo: string,
    title: string,
    ro: boolean,
    by: string | null,
    created: number,
    used: number | null,
    agent: boolean,
  ): GDeployKey => ({
    id,
    repo,
    key: ed25519(random),
    title,
    created_at: iso(now, created),
    read_only: ro,
    added_by: by,
    last_used: used === null ? null : iso(now, used),
    agent,
  })
  const deployKeys = [
    dk(1, 'platform', 'prod-deployer', false, 'alice', 300, 1, false),
    dk(2, 'website', 'netlify', true, 'bob', 120, null, false),
    dk(3, 'website', 'claude-runner', false, 'mallory', 400, 30, true),
    dk(4, 'legacy-tool', 'old backup', true, null, 1500, 900, false),
  ]
  return {
    org: 'acme-agents',
    orgId: 652551,
    sso: true,
    leashInstallationId: 4242,
    leashAppId: LEASH_APP_ID,
    members,
    formerMembers,
    installations,
    patGrants,
    ssoAuths,
    repos,
    deployKeys,
  }
}

const AI_APPS = [
  'claude',
  'devin-ai-integration',
  'chatgpt-codex-connector',
  'cursor',
  'google-labs-jules',
  'coderabbitai',
  'copilot-swe-agent',
]
const OTHER_APPS = ['slack', 'vercel', 'netlify', 'sentry-io', 'renovate', 'codecov', 'jira-software-github', 'linear']
// Names a person would recognise as an AI agent's; generic ones ("mcp-server", "agent-runner") alone do not make an agent.
const AGENT_TOKENS = ['claude-code', 'cursor-agent', 'codex-cli', 'langgraph-bot', 'aider']
const OTHER_TOKENS = ['deploy-script', 'reporting', 'terraform', 'release', 'backup', 'migration']
const REPOS = ['platform', 'website', 'api', 'infra', 'mobile', 'docs', 'data-pipeline', 'billing', 'auth', 'search']
const KEY_TITLES = ['prod-deployer', 'staging deploy', 'backup', 'netlify', 'ci', 'mirror']
const AGENT_KEYS = ['claude-deploy', 'codex-release', 'devin-runner']
const NAMES = [
  'alice',
  'bob',
  'carol',
  'dave',
  'erin',
  'frank',
  'grace',
  'heidi',
  'ivan',
  'judy',
  'mallory',
  'niaj',
  'olivia',
  'peggy',
  'rupert',
  'sybil',
  'trent',
  'victor',
  'walter',
]

function generatedEstate(seed: string, target: number, now: number): GitHubEstate {
  const random = rng(`github:${seed}`)
  const members: GUser[] = []
  const formerMembers: GUser[] = []
  for (let i = 0; i < Math.max(4, Math.ceil(target / 5)); i++) {
    const u = { login: `${NAMES[i % NAMES.length]}${i >= NAMES.length ? Math.floor(i / NAMES.length) : ''}`, id: 2000 + i }
    if (i > 0 && random() < 0.12) formerMembers.push(u)
    else members.push(u)
  }
  const everyone = [...members, ...formerMembers]
  const repos: GRepo[] = []
  for (let i = 0; i < Math.max(3, Math.ceil(target / 4)); i++)
    repos.push({
      id: 5000000 + i,
      name: i < REPOS.length ? (REPOS[i] as string) : `${pick(random, REPOS)}-${i}`,
      archived: random() < 0.08,
    })
  const installations: GInstallation[] = [LEASH_INSTALLATION(now)]
  const patGrants: GPatGrant[] = []
  const ssoAuths: GSsoAuth[] = []
  const deployKeys: GDeployKey[] = []
  let n = 1
  let seq = 1
  while (n < target) {
    const r = random()
    const age = Math.floor(random() ** 2 * 900) + 1
    const used = random() < 0.2 ? null : Math.floor(random() * Math.min(age, 300))
    if (r < 0.12) {
      const unusedAi = AI_APPS.filter((a) => !installations.some((i) => i.app_slug === a))
      const agent = random() < 0.5 && unusedAi.length > 0
      const base = agent ? (unusedAi[0] as string) : pick(random, OTHER_APPS)
      const slug = installations.some((i) => i.app_slug === base) ? `${base}-${seq}` : base
      const write = random() < 0.6
      installations.push({
        id: 6000 + seq,
        app_id: 300000 + seq,
        app_slug: slug,
        repository_selection: random() < 0.5 ? 'all' : 'selected',
        permissions: write
          ? { contents: 'write', pull_requests: 'write', metadata: 'read', ...(random() < 0.3 ? { administration: 'write' } : {}) }
          : { metadata: 'read', contents: 'read' },
        events: ['push'],
        created_at: iso(now, age),
        updated_at: iso(now, Math.floor(age / 2)),
        suspended_at: random() < 0.05 ? iso(now, 10) : null,
        agent,
      })
    } else if (r < 0.5) {
      const agent = random() < 0.35
      patGrants.push({
        id: 40000 + seq,
        owner: pick(random, everyone).login,
        repository_selection: pick(random, ['all', 'subset'] as const),
        permissions: {
          organization: random() < 0.15 ? { members: 'write' } : {},
          repository: random() < 0.5 ? { contents: 'write', metadata: 'read' } : { metadata: 'read', contents: 'read' },
          other: {},
        },
        access_granted_at: iso(now, age),
        token_id: 90000 + seq,
        token_name: `${agent ? pick(random, AGENT_TOKENS) : pick(random, OTHER_TOKENS)}-${token(random, 3, '0123456789')}`,
        token_expires_at: random() < 0.4 ? null : iso(now, -Math.floor(random() * 200) - 1),
        token_last_used_at: used === null ? null : iso(now, used),
        agent,
      })
    } else if (r < 0.55) {
      const agent = random() < 0.3
      ssoAuths.push({
        login: pick(random, everyone).login,
        credential_id: 700000 + seq,
        credential_type: 'personal access token',
        token_last_eight: token(random, 8, '0123456789abcdef'),
        credential_authorized_at: iso(now, age),
        credential_accessed_at: used === null ? null : iso(now, used),
        scopes: random() < 0.3 ? ['repo', 'admin:org'] : ['repo'],
        authorized_credential_note: agent ? `${pick(random, AGENT_TOKENS)}-classic` : `${pick(random, OTHER_TOKENS)}-classic`,
        authorized_credential_expires_at: random() < 0.5 ? null : iso(now, -90),
        agent,
      })
    } else {
      const agent = random() < 0.15
      const by = random() < 0.1 ? null : pick(random, everyone).login
      deployKeys.push({
        id: 800000 + seq,
        repo: (pick(random, repos) as GRepo).name,
        key: ed25519(random),
        title: agent ? pick(random, AGENT_KEYS) : pick(random, KEY_TITLES),
        created_at: iso(now, age),
        read_only: random() < 0.5,
        added_by: by,
        last_used: used === null ? null : iso(now, used),
        agent,
      })
    }
    n += 1
    seq += 1
  }
  return {
    org: seed === 'demo' ? 'acme-agents' : `acme-${seed}`,
    orgId: 700000,
    sso: true,
    leashInstallationId: 4242,
    leashAppId: LEASH_APP_ID,
    members,
    formerMembers,
    installations,
    patGrants,
    ssoAuths,
    repos,
    deployKeys,
  }
}

export function buildEstate(seed: Seed, now = Date.now()): GitHubEstate {
  const today = Math.floor(now / DAY) * DAY
  if (seed === 'test') return testEstate(today)
  if (seed === 'demo') return generatedEstate('demo', 40, today)
  return generatedEstate(`n${seed.identities}`, seed.identities, today)
}

export function declaredCounts(e: GitHubEstate): { identities: number; agents: number; credentials: number } {
  const classic = e.ssoAuths.filter((a) => a.credential_type === 'personal access token')
  const identities = e.installations.length + e.patGrants.length + classic.length + e.deployKeys.length
  const agents = [...e.installations, ...e.patGrants, ...classic, ...e.deployKeys].filter((x) => x.agent).length
  return { identities, agents, credentials: e.patGrants.length + classic.length + e.deployKeys.length }
}
