/**
 * Sign-in through OpenID Connect (openid-client v6): authorization code flow with PKCE (S256),
 * state and nonce. The in-flight request lives server-side (`oidc_login_states`, keyed by the
 * SHA-256 of `state`, single use, 10 minutes), bound to the browser by a short-lived cookie
 * holding `state`, which defeats login CSRF. Users are upserted by (issuer, subject); their
 * role comes from a groups claim through LEASH_OIDC_ROLE_MAP at every sign-in.
 *
 * Environment:
 *   LEASH_OIDC_ISSUER          issuer URL (https; http only for a loopback host, e.g. tests)
 *   LEASH_OIDC_CLIENT_ID       client id
 *   LEASH_OIDC_CLIENT_SECRET   client secret (environment only, never stored or shown)
 *   LEASH_OIDC_ROLE_MAP        group=role pairs, e.g. 'leash-admins=admin,secops=security_lead'
 *   LEASH_OIDC_GROUPS_CLAIM    claim holding the groups (default 'groups')
 *   LEASH_OIDC_DEFAULT_ROLE    role for users in no mapped group (default: none, sign-in refused)
 *   LEASH_PUBLIC_URL           Leash's external URL, for the redirect URI (default: the request's origin)
 */
import type { Kysely } from 'kysely'
import * as client from 'openid-client'
import { appendAuditEvent } from '../../db/audit.js'
import type { Database, Role } from '../../db/schema.js'
import { createSession, isLocalHostname, parseCookies, serializeCookie, sha256Hex, type NewSession } from './session.server.js'

const ROLES: readonly Role[] = ['viewer', 'owner', 'security_lead', 'operator', 'admin']
/** When a user's groups map to several roles, the first in this order wins. */
const ROLE_PRECEDENCE: readonly Role[] = ['admin', 'security_lead', 'operator', 'owner', 'viewer']
const STATE_TTL_MS = 10 * 60_000
export const OIDC_STATE_COOKIE = 'leash_oidc_state'
export const CALLBACK_PATH = '/auth/oidc/callback'

export interface OidcSettings {
  issuer: URL
  clientId: string
  clientSecret: string
  roleMap: Map<string, Role>
  groupsClaim: string
  defaultRole: Role | null
}

export class OidcConfigError extends Error {}

export function oidcConfigured(env: Record<string, string | undefined> = process.env): boolean {
  return Boolean(env.LEASH_OIDC_ISSUER?.trim())
}

/** Parses 'group=role,group2=role2'; throws naming the bad pair. */
export function parseRoleMap(value: string): Map<string, Role> {
  const map = new Map<string, Role>()
  for (const raw of value.split(',')) {
    const pair = raw.trim()
    if (pair === '') continue
    const index = pair.lastIndexOf('=')
    const group = index > 0 ? pair.slice(0, index).trim() : ''
    const role = index > 0 ? pair.slice(index + 1).trim() : ''
    if (!group || !(ROLES as readonly string[]).includes(role)) {
      throw new OidcConfigError(`LEASH_OIDC_ROLE_MAP: "${pair}" is not group=role with role one of ${ROLES.join(', ')} (e.g. 'leash-admins=admin,secops=security_lead').`)
    }
    map.set(group, role as Role)
  }
  return map
}

/** The OIDC settings from the environment, or null when OIDC is off; throws a clear error when they are wrong. */
export function readOidcSettings(env: Record<string, string | undefined> = process.env): OidcSettings | null {
  if (!oidcConfigured(env)) return null
  let issuer: URL
  try {
    issuer = new URL(env.LEASH_OIDC_ISSUER!.trim())
  } catch {
    throw new OidcConfigError(`LEASH_OIDC_ISSUER "${env.LEASH_OIDC_ISSUER}" is not a URL; use the issuer URL, e.g. https://login.example.com/realms/main.`)
  }
  if (issuer.protocol !== 'https:' && !(issuer.protocol === 'http:' && isLocalHostname(issuer.hostname))) {
    throw new OidcConfigError('LEASH_OIDC_ISSUER must use https (plain http is allowed only for a loopback host).')
  }
  const clientId = env.LEASH_OIDC_CLIENT_ID?.trim()
  const clientSecret = env.LEASH_OIDC_CLIENT_SECRET
  if (!clientId) throw new OidcConfigError('LEASH_OIDC_ISSUER is set but LEASH_OIDC_CLIENT_ID is not: set the client id registered at the identity provider.')
  if (!clientSecret) throw new OidcConfigError('LEASH_OIDC_CLIENT_SECRET is not set: set it in the environment (it is never read from files or the database).')
  const roleMap = parseRoleMap(env.LEASH_OIDC_ROLE_MAP ?? '')
  const defaultRoleValue = env.LEASH_OIDC_DEFAULT_ROLE?.trim()
  if (defaultRoleValue && !(ROLES as readonly string[]).includes(defaultRoleValue)) {
    throw new OidcConfigError(`LEASH_OIDC_DEFAULT_ROLE "${defaultRoleValue}" is not one of ${ROLES.join(', ')}.`)
  }
  if (roleMap.size === 0 && !defaultRoleValue) {
    throw new OidcConfigError("LEASH_OIDC_ROLE_MAP is empty, so nobody could sign in through OIDC: map groups to roles, e.g. 'leash-admins=admin,secops=security_lead'.")
  }
  return { issuer, clientId, clientSecret, roleMap, groupsClaim: env.LEASH_OIDC_GROUPS_CLAIM?.trim() || 'groups', defaultRole: (defaultRoleValue as Role | undefined) ?? null }
}

