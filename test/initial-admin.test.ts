import { describe, expect, it, vi } from 'vitest'
import { ensureInitialAdmin, signInWithPassword } from '../app/utils/local-auth.server.js'
import { useTestDatabase } from './db.js'

const database = useTestDatabase({ max: 6 })

describe('first start', () => {
  it('creates exactly one admin with a one-time password, even when several processes start at once', async () => {
    const logs: string[][] = [[], [], []]
    const results = await Promise.all(logs.map((lines) => ensureInitialAdmin(database.current.db, (line) => lines.push(line))))
    const created = results.filter((result) => result !== null)
    expect(created).toHaveLength(1)
    const { username, password } = created[0]!
    expect(username).toBe('admin')
    expect(password).toMatch(/^[A-Za-z2-9]{5}(-[A-Za-z2-9]{5}){3}$/)
    // Printed exactly once, by the process that created it.
    expect(logs.flat().filter((line) => line.includes(password))).toHaveLength(1)
    const users = await database.current.db.selectFrom('users').selectAll().execute()
    expect(users).toHaveLength(1)
    expect(users[0]).toMatchObject({ role: 'admin', must_change_password: true })
    expect(users[0]!.password_hash).not.toContain(password)
    const audit = await database.current.db.selectFrom('audit_events').selectAll().where('action', '=', 'user.created').execute()
    expect(JSON.stringify(audit)).not.toContain(password)

    const signIn = await signInWithPassword(database.current.db, { username: 'admin', password, ip: null, userAgent: null })
    expect(signIn).toMatchObject({ ok: true, user: { mustChangePassword: true } })
    const log = vi.fn()
    expect(await ensureInitialAdmin(database.current.db, log)).toBeNull()
    expect(log).not.toHaveBeenCalled()
  })
})
