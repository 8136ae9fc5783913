/**
 * Local accounts: argon2id password hashing, sign-in throttling kept in PostgreSQL (so it
 * holds across processes), generic error messages, and the first administrator.
 */
import { randomBytes, randomInt } from 'node:crypto'
import { hash, verify } from '@node-rs/argon2'
import { sql, type Kysely, type Transaction } from 'kysely'
import { appendAuditEvent } from '../../db/audit.js'
import type { Database, Role } from '../../db/schema.js'
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './auth-constants.js'
import { createSession, destroyUserSessions, type NewSession } from './session.server.js'

type Db = Kysely<Database> | Transaction<Database>

/**
 * argon2id with OWASP's recommended minimum (19 MiB, 2 iterations, 1 lane): memory-hard,
 * about 30 ms on a server core. `@node-rs/argon2` defaults to argon2id.
 */
const ARGON2_OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 }

export { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './auth-constants.js'

/** Sign-in throttling: failures allowed per window, per username and per client address. */
export const THROTTLE = { windowMinutes: 15, maxFailuresPerUser: 5, maxFailuresPerIp: 30, lockMinutes: 15 }

export const GENERIC_SIGN_IN_ERROR = 'The username or password is incorrect, or the account cannot sign in.'
export const THROTTLED_SIGN_IN_ERROR = 'Too many failed sign-in attempts. Wait a few minutes, then try again.'

export async function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS)
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password)
  } catch {
    return false
  }
}

let dummyHash: Promise<string> | undefined
/** Verifying against a dummy hash for unknown users keeps response times alike, so timing does not reveal which usernames exist. */
function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'))
  return dummyHash
}

/** Why a new password is unacceptable, or null. */
export function passwordProblem(password: string, context: { username?: string } = {}): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) return `Use at least ${PASSWORD_MIN_LENGTH} characters.`
  if (password.length > PASSWORD_MAX_LENGTH) return `Use at most ${PASSWORD_MAX_LENGTH} characters.`
  if (context.username && password.toLowerCase().includes(context.username.toLowerCase())) return 'The password must not contain the username.'
  if (new Set(password).size < 5) return 'The password repeats too few characters; use a passphrase or a password manager.'
  return null
}

/** A random password for one-time use: 4 groups of 5 characters, about 100 bits. */
export function generateOneTimePassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'
  const groups: string[] = []
  for (let g = 0; g < 4; g++) {
    let group = ''
    for (let i = 0; i < 5; i++) group += alphabet[randomInt(alphabet.length)]
    groups.push(group)
  }
  return groups.join('-')
}

interface ThrottleState {
  blocked: boolean
  retryAfterSeconds: number
}

async function throttleState(db: Db, key: string, maxFailures: number): Promise<ThrottleState> {
  const row = await db.selectFrom('auth_throttle').selectAll().where('key', '=', key).executeTakeFirst()
  if (!row) return { blocked: false, retryAfterSeconds: 0 }
  const now = Date.now()
  if (row.locked_until && new Date(row.locked_until).getTime() > now) {
    return { blocked: true, retryAfterSeconds: Math.ceil((new Date(row.locked_until).getTime() - now) / 1000) }
  }
  const windowOpen = new Date(row.window_started_at).getTime() + THROTTLE.windowMinutes * 60_000 > now
  return { blocked: windowOpen && row.failures >= maxFailures, retryAfterSeconds: windowOpen ? THROTTLE.windowMinutes * 60 : 0 }
}

/** Counts one failure against a key atomically (one upsert), locking the key once it reaches the limit. */
async function recordFailure(db: Db, key: string, maxFailures: number): Promise<void> {
  await sql`
    insert into auth_throttle (key, failures, window_started_at)
    values (${key}, 1, now())
    on conflict (key) do update set
      failures = case when auth_throttle.window_started_at + make_interval(mins => ${THROTTLE.windowMinutes}) > now() then auth_throttle.failures + 1 else 1 end,
      window_started_at = case when auth_throttle.window_started_at + make_interval(mins => ${THROTTLE.windowMinutes}) > now() then auth_throttle.window_started_at else now() end`.execute(db)
  await sql`
    update auth_throttle set locked_until = now() + make_interval(mins => ${THROTTLE.lockMinutes})
    where key = ${key} and failures >= ${maxFailures} and (locked_until is null or locked_until < now())`.execute(db)
}

export function normalizeUsername(username: string): string {
  return username.trim().toLowerCase()
}

export type SignInResult =
  | { ok: true; user: { id: string; username: string; role: Role; mustChangePassword: boolean }; session: NewSession }
  | { ok: false; error: string; status: 400 | 429 }

/**
 * Checks a username and password and starts a session. Every outcome is audited; the
 * session and its audit event are written in one transaction.
 */
