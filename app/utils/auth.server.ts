/**
 * Who is asking. Every loader and action starts here (Epic Stack order): `requireUser` or
 * `requireUserWithPermission` either return the actor or throw a Response (a redirect to
 * /login for a browser, 401 for an API call, 403 when a permission is missing).
 *
 * An actor is a signed-in user (session cookie) or an API token (`Authorization: Bearer`).
 * A request with an Authorization header is judged by the token alone, never by cookies.
 */
import type { AppLoadContext } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { appendAuditEvent, type AuditActor } from '../../db/audit.js'
import type { Role } from '../../db/schema.js'
import { findActiveToken } from './api-tokens.server.js'
import { effectivePermissions, type Permission } from './permissions.js'
import { getSession, readSessionToken } from './session.server.js'

export type AuthenticatedActor = {
  kind: 'user' | 'token'
  /** The user's id, or the token's id. */
  id: string
  /** The user (for a token: its creator). */
  userId: string
  username: string
  displayName: string
  role: Role
  tokenId: string | null
  scopes: Permission[] | null
  can(permission: Permission): boolean
}

/** Paths a user who must change their password can still reach. */
const PASSWORD_CHANGE_PATH = '/account/password'
const ALLOWED_WHILE_PASSWORD_CHANGE_REQUIRED = new Set([PASSWORD_CHANGE_PATH, '/logout'])

export function clientIp(context: AppLoadContext): string | null {
  return context.clientIp ?? null
}

/** The audit trail's view of an actor. */
export function auditActor(actor: AuthenticatedActor): AuditActor {
  return actor.kind === 'token'
    ? { type: 'token', id: actor.tokenId, display: `token ${actor.displayName} (by ${actor.username})` }
    : { type: 'user', id: actor.userId, display: actor.username }
}

export function bearerToken(request: Request): string | null | undefined {
  const header = request.headers.get('Authorization')
  if (header === null) return undefined
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match?.[1] ?? null
}

function isApiRequest(request: Request): boolean {
  if (request.headers.has('Authorization')) return true
  const url = new URL(request.url)
  if (url.pathname.startsWith('/api/')) return true
  const accept = request.headers.get('Accept') ?? ''
  return accept.includes('application/json') && !accept.includes('text/html')
}

function unauthorized(message: string): Response {
  return new Response(JSON.stringify({ error: message }), {
    status: 401,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'WWW-Authenticate': 'Bearer realm="leash"', 'Cache-Control': 'no-store' },
  })
}

/** The actor behind a request, or null; never throws for a missing or bad credential. */
export async function getActor(request: Request, context: AppLoadContext): Promise<AuthenticatedActor | null> {
  const bearer = bearerToken(request)
  if (bearer !== undefined) {
    if (bearer === null) return null
    const token = await findActiveToken(context.db, bearer)
    if (!token) return null
    const permissions = effectivePermissions(token.creator.role, token.scopes)
    return {
      kind: 'token',
      id: token.id,
      userId: token.creator.id,
      username: token.creator.username,
      displayName: token.name,
      role: token.creator.role,
      tokenId: token.id,
      scopes: [...permissions],
      can: (permission) => permissions.has(permission),
    }
  }
  const sessionToken = readSessionToken(request)
  if (!sessionToken) return null
  const session = await getSession(context.db, sessionToken)
  if (!session) return null
  const permissions = effectivePermissions(session.user.role, null)
  const actor: AuthenticatedActor & { mustChangePassword: boolean } = {
    kind: 'user',
    id: session.user.id,
    userId: session.user.id,
    username: session.user.username,
    displayName: session.user.display_name,
    role: session.user.role,
    tokenId: null,
    scopes: null,
    can: (permission) => permissions.has(permission),
    mustChangePassword: session.user.must_change_password,
  }
  return actor
}

export function mustChangePassword(actor: AuthenticatedActor): boolean {
  return (actor as { mustChangePassword?: boolean }).mustChangePassword === true
}

/** A same-site path to return to after sign-in; anything else becomes '/'. */
export function safeRedirectTo(value: unknown, fallback = '/'): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return fallback
  if ([...value].some((char) => char.charCodeAt(0) < 0x20 || char === '\u007f')) return fallback
  return value
}

function loginRedirect(request: Request): Response {
  const url = new URL(request.url)
  const redirectTo = `${url.pathname}${url.search}`
  const params = new URLSearchParams()
  if (redirectTo !== '/' && !redirectTo.startsWith('/login')) params.set('redirectTo', redirectTo)
  const query = params.toString()
  return redirect(query ? `/login?${query}` : '/login')
}

/**
 * The signed-in user or API token. Throws a redirect to /login (browsers), a 401 (API calls),
 * or a redirect to the password change page while the user must change their password.
 */
export async function requireUser(request: Request, context: AppLoadContext): Promise<AuthenticatedActor> {
  const actor = await getActor(request, context)
  if (!actor) {
    if (isApiRequest(request)) {
      throw unauthorized(request.headers.has('Authorization') ? 'The API token is invalid, expired or revoked.' : 'Sign in or send an API token (Authorization: Bearer leash_…).')
    }
    throw loginRedirect(request)
  }
  if (mustChangePassword(actor) && !ALLOWED_WHILE_PASSWORD_CHANGE_REQUIRED.has(new URL(request.url).pathname)) {
    throw redirect(PASSWORD_CHANGE_PATH)
  }
  return actor
}

/** Records a refused request and builds the 403 to throw. */
export async function denyAccess(request: Request, context: AppLoadContext, actor: AuthenticatedActor, permission: Permission, object?: { type: string; id: string }): Promise<Response> {
  const url = new URL(request.url)
  await appendAuditEvent(context.db, {
    actor: auditActor(actor),
    action: 'authz.denied',
    object: object ?? null,
    after: { permission, method: request.method, path: url.pathname, role: actor.role },
    ip: clientIp(context),
  })
  return new Response(`You do not have permission to do this (${permission}). Ask an administrator if you need it.`, {
    status: 403,
    statusText: 'Forbidden',
    headers: { 'Content-Type': 'text/plain; charset=utf-8' },
  })
}

/** The actor, when it holds `permission`; otherwise throws 403 (and records `authz.denied`). */
export async function requireUserWithPermission(request: Request, context: AppLoadContext, permission: Permission): Promise<{ user: AuthenticatedActor }> {
  const user = await requireUser(request, context)
  if (!user.can(permission)) throw await denyAccess(request, context, user, permission)
  return { user }
}

/** For per-object checks after loading the object: `:any`, or `:own` when the actor owns it. */
export function canAccess(actor: AuthenticatedActor, action: string, entity: string, isOwn: boolean): boolean {
  return actor.can(`${action}:${entity}:any` as Permission) || (isOwn && actor.can(`${action}:${entity}:own` as Permission))
}
