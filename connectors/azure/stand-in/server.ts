/**
 * The local Microsoft stand-in: HTTPS servers speaking the real wire formats the official
 * SDKs expect.
 * - Login: OpenID metadata and the v2.0 token endpoint (client credentials), so
 *   @azure/identity's real ClientSecretCredential flow runs against it.
 * - Microsoft Graph v1.0/beta: OData JSON, @odata.nextLink paging, $select, $filter (eq),
 *   $expand=roleDefinition, $batch, 429 with Retry-After, 403 for sign-in reports on demand,
 *   and state for revocations (removePassword, PATCH accountEnabled, DELETE appRoleAssignment).
 * - Azure Resource Manager: subscriptions and Microsoft.KeyVault/vaults.
 * - One Key Vault data-plane server per vault (its own host:port, as vault URLs are hosts),
 *   with the challenge flow: an unauthenticated request gets 401 + WWW-Authenticate first.
 * Tokens are opaque strings naming their audience; each API accepts only its own audience.
 */
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import express, { type Express, type Request, type Response } from 'express'
import type { RunningStandIn } from '../../contract.js'
import type { AzureSettings } from '../settings.js'
import { buildTenant, declaredCounts, type GraphObject, type SeedName, type StandInTenant, type VaultSeed } from './seed.js'
import { standInCertificate } from './tls.js'

export const STANDIN_CLIENT_ID_ENV = 'LEASH_AZURE_STANDIN_CLIENT_ID'
export const STANDIN_CLIENT_SECRET_ENV = 'LEASH_AZURE_STANDIN_CLIENT_SECRET'

interface Throttle {
  match: RegExp
  times: number
  retryAfterSeconds: number
}

export interface AzureStandInControl {
  tenant: StandInTenant
  /** Every request seen, as `METHOD /path?query` (batch sub-requests as `BATCH GET /…`). */
  requests: string[]
  /** Answer the next `times` matching Graph requests (or batch sub-requests) with 429. */
  throttle(match: RegExp, times: number, retryAfterSeconds?: number): void
  /** Answer the sign-in activity reports with 403 (no licence / no AuditLog.Read.All). */
  forbidSignInReports(forbidden: boolean): void
  /** Answer a Graph path with 403 (e.g. /oauth2PermissionGrants). */
  forbid(match: RegExp | null): void
  vaultUrl(name: string): string
}

export type AzureStandIn = RunningStandIn<AzureSettings> & { control: AzureStandInControl; url: string }

type Reply = { status: number; body?: unknown; headers?: Record<string, string> }

const GRAPH_AUD = 'https://graph.microsoft.com'
const ARM_AUD = 'https://management.azure.com'
const VAULT_AUD = 'https://vault.azure.net'

function graphError(status: number, code: string, message: string): Reply {
  return { status, body: { error: { code, message, innerError: { date: new Date().toISOString(), 'request-id': randomBytes(8).toString('hex') } } } }
}

function issueToken(aud: string, clientId: string): string {
  return `standin.${Buffer.from(JSON.stringify({ aud, appid: clientId, iat: Date.now() })).toString('base64url')}`
}

function tokenAudience(header: string | undefined): string | null {
  const m = /^Bearer standin\.([A-Za-z0-9_-]+)$/.exec(header ?? '')
  if (!m?.[1]) return null
  try {
    return (JSON.parse(Buffer.from(m[1], 'base64url').toString('utf8')) as { aud?: string }).aud ?? null
  } catch {
    return null
  }
}

function select(obj: GraphObject, fields: string[] | null): Record<string, unknown> {
  if (!fields) return obj
  const out: Record<string, unknown> = {}
  if (obj['@odata.type']) out['@odata.type'] = obj['@odata.type']
  out.id = obj.id
  for (const f of fields) if (f in obj) out[f] = obj[f]
  return out
}