export function roleFromGroups(settings: Pick<OidcSettings, 'roleMap' | 'defaultRole'>, groups: readonly string[]): Role | null {
  const roles = new Set(groups.map((group) => settings.roleMap.get(group)).filter((role): role is Role => role !== undefined))
  return ROLE_PRECEDENCE.find((role) => roles.has(role)) ?? settings.defaultRole
}

const configurations = new Map<string, Promise<client.Configuration>>()

async function configurationFor(settings: OidcSettings): Promise<client.Configuration> {
  const key = `${settings.issuer.href}|${settings.clientId}`
  let pending = configurations.get(key)
  if (!pending) {
    pending = client.discovery(settings.issuer, settings.clientId, settings.clientSecret, undefined, {
      // Plain HTTP only for a loopback issuer (readOidcSettings refuses any other).
      execute: settings.issuer.protocol === 'http:' ? [client.allowInsecureRequests] : [],
      timeout: 10,
    })
    configurations.set(key, pending)
    // A failed discovery is retried at the next sign-in rather than cached.
    pending.catch(() => configurations.delete(key))
  }
  return pending
}

function publicOrigin(request: Request): string {
  const configured = process.env.LEASH_PUBLIC_URL
  if (configured) {
    try {
      return new URL(configured).origin
    } catch {
      // Fall back to the request's origin.
    }
  }
  return new URL(request.url).origin
}

/** Builds the authorization URL and remembers the request; returns where to send the browser and the binding cookie. */
export async function startOidcSignIn(db: Kysely<Database>, request: Request, redirectTo: string): Promise<{ url: string; cookie: string }> {
  const settings = readOidcSettings()
  if (!settings) throw new OidcConfigError('Single sign-on is not configured (LEASH_OIDC_ISSUER is not set).')
  const config = await configurationFor(settings)
  const codeVerifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  await db.deleteFrom('oidc_login_states').where('created_at', '<', new Date(Date.now() - STATE_TTL_MS)).execute()
  await db.insertInto('oidc_login_states').values({ state_hash: sha256Hex(state), code_verifier: codeVerifier, nonce, redirect_to: redirectTo }).execute()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: `${publicOrigin(request)}${CALLBACK_PATH}`,
    scope: 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  })
  return { url: url.href, cookie: serializeCookie(request, OIDC_STATE_COOKIE, state, STATE_TTL_MS / 1000) }
}

export type OidcSignInResult =
  | { ok: true; session: NewSession; redirectTo: string; userId: string }
  | { ok: false; error: 'oidc' | 'oidc_no_role' | 'oidc_disabled'; detail: string }

function stringList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string')
  if (typeof value === 'string') return value.split(/[,\s]+/).filter(Boolean)
  return []
}

