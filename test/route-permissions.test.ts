/**
 * Every route module under app/routes, every role (and anonymous, and an API token): calls
 * each loader and action with a signed-in request and proves no one reaches what they must
 * not. The table below says what each route and form intent requires; a new route file that
 * is not in the table fails this test until someone decides what it requires.
 *
 * "Reached" means the request got past authorization (any answer but 401, 403 or a redirect to
 * /login); "refused" means a 403 Response (browsers without a session: a redirect to /login).
 */
import { readdirSync } from 'node:fs'
import path from 'node:path'
import type { ActionFunction, LoaderFunction } from '@remix-run/node'
import { beforeAll, describe, expect, it } from 'vitest'
import { ROLE_PERMISSIONS, TOKEN_GRANTABLE_PERMISSIONS, type Permission } from '../app/utils/permissions.js'
import type { Role } from '../db/schema.js'
import { claimIdentity } from '../jobs/claims/index.js'
import { requestRevocation } from '../jobs/revocation/index.js'
import { actorOf, createUser, seedIdentity } from '../jobs/revocation/test-fixtures.js'
import { createTestProvider, createTestProviderState } from '../jobs/revocation/test-provider.js'
import { contextFor, createTestToken, createTestUser, outcome, request, signIn, type TestUser } from './auth.js'
import { useTestDatabase } from './db.js'

const database = useTestDatabase({ max: 8 })
const ROUTES_DIR = path.resolve(import.meta.dirname, '..', 'app', 'routes')
const ROLES: Role[] = ['viewer', 'owner', 'security_lead', 'operator', 'admin']

/**
 * 'public': anyone (it may still send a visitor to /login, e.g. sign-out); 'signed-in': any role;
 * 'nobody': no role (e.g. acting on someone else's own request, which only its author may do).
 */
type Access = 'public' | 'signed-in' | 'nobody' | { anyOf: Permission[] }
const needs = (...anyOf: Permission[]): Access => ({ anyOf })

interface Fixtures {
  sourceId: string
  identityId: number
  othersRevocationId: string
  targetUserId: string
  tokenId: string
  othersClaimId: string
  /** A second pending revocation that no test approves, for the API-token case. */
  pendingRevocationId: string
  /** An open finding of `identityId`, for accepting the risk. */
  findingId: number
}

interface RouteSpec {
  loader?: Access
  /** One Access for the whole action, or one per form intent (with the form fields to send). */
  action?: Access | Record<string, { access: Access; form: (f: Fixtures) => Record<string, string> }>
  params?: (f: Fixtures) => Record<string, string>
}