/** `prop eq 'value'` (optionally joined with `and`); anything else is refused like Graph does. */
function filterFn(filter: string | null): ((o: Record<string, unknown>) => boolean) | Reply {
  if (!filter) return () => true
  const clauses = filter.split(/\s+and\s+/i)
  const tests: ((o: Record<string, unknown>) => boolean)[] = []
  for (const c of clauses) {
    const m = /^\s*([A-Za-z]+)\s+eq\s+'([^']*)'\s*$/.exec(c)
    if (!m) return graphError(400, 'Request_UnsupportedQuery', `Unsupported or invalid query filter clause specified for property: ${c}`)
    const [, prop, value] = m as unknown as [string, string, string]
    tests.push((o) => String(o[prop] ?? '').toLowerCase() === value.toLowerCase())
  }
  return (o) => tests.every((t) => t(o))
}

class GraphState {
  throttles: Throttle[] = []
  signInForbidden = false
  forbidden: RegExp | null = null
  constructor(readonly t: StandInTenant) {}

  private findDirectoryObject(id: string): GraphObject | undefined {
    return this.t.users.find((u) => u.id === id) ?? this.t.servicePrincipals.find((s) => s.id === id) ?? this.t.applications.find((a) => a.id === id)
  }

  private page(base: string, items: Record<string, unknown>[], query: URLSearchParams, context: string): Reply {
    const top = Math.min(Math.max(Number(query.get('$top') ?? 100) || 100, 1), 999)
    const skip = Number(query.get('$skiptoken') ? Buffer.from(query.get('$skiptoken') as string, 'base64url').toString('utf8') : 0) || 0
    const value = items.slice(skip, skip + top)
    const body: Record<string, unknown> = { '@odata.context': `${GRAPH_AUD}/v1.0/$metadata#${context}`, value }
    if (skip + top < items.length) {
      const q = new URLSearchParams(query)
      q.set('$skiptoken', Buffer.from(String(skip + top)).toString('base64url'))
      body['@odata.nextLink'] = `${base}?${q.toString()}`
    }
    return { status: 200, body }
  }

  private list(base: string, items: GraphObject[], query: URLSearchParams, context: string): Reply {
    const f = filterFn(query.get('$filter'))
    if (typeof f !== 'function') return f
    const fields = query.get('$select')?.split(',').map((s) => s.trim()).filter(Boolean) ?? null
    return this.page(base, items.filter(f).map((o) => select(o, fields)), query, context)
  }