export async function signInWithPassword(
  db: Kysely<Database>,
  input: { username: string; password: string; ip: string | null; userAgent: string | null },
): Promise<SignInResult> {
  const username = normalizeUsername(input.username).slice(0, 200)
  const userKey = `user:${username}`
  const ipKey = input.ip ? `ip:${input.ip}` : null
  const [userThrottle, ipThrottle] = await Promise.all([
    throttleState(db, userKey, THROTTLE.maxFailuresPerUser),
    ipKey ? throttleState(db, ipKey, THROTTLE.maxFailuresPerIp) : Promise.resolve({ blocked: false, retryAfterSeconds: 0 }),
  ])
  if (userThrottle.blocked || ipThrottle.blocked) {
    await appendAuditEvent(db, {
      actor: { type: 'anonymous', id: null, display: username },
      action: 'auth.sign_in.throttled',
      object: { type: 'user', id: username },
      after: { by: userThrottle.blocked ? 'username' : 'address' },
      ip: input.ip,
    })
    return { ok: false, error: THROTTLED_SIGN_IN_ERROR, status: 429 }
  }

  const user = await db
    .selectFrom('users')
    .select(['id', 'username', 'role', 'password_hash', 'disabled_at', 'must_change_password'])
    .where('username', '=', username)
    .executeTakeFirst()
  const passwordOk = user?.password_hash ? await verifyPassword(user.password_hash, input.password) : (await verifyPassword(await dummyPasswordHash(), input.password), false)

  if (!user || !passwordOk || user.disabled_at !== null) {
    const why = !user ? 'unknown_user' : user.disabled_at !== null ? 'disabled' : user.password_hash ? 'wrong_password' : 'no_local_password'
    await db.transaction().execute(async (trx) => {
      await recordFailure(trx, userKey, THROTTLE.maxFailuresPerUser)
      if (ipKey) await recordFailure(trx, ipKey, THROTTLE.maxFailuresPerIp)
      await appendAuditEvent(trx, {
        actor: { type: 'anonymous', id: null, display: username },
        action: 'auth.sign_in.failed',
        object: user ? { type: 'user', id: user.id } : null,
        after: { method: 'password', why },
        ip: input.ip,
      })
    })
    return { ok: false, error: GENERIC_SIGN_IN_ERROR, status: 400 }
  }

  const session = await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('auth_throttle').where('key', '=', userKey).execute()
    await trx.updateTable('users').set({ last_sign_in_at: new Date() }).where('id', '=', user.id).execute()
    const created = await createSession(trx, user.id, { ip: input.ip, userAgent: input.userAgent })
    await appendAuditEvent(trx, {
      actor: { type: 'user', id: user.id, display: user.username },
      action: 'auth.sign_in.succeeded',
      object: { type: 'user', id: user.id },
      after: { method: 'password' },
      ip: input.ip,
    })
    return created
  })
  return { ok: true, user: { id: user.id, username: user.username, role: user.role, mustChangePassword: user.must_change_password }, session }
}

/**
 * Sets a new password (after checking the current one, unless an admin resets it), clears
 * must_change_password when the user sets it themselves, and ends the user's other sessions.
 */
export async function changePassword(
  db: Kysely<Database>,
  input: { userId: string; currentPassword: string; newPassword: string; keepSessionIdHash: string | null; ip: string | null },
): Promise<{ ok: true } | { ok: false; field: 'currentPassword' | 'newPassword'; error: string }> {
  const user = await db.selectFrom('users').select(['id', 'username', 'password_hash']).where('id', '=', input.userId).executeTakeFirst()
  if (!user?.password_hash) return { ok: false, field: 'currentPassword', error: 'This account signs in through single sign-on and has no Leash password.' }
  if (!(await verifyPassword(user.password_hash, input.currentPassword))) {
    await appendAuditEvent(db, { actor: { type: 'user', id: user.id, display: user.username }, action: 'user.password_change.failed', object: { type: 'user', id: user.id }, ip: input.ip })
    return { ok: false, field: 'currentPassword', error: 'The current password is incorrect.' }
  }
  const problem = passwordProblem(input.newPassword, { username: user.username })
  if (problem) return { ok: false, field: 'newPassword', error: problem }
  if (input.newPassword === input.currentPassword) return { ok: false, field: 'newPassword', error: 'Choose a password different from the current one.' }
  const passwordHash = await hashPassword(input.newPassword)
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('users').set({ password_hash: passwordHash, must_change_password: false }).where('id', '=', user.id).execute()
    await destroyUserSessions(trx, user.id, input.keepSessionIdHash ? { exceptIdHash: input.keepSessionIdHash } : {})
    await appendAuditEvent(trx, { actor: { type: 'user', id: user.id, display: user.username }, action: 'user.password_changed', object: { type: 'user', id: user.id }, ip: input.ip })
  })
  return { ok: true }
}

/**
 * On first start with no users, creates `admin` with a random one-time password, printed once
 * through `log`, which must be changed at first sign-in. Safe when several processes start at once.
 */
export async function ensureInitialAdmin(db: Kysely<Database>, log: (line: string) => void): Promise<{ username: string; password: string } | null> {
  const password = generateOneTimePassword()
  const created = await db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${0x6c6561736801})`.execute(trx)
    const existing = await trx.selectFrom('users').select('id').limit(1).executeTakeFirst()
    if (existing) return null
    const passwordHash = await hashPassword(password)
    const row = await trx
      .insertInto('users')
      .values({ username: 'admin', display_name: 'Administrator', role: 'admin', password_hash: passwordHash, must_change_password: true })
      .returning(['id', 'username'])
      .executeTakeFirstOrThrow()
    await appendAuditEvent(trx, {
      actor: { type: 'system', id: null, display: 'leash start' },
      action: 'user.created',
      object: { type: 'user', id: row.id },
      after: { username: row.username, role: 'admin', must_change_password: true, origin: 'first start' },
    })
    return row
  })
  if (!created) return null
  log('no users yet: created the administrator account.')
  log(`  username: ${created.username}`)
  log(`  one-time password: ${password}`)
  log('  This password is shown only now. Sign in and choose a new one; Leash asks for it at first sign-in.')
  return { username: created.username, password }
}
