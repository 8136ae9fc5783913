/**
 * The Vault cluster the stand-in serves: tokens (by accessor), ACL policies, an AppRole mount
 * with roles and secret-ids, a KV v2 mount with metadata, and audit devices. Each seeded item
 * says whether it is an agent so tests check recognition against what was planted.
 */
import { DAY, pick, rng, token } from '../../saas-kit/seed.js'

export interface VToken {
  id: string
  accessor: string
  display_name: string
  policies: string[]
  meta: Record<string, string> | null
  creation_time: number
  creation_ttl: number
  expire_time: string | null
  orphan: boolean
  path: string
  agent: boolean
}
export interface VSecretId {
  accessor: string
  creation_time: string
  expiration_time: string
  last_updated_time: string
  metadata: Record<string, string>
}
export interface VRole {
  name: string
  token_policies: string[]
  secret_id_ttl: number
  token_ttl: number
  secretIds: VSecretId[]
  agent: boolean
}
export interface VSecret {
  path: string
  created_time: string
  updated_time: string
  current_version: number
  custom_metadata: Record<string, string>
  agent: boolean
}
export interface VaultEstate {
  tokens: VToken[]
  policies: Record<string, string>
  roles: VRole[]
  secrets: VSecret[]
  auditDevices: string[]
}
export type Seed = 'demo' | 'test' | { identities: number }

export const SCANNER_TOKEN = 'hvs.standinScanner00000000000000'
export const LIMITED_TOKEN = 'hvs.standinLimited00000000000000'

const POLICIES: Record<string, string> = {
  default: 'path "auth/token/lookup-self" {\n  capabilities = ["read"]\n}',
  'leash-scanner':
    'path "sys/audit" {\n  capabilities = ["read", "sudo"]\n}\npath "sys/auth" {\n  capabilities = ["read"]\n}\npath "auth/token/accessors" {\n  capabilities = ["list", "sudo"]\n}',
  'leash-limited': 'path "auth/token/accessors" {\n  capabilities = ["list", "sudo"]\n}',
  'deploy-prod': 'path "secret/data/prod/*" {\n  capabilities = ["create", "read", "update"]\n}',
  'break-glass-admin': 'path "*" {\n  capabilities = ["create", "read", "update", "delete", "list", "sudo"]\n}',
  readonly: 'path "secret/data/*" {\n  capabilities = ["read", "list"]\n}',
}

const isoAt = (now: number, daysAgo: number) => new Date(now - daysAgo * DAY).toISOString()
const uuid = (random: () => number) =>
  `${token(random, 8, '0123456789abcdef')}-${token(random, 4, '0123456789abcdef')}-${token(random, 4, '0123456789abcdef')}-${token(random, 4, '0123456789abcdef')}-${token(random, 12, '0123456789abcdef')}`

