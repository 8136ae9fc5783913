/**
 * A local stand-in for the GitHub REST API (https://docs.github.com/rest, version 2022-11-28):
 * the same paths, `page`/`per_page` pagination with RFC 8288 Link headers, rate-limit headers,
 * GitHub's `{message, documentation_url, status}` errors, GitHub App auth (RS256 JWT →
 * installation token) and classic tokens, and state: a revoked grant or deleted key is gone
 * from the next scan. Access rules follow GitHub's: token grants are listable by GitHub Apps
 * only, SSO credential authorizations by organization owners only.
 */
import { createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto'
import type { Request, Response } from 'express'
import { intParam, startStandInServer, type StandInServer } from '../../saas-kit/stand-in.js'
import { buildEstate, declaredCounts, type GitHubEstate, type Seed } from './estate.js'

export const STANDIN_OWNER_TOKEN = 'ghp_standinOwner000000000000000000000000'
export const STANDIN_MEMBER_TOKEN = 'ghp_standinMember00000000000000000000000'

export interface GitHubStandIn extends StandInServer {
  estate: GitHubEstate
  /** PEM private key of the stand-in's "Leash" GitHub App. */
  appPrivateKey: string
  appId: number
  declared: { identities: number; agents: number; credentials: number }
}

type Caller = { kind: 'owner' } | { kind: 'member' } | { kind: 'installation'; installationId: number } | { kind: 'app' }

function errorBody(status: number, message: string) {
  return { message, documentation_url: 'https://docs.github.com/rest', status: String(status) }
}

function fail(res: Response, status: number, message: string) {
  res.status(status).json(errorBody(status, message))
}

function b64url(s: string): Buffer {
  return Buffer.from(s, 'base64url')
}

function verifyJwt(jwt: string, key: KeyObject, appId: number): boolean {
  const [h, p, sig] = jwt.split('.')
  if (!h || !p || !sig) return false
  if (!verify('RSA-SHA256', Buffer.from(`${h}.${p}`), key, b64url(sig))) return false
  const payload = JSON.parse(b64url(p).toString('utf8')) as { iss?: string | number; exp?: number }
  return String(payload.iss) === String(appId) && (payload.exp ?? 0) * 1000 > Date.now()
}

export async function startGitHubStandIn(options: { seed: Seed; port?: number }): Promise<GitHubStandIn> {
  const estate = buildEstate(options.seed)
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const appPrivateKey = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()
  const appKey = createPublicKey(publicKey.export({ type: 'spki', format: 'pem' }))
  const installationTokens = new Map<string, number>()
  let tokenSeq = 0
  const callers = new WeakMap<Request, Caller>()
  const callerOf = (req: Request) => callers.get(req) as Caller

  const list = <T>(req: Request, res: Response, items: T[], wrap?: (page: T[]) => unknown) => {
    const perPage = intParam(req.query.per_page, 30, 100)
    const page = intParam(req.query.page, 1, 1_000_000)
    const last = Math.max(1, Math.ceil(items.length / perPage))
    const url = (n: number) => {
      const q = new URLSearchParams(req.query as Record<string, string>)
      q.set('page', String(n))
      q.set('per_page', String(perPage))
      return `<${req.protocol}://${req.get('host')}${req.path}?${q.toString()}>`
    }
    const links: string[] = []
    if (page > 1) links.push(`${url(page - 1)}; rel="prev"`, `${url(1)}; rel="first"`)
    if (page < last) links.push(`${url(page + 1)}; rel="next"`, `${url(last)}; rel="last"`)
    if (links.length) res.setHeader('Link', links.join(', '))
    const slice = items.slice((page - 1) * perPage, page * perPage)
    res.json(wrap ? wrap(slice) : slice)
  }
  const orgGuard = (req: Request, res: Response): boolean => {
    if (req.params.org?.toLowerCase() !== estate.org.toLowerCase()) {
      fail(res, 404, 'Not Found')
      return false
    }
    return true
  }
  const userObj = (login: string) => {
    const u = [...estate.members, ...estate.formerMembers].find((m) => m.login === login)
    return {
      login,
      id: u?.id ?? 0,
      node_id: `MDQ6VXNlcj${u?.id ?? 0}`,
      type: 'User',
      site_admin: false,
      url: `https://api.github.com/users/${login}`,
      html_url: `https://github.com/${login}`,
    }
  }

  const server = await startStandInServer({
    port: options.port,
    errorBody,
    authorize(req) {
      const header = req.header('authorization') ?? ''
      const credential = header.replace(/^(token|bearer)\s+/i, '')
      let caller: Caller | null = null
      if (credential === STANDIN_OWNER_TOKEN) caller = { kind: 'owner' }
      else if (credential === STANDIN_MEMBER_TOKEN) caller = { kind: 'member' }
      else if (installationTokens.has(credential))
        caller = { kind: 'installation', installationId: installationTokens.get(credential) as number }
      else if (credential.split('.').length === 3 && verifyJwt(credential, appKey, estate.leashAppId)) caller = { kind: 'app' }
      if (!caller) return { status: 401, body: errorBody(401, 'Bad credentials') }
      const appRoute = req.path.startsWith('/app/') || /^\/orgs\/[^/]+\/installation$/.test(req.path)
      if (appRoute !== (caller.kind === 'app')) {
        return {
          status: appRoute ? 401 : 403,
          body: errorBody(
            appRoute ? 401 : 403,
            appRoute ? 'A JSON web token could not be decoded' : 'A JSON web token cannot be used for this endpoint',
          ),
        }
      }
      callers.set(req, caller)
      return null
    },
    routes(app) {
      app.use((_req, res, next) => {
        res.setHeader('x-ratelimit-limit', '5000')
        res.setHeader('x-ratelimit-remaining', '4999')
        res.setHeader('x-ratelimit-reset', String(Math.floor(Date.now() / 1000) + 3600))
        res.setHeader('x-github-api-version-selected', '2022-11-28')
        next()
      })
      app.get('/orgs/:org/installation', (req, res) => {
        if (!orgGuard(req, res)) return
        res.json({
          id: estate.leashInstallationId,
          app_id: estate.leashAppId,
          app_slug: 'leash-inventory',
          account: { login: estate.org, id: estate.orgId, type: 'Organization' },
          target_type: 'Organization',
        })
      })
      app.post('/app/installations/:id/access_tokens', (req, res) => {
        if (Number(req.params.id) !== estate.leashInstallationId) return fail(res, 404, 'Not Found')
        const token = `ghs_standin${String(++tokenSeq).padStart(28, '0')}`
        installationTokens.set(token, estate.leashInstallationId)
        res
          .status(201)
          .json({
            token,
            expires_at: new Date(Date.now() + 3600_000).toISOString(),
            permissions: estate.installations[0]?.permissions ?? {},
            repository_selection: 'all',
          })
      })
      app.get('/orgs/:org/members', (req, res) => {
        if (!orgGuard(req, res)) return
        list(
          req,
          res,
          estate.members.map((m) => userObj(m.login)),
        )
      })
      app.get('/orgs/:org/installations', (req, res) => {
        if (!orgGuard(req, res)) return
        if (callerOf(req).kind === 'member')
          return fail(res, 403, 'You must be an organization owner or have the Administration: read permission.')
        list(req, res, estate.installations, (page) => ({
          total_count: estate.installations.length,
          installations: page.map(({ agent: _agent, ...i }) => ({
            ...i,
            account: { login: estate.org, id: estate.orgId, type: 'Organization' },
            target_type: 'Organization',
            target_id: estate.orgId,
            html_url: `https://github.com/organizations/${estate.org}/settings/installations/${i.id}`,
            single_file_name: null,
          })),
        }))
      })
      app.get('/orgs/:org/personal-access-tokens', (req, res) => {
        if (!orgGuard(req, res)) return
        if (callerOf(req).kind !== 'installation') return fail(res, 403, 'Resource not accessible by personal access token')
        const owners = ([] as unknown[]).concat(req.query.owner ?? req.query['owner[]'] ?? []).map(String)
        const grants = estate.patGrants.filter((g) => owners.length === 0 || owners.includes(g.owner))
        list(
          req,
          res,
          grants.map(({ agent: _agent, owner, ...g }) => ({
            ...g,
            owner: userObj(owner),
            repositories_url: `https://api.github.com/organizations/${estate.orgId}/personal-access-tokens/${g.id}/repositories`,
            token_expired: g.token_expires_at != null && Date.parse(g.token_expires_at) <= Date.now(),
          })),
        )
      })
      app.post('/orgs/:org/personal-access-tokens', (req, res) => {
        if (!orgGuard(req, res)) return
        if (callerOf(req).kind !== 'installation') return fail(res, 403, 'Resource not accessible by personal access token')
        const body = req.body as { action?: string; pat_ids?: number[] }
        if (body.action !== 'revoke' || !Array.isArray(body.pat_ids) || body.pat_ids.length === 0)
          return fail(res, 422, 'Invalid request: action must be "revoke" and pat_ids a non-empty array.')
        const missing = body.pat_ids.filter((id) => !estate.patGrants.some((g) => g.id === id))
        if (missing.length) return fail(res, 404, 'Not Found')
        estate.patGrants = estate.patGrants.filter((g) => !body.pat_ids?.includes(g.id))
        res.status(202).json({})
      })
      app.get('/orgs/:org/credential-authorizations', (req, res) => {
        if (!orgGuard(req, res)) return
        const c = callerOf(req)
        if (c.kind === 'installation') return fail(res, 403, 'Resource not accessible by integration')
        if (c.kind !== 'owner') return fail(res, 403, 'Must be an organization owner.')
        if (!estate.sso) return fail(res, 404, 'Not Found')
        list(
          req,
          res,
          estate.ssoAuths.map(({ agent: _agent, ...a }) => ({
            ...a,
            authorized_credential_id: a.credential_id + 1,
            authorized_credential_title: a.authorized_credential_note,
            fingerprint: a.credential_type === 'SSH key' ? 'jklmnop12345678' : undefined,
          })),
        )
      })
      app.delete('/orgs/:org/credential-authorizations/:id', (req, res) => {
        if (!orgGuard(req, res)) return
        if (callerOf(req).kind !== 'owner') return fail(res, 403, 'Must be an organization owner.')
        const i = estate.ssoAuths.findIndex((a) => a.credential_id === Number(req.params.id))
        if (i < 0) return fail(res, 404, 'Not Found')
        estate.ssoAuths.splice(i, 1)
        res.status(204).end()
      })
      app.get('/orgs/:org/repos', (req, res) => {
        if (!orgGuard(req, res)) return
        list(
          req,
          res,
          estate.repos.map((r) => ({
            id: r.id,
            name: r.name,
            full_name: `${estate.org}/${r.name}`,
            private: true,
            archived: r.archived,
            owner: { login: estate.org, type: 'Organization' },
          })),
        )
      })
      const repoKeys = (req: Request, res: Response): boolean => {
        if (req.params.owner?.toLowerCase() !== estate.org.toLowerCase() || !estate.repos.some((r) => r.name === req.params.repo)) {
          fail(res, 404, 'Not Found')
          return false
        }
        if (callerOf(req).kind === 'member') {
          fail(res, 403, 'Must have admin rights to Repository.')
          return false
        }
        return true
      }
      const renderKey = ({ agent: _agent, repo, ...k }: GitHubEstate['deployKeys'][number]) => ({
        ...k,
        url: `https://api.github.com/repos/${estate.org}/${repo}/keys/${k.id}`,
        verified: true,
        enabled: true,
      })
      app.get('/repos/:owner/:repo/keys', (req, res) => {
        if (repoKeys(req, res)) list(req, res, estate.deployKeys.filter((k) => k.repo === req.params.repo).map(renderKey))
      })
      app.get('/repos/:owner/:repo/keys/:id', (req, res) => {
        if (!repoKeys(req, res)) return
        const k = estate.deployKeys.find((x) => x.repo === req.params.repo && x.id === Number(req.params.id))
        if (!k) return fail(res, 404, 'Not Found')
        res.json(renderKey(k))
      })
      app.delete('/repos/:owner/:repo/keys/:id', (req, res) => {
        if (!repoKeys(req, res)) return
        const i = estate.deployKeys.findIndex((x) => x.repo === req.params.repo && x.id === Number(req.params.id))
        if (i < 0) return fail(res, 404, 'Not Found')
        estate.deployKeys.splice(i, 1)
        res.status(204).end()
      })
    },
  })
  return Object.assign(server, { estate, appPrivateKey, appId: estate.leashAppId, declared: declaredCounts(estate) })
}
