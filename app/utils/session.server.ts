/**
 * Server-side sessions. The browser holds a random 256-bit token in an HttpOnly cookie; the
 * database holds only its SHA-256 (`sessions.id_hash`), so a leaked database or backup does
 * not give anyone a working session. Sessions end after an idle and an absolute timeout
 * (settings `auth.session_idle_minutes`, default 30, and `auth.session_absolute_hours`,
 * default 12), at sign-out, and all at once when the user is disabled.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { Kysely, Transaction } from 'kysely'
import type { Database, Role } from '../../db/schema.js'

/**
 * `__Host-` binds the cookie to this exact host, over HTTPS, for Path=/ (no subdomain or
 * path can set or shadow it). Browsers accept a `__Host-` cookie only with Secure, and refuse
 * Secure cookies from http:// origins, so on plain-HTTP localhost (development, the embedded
 * default, tests) the cookie is named without the prefix and sent without Secure.
 */
export const SECURE_SESSION_COOKIE = '__Host-leash_session'
export const LOCAL_SESSION_COOKIE = 'leash_session'

export const DEFAULT_IDLE_MINUTES = 30
export const DEFAULT_ABSOLUTE_HOURS = 12
/** last_seen_at is refreshed at most this often, so browsing does not write on every request. */
const TOUCH_INTERVAL_MS = 60_000

type Db = Kysely<Database> | Transaction<Database>

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex')
}

const LOCAL_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1'])

export function isLocalHostname(hostname: string): boolean {
  return LOCAL_HOSTNAMES.has(hostname) || hostname.endsWith('.localhost')
}

/** Plain HTTP on a loopback name: the one place cookies go without Secure. */
export function isInsecureLocal(request: Request): boolean {
  const url = new URL(request.url)
  return url.protocol === 'http:' && isLocalHostname(url.hostname)
}

/** Plain HTTP on a non-loopback host: browsers will drop the Secure session cookie. */
export function isInsecureRemote(request: Request): boolean {
  const url = new URL(request.url)
  return url.protocol === 'http:' && !isLocalHostname(url.hostname)
}

export function sessionCookieName(request: Request): string {
  return isInsecureLocal(request) ? LOCAL_SESSION_COOKIE : SECURE_SESSION_COOKIE
}

export function parseCookies(header: string | null): Map<string, string> {
  const cookies = new Map<string, string>()
  if (!header) return cookies
  for (const part of header.split(';')) {
    const index = part.indexOf('=')
    if (index <= 0) continue
    const name = part.slice(0, index).trim()
    const value = part.slice(index + 1).trim()
    if (!cookies.has(name)) {
      try {
        cookies.set(name, decodeURIComponent(value))
      } catch {
        cookies.set(name, value)
      }
    }
  }
  return cookies
}

export function readSessionToken(request: Request): string | null {
  const token = parseCookies(request.headers.get('Cookie')).get(sessionCookieName(request))
  // Tokens are 43 base64url characters; anything else is not ours and is ignored.
  return token && /^[A-Za-z0-9_-]{43}$/.test(token) ? token : null
}