// ── The expected-permission table: one entry per route module. ──
const ROUTES: Record<string, RouteSpec> = {
  _index: { loader: 'public' }, // only redirects to /posture, which checks
  login: { loader: 'public', action: 'public' },
  logout: { loader: 'public', action: 'public' },
  'auth.oidc.start': { loader: 'public' },
  'auth.oidc.callback': { loader: 'public' },
  'account.password': { loader: 'signed-in', action: 'signed-in' },
  posture: { loader: needs('read:posture:any') },
  'identities._index': { loader: needs('read:identity:any') },
  'identities.$id': {
    loader: needs('read:identity:any'),
    params: (f) => ({ id: String(f.identityId) }),
    action: {
      classify: { access: needs('update:classification:any'), form: () => ({ decision: 'agent', reason: 'route permission test' }) },
      // Owners may decide on the findings of identities they answer for; the fixture identity is not theirs.
      'accept-risk': {
        access: needs('update:finding:any'),
        form: (f) => ({ findingId: String(f.findingId), until: new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10), reason: 'route permission test' }),
      },
      'end-acceptance': { access: needs('update:finding:any'), form: (f) => ({ findingId: String(f.findingId) }) },
    },
  },
  'identities.export[.csv]': { loader: needs('export:identity:any') },
  'identities.$id_.claim': {
    loader: needs('claim:identity:any'),
    params: (f) => ({ id: String(f.identityId) }),
    action: needs('claim:identity:any'),
  },
  // Handing over an identity the role does not own: only roles that may reassign any (confirm:claim:any).
  'identities.$id_.handover': {
    loader: needs('confirm:claim:any'),
    params: (f) => ({ id: String(f.identityId) }),
    action: needs('confirm:claim:any'),
  },
  claims: {
    loader: needs('read:claim:any'),
    action: {
      confirm: { access: needs('confirm:claim:any'), form: (f) => ({ claimId: f.othersClaimId, reason: 'route permission test' }) },
      reject: { access: needs('confirm:claim:any'), form: (f) => ({ claimId: f.othersClaimId, reason: 'route permission test' }) },
    },
  },
  // Someone else's claim, by id: nobody but its author may cancel it; a claim is no handover to accept.
  'my-identities': {
    loader: needs('read:claim:own', 'read:claim:any'),
    action: {
      cancel: { access: 'nobody', form: (f) => ({ claimId: f.othersClaimId, reason: 'route permission test' }) },
      accept: { access: 'nobody', form: (f) => ({ claimId: f.othersClaimId, reason: 'route permission test' }) },
      decline: { access: 'nobody', form: (f) => ({ claimId: f.othersClaimId, reason: 'route permission test' }) },
    },
  },
  orphans: { loader: needs('read:identity:any') },
  sources: {
    loader: needs('read:source:any'),
    action: { scan: { access: needs('scan:source:any'), form: (f) => ({ sourceId: f.sourceId }) } },
  },
  'sources_.new': { loader: needs('create:source:any'), action: needs('create:source:any') },
  'sources_.$id.test-connection': {
    loader: needs('read:source:any'),
    params: (f) => ({ id: f.sourceId }),
    action: needs('update:source:any'),
  },
  revocations: {
    loader: needs('read:revocation:any', 'read:revocation:own'),
    action: { retry: { access: needs('execute:revocation:any'), form: (f) => ({ id: f.othersRevocationId }) } },
  },
  // Someone else's revocation, by id: only roles that read any revocation may open or act on it.
  'revocations_.$id': {
    loader: needs('read:revocation:any'),
    params: (f) => ({ id: f.othersRevocationId }),
    action: {
      approve: { access: needs('approve:revocation:any'), form: () => ({ note: 'route permission test' }) },
      reject: { access: needs('approve:revocation:any'), form: () => ({ reason: 'route permission test' }) },
      retry: { access: needs('execute:revocation:any'), form: () => ({}) },
      undo: { access: needs('execute:revocation:any'), form: () => ({ reason: 'route permission test' }) },
    },
  },
  // Requesting a revocation of an identity the role does not own: owners (create:revocation:own) are refused.
  'identities.$id_.revoke': {
    loader: needs('create:revocation:any'),
    params: (f) => ({ id: String(f.identityId) }),
    action: needs('create:revocation:any'),
  },
  // The automation API (API tokens or sessions): the per-identity ownership check is exercised above.
  'api.revocations': {
    loader: needs('read:revocation:any', 'read:revocation:own'),
    action: needs('create:revocation:any', 'create:revocation:own'),
  },
  audit: { loader: needs('read:audit:any') },
  'audit_.export': { loader: needs('export:audit:any') },
  'admin.users': {
    loader: needs('read:user:any'),
    action: {
      create: { access: needs('create:user:any'), form: () => ({ username: `new-${Math.random().toString(36).slice(2, 8)}`, role: 'viewer' }) },
      'set-role': { access: needs('update:user:any'), form: (f) => ({ userId: f.targetUserId, role: 'viewer' }) },
      disable: { access: needs('update:user:any'), form: (f) => ({ userId: f.targetUserId }) },
      enable: { access: needs('update:user:any'), form: (f) => ({ userId: f.targetUserId }) },
      'reset-password': { access: needs('update:user:any'), form: (f) => ({ userId: f.targetUserId }) },
    },
  },
  'admin.scoring': {
    loader: needs('read:setting:any'),
    action: {
      'set-override': {
        access: needs('update:setting:any'),
        form: () => ({ scopeType: 'tag', scopeValue: 'env=route-test', threshold: 'maxCredentialAgeDays', value: '30' }),
      },
      'remove-override': { access: needs('update:setting:any'), form: () => ({ overrideId: '999999' }) },
      'save-departed': { access: needs('update:setting:any'), form: () => ({ departed: '' }) },
    },
  },
  'admin.tokens': {
    loader: needs('read:api_token:any'),
    action: {
      create: { access: needs('create:api_token:any'), form: () => ({ name: 'route test', expiresInDays: '1', scopes: 'read:posture:any' }) },
      revoke: { access: needs('delete:api_token:any'), form: (f) => ({ tokenId: f.tokenId }) },
    },
  },
}

/** Route modules as Remix sees them (its ignoredRouteFiles patterns from vite.config.ts). */
function routeModules(): string[] {
  return readdirSync(ROUTES_DIR)
    .filter((file) => /\.(tsx?|jsx?)$/.test(file) && !/\.server\.|\.test\.|^__|^\./.test(file))
    .map((file) => file.replace(/\.(tsx?|jsx?)$/, ''))
    .sort()
}

