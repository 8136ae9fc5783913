/**
 * A local stand-in for the OpenAI Administration API (https://platform.openai.com/docs/api-reference/administration):
 * the same paths under /v1/organization, Bearer admin-key auth, `{object:"list", data, first_id,
 * last_id, has_more}` pages driven by `after`/`limit`, OpenAI's `{error:{message,type,param,code}}`
 * envelope, and state: a deleted key or service account is gone from the next scan.
 */
import type { Request, Response } from 'express'
import { intParam, pageAfter, startStandInServer, type StandInServer } from '../../saas-kit/stand-in.js'
import { type OAKey, type OAUser, type OpenAIEstate, buildEstate, declaredCounts, type Seed } from './estate.js'

export const STANDIN_ADMIN_KEY = 'sk-admin-standin-0000000000000000000000000000'
/** A read-only admin key: list calls work, deletes answer 403 with the missing scope. */
export const STANDIN_READONLY_ADMIN_KEY = 'sk-admin-standin-readonly-00000000000000000000'

export interface OpenAIStandIn extends StandInServer {
  estate: OpenAIEstate
  baseUrl: string
  declared: { identities: number; agents: number; credentials: number }
}

function list<T extends { id: string }>(req: Request, res: Response, items: T[], render: (item: T) => unknown) {
  const { page, hasMore } = pageAfter(
    items,
    typeof req.query.after === 'string' ? req.query.after : undefined,
    intParam(req.query.limit, 20, 100),
  )
  res.json({
    object: 'list',
    data: page.map(render),
    first_id: page[0]?.id ?? null,
    last_id: page[page.length - 1]?.id ?? null,
    has_more: hasMore,
  })
}

function error(res: Response, status: number, message: string, type = 'invalid_request_error', code: string | null = null) {
  res.status(status).json({ error: { message, type, param: null, code } })
}