function tok(
  random: () => number,
  now: number,
  name: string,
  policies: string[],
  daysAgo: number,
  ttlDays: number | null,
  meta: Record<string, string> | null,
  path: string,
  agent: boolean,
  id?: string,
): VToken {
  const created = Math.floor((now - daysAgo * DAY) / 1000)
  return {
    id: id ?? `hvs.${token(random, 24, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789')}`,
    accessor: token(random, 24, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'),
    display_name: name,
    policies,
    meta,
    creation_time: created,
    creation_ttl: ttlDays === null ? 0 : ttlDays * 86400,
    expire_time: ttlDays === null ? null : new Date((created + ttlDays * 86400) * 1000).toISOString(),
    orphan: true,
    path,
    agent,
  }
}

function testEstate(now: number): VaultEstate {
  const r = rng('vault:test')
  const tokens = [
    tok(
      r,
      now,
      'token-leash-scanner',
      ['default', 'leash-scanner'],
      1,
      30,
      { owner: 'security@example.com' },
      'auth/token/create',
      false,
      SCANNER_TOKEN,
    ),
    tok(r, now, 'token-leash-limited', ['default', 'leash-limited'], 1, 30, null, 'auth/token/create', false, LIMITED_TOKEN),
    tok(r, now, 'root', ['root'], 700, null, null, 'auth/token/root', false),
    tok(
      r,
      now,
      'token-support-agent',
      ['default', 'break-glass-admin'],
      200,
      null,
      { purpose: 'langgraph support agent' },
      'auth/token/create',
      true,
    ),
    tok(r, now, 'approle', ['default', 'deploy-prod'], 2, 1, { role_name: 'ci-deployer' }, 'auth/approle/login', false),
    tok(r, now, 'ldap-alice', ['default', 'readonly'], 10, 32, { username: 'alice' }, 'auth/ldap/login/alice', false),
  ]
  const sid = (accessor: string, days: number, expiresInDays: number | null, metadata: Record<string, string>): VSecretId => ({
    accessor,
    creation_time: isoAt(now, days),
    expiration_time: expiresInDays === null ? '0001-01-01T00:00:00Z' : isoAt(now, -expiresInDays),
    last_updated_time: isoAt(now, days),
    metadata,
  })
  const roles: VRole[] = [
    {
      name: 'ci-deployer',
      token_policies: ['deploy-prod'],
      secret_id_ttl: 0,
      token_ttl: 3600,
      secretIds: [sid('84896a0c-1347-aa90-a4f6-aca8b7558780', 400, null, { owner: 'platform-team', created_by: 'bob@example.com' })],
      agent: false,
    },
    {
      name: 'support-agent',
      token_policies: ['break-glass-admin'],
      secret_id_ttl: 0,
      token_ttl: 0,
      secretIds: [
        sid('a1b2c3d4-0000-1111-2222-333344445555', 90, null, {}),
        sid('a1b2c3d4-0000-1111-2222-333344446666', 5, 25, { created_by: 'carol@example.com' }),
      ],
      agent: true,
    },
    { name: 'reporting', token_policies: ['readonly'], secret_id_ttl: 86400 * 30, token_ttl: 600, secretIds: [], agent: false },
  ]
  const secrets: VSecret[] = [
    {
      path: 'prod/payments/stripe',
      created_time: isoAt(now, 800),
      updated_time: isoAt(now, 800),
      current_version: 1,
      custom_metadata: { owner: 'payments-team', environment: 'production' },
      agent: false,
    },
    {
      path: 'agents/openai-api-key',
      created_time: isoAt(now, 300),
      updated_time: isoAt(now, 40),
      current_version: 3,
      custom_metadata: {},
      agent: true,
    },
    {
      path: 'dev/db-password',
      created_time: isoAt(now, 1200),
      updated_time: isoAt(now, 1200),
      current_version: 1,
      custom_metadata: { created_by: 'dave@example.com' },
      agent: false,
    },
  ]
  return { tokens, policies: { ...POLICIES }, roles, secrets, auditDevices: ['file/'] }
}

const AGENT_WORDS = ['support-agent', 'rag-indexer-agent', 'claude-worker', 'openai-proxy', 'mcp-server', 'llm-gateway']
const PLAIN_WORDS = ['billing', 'ci-deployer', 'backup', 'metrics', 'payments', 'crm-sync', 'etl', 'web']
const ENVS = ['prod', 'staging', 'dev']

function generatedEstate(seed: string, target: number, now: number, audit: boolean): VaultEstate {
  const r = rng(`vault:${seed}`)
  const tokens: VToken[] = [
    tok(r, now, 'token-leash-scanner', ['default', 'leash-scanner'], 1, 30, null, 'auth/token/create', false, SCANNER_TOKEN),
  ]
  const roles: VRole[] = []
  const secrets: VSecret[] = []
  let n = 1
  while (n < target) {
    const x = r()
    const agent = r() < 0.3
    const word = agent ? pick(r, AGENT_WORDS) : pick(r, PLAIN_WORDS)
    const env = pick(r, ENVS)
    const age = Math.floor(r() ** 2 * 1000) + 1
    if (x < 0.5) {
      const policies = ['default', pick(r, ['readonly', 'deploy-prod', 'break-glass-admin', 'readonly'])]
      tokens.push(
        tok(
          r,
          now,
          `token-${word}-${env}`,
          policies,
          age,
          r() < 0.35 ? null : 32,
          r() < 0.5 ? { owner: `${pick(r, ['alice', 'bob', 'carol', 'dave'])}@example.com` } : null,
          'auth/token/create',
          agent,
        ),
      )
    } else if (x < 0.65) {
      const secretIds: VSecretId[] = []
      for (let i = 0; i < Math.floor(r() * 3); i++)
        secretIds.push({
          accessor: uuid(r),
          creation_time: isoAt(now, age),
          expiration_time: r() < 0.5 ? '0001-01-01T00:00:00Z' : isoAt(now, -30),
          last_updated_time: isoAt(now, age),
          metadata: r() < 0.5 ? { owner: 'platform-team' } : {},
        })
      roles.push({
        name: `${word}-${env}-${roles.length}`,
        token_policies: [pick(r, ['readonly', 'deploy-prod', 'break-glass-admin'])],
        secret_id_ttl: 0,
        token_ttl: 3600,
        secretIds,
        agent,
      })
    } else {
      secrets.push({
        path: `${env}/${word}/${token(r, 6)}`,
        created_time: isoAt(now, age),
        updated_time: isoAt(now, Math.floor(age * r())),
        current_version: 1 + Math.floor(r() * 4),
        custom_metadata: r() < 0.5 ? { owner: `${word.split('-')[0]}-team` } : {},
        agent,
      })
    }
    n += 1
  }
  return { tokens, policies: { ...POLICIES }, roles, secrets, auditDevices: audit ? ['file/'] : [] }
}

export function buildEstate(seed: Seed, now = Date.now()): VaultEstate {
  const today = Math.floor(now / DAY) * DAY
  if (seed === 'test') return testEstate(today)
  // The demo cluster has no audit device: a monitoring gap worth seeing.
  if (seed === 'demo') return generatedEstate('demo', 40, today, false)
  return generatedEstate(`n${seed.identities}`, seed.identities, today, true)
}

export function declaredCounts(e: VaultEstate): { identities: number; agents: number; credentials: number } {
  const items = [...e.tokens, ...e.roles, ...e.secrets]
  return {
    identities: items.length,
    agents: items.filter((i) => i.agent).length,
    credentials: e.tokens.length + e.roles.reduce((a, r) => a + r.secretIds.length, 0) + e.secrets.length,
  }
}
