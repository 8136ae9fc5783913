import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { contextFor, createTestToken, createTestUser, outcome, request, signIn } from '../../test/auth.js'
import { useTestDatabase } from '../../test/db.js'
import { revokeApiToken } from './api-tokens.server.js'
import { getActor, requireUser, requireUserWithPermission, safeRedirectTo } from './auth.server.js'
import { ROLE_PERMISSIONS } from './permissions.js'
import { createSession, getSession, isInsecureLocal, LOCAL_SESSION_COOKIE, SECURE_SESSION_COOKIE, sessionCookie, sessionCookieName, sha256Hex } from './session.server.js'
import { disableUser } from './users.server.js'

const database = useTestDatabase()
const db = () => database.current.db

describe('sessions', () => {
  it('stores only the SHA-256 of a 256-bit random token', async () => {
    const user = await createTestUser(db(), { role: 'viewer' })
    const session = await createSession(db(), user.id)
    expect(session.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const rows = await db().selectFrom('sessions').selectAll().where('user_id', '=', user.id).execute()
    expect(rows).toHaveLength(1)
    expect(rows[0]!.id_hash).toBe(sha256Hex(session.token))
    expect(JSON.stringify(rows)).not.toContain(session.token)
    const other = await createSession(db(), user.id)
    expect(other.token).not.toBe(session.token)
  })

  it('ends a session after the idle timeout and after the absolute timeout', async () => {
    const user = await createTestUser(db(), { role: 'viewer' })
    const idle = await createSession(db(), user.id)
    expect(await getSession(db(), idle.token)).not.toBeNull()
    await db().updateTable('sessions').set({ last_seen_at: new Date(Date.now() - 31 * 60_000) }).where('id_hash', '=', sha256Hex(idle.token)).execute()
    expect(await getSession(db(), idle.token)).toBeNull()
    expect(await db().selectFrom('sessions').select('id_hash').where('id_hash', '=', sha256Hex(idle.token)).executeTakeFirst()).toBeUndefined()

    const old = await createSession(db(), user.id)
    await db().updateTable('sessions').set({ expires_at: new Date(Date.now() - 1000) }).where('id_hash', '=', sha256Hex(old.token)).execute()
    expect(await getSession(db(), old.token)).toBeNull()
  })

  it('reads the timeouts from settings', async () => {
    const user = await createTestUser(db(), { role: 'viewer' })
    await db().insertInto('settings').values({ key: 'auth.session_idle_minutes', value: '5' }).execute()
    try {
      const session = await createSession(db(), user.id)
      await db().updateTable('sessions').set({ last_seen_at: new Date(Date.now() - 6 * 60_000) }).where('id_hash', '=', sha256Hex(session.token)).execute()
      expect(await getSession(db(), session.token)).toBeNull()
    } finally {
      await db().deleteFrom('settings').where('key', '=', 'auth.session_idle_minutes').execute()
    }
  })

  it('ends every session of a user at once when the user is disabled', async () => {
    const admin = await createTestUser(db(), { role: 'admin' })
    const user = await createTestUser(db(), { role: 'operator' })
    const cookies = await Promise.all([signIn(db(), user), signIn(db(), user), signIn(db(), user)])
    const { sessionsEnded } = await disableUser(db(), { type: 'user', id: admin.id, display: admin.username }, user.id, null)
    expect(sessionsEnded).toBe(3)
    for (const cookie of cookies) expect(await getActor(request('/posture', { cookie }), contextFor(db()))).toBeNull()
    const event = await db().selectFrom('audit_events').selectAll().where('action', '=', 'user.disabled').where('object_id', '=', user.id).executeTakeFirstOrThrow()
    expect(event.actor_id).toBe(admin.id)
  })

  it('names the cookie __Host- with Secure outside plain-HTTP localhost', () => {
    const local = new Request('http://localhost:3000/login')
    const remote = new Request('https://leash.example.com/login')
    expect(isInsecureLocal(local)).toBe(true)
    expect(sessionCookieName(local)).toBe(LOCAL_SESSION_COOKIE)
    expect(sessionCookieName(remote)).toBe(SECURE_SESSION_COOKIE)
    const cookie = sessionCookie(remote, 'x'.repeat(43), 3600)
    expect(cookie).toMatch(/^__Host-leash_session=x{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=3600; Secure$/)
    expect(sessionCookie(local, 'x'.repeat(43), 3600)).not.toContain('Secure')
  })
})

describe('requireUser', () => {
  it('redirects a browser without a session to /login with redirectTo', async () => {
    const result = await outcome(() => requireUser(request('/identities?risk=high'), contextFor(db())))
    expect(result).toMatchObject({ thrown: true, status: 302, location: '/login?redirectTo=%2Fidentities%3Frisk%3Dhigh' })
  })

  it('answers 401 to an API call without a valid token', async () => {
    const missing = await outcome(() => requireUser(request('/api/identities', { headers: { Accept: 'application/json' } }), contextFor(db())))
    expect(missing).toMatchObject({ thrown: true, status: 401 })
    const bad = await outcome(() => requireUser(request('/identities', { token: 'leash_AAAAAAAA_' + 'b'.repeat(43) }), contextFor(db())))
    expect(bad).toMatchObject({ thrown: true, status: 401 })
  })

  it('sends a user who must change their password to the change page', async () => {
    const user = await createTestUser(db(), { role: 'viewer', mustChangePassword: true })
    const cookie = await signIn(db(), user)
    expect(await outcome(() => requireUser(request('/posture', { cookie }), contextFor(db())))).toMatchObject({ thrown: true, status: 302, location: '/account/password' })
    expect(await outcome(() => requireUser(request('/account/password', { cookie }), contextFor(db())))).toMatchObject({ thrown: false })
  })

  it('ignores cookies when an Authorization header is present', async () => {
    const user = await createTestUser(db(), { role: 'admin' })
    const cookie = await signIn(db(), user)
    const result = await outcome(() => requireUser(request('/posture', { cookie, headers: { Authorization: 'Bearer nonsense' } }), contextFor(db())))
    expect(result).toMatchObject({ thrown: true, status: 401 })
  })
})

describe('requireUserWithPermission', () => {
  it('returns the user holding the permission', async () => {
    const lead = await createTestUser(db(), { role: 'security_lead' })
    const { user } = await requireUserWithPermission(request('/audit', { cookie: await signIn(db(), lead) }), contextFor(db()), 'read:audit:any')
    expect(user).toMatchObject({ kind: 'user', userId: lead.id, role: 'security_lead', tokenId: null, scopes: null })
  })

  it('refuses with 403 and records authz.denied', async () => {
    const viewer = await createTestUser(db(), { role: 'viewer' })
    const result = await outcome(() => requireUserWithPermission(request('/audit', { cookie: '' + '' }), contextFor(db()), 'read:audit:any'))
    expect(result.status).toBe(302)
    const denied = await outcome(async () => requireUserWithPermission(request('/audit', { cookie: await signIn(db(), viewer) }), contextFor(db()), 'read:audit:any'))
    expect(denied).toMatchObject({ thrown: true, status: 403 })
    const event = await db().selectFrom('audit_events').selectAll().where('action', '=', 'authz.denied').where('actor_id', '=', viewer.id).executeTakeFirstOrThrow()
    expect(event.after).toMatchObject({ permission: 'read:audit:any', path: '/audit', role: 'viewer' })
  })
})

describe('API tokens', () => {
  it('acts with its scopes intersected with its creator role, and never approves', async () => {
    const operator = await createTestUser(db(), { role: 'operator' })
    const token = await createTestToken(db(), operator, ['create:revocation:any', 'read:identity:any'])
    const actor = await getActor(request('/revocations', { token }), contextFor(db()))
    expect(actor).toMatchObject({ kind: 'token', userId: operator.id, role: 'operator' })
    expect(actor!.can('create:revocation:any')).toBe(true)
    expect(actor!.can('read:identity:any')).toBe(true)
    expect(actor!.can('read:audit:any')).toBe(false) // the operator holds it, the token was not given it
    expect(actor!.can('approve:revocation:any')).toBe(false)
    // Demoting the creator shrinks the token.
    await db().updateTable('users').set({ role: 'viewer' }).where('id', '=', operator.id).execute()
    const demoted = await getActor(request('/revocations', { token }), contextFor(db()))
    expect(demoted!.can('create:revocation:any')).toBe(false)
    expect(demoted!.can('read:identity:any')).toBe(true)
  })

  it('cannot be created with an approval scope', async () => {
    const admin = await createTestUser(db(), { role: 'admin' })
    await expect(createTestToken(db(), admin, ['approve:revocation:any'])).rejects.toThrow(/approvals and confirmations need a person/)
    // Even a scope list smuggled into the database is filtered at use.
    const token = await createTestToken(db(), admin, ['read:audit:any'])
    await sql`update api_tokens set scopes = '["read:audit:any","approve:revocation:any"]'::jsonb where token_prefix = ${token.slice(0, 14)}`.execute(db())
    const actor = await getActor(request('/audit', { token }), contextFor(db()))
    expect(actor!.can('read:audit:any')).toBe(true)
    expect(actor!.can('approve:revocation:any')).toBe(false)
    expect(ROLE_PERMISSIONS.admin.has('approve:revocation:any')).toBe(true)
  })

  it('stops working when revoked, expired, or its creator is disabled', async () => {
    const admin = await createTestUser(db(), { role: 'admin' })
    const other = await createTestUser(db(), { role: 'admin' })
    const revoked = await createTestToken(db(), admin, ['read:audit:any'])
    const row = await db().selectFrom('api_tokens').select('id').where('token_prefix', '=', revoked.slice(0, 14)).executeTakeFirstOrThrow()
    await revokeApiToken(db(), row.id)
    expect(await getActor(request('/audit', { token: revoked }), contextFor(db()))).toBeNull()

    const expired = await createTestToken(db(), admin, ['read:audit:any'])
    await db().updateTable('api_tokens').set({ expires_at: new Date(Date.now() - 1000) }).where('token_prefix', '=', expired.slice(0, 14)).execute()
    expect(await getActor(request('/audit', { token: expired }), contextFor(db()))).toBeNull()

    const orphaned = await createTestToken(db(), admin, ['read:audit:any'])
    expect(await getActor(request('/audit', { token: orphaned }), contextFor(db()))).not.toBeNull()
    await disableUser(db(), { type: 'user', id: other.id, display: other.username }, admin.id, null)
    expect(await getActor(request('/audit', { token: orphaned }), contextFor(db()))).toBeNull()
  })

  it('stores only the hash of the token', async () => {
    const admin = await createTestUser(db(), { role: 'admin' })
    const token = await createTestToken(db(), admin, ['read:audit:any'])
    expect(token).toMatch(/^leash_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43}$/)
    const rows = await db().selectFrom('api_tokens').selectAll().execute()
    expect(JSON.stringify(rows)).not.toContain(token.slice(15))
    expect(rows.some((r) => r.token_hash === sha256Hex(token))).toBe(true)
  })
})

describe('safeRedirectTo', () => {
  it('keeps same-site paths and drops everything else', () => {
    expect(safeRedirectTo('/identities?x=1')).toBe('/identities?x=1')
    for (const bad of ['//evil.example', 'https://evil.example', '/\\evil.example', 'javascript:alert(1)', '/x\nSet-Cookie: a', null, 42]) expect(safeRedirectTo(bad)).toBe('/')
  })
})
