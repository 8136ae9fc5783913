/**
 * Single sign-on against a real OpenID Connect provider (oidc-provider) started in the test:
 * authorization code + PKCE + state + nonce through Leash's start and callback routes, role
 * mapping from groups, users upserted by (issuer, subject), and refusal of forged or
 * replayed callbacks.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import Provider from 'oidc-provider'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loader as callbackLoader } from '../app/routes/auth.oidc.callback.js'
import { loader as startLoader } from '../app/routes/auth.oidc.start.js'
import { getActor } from '../app/utils/auth.server.js'
import { OidcConfigError, parseRoleMap, readOidcSettings, resetOidcCache, roleFromGroups } from '../app/utils/oidc.server.js'
import { LOCAL_SESSION_COOKIE } from '../app/utils/session.server.js'
import { contextFor, TEST_ORIGIN } from './auth.js'
import { useTestDatabase } from './db.js'

const database = useTestDatabase()
const GROUPS: Record<string, string[]> = { alice: ['secops', 'everyone'], bob: ['everyone'], carol: ['leash-admins'] }
let server: Server
let issuer: string
const savedEnv = { ...process.env }

beforeAll(async () => {
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end()
  server = createServer((req, res) => handler(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  issuer = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'leash',
        client_secret: 'test-client-secret-not-real',
        redirect_uris: [`${TEST_ORIGIN}/auth/oidc/callback`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    claims: { openid: ['sub', 'groups'], profile: ['name', 'preferred_username'], email: ['email'] },
    findAccount: async (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: async () => ({ sub, name: `${sub[0]!.toUpperCase()}${sub.slice(1)} Example`, preferred_username: sub, email: `${sub}@example.com`, groups: GROUPS[sub] ?? [] }),
    }),
    pkce: { required: () => true },
    cookies: { keys: ['test-cookie-key-not-secret'] },
  })
  handler = provider.callback()
  process.env.LEASH_OIDC_ISSUER = issuer
  process.env.LEASH_OIDC_CLIENT_ID = 'leash'
  process.env.LEASH_OIDC_CLIENT_SECRET = 'test-client-secret-not-real'
  process.env.LEASH_OIDC_ROLE_MAP = 'leash-admins=admin, secops=security_lead'
  delete process.env.LEASH_PUBLIC_URL
  resetOidcCache()
})

afterAll(async () => {
  for (const key of ['LEASH_OIDC_ISSUER', 'LEASH_OIDC_CLIENT_ID', 'LEASH_OIDC_CLIENT_SECRET', 'LEASH_OIDC_ROLE_MAP']) {
    if (savedEnv[key] === undefined) delete process.env[key]
    else process.env[key] = savedEnv[key]
  }
  resetOidcCache()
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

/** A minimal cookie jar and redirect walker standing in for the browser at the provider. */
async function signInAtProvider(authorizationUrl: string, login: string): Promise<string> {
  const jar = new Map<string, string>()
  const cookieHeader = () => [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
  const remember = (response: Response) => {
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';')
      const index = pair!.indexOf('=')
      jar.set(pair!.slice(0, index), pair!.slice(index + 1))
    }
  }
  let url = authorizationUrl
  for (let step = 0; step < 12; step++) {
    if (url.startsWith(`${TEST_ORIGIN}/auth/oidc/callback`)) return url
    const response = await fetch(url, { redirect: 'manual', headers: { Cookie: cookieHeader() } })
    remember(response)
    if (response.status >= 300 && response.status < 400) {
      url = new URL(response.headers.get('location')!, url).href
      continue
    }
    const html = await response.text()
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1]
    if (!prompt) throw new Error(`unexpected page from the provider (${response.status}): ${html.slice(0, 300)}`)
    const body = new URLSearchParams(prompt === 'login' ? { prompt, login, password: 'any' } : { prompt })
    const submitted = await fetch(url, { method: 'POST', redirect: 'manual', body, headers: { Cookie: cookieHeader(), 'Content-Type': 'application/x-www-form-urlencoded' } })
    remember(submitted)
    if (submitted.status < 300 || submitted.status >= 400) throw new Error(`the provider refused the ${prompt} step (${submitted.status}): ${await submitted.text()}`)
    url = new URL(submitted.headers.get('location')!, url).href
  }
  throw new Error('too many redirects at the provider')
}

async function startSignIn(redirectTo = '/identities') {
  const response = (await startLoader({ request: new Request(`${TEST_ORIGIN}/auth/oidc/start?redirectTo=${encodeURIComponent(redirectTo)}`), context: contextFor(database.current.db), params: {} })) as Response
  expect(response.status).toBe(302)
  const location = response.headers.get('location')!
  const stateCookie = response.headers.get('set-cookie')!.split(';')[0]!
  return { location, stateCookie }
}

async function callback(url: string, cookie: string): Promise<Response> {
  return (await callbackLoader({ request: new Request(url, { headers: { Cookie: cookie } }), context: contextFor(database.current.db), params: {} })) as Response
}

function sessionCookieFrom(response: Response): string | null {
  const cookie = response.headers.getSetCookie().find((value) => value.startsWith(`${LOCAL_SESSION_COOKIE}=`))
  return cookie ? cookie.split(';')[0]! : null
}