/** A Set-Cookie value with the attributes every Leash cookie gets. */
export function serializeCookie(request: Request, name: string, value: string, maxAgeSeconds: number): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`]
  if (!isInsecureLocal(request)) parts.push('Secure')
  return parts.join('; ')
}

export function sessionCookie(request: Request, token: string, maxAgeSeconds: number): string {
  return serializeCookie(request, sessionCookieName(request), token, maxAgeSeconds)
}

export function clearSessionCookie(request: Request): string {
  return serializeCookie(request, sessionCookieName(request), '', 0)
}

export interface SessionPolicy {
  idleMinutes: number
  absoluteHours: number
}

export async function getSessionPolicy(db: Db): Promise<SessionPolicy> {
  const rows = await db
    .selectFrom('settings')
    .select(['key', 'value'])
    .where('key', 'in', ['auth.session_idle_minutes', 'auth.session_absolute_hours'])
    .execute()
  const read = (key: string, fallback: number, max: number) => {
    const value = rows.find((row) => row.key === key)?.value
    return typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= max ? value : fallback
  }
  return { idleMinutes: read('auth.session_idle_minutes', DEFAULT_IDLE_MINUTES, 24 * 60), absoluteHours: read('auth.session_absolute_hours', DEFAULT_ABSOLUTE_HOURS, 24 * 30) }
}

export interface NewSession {
  token: string
  expiresAt: Date
  maxAgeSeconds: number
}

/**
 * Starts a new session with a fresh token (never reusing one the browser sent before
 * sign-in, which defeats session fixation).
 */
export async function createSession(db: Db, userId: string, meta: { ip?: string | null; userAgent?: string | null } = {}): Promise<NewSession> {
  const policy = await getSessionPolicy(db)
  const token = randomBytes(32).toString('base64url')
  const maxAgeSeconds = policy.absoluteHours * 3600
  const expiresAt = new Date(Date.now() + maxAgeSeconds * 1000)
  await db
    .insertInto('sessions')
    .values({ id_hash: sha256Hex(token), user_id: userId, expires_at: expiresAt, ip: meta.ip ?? null, user_agent: meta.userAgent?.slice(0, 512) ?? null })
    .execute()
  return { token, expiresAt, maxAgeSeconds }
}

export interface SessionUser {
  id: string
  username: string
  display_name: string
  role: Role
  must_change_password: boolean
}

export interface ActiveSession {
  idHash: string
  user: SessionUser
  expiresAt: Date
}

/** The session a token belongs to, or null when it is unknown, expired, idle too long, or its user is disabled. */
export async function getSession(db: Kysely<Database>, token: string): Promise<ActiveSession | null> {
  const idHash = sha256Hex(token)
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'sessions.id_hash',
      'sessions.expires_at',
      'sessions.last_seen_at',
      'users.id as user_id',
      'users.username',
      'users.display_name',
      'users.role',
      'users.must_change_password',
      'users.disabled_at',
    ])
    .where('sessions.id_hash', '=', idHash)
    .executeTakeFirst()
  if (!row) return null
  const now = Date.now()
  const policy = await getSessionPolicy(db)
  const idleExpired = new Date(row.last_seen_at).getTime() + policy.idleMinutes * 60_000 <= now
  if (row.disabled_at !== null || new Date(row.expires_at).getTime() <= now || idleExpired) {
    await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute()
    return null
  }
  if (now - new Date(row.last_seen_at).getTime() > TOUCH_INTERVAL_MS) {
    await db.updateTable('sessions').set({ last_seen_at: new Date(now) }).where('id_hash', '=', idHash).execute()
  }
  return {
    idHash,
    expiresAt: new Date(row.expires_at),
    user: { id: row.user_id, username: row.username, display_name: row.display_name, role: row.role, must_change_password: row.must_change_password },
  }
}

export async function destroySession(db: Db, token: string): Promise<void> {
  await db.deleteFrom('sessions').where('id_hash', '=', sha256Hex(token)).execute()
}

/** Ends every session of a user at once (disable, role change, password change). Returns how many ended. */
export async function destroyUserSessions(db: Db, userId: string, options: { exceptIdHash?: string } = {}): Promise<number> {
  let query = db.deleteFrom('sessions').where('user_id', '=', userId)
  if (options.exceptIdHash) query = query.where('id_hash', '!=', options.exceptIdHash)
  const result = await query.executeTakeFirst()
  return Number(result.numDeletedRows)
}

/** Removes expired sessions (a housekeeping job may call it; reads ignore them anyway). */
export async function purgeExpiredSessions(db: Db): Promise<number> {
  const result = await db.deleteFrom('sessions').where('expires_at', '<=', new Date()).executeTakeFirst()
  return Number(result.numDeletedRows)
}