  /** One Graph request (direct or inside $batch). `origin` is e.g. https://127.0.0.1:1234. */
  handle(origin: string, method: string, rawPath: string, query: URLSearchParams, body: unknown): Reply {
    const m = /^\/(v1\.0|beta)(\/.*)$/.exec(rawPath)
    if (!m) return graphError(404, 'BadRequest', 'Invalid version.')
    const version = m[1] as string
    const path = (m[2] as string).replace(/\/+$/, '')
    const base = `${origin}/${version}${path}`
    const line = `${method} ${path}`
    const throttle = this.throttles.find((x) => x.times > 0 && x.match.test(line))
    if (throttle) {
      throttle.times -= 1
      return { ...graphError(429, 'TooManyRequests', 'Too many requests, retry after the time in Retry-After.'), headers: { 'Retry-After': String(throttle.retryAfterSeconds) } }
    }
    if (this.forbidden?.test(line)) return graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.')
    const t = this.t
    const seg = path.split('/').filter(Boolean)
    const lower = seg.map((s) => s.toLowerCase())

    if (lower[0] === 'reports') {
      if (version !== 'beta') return graphError(400, 'BadRequest', `Resource not found for the segment '${seg[1]}'.`)
      if (this.signInForbidden)
        return graphError(403, 'Authentication_RequestFromNonPremiumTenantOrB2CTenant', "Neither tenant is B2C or tenant doesn't have premium license")
      if (lower[1] === 'serviceprincipalsigninactivities') return this.list(base, t.spSignIns, query, 'reports/servicePrincipalSignInActivities')
      if (lower[1] === 'appcredentialsigninactivities') return this.list(base, t.credentialSignIns, query, 'reports/appCredentialSignInActivities')
    }
    if (lower[0] === 'oauth2permissiongrants' && seg.length === 1) return this.list(base, t.oauth2PermissionGrants, query, 'oauth2PermissionGrants')
    if (path.toLowerCase() === '/rolemanagement/directory/roleassignments') {
      const expand = query.get('$expand') === 'roleDefinition'
      const items = t.roleAssignments.map((r) => (expand ? { ...r, roleDefinition: t.roleDefinitions.find((d) => d.id === r.roleDefinitionId) ?? null } : r))
      return this.list(base, items as GraphObject[], query, 'roleManagement/directory/roleAssignments')
    }
    if (lower[0] === 'users' && lower[1] === 'microsoft.graph.agentuser' && seg.length === 2) {
      return this.list(base, t.users.filter((u) => u['@odata.type'] === '#microsoft.graph.agentUser'), query, 'users/microsoft.graph.agentUser')
    }
    if (lower[0] === 'applications') {
      if (seg.length === 1) {
        if (method !== 'GET') return graphError(405, 'Request_BadRequest', 'Method not allowed.')
        return this.list(base, t.applications, query, 'applications')
      }
      if (lower[1] === 'microsoft.graph.agentidentityblueprint' && seg.length === 2)
        return this.list(base, t.applications.filter((a) => a['@odata.type'] === '#microsoft.graph.agentIdentityBlueprint'), query, 'applications/microsoft.graph.agentIdentityBlueprint')
      const app = t.applications.find((a) => a.id === seg[1])
      if (!app) return graphError(404, 'Request_ResourceNotFound', `Resource '${seg[1]}' does not exist or one of its queried reference-property objects are not present.`)
      if (seg.length === 2 && method === 'GET') return { status: 200, body: select(app, query.get('$select')?.split(',') ?? null) }
      if (lower[2] === 'owners') return this.list(base, (t.owners[app.id] ?? []).map((id) => this.findDirectoryObject(id)).filter((o): o is GraphObject => !!o), query, 'directoryObjects')
      if (lower[2] === 'removepassword' && method === 'POST') return removeCredential(app, body, 'passwordCredentials')
      if (lower[2] === 'removekey' && method === 'POST') {
        if (!(body as { proof?: string } | null)?.proof)
          return graphError(400, 'Request_BadRequest', 'A proof of possession token signed by an existing certificate of the application is required.')
        return graphError(400, 'Request_BadRequest', 'The proof of possession token is invalid.')
      }
    }
    if (lower[0] === 'serviceprincipals') {
      if (seg.length === 1) return this.list(base, t.servicePrincipals, query, 'servicePrincipals')
      if (lower[1] === 'microsoft.graph.agentidentity' && seg.length === 2)
        return this.list(base, t.servicePrincipals.filter((s) => s['@odata.type'] === '#microsoft.graph.agentIdentity'), query, 'servicePrincipals/microsoft.graph.agentIdentity')
      if (lower[1] === 'microsoft.graph.agentidentityblueprintprincipal' && seg.length === 2)
        return this.list(
          base,
          t.servicePrincipals.filter((s) => s['@odata.type'] === '#microsoft.graph.agentIdentityBlueprintPrincipal'),
          query,
          'servicePrincipals/microsoft.graph.agentIdentityBlueprintPrincipal',
        )
      const sp = t.servicePrincipals.find((s) => s.id === seg[1])
      if (!sp) return graphError(404, 'Request_ResourceNotFound', `Resource '${seg[1]}' does not exist or one of its queried reference-property objects are not present.`)
      if (seg.length === 2 && method === 'GET') return { status: 200, body: select(sp, query.get('$select')?.split(',') ?? null) }
      if (seg.length === 2 && method === 'PATCH') {
        const patch = (body ?? {}) as Record<string, unknown>
        if ('accountEnabled' in patch) {
          if (typeof patch.accountEnabled !== 'boolean') return graphError(400, 'Request_BadRequest', 'accountEnabled must be a boolean.')
          sp.accountEnabled = patch.accountEnabled
        }
        return { status: 204 }
      }
      if (lower[2] === 'owners') return this.list(base, (t.owners[sp.id] ?? []).map((id) => this.findDirectoryObject(id)).filter((o): o is GraphObject => !!o), query, 'directoryObjects')
      if (lower[2] === 'microsoft.graph.agentidentity' && lower[3] === 'sponsors') {
        if (sp['@odata.type'] !== '#microsoft.graph.agentIdentity') return graphError(400, 'Request_BadRequest', 'The object is not an agent identity.')
        return this.list(base, (t.sponsors[sp.id] ?? []).map((id) => this.findDirectoryObject(id)).filter((o): o is GraphObject => !!o), query, 'directoryObjects')
      }
      if (lower[2] === 'approleassignments') {
        if (seg.length === 3 && method === 'GET') return this.list(base, t.appRoleAssignments.filter((a) => a.principalId === sp.id), query, 'appRoleAssignments')
        if (seg.length === 4 && method === 'DELETE') {
          const i = t.appRoleAssignments.findIndex((a) => a.id === seg[3] && a.principalId === sp.id)
          if (i < 0) return graphError(404, 'Request_ResourceNotFound', `Resource '${seg[3]}' does not exist.`)
          t.appRoleAssignments.splice(i, 1)
          return { status: 204 }
        }
      }
      if (lower[2] === 'removepassword' && method === 'POST') return removeCredential(sp, body, 'passwordCredentials')
    }
    return graphError(400, 'BadRequest', `Resource not found for the segment '${seg[0] ?? ''}'.`)
  }
}

