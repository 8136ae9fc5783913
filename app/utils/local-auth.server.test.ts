import { describe, expect, it } from 'vitest'
import { createTestUser } from '../../test/auth.js'
import { connectDatabase } from '../../db/connection.js'
import { useTestDatabase } from '../../test/db.js'
import {
  changePassword,
  GENERIC_SIGN_IN_ERROR,
  hashPassword,
  passwordProblem,
  signInWithPassword,
  THROTTLE,
  THROTTLED_SIGN_IN_ERROR,
  verifyPassword,
} from './local-auth.server.js'
import { getSession, sha256Hex } from './session.server.js'

const database = useTestDatabase()
const db = () => database.current.db
const attempt = (username: string, password: string, ip = '192.0.2.1') => signInWithPassword(db(), { username, password, ip, userAgent: 'vitest' })

describe('passwords', () => {
  it('hashes with argon2id and verifies', async () => {
    const hash = await hashPassword('a long passphrase here')
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    expect(await verifyPassword(hash, 'a long passphrase here')).toBe(true)
    expect(await verifyPassword(hash, 'a long passphrase herE')).toBe(false)
    expect(await verifyPassword('not a hash', 'x')).toBe(false)
  })

  it('rejects weak new passwords with a reason', () => {
    expect(passwordProblem('short')).toMatch(/at least 12/)
    expect(passwordProblem('aaaaaaaaaaaaaaaa')).toMatch(/repeats/)
    expect(passwordProblem('alice-is-great-2026', { username: 'alice' })).toMatch(/username/)
    expect(passwordProblem('correct horse battery')).toBeNull()
  })
})

describe('sign-in', () => {
  it('starts a session and audits success; fails generically for a wrong password, an unknown user and a disabled user', async () => {
    const user = await createTestUser(db(), { role: 'viewer', username: 'carol' })
    const ok = await attempt('Carol ', user.password)
    if (!ok.ok) throw new Error(ok.error)
    expect(await getSession(db(), ok.session.token)).toMatchObject({ user: { id: user.id } })

    const wrong = await attempt('carol', 'wrong password!!')
    const unknown = await attempt('nobody-here', 'wrong password!!')
    await db().updateTable('users').set({ disabled_at: new Date() }).where('id', '=', user.id).execute()
    const disabled = await attempt('carol', user.password)
    for (const result of [wrong, unknown, disabled]) expect(result).toEqual({ ok: false, error: GENERIC_SIGN_IN_ERROR, status: 400 })

    const events = await db().selectFrom('audit_events').select(['action', 'after', 'actor_display']).where('action', 'like', 'auth.sign_in.%').orderBy('seq').execute()
    expect(events.map((e) => [e.action, (e.after as { why?: string }).why ?? null])).toEqual([
      ['auth.sign_in.succeeded', null],
      ['auth.sign_in.failed', 'wrong_password'],
      ['auth.sign_in.failed', 'unknown_user'],
      ['auth.sign_in.failed', 'disabled'],
    ])
    expect(JSON.stringify(events)).not.toContain(user.password)
    expect(JSON.stringify(events)).not.toContain('wrong password!!')
  })

  it('throttles a username after repeated failures, even with the right password, across processes', async () => {
    const user = await createTestUser(db(), { role: 'viewer', username: 'dave' })
    // A second pool stands in for a second Leash process: the counter lives in PostgreSQL.
    const other = connectDatabase(database.current.url, { max: 1 })
    try {
      for (let i = 0; i < THROTTLE.maxFailuresPerUser; i++) {
        const handle = i % 2 === 0 ? db() : other.db
        expect(await signInWithPassword(handle, { username: 'dave', password: 'nope nope nope', ip: `198.51.100.${i}`, userAgent: null })).toMatchObject({ ok: false, status: 400 })
      }
      expect(await signInWithPassword(other.db, { username: 'dave', password: user.password, ip: '198.51.100.99', userAgent: null })).toEqual({ ok: false, error: THROTTLED_SIGN_IN_ERROR, status: 429 })
    } finally {
      await other.close()
    }
    // Once the lock passes, the right password works again and clears the counter.
    await db().updateTable('auth_throttle').set({ locked_until: new Date(Date.now() - 1000), window_started_at: new Date(Date.now() - 16 * 60_000) }).where('key', '=', 'user:dave').execute()
    expect(await attempt('dave', user.password)).toMatchObject({ ok: true })
    expect(await db().selectFrom('auth_throttle').select('key').where('key', '=', 'user:dave').executeTakeFirst()).toBeUndefined()
  })

  it('throttles an address spraying many usernames', async () => {
    const ip = '203.0.113.7'
    for (let i = 0; i < THROTTLE.maxFailuresPerIp; i++) await attempt(`spray-${i}`, 'guess guess guess', ip)
    const victim = await createTestUser(db(), { role: 'viewer' })
    expect(await attempt(victim.username, victim.password, ip)).toMatchObject({ ok: false, status: 429 })
    expect(await attempt(victim.username, victim.password, '203.0.113.8')).toMatchObject({ ok: true })
  })
})

describe('password change', () => {
  it('checks the current password, clears must_change_password and ends other sessions', async () => {
    const user = await createTestUser(db(), { role: 'owner', mustChangePassword: true })
    const first = await attempt(user.username, user.password)
    const second = await attempt(user.username, user.password)
    if (!first.ok || !second.ok) throw new Error('sign-in failed')
    expect(await changePassword(db(), { userId: user.id, currentPassword: 'wrong', newPassword: 'a brand new passphrase', keepSessionIdHash: null, ip: null })).toMatchObject({ ok: false, field: 'currentPassword' })
    expect(await changePassword(db(), { userId: user.id, currentPassword: user.password, newPassword: 'short', keepSessionIdHash: null, ip: null })).toMatchObject({ ok: false, field: 'newPassword' })
    expect(await changePassword(db(), { userId: user.id, currentPassword: user.password, newPassword: 'a brand new passphrase', keepSessionIdHash: sha256Hex(first.session.token), ip: null })).toEqual({ ok: true })
    expect(await getSession(db(), first.session.token)).toMatchObject({ user: { must_change_password: false } })
    expect(await getSession(db(), second.session.token)).toBeNull()
    expect(await attempt(user.username, 'a brand new passphrase')).toMatchObject({ ok: true })
  })
})