/** Completes the sign-in at the callback: checks state, exchanges the code (PKCE), validates the ID token and nonce, maps the role, starts a session. */
export async function finishOidcSignIn(db: Kysely<Database>, request: Request, meta: { ip: string | null; userAgent: string | null }): Promise<OidcSignInResult> {
  const fail = async (error: 'oidc' | 'oidc_no_role' | 'oidc_disabled', detail: string, subject?: string): Promise<OidcSignInResult> => {
    await appendAuditEvent(db, {
      actor: { type: 'anonymous', id: null, display: subject ?? null },
      action: 'auth.sign_in.failed',
      after: { method: 'oidc', why: detail },
      ip: meta.ip,
    })
    return { ok: false, error, detail }
  }
  const settings = readOidcSettings()
  if (!settings) return fail('oidc', 'single sign-on is not configured')
  const url = new URL(request.url)
  const cookieState = parseCookies(request.headers.get('Cookie')).get(OIDC_STATE_COOKIE)
  const queryState = url.searchParams.get('state')
  if (!cookieState || !queryState || cookieState !== queryState) return fail('oidc', 'the state does not match this browser (expired, reused or forged sign-in)')
  const pending = await db.deleteFrom('oidc_login_states').where('state_hash', '=', sha256Hex(cookieState)).returningAll().executeTakeFirst()
  if (!pending || new Date(pending.created_at).getTime() + STATE_TTL_MS < Date.now()) return fail('oidc', 'the sign-in request is unknown or older than 10 minutes')
  if (url.searchParams.has('error')) return fail('oidc', `the identity provider answered ${url.searchParams.get('error')}: ${url.searchParams.get('error_description') ?? ''}`.trim())

  let claims: Record<string, unknown>
  let groups: string[]
  try {
    const config = await configurationFor(settings)
    const callbackUrl = new URL(`${publicOrigin(request)}${CALLBACK_PATH}${url.search}`)
    const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: pending.code_verifier,
      expectedState: cookieState,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    })
    const idClaims = tokens.claims()
    if (!idClaims) return fail('oidc', 'the identity provider returned no ID token')
    claims = { ...idClaims }
    // Many providers put groups and profile claims only in the userinfo response (openid-client
    // checks its subject against the ID token's). The ID token's own claims take precedence.
    if (config.serverMetadata().userinfo_endpoint) {
      try {
        const userinfo = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub)
        claims = { ...userinfo, ...claims }
      } catch (error) {
        if (claims[settings.groupsClaim] === undefined) throw error
      }
    }
    groups = stringList(claims[settings.groupsClaim])
  } catch (error) {
    return fail('oidc', `the token exchange or ID token check failed: ${error instanceof Error ? error.message : String(error)}`)
  }
  const subject = String(claims.sub)
  const issuer = String(claims.iss ?? settings.issuer.href)
  const role = roleFromGroups(settings, groups)
  const preferred = typeof claims.preferred_username === 'string' ? claims.preferred_username : typeof claims.email === 'string' ? claims.email : subject
  if (!role) return fail('oidc_no_role', `none of the groups [${groups.join(', ')}] maps to a role`, preferred)

  const existing = await db.selectFrom('users').select(['id', 'username', 'role', 'disabled_at']).where('oidc_issuer', '=', issuer).where('oidc_subject', '=', subject).executeTakeFirst()
  if (existing?.disabled_at) return fail('oidc_disabled', 'the account is disabled', existing.username)
  const displayName = typeof claims.name === 'string' && claims.name.trim() ? claims.name.trim() : preferred
  const email = typeof claims.email === 'string' ? claims.email : null

  const result = await db.transaction().execute(async (trx) => {
    let userId: string
    if (existing) {
      userId = existing.id
      await trx.updateTable('users').set({ role, display_name: displayName, email, last_sign_in_at: new Date() }).where('id', '=', existing.id).execute()
      if (existing.role !== role) {
        await appendAuditEvent(trx, {
          actor: { type: 'system', id: null, display: 'oidc role mapping' },
          action: 'user.role_changed',
          object: { type: 'user', id: existing.id },
          before: { role: existing.role },
          after: { role, groups },
          ip: meta.ip,
        })
      }
    } else {
      // A local account may hold the same name; never link to it automatically (that would hand it over).
      const base = preferred.toLowerCase().slice(0, 150)
      const taken = await trx.selectFrom('users').select('id').where('username', '=', base).executeTakeFirst()
      const username = taken ? `${base}#${sha256Hex(`${issuer}|${subject}`).slice(0, 6)}` : base
      const row = await trx
        .insertInto('users')
        .values({ username, display_name: displayName, email, role, oidc_issuer: issuer, oidc_subject: subject, last_sign_in_at: new Date() })
        .returning('id')
        .executeTakeFirstOrThrow()
      userId = row.id
      await appendAuditEvent(trx, {
        actor: { type: 'system', id: null, display: 'oidc sign-in' },
        action: 'user.created',
        object: { type: 'user', id: userId },
        after: { username, role, issuer, subject, groups },
        ip: meta.ip,
      })
    }
    const session = await createSession(trx, userId, meta)
    await appendAuditEvent(trx, {
      actor: { type: 'user', id: userId, display: existing?.username ?? preferred },
      action: 'auth.sign_in.succeeded',
      object: { type: 'user', id: userId },
      after: { method: 'oidc', issuer, role },
      ip: meta.ip,
    })
    return { session, userId }
  })
  return { ok: true, session: result.session, userId: result.userId, redirectTo: pending.redirect_to }
}

export function clearOidcStateCookie(request: Request): string {
  return serializeCookie(request, OIDC_STATE_COOKIE, '', 0)
}

/** For tests: forget cached discovery documents. */
export function resetOidcCache(): void {
  configurations.clear()
}