export async function startOpenAIStandIn(options: { seed: Seed; port?: number }): Promise<OpenAIStandIn> {
  const estate = buildEstate(options.seed)
  const userById = (id: string): OAUser | undefined => estate.users.find((u) => u.id === id) ?? estate.formerUsers.find((u) => u.id === id)
  const isMember = (id: string) => estate.users.some((u) => u.id === id)

  const renderProject = (p: OpenAIEstate['projects'][number]) => ({
    object: 'organization.project',
    id: p.id,
    name: p.name,
    created_at: p.created_at,
    archived_at: p.archived_at,
    status: p.archived_at ? 'archived' : 'active',
  })
  const renderSa = (s: OpenAIEstate['serviceAccounts'][number]) => ({
    object: 'organization.project.service_account',
    id: s.id,
    name: s.name,
    role: s.role,
    created_at: s.created_at,
  })
  const ownerAccess = (k: OAKey): 'active' | 'inactive' => (k.owner.type === 'user' && !isMember(k.owner.user_id) ? 'inactive' : 'active')
  const renderKey = (k: OAKey) => {
    let owner: Record<string, unknown>
    if (k.owner.type === 'user') {
      const u = userById(k.owner.user_id) as OAUser
      owner = {
        type: 'user',
        user: {
          object: 'organization.project.user',
          id: u.id,
          name: u.name,
          email: u.email,
          role: k.owner.project_role,
          added_at: u.added_at,
          created_at: u.added_at,
        },
      }
    } else {
      const saId = k.owner.service_account_id
      const sa = estate.serviceAccounts.find((s) => s.id === saId)
      owner = {
        type: 'service_account',
        service_account: sa
          ? renderSa(sa)
          : { object: 'organization.project.service_account', id: saId, name: k.name, role: 'member', created_at: k.created_at },
      }
    }
    return {
      object: 'organization.project.api_key',
      redacted_value: k.redacted_value,
      name: k.name,
      created_at: k.created_at,
      last_used_at: k.last_used_at,
      id: k.id,
      owner,
      owner_project_access: ownerAccess(k),
    }
  }
  const renderAdminKey = (k: OpenAIEstate['adminKeys'][number]) => {
    const u = userById(k.owner_user_id)
    return {
      object: 'organization.admin_api_key',
      id: k.id,
      name: k.name,
      redacted_value: k.redacted_value,
      created_at: k.created_at,
      last_used_at: k.last_used_at,
      expires_at: k.expires_at,
      owner: u ? { type: 'user', object: 'organization.user', id: u.id, name: u.name, created_at: u.added_at, role: 'owner' } : {},
    }
  }
  const project = (req: Request, res: Response) => {
    const p = estate.projects.find((x) => x.id === req.params.project_id)
    if (!p) error(res, 404, `No such project: '${req.params.project_id}'`)
    return p
  }

  const server = await startStandInServer({
    port: options.port,
    errorBody: (status, message) => ({
      error: {
        message,
        type: status === 429 ? 'requests' : 'invalid_request_error',
        param: null,
        code: status === 429 ? 'rate_limit_exceeded' : null,
      },
    }),
    authorize(req) {
      const auth = req.header('authorization') ?? ''
      const key = auth.startsWith('Bearer ') ? auth.slice(7) : ''
      if (key !== STANDIN_ADMIN_KEY && key !== STANDIN_READONLY_ADMIN_KEY) {
        return {
          status: 401,
          body: { error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } },
        }
      }
      if (key === STANDIN_READONLY_ADMIN_KEY && req.method !== 'GET') {
        return {
          status: 403,
          body: {
            error: {
              message: 'You have insufficient permissions for this operation. Missing scopes: api.management.write.',
              type: 'invalid_request_error',
              param: null,
              code: null,
            },
          },
        }
      }
      return null
    },
    routes(app) {
      app.get('/v1/organization/users', (req, res) =>
        list(req, res, estate.users, (u) => ({
          object: 'organization.user',
          id: u.id,
          name: u.name,
          email: u.email,
          role: u.role,
          added_at: u.added_at,
        })),
      )
      app.get('/v1/organization/admin_api_keys', (req, res) => list(req, res, estate.adminKeys, renderAdminKey))
      app.get('/v1/organization/admin_api_keys/:key_id', (req, res) => {
        const k = estate.adminKeys.find((x) => x.id === req.params.key_id)
        if (!k) return error(res, 404, `No such admin API key: '${req.params.key_id}'`)
        res.json(renderAdminKey(k))
      })
      app.delete('/v1/organization/admin_api_keys/:key_id', (req, res) => {
        const i = estate.adminKeys.findIndex((x) => x.id === req.params.key_id)
        if (i < 0) return error(res, 404, `No such admin API key: '${req.params.key_id}'`)
        estate.adminKeys.splice(i, 1)
        res.json({ object: 'organization.admin_api_key.deleted', id: req.params.key_id, deleted: true })
      })
      app.get('/v1/organization/projects', (req, res) => {
        const includeArchived = req.query.include_archived === 'true'
        list(
          req,
          res,
          estate.projects.filter((p) => includeArchived || p.archived_at == null),
          renderProject,
        )
      })
      app.get('/v1/organization/projects/:project_id', (req, res) => {
        const p = project(req, res)
        if (p) res.json(renderProject(p))
      })
      app.get('/v1/organization/projects/:project_id/service_accounts', (req, res) => {
        if (project(req, res))
          list(
            req,
            res,
            estate.serviceAccounts.filter((s) => s.project_id === req.params.project_id),
            renderSa,
          )
      })
      app.get('/v1/organization/projects/:project_id/service_accounts/:sa_id', (req, res) => {
        const s = estate.serviceAccounts.find((x) => x.id === req.params.sa_id && x.project_id === req.params.project_id)
        if (!s) return error(res, 404, `No such service account: '${req.params.sa_id}'`)
        res.json(renderSa(s))
      })
      app.delete('/v1/organization/projects/:project_id/service_accounts/:sa_id', (req, res) => {
        const i = estate.serviceAccounts.findIndex((x) => x.id === req.params.sa_id && x.project_id === req.params.project_id)
        if (i < 0) return error(res, 404, `No such service account: '${req.params.sa_id}'`)
        const [sa] = estate.serviceAccounts.splice(i, 1)
        // Deleting a service account deletes its API key with it.
        for (let j = estate.keys.length - 1; j >= 0; j--) {
          const k = estate.keys[j] as OAKey
          if (k.owner.type === 'service_account' && k.owner.service_account_id === sa?.id) estate.keys.splice(j, 1)
        }
        res.json({ object: 'organization.project.service_account.deleted', id: req.params.sa_id, deleted: true })
      })
      app.get('/v1/organization/projects/:project_id/api_keys', (req, res) => {
        if (!project(req, res)) return
        const filter = typeof req.query.owner_project_access === 'string' ? req.query.owner_project_access : null
        // Without owner_project_access the real endpoint applies membership visibility and may hide keys of people who left.
        const keys = estate.keys
          .filter((k) => k.project_id === req.params.project_id)
          .filter((k) => (filter === 'any' ? true : ownerAccess(k) === (filter ?? 'active')))
        list(req, res, keys, renderKey)
      })
      app.get('/v1/organization/projects/:project_id/api_keys/:key_id', (req, res) => {
        const k = estate.keys.find((x) => x.id === req.params.key_id && x.project_id === req.params.project_id)
        if (!k) return error(res, 404, `No such API key: '${req.params.key_id}'`)
        res.json(renderKey(k))
      })
      app.delete('/v1/organization/projects/:project_id/api_keys/:key_id', (req, res) => {
        const i = estate.keys.findIndex((x) => x.id === req.params.key_id && x.project_id === req.params.project_id)
        if (i < 0) return error(res, 404, `No such API key: '${req.params.key_id}'`)
        if ((estate.keys[i] as OAKey).owner.type === 'service_account') {
          return error(res, 400, 'API keys that belong to a service account cannot be deleted; delete the service account instead.')
        }
        estate.keys.splice(i, 1)
        res.json({ object: 'organization.project.api_key.deleted', id: req.params.key_id, deleted: true })
      })
    },
  })
  return Object.assign(server, { estate, baseUrl: `${server.url}/v1`, declared: declaredCounts(estate) })
}