const users = {} as Record<Role, TestUser>
let fixtures: Fixtures
let adminToken: string

beforeAll(async () => {
  const db = database.current.db
  for (const role of ROLES) {
    const user = await createTestUser(db, { role })
    users[role] = user
  }
  const requester = await createUser(db, 'operator', 'someone-else')
  const target = await createTestUser(db, { role: 'viewer', username: 'target-user' })
  const key = 'AKIAROUTETEST0001'
  const seeded = await seedIdentity(db, { keys: [key], accessLevel: 'admin' })
  const provider = createTestProvider(createTestProviderState({ [key]: 'Active' }))
  const requested = await requestRevocation(db, { resolveProvider: () => provider }, actorOf(requester), {
    identityId: seeded.identityId,
    credentialId: seeded.credentialIds[0],
    reason: 'someone else asked',
  })
  const key2 = 'AKIAROUTETEST0002'
  const seeded2 = await seedIdentity(db, { keys: [key2], accessLevel: 'admin' })
  const provider2 = createTestProvider(createTestProviderState({ [key2]: 'Active' }))
  const pending = await requestRevocation(db, { resolveProvider: () => provider2 }, actorOf(requester), {
    identityId: seeded2.identityId,
    credentialId: seeded2.credentialIds[0],
    reason: 'someone else asked, high impact',
  })
  const claimant = await createUser(db, 'owner', 'someone-else-owner')
  const claim = await claimIdentity(db, {}, actorOf(claimant), { identityId: seeded.identityId, reason: 'mine, honestly' })
  const admin = users.admin
  adminToken = await createTestToken(db, admin, TOKEN_GRANTABLE_PERMISSIONS.filter((p) => ROLE_PERMISSIONS.admin.has(p)))
  // A separate token for the admin.tokens "revoke" case to revoke.
  await createTestToken(db, admin, ['read:posture:any'])
  const token = await db.selectFrom('api_tokens').select('id').where('scopes', '=', '["read:posture:any"]' as never).executeTakeFirstOrThrow()
  const finding = await db
    .insertInto('findings')
    .values({ identity_id: seeded.identityId, rule_id: 'privilege_identity_full_admin', dimension: 'privilege', severity: 'critical', nhi: 'NHI5', status: 'open', evidence: '{}' as never })
    .returning('id')
    .executeTakeFirstOrThrow()
  fixtures = { findingId: finding.id, sourceId: seeded.sourceId, identityId: seeded.identityId, othersRevocationId: requested.revocations[0]!.id, targetUserId: target.id, tokenId: token.id, pendingRevocationId: pending.revocations[0]!.id, othersClaimId: claim.id }
})

async function load(id: string) {
  const file = readdirSync(ROUTES_DIR).find((name) => name.replace(/\.(tsx?|jsx?)$/, '') === id)
  if (!file) throw new Error(`app/routes has no module "${id}": update the table in test/route-permissions.test.ts`)
  return (await import(path.join(ROUTES_DIR, file))) as {
    loader?: LoaderFunction
    action?: ActionFunction
  }
}

function allows(access: Access, role: Role): boolean {
  if (access === 'nobody') return false
  if (access === 'public' || access === 'signed-in') return true
  return access.anyOf.some((permission) => ROLE_PERMISSIONS[role].has(permission))
}

function routePath(id: string, params: Record<string, string>): string {
  const segments = id
    .replace(/\[(.*?)\]/g, '$1')
    .split('.')
    .filter((segment) => segment !== '_index' && segment !== '')
    .map((segment) => segment.replace(/_$/, ''))
    .map((segment) => (segment.startsWith('$') ? params[segment.slice(1)] ?? 'x' : segment))
  return `/${segments.join('/')}`
}

async function settle(result: Awaited<ReturnType<typeof outcome>>) {
  // Streaming responses (exports) hold a database cursor until read or cancelled.
  if (result.value instanceof Response && result.value.body) await result.value.body.cancel().catch(() => {})
  return result
}

function refused(result: Awaited<ReturnType<typeof outcome>>): boolean {
  return result.status === 401 || result.status === 403 || (result.location?.startsWith('/login') ?? false)
}