describe('OIDC sign-in', () => {
  it('signs in with code + PKCE + state + nonce and maps the role from groups', async () => {
    const { location, stateCookie } = await startSignIn()
    const authorization = new URL(location)
    expect(authorization.origin).toBe(issuer)
    expect(authorization.searchParams.get('code_challenge_method')).toBe('S256')
    expect(authorization.searchParams.get('state')).toBeTruthy()
    expect(authorization.searchParams.get('nonce')).toBeTruthy()
    const callbackUrl = await signInAtProvider(location, 'alice')
    const response = await callback(callbackUrl, stateCookie)
    expect(response.status).toBe(302)
    expect(response.headers.get('location')).toBe('/identities')
    const session = sessionCookieFrom(response)
    expect(session).toBeTruthy()
    const actor = await getActor(new Request(`${TEST_ORIGIN}/posture`, { headers: { Cookie: session! } }), contextFor(database.current.db))
    expect(actor).toMatchObject({ kind: 'user', username: 'alice', displayName: 'Alice Example', role: 'security_lead' })
    const user = await database.current.db.selectFrom('users').selectAll().where('username', '=', 'alice').executeTakeFirstOrThrow()
    expect(user).toMatchObject({ oidc_issuer: issuer, oidc_subject: 'alice', password_hash: null, email: 'alice@example.com' })
    const events = await database.current.db.selectFrom('audit_events').select(['action', 'after']).orderBy('seq').execute()
    expect(events.map((event) => event.action)).toEqual(['user.created', 'auth.sign_in.succeeded'])
    expect(JSON.stringify(events)).not.toContain('test-client-secret-not-real')
  })

  it('updates the same user (by issuer and subject) and its role at the next sign-in', async () => {
    GROUPS.alice = ['leash-admins']
    const { location, stateCookie } = await startSignIn('/posture')
    const response = await callback(await signInAtProvider(location, 'alice'), stateCookie)
    expect(response.status).toBe(302)
    const users = await database.current.db.selectFrom('users').select(['id', 'role']).where('oidc_subject', '=', 'alice').execute()
    expect(users).toEqual([{ id: expect.any(String), role: 'admin' }])
    const change = await database.current.db.selectFrom('audit_events').selectAll().where('action', '=', 'user.role_changed').executeTakeFirstOrThrow()
    expect(change.before).toEqual({ role: 'security_lead' })
    expect(change.after).toMatchObject({ role: 'admin' })
  })

  it('refuses a user in no mapped group, and creates nobody', async () => {
    const { location, stateCookie } = await startSignIn()
    const response = await callback(await signInAtProvider(location, 'bob'), stateCookie)
    expect(response.headers.get('location')).toBe('/login?error=oidc_no_role')
    expect(sessionCookieFrom(response)).toBeNull()
    expect(await database.current.db.selectFrom('users').select('id').where('oidc_subject', '=', 'bob').executeTakeFirst()).toBeUndefined()
  })

  it('refuses a callback without this browser’s state cookie (login CSRF) and a replayed one', async () => {
    const { location, stateCookie } = await startSignIn()
    const callbackUrl = await signInAtProvider(location, 'carol')
    const forged = await callback(callbackUrl, '')
    expect(forged.headers.get('location')).toBe('/login?error=oidc')
    expect(sessionCookieFrom(forged)).toBeNull()
    const genuine = await callback(callbackUrl, stateCookie)
    expect(sessionCookieFrom(genuine)).toBeTruthy()
    const replayed = await callback(callbackUrl, stateCookie)
    expect(replayed.headers.get('location')).toBe('/login?error=oidc')
    expect(sessionCookieFrom(replayed)).toBeNull()
  })
})

describe('OIDC settings', () => {
  it('maps groups to the most privileged role and rejects a bad map', () => {
    const roleMap = parseRoleMap('leash-admins=admin,secops=security_lead,ops=operator')
    expect(roleFromGroups({ roleMap, defaultRole: null }, ['ops', 'secops'])).toBe('security_lead')
    expect(roleFromGroups({ roleMap, defaultRole: null }, ['other'])).toBeNull()
    expect(roleFromGroups({ roleMap, defaultRole: 'viewer' }, [])).toBe('viewer')
    expect(() => parseRoleMap('secops=superuser')).toThrow(OidcConfigError)
  })

  it('requires https except for loopback, and the secret from the environment', () => {
    expect(() => readOidcSettings({ LEASH_OIDC_ISSUER: 'http://idp.example.com', LEASH_OIDC_CLIENT_ID: 'x', LEASH_OIDC_CLIENT_SECRET: 'y', LEASH_OIDC_ROLE_MAP: 'a=admin' })).toThrow(/https/)
    expect(() => readOidcSettings({ LEASH_OIDC_ISSUER: 'https://idp.example.com', LEASH_OIDC_CLIENT_ID: 'x', LEASH_OIDC_ROLE_MAP: 'a=admin' })).toThrow(/CLIENT_SECRET/)
    expect(readOidcSettings({})).toBeNull()
  })
})