function removeCredential(obj: GraphObject, body: unknown, field: 'passwordCredentials'): Reply {
  const keyId = (body as { keyId?: unknown } | null)?.keyId
  if (typeof keyId !== 'string') return graphError(400, 'Request_BadRequest', 'keyId is required.')
  const list = (obj[field] as { keyId: string }[]) ?? []
  const i = list.findIndex((c) => c.keyId === keyId)
  if (i < 0) return graphError(404, 'Request_ResourceNotFound', `No password credential found with keyId ${keyId}.`)
  list.splice(i, 1)
  return { status: 204 }
}

function send(res: Response, reply: Reply): void {
  for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v)
  if (reply.body === undefined) res.status(reply.status).end()
  else res.status(reply.status).json(reply.body)
}

async function listen(app: Express, cert: { cert: string; key: string }, port = 0): Promise<https.Server> {
  const server = https.createServer({ cert: cert.cert, key: cert.key }, app)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  return server
}

function kvError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } })
}

function vaultApp(vault: VaultSeed, tenantId: string, authority: () => string, requests: string[]): Express {
  const app = express()
  app.disable('x-powered-by')
  app.use(express.json({ type: ['application/json'] }))
  app.use((req, res, next) => {
    requests.push(`KV ${vault.name} ${req.method} ${req.originalUrl}`)
    const aud = tokenAudience(req.headers.authorization)
    if (aud !== VAULT_AUD) {
      // The challenge the Key Vault SDK waits for before it asks for a token.
      res.setHeader('WWW-Authenticate', `Bearer authorization="${authority()}/${tenantId}", resource="${VAULT_AUD}"`)
      return kvError(res, 401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.')
    }
    if (!req.query['api-version']) return kvError(res, 400, 'BadParameter', 'The api-version query parameter is required.')
    next()
  })
  const origin = (req: Request) => `https://${req.headers.host as string}`
  const pageOf = (req: Request, res: Response, items: unknown[]) => {
    const max = Math.min(Number(req.query.maxresults ?? 25) || 25, 25)
    const skip = Number(req.query.$skiptoken ?? 0) || 0
    const q = new URLSearchParams(req.query as Record<string, string>)
    q.set('$skiptoken', String(skip + max))
    res.json({ value: items.slice(skip, skip + max), nextLink: skip + max < items.length ? `${origin(req)}${req.path}?${q.toString()}` : null })
  }
  const attrs = (i: { enabled: boolean; created: number; updated: number; exp?: number }) => ({
    enabled: i.enabled,
    created: i.created,
    updated: i.updated,
    ...(i.exp !== undefined ? { exp: i.exp } : {}),
    recoveryLevel: 'Recoverable+Purgeable',
    recoverableDays: 90,
  })
  app.get('/secrets', (req, res) =>
    pageOf(
      req,
      res,
      vault.items.filter((i) => i.kind === 'secret').map((i) => ({ id: `${origin(req)}/secrets/${i.name}`, attributes: attrs(i), contentType: i.contentType, tags: i.tags ?? {} })),
    ),
  )
  app.get('/secrets/:name/versions', (req, res) => {
    const versions = vault.versions[req.params.name]
    if (!versions) return kvError(res, 404, 'SecretNotFound', `A secret with (name/id) ${req.params.name} was not found in this key vault.`)
    const item = vault.items.find((i) => i.kind === 'secret' && i.name === req.params.name)
    pageOf(
      req,
      res,
      versions.map((v) => ({ id: `${origin(req)}/secrets/${req.params.name}/${v.version}`, attributes: attrs({ enabled: v.enabled, created: v.created, updated: v.created, exp: item?.exp }) })),
    )
  })
  app.patch('/secrets/:name/:version', (req, res) => {
    const versions = vault.versions[req.params.name]
    const v = versions?.find((x) => x.version === req.params.version)
    const item = vault.items.find((i) => i.kind === 'secret' && i.name === req.params.name)
    if (!v || !item || !versions) return kvError(res, 404, 'SecretNotFound', `A secret with (name/id) ${req.params.name}/${req.params.version} was not found in this key vault.`)
    const enabled = (req.body as { attributes?: { enabled?: unknown } } | undefined)?.attributes?.enabled
    if (typeof enabled === 'boolean') {
      v.enabled = enabled
      // The versionless listing shows the newest version's attributes.
      const newest = [...versions].sort((a, b) => b.created - a.created)[0]
      if (newest === v) {
        item.enabled = enabled
        item.updated = Math.floor(Date.now() / 1000)
      }
    }
    res.json({ id: `${origin(req)}/secrets/${req.params.name}/${v.version}`, attributes: attrs({ enabled: v.enabled, created: v.created, updated: item.updated, exp: item.exp }), tags: item.tags ?? {} })
  })
  app.get('/keys', (req, res) =>
    pageOf(req, res, vault.items.filter((i) => i.kind === 'key').map((i) => ({ kid: `${origin(req)}/keys/${i.name}`, attributes: attrs(i), tags: i.tags ?? {} }))),
  )
  app.get('/certificates', (req, res) =>
    pageOf(
      req,
      res,
      vault.items.filter((i) => i.kind === 'certificate').map((i) => ({ id: `${origin(req)}/certificates/${i.name}`, x5t: randomBytes(20).toString('base64url'), attributes: attrs(i), tags: i.tags ?? {} })),
    ),
  )
  app.use((req, res) => kvError(res, 404, 'NotFound', `No route for ${req.method} ${req.path}`))
  return app
}

export async function startAzureStandIn(options: { seed: SeedName; port?: number }): Promise<AzureStandIn> {
  const tenant = buildTenant(options.seed)
  const cert = await standInCertificate()
  const clientSecret = randomBytes(24).toString('base64url')
  const requests: string[] = []
  const graph = new GraphState(tenant)
  let origin = ''

  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)
  app.use(express.json({ limit: '5mb', type: ['application/json'] }))
  app.use(express.urlencoded({ extended: false }))
  app.use((req, _res, next) => {
    requests.push(`${req.method} ${req.originalUrl}`)
    next()
  })

  // ---- login.microsoftonline.com
  app.get('/:tenant/v2.0/.well-known/openid-configuration', (req, res) => {
    const t = req.params.tenant
    if (t !== tenant.tenantId) return res.status(400).json({ error: 'invalid_tenant', error_description: `AADSTS90002: Tenant '${t}' not found.` })
    res.json({
      token_endpoint: `${origin}/${t}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${origin}/${t}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${origin}/${t}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${origin}/oidc/userinfo`,
      authorization_endpoint: `${origin}/${t}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${origin}/${t}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${origin}/${t}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'tid'],
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
    })
  })
  app.post('/:tenant/oauth2/v2.0/token', (req, res) => {
    const b = req.body as Record<string, string>
    if (req.params.tenant !== tenant.tenantId) return res.status(400).json({ error: 'invalid_request', error_description: `AADSTS90002: Tenant '${req.params.tenant}' not found.` })
    if (b.grant_type !== 'client_credentials') return res.status(400).json({ error: 'unsupported_grant_type', error_description: 'AADSTS70003: only client_credentials is supported by the stand-in.' })
    if (b.client_id !== tenant.clientId || b.client_secret !== clientSecret)
      return res.status(401).json({ error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' })
    const aud = (b.scope ?? '').replace(/\/\.default$/, '').replace(/\/$/, '')
    if (![GRAPH_AUD, ARM_AUD, VAULT_AUD].includes(aud)) return res.status(400).json({ error: 'invalid_scope', error_description: `AADSTS70011: The provided scope '${b.scope}' is not valid.` })
    res.json({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: issueToken(aud, b.client_id) })
  })

  // ---- Microsoft Graph
  const graphAuth = (req: Request, res: Response): boolean => {
    if (tokenAudience(req.headers.authorization) !== GRAPH_AUD) {
      send(res, graphError(401, 'InvalidAuthenticationToken', 'Access token is empty or has an invalid audience.'))
      return false
    }
    return true
  }
  app.post(/^\/(v1\.0|beta)\/\$batch$/, (req, res) => {
    if (!graphAuth(req, res)) return
    const version = req.path.split('/')[1] as string
    const subs = ((req.body as { requests?: { id: string; method: string; url: string; body?: unknown }[] }).requests ?? [])
    if (subs.length > 20) return send(res, graphError(400, 'Request_BadRequest', 'The number of batch requests exceeds the limit of 20.'))
    const responses = subs.map((s) => {
      const u = new URL(`https://x/${version}${s.url.startsWith('/') ? '' : '/'}${s.url}`)
      requests.push(`BATCH ${s.method} ${u.pathname}${u.search}`)
      const r = graph.handle(origin, s.method.toUpperCase(), u.pathname, u.searchParams, s.body)
      return { id: s.id, status: r.status, headers: { 'Content-Type': 'application/json', ...(r.headers ?? {}) }, body: r.body }
    })
    res.json({ responses })
  })
  app.all(/^\/(v1\.0|beta)\//, (req, res) => {
    if (!graphAuth(req, res)) return
    const u = new URL(`https://x${req.originalUrl}`)
    send(res, graph.handle(origin, req.method, u.pathname, u.searchParams, req.body))
  })

  // ---- Azure Resource Manager
  const vaultServers = new Map<string, https.Server>()
  const vaultUrl = (name: string) => `https://127.0.0.1:${(vaultServers.get(name)?.address() as AddressInfo).port}`
  app.use('/subscriptions', (req, res, next) => {
    if (tokenAudience(req.headers.authorization) !== ARM_AUD)
      return res.status(401).json({ error: { code: 'InvalidAuthenticationToken', message: 'The access token is invalid or has the wrong audience.' } })
    if (!req.query['api-version']) return res.status(400).json({ error: { code: 'MissingApiVersionParameter', message: "The api-version query parameter (?api-version=) is required for all requests." } })
    next()
  })
  app.get('/subscriptions', (_req, res) => {
    res.json({
      value: tenant.subscriptions.map((s) => ({ id: `/subscriptions/${s.subscriptionId}`, subscriptionId: s.subscriptionId, tenantId: tenant.tenantId, displayName: s.displayName, state: 'Enabled' })),
      count: { type: 'Total', value: tenant.subscriptions.length },
    })
  })
  app.get('/subscriptions/:sub/providers/Microsoft.KeyVault/vaults', (req, res) => {
    res.json({
      value: tenant.vaults
        .filter((v) => v.subscriptionId === req.params.sub)
        .map((v) => ({
          id: `/subscriptions/${v.subscriptionId}/resourceGroups/${v.resourceGroup}/providers/Microsoft.KeyVault/vaults/${v.name}`,
          name: v.name,
          type: 'Microsoft.KeyVault/vaults',
          location: 'westeurope',
          tags: { owner: 'platform' },
          properties: {
            tenantId: tenant.tenantId,
            sku: { family: 'A', name: 'standard' },
            accessPolicies: [],
            vaultUri: `${vaultUrl(v.name)}/`,
            enableRbacAuthorization: v.rbac,
            enableSoftDelete: true,
            provisioningState: 'Succeeded',
          },
        })),
    })
  })
  app.use((req, res) => res.status(404).json({ error: { code: 'NotFound', message: `No stand-in route for ${req.method} ${req.path}` } }))

  const main = await listen(app, cert, options.port)
  origin = `https://127.0.0.1:${(main.address() as AddressInfo).port}`
  // With a fixed port, vaults take the next ports, so vault URLs (and item ids) stay stable
  // across restarts of a demo.
  for (const [i, v] of tenant.vaults.entries()) {
    vaultServers.set(v.name, await listen(vaultApp(v, tenant.tenantId, () => origin, requests), cert, options.port ? options.port + 1 + i : 0))
  }
  // Declared Key Vault ids depend on the ports just bound.
  for (const e of tenant.expected) {
    const m = /^VAULT:([^/]+)\/(.*)$/.exec(e.externalId)
    if (m) {
      e.externalId = `${vaultUrl(m[1] as string)}/${m[2] as string}`
      e.credentials = [e.externalId]
    }
  }

  const settings: AzureSettings = {
    tenantId: tenant.tenantId,
    credential: { kind: 'client_secret', clientIdEnv: STANDIN_CLIENT_ID_ENV, clientSecretEnv: STANDIN_CLIENT_SECRET_ENV },
    keyVault: true,
    signInActivity: true,
    agentId: true,
    endpoints: { authority: origin, graph: origin, arm: origin, caCertificatePem: cert.cert },
    maxRetries: 5,
    batchSize: 500,
  }
  return {
    url: origin,
    settings,
    env: { [STANDIN_CLIENT_ID_ENV]: tenant.clientId, [STANDIN_CLIENT_SECRET_ENV]: clientSecret },
    declared: declaredCounts(tenant),
    control: {
      tenant,
      requests,
      throttle(match, times, retryAfterSeconds = 1) {
        graph.throttles.push({ match, times, retryAfterSeconds })
      },
      forbidSignInReports(forbidden) {
        graph.signInForbidden = forbidden
      },
      forbid(match) {
        graph.forbidden = match
      },
      vaultUrl,
    },
    async stop() {
      const close = (s: https.Server) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections()
          s.close(() => resolve())
        })
      await Promise.all([close(main), ...[...vaultServers.values()].map(close)])
    },
  }
}