describe('route permissions', () => {
  it('has an expected-permission entry for every route module, and no stale ones', () => {
    const modules = routeModules()
    const missing = modules.filter((id) => !(id in ROUTES))
    expect(missing, `add these routes to the table in test/route-permissions.test.ts: ${missing.join(', ')}`).toEqual([])
    expect(Object.keys(ROUTES).filter((id) => !modules.includes(id))).toEqual([])
  })

  it('matches each module’s exports (a loader or action not in the table is a gap)', async () => {
    for (const id of routeModules().filter((route) => route in ROUTES)) {
      const mod = await load(id)
      expect(typeof mod.loader === 'function', `${id}: loader in table vs module`).toBe(ROUTES[id]!.loader !== undefined)
      expect(typeof mod.action === 'function', `${id}: action in table vs module`).toBe(ROUTES[id]!.action !== undefined)
    }
  })

  for (const [id, spec] of Object.entries(ROUTES)) {
    it(`${id}: every role reaches only what its permissions allow`, async () => {
      const mod = await load(id)
      const params = spec.params?.(fixtures) ?? {}
      const url = routePath(id, params)
      const context = contextFor(database.current.db)
      const cases: Array<{ method: 'GET' | 'POST'; access: Access; form?: Record<string, string>; label: string }> = []
      if (spec.loader && mod.loader) cases.push({ method: 'GET', access: spec.loader, label: 'loader' })
      if (spec.action && mod.action) {
        if (typeof spec.action === 'string' || 'anyOf' in spec.action)
          cases.push({ method: 'POST', access: spec.action as Access, form: { reason: 'route permission test', credentialId: '' }, label: 'action' })
        else for (const [intent, entry] of Object.entries(spec.action)) cases.push({ method: 'POST', access: entry.access, form: { intent, ...entry.form(fixtures) }, label: `action ${intent}` })
      }
      for (const testCase of cases) {
        const call = (cookie?: string, token?: string) => {
          const body = testCase.form ? new URLSearchParams(testCase.form) : undefined
          const req = request(url, { method: testCase.method, body, cookie, token, headers: body ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {} })
          const fn = (testCase.method === 'GET' ? mod.loader : mod.action)!
          return outcome(async () => fn({ request: req, context, params }))
        }
        // Anonymous: only public routes answer; the rest send to /login (or 401).
        const anonymous = await settle(await call())
        if (testCase.access === 'public') expect([401, 403].includes(anonymous.status ?? 0), `${id} ${testCase.label} anonymous`).toBe(false)
        else expect(refused(anonymous) && anonymous.status !== 403, `${id} ${testCase.label} anonymous must be sent to sign in (got ${anonymous.status})`).toBe(true)

        for (const role of ROLES) {
          // A fresh session per call: sign-out, password resets and disabling end sessions.
          const result = await settle(await call(await signIn(database.current.db, users[role])))
          if (testCase.access === 'public') {
            expect([401, 403].includes(result.status ?? 0), `${id} ${testCase.label} as ${role}`).toBe(false)
          } else if (allows(testCase.access, role)) {
            expect(refused(result), `${id} ${testCase.label} as ${role} should be reached (got ${result.status} ${result.location ?? ''})`).toBe(false)
          } else {
            expect(result.status, `${id} ${testCase.label} as ${role} must be refused with 403`).toBe(403)
          }
        }
      }
    })
  }

  it('an API token never approves a revocation, even one created by an admin with every grantable scope', async () => {
    const mod = await load('revocations_.$id')
    const id = fixtures.pendingRevocationId
    const before = await database.current.db.selectFrom('revocations').select(['status', 'approved_by']).where('id', '=', id).executeTakeFirstOrThrow()
    expect(before).toEqual({ status: 'pending_approval', approved_by: null })
    const req = request(`/revocations/${id}`, {
      method: 'POST',
      token: adminToken,
      body: new URLSearchParams({ intent: 'approve', note: 'automation' }),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    })
    const result = await outcome(async () => mod.action!({ request: req, context: contextFor(database.current.db), params: { id } }))
    expect(result.status).toBe(403)
    const after = await database.current.db.selectFrom('revocations').select(['status', 'approved_by']).where('id', '=', id).executeTakeFirstOrThrow()
    expect(after).toEqual({ status: 'pending_approval', approved_by: null })
  })

  it('records every refusal in the audit trail', async () => {
    const denied = await database.current.db.selectFrom('audit_events').select(['actor_id', 'after']).where('action', '=', 'authz.denied').execute()
    expect(denied.some((event) => event.actor_id === users.viewer.id)).toBe(true)
    expect(denied.some((event) => (event.after as { path?: string }).path === `/revocations/${fixtures.othersRevocationId}`)).toBe(true)
  })
})
