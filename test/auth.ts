/**
 * Test helpers for anything behind sign-in: create users of a role, sign them in (a real
 * session row), and build requests that carry the session cookie or an API token.
 */
import { randomBytes } from 'node:crypto'
import type { AppLoadContext } from '@remix-run/node'
import type { Kysely } from 'kysely'
import type { Database, Role } from '../db/schema.js'
import { createApiToken } from '../app/utils/api-tokens.server.js'
import { hashPassword } from '../app/utils/local-auth.server.js'
import type { Permission } from '../app/utils/permissions.js'
import { createSession, LOCAL_SESSION_COOKIE } from '../app/utils/session.server.js'

export const TEST_ORIGIN = 'http://localhost:3000'

export interface TestUser {
  id: string
  username: string
  role: Role
  password: string
}

let cachedHash: { password: string; hash: Promise<string> } | undefined

export async function createTestUser(db: Kysely<Database>, options: { role: Role; username?: string; password?: string; mustChangePassword?: boolean }): Promise<TestUser> {
  const username = options.username ?? `${options.role}-${randomBytes(4).toString('hex')}`
  const password = options.password ?? 'correct horse battery staple'
  // Hashing is deliberately slow; reuse one hash for the common password.
  if (!cachedHash || cachedHash.password !== password) cachedHash = { password, hash: hashPassword(password) }
  const row = await db
    .insertInto('users')
    .values({ username, display_name: username, role: options.role, password_hash: await cachedHash.hash, must_change_password: options.mustChangePassword ?? false })
    .returning('id')
    .executeTakeFirstOrThrow()
  return { id: row.id, username, role: options.role, password }
}

/** A real session for the user; returns the cookie header value for plain-HTTP localhost. */
export async function signIn(db: Kysely<Database>, user: { id: string }): Promise<string> {
  const session = await createSession(db, user.id)
  return `${LOCAL_SESSION_COOKIE}=${session.token}`
}

export function request(path: string, init: RequestInit & { cookie?: string; token?: string } = {}): Request {
  const headers = new Headers(init.headers)
  if (init.cookie) headers.set('Cookie', init.cookie)
  if (init.token) headers.set('Authorization', `Bearer ${init.token}`)
  if (init.method && init.method !== 'GET' && !headers.has('Origin')) headers.set('Origin', TEST_ORIGIN)
  return new Request(new URL(path, TEST_ORIGIN), { ...init, headers })
}

export function contextFor(db: Kysely<Database>): AppLoadContext {
  return { db, clientIp: '127.0.0.1', cspNonce: 'test-nonce' } as unknown as AppLoadContext
}

export async function createTestToken(db: Kysely<Database>, creator: { id: string }, scopes: Permission[], options: { days?: number } = {}): Promise<string> {
  const { token } = await createApiToken(db, { name: `test ${randomBytes(3).toString('hex')}`, scopes, expiresAt: new Date(Date.now() + (options.days ?? 1) * 86_400_000), createdBy: creator.id })
  return token
}

/** Runs a loader/action and returns what it returned or threw, as a Response when it is one. */
export async function outcome(run: () => Promise<unknown>): Promise<{ thrown: boolean; value: unknown; status: number | null; location: string | null }> {
  try {
    const value = await run()
    return { thrown: false, value, ...describe(value) }
  } catch (error) {
    return { thrown: true, value: error, ...describe(error) }
  }
}

function describe(value: unknown): { status: number | null; location: string | null } {
  if (value instanceof Response) return { status: value.status, location: value.headers.get('Location') }
  // Remix's data() helper.
  if (value && typeof value === 'object' && 'type' in value && (value as { type: unknown }).type === 'DataWithResponseInit') {
    const init = (value as { init?: { status?: number } }).init
    return { status: init?.status ?? 200, location: null }
  }
  return { status: null, location: null }
}
