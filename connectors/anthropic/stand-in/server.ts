/**
 * A local stand-in for the Anthropic Admin API (https://docs.anthropic.com/en/api/administration-api):
 * `/v1/organizations/*` with `x-api-key` admin-key auth, `{data, has_more, first_id, last_id}`
 * pages driven by `after_id`/`before_id`/`limit` (and `{data, next_page}` for service accounts),
 * Anthropic's `{type:"error", error:{type, message}}` envelope, and state: a key set inactive
 * is inactive on the next scan.
 */
import type { Request, Response } from 'express'
import { intParam, pageAfter, startStandInServer, type StandInServer } from '../../saas-kit/stand-in.js'
import { type AKey, type AnthropicEstate, buildEstate, declaredCounts, type Seed } from './estate.js'

export const STANDIN_ADMIN_KEY = 'sk-ant-admin01-standin-000000000000000000000000'
export const STANDIN_READONLY_ADMIN_KEY = 'sk-ant-admin01-standin-readonly-0000000000000000'

export interface AnthropicStandIn extends StandInServer {
  estate: AnthropicEstate
  declared: { identities: number; agents: number; credentials: number }
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  429: 'rate_limit_error',
  503: 'overloaded_error',
}

function errorBody(status: number, message: string) {
  return { type: 'error', error: { type: ERROR_TYPES[status] ?? 'api_error', message } }
}

function page<T extends { id: string }>(req: Request, res: Response, items: T[], render: (x: T) => unknown) {
  const limit = intParam(req.query.limit, 20, 1000)
  let slice: T[]
  let hasMore: boolean
  if (typeof req.query.before_id === 'string') {
    const end = items.findIndex((x) => x.id === req.query.before_id)
    const stop = end < 0 ? 0 : end
    slice = items.slice(Math.max(0, stop - limit), stop)
    hasMore = stop - limit > 0
  } else {
    const r = pageAfter(items, typeof req.query.after_id === 'string' ? req.query.after_id : undefined, limit)
    slice = r.page
    hasMore = r.hasMore
  }
  res.json({ data: slice.map(render), has_more: hasMore, first_id: slice[0]?.id ?? null, last_id: slice[slice.length - 1]?.id ?? null })
}

export async function startAnthropicStandIn(options: { seed: Seed; port?: number }): Promise<AnthropicStandIn> {
  const estate = buildEstate(options.seed)
  const renderKey = (k: AKey) => ({
    type: 'api_key',
    id: k.id,
    name: k.name,
    created_at: k.created_at,
    expires_at: k.expires_at,
    created_by: k.created_by,
    partial_key_hint: k.partial_key_hint,
    status: k.status,
    workspace_id: k.workspace_id,
    scope: k.workspace_id ? { type: 'workspace', workspace_id: k.workspace_id } : { type: 'organization' },
    principal: k.service_account_id
      ? { type: 'service_account_actor', service_account_id: k.service_account_id }
      : { type: 'user_actor', user_id: k.created_by.id },
  })
  const server = await startStandInServer({
    port: options.port,
    errorBody,
    authorize(req) {
      // The API takes the admin key as X-Api-Key (documented curl) or as a Bearer token (what the v1 SDK sends).
      const bearer = req.header('authorization')?.replace(/^Bearer /, '')
      const key = req.header('x-api-key') ?? bearer
      if (key !== STANDIN_ADMIN_KEY && key !== STANDIN_READONLY_ADMIN_KEY) return { status: 401, body: errorBody(401, 'invalid x-api-key') }
      if (!req.header('anthropic-version')) return { status: 400, body: errorBody(400, 'anthropic-version: header is required') }
      if (key === STANDIN_READONLY_ADMIN_KEY && req.method !== 'GET')
        return { status: 403, body: errorBody(403, 'This admin key is not permitted to modify API keys.') }
      return null
    },
    routes(app) {
      app.get('/v1/organizations/users', (req, res) => page(req, res, estate.users, (u) => ({ type: 'user', ...u })))
      app.get('/v1/organizations/workspaces', (req, res) => {
        const all = req.query.include_archived === 'true'
        page(
          req,
          res,
          estate.workspaces.filter((w) => all || !w.archived_at),
          (w) => ({ type: 'workspace', display_color: '#6C5BB9', ...w }),
        )
      })
      app.get('/v1/organizations/service_accounts', (req, res) => {
        const limit = intParam(req.query.limit, 20, 1000)
        const items = estate.serviceAccounts.filter((s) => req.query.include_archived === 'true' || !s.archived_at)
        const start = typeof req.query.page === 'string' ? Number(Buffer.from(req.query.page, 'base64url').toString()) || 0 : 0
        const slice = items.slice(start, start + limit)
        const next = start + limit < items.length ? Buffer.from(String(start + limit)).toString('base64url') : null
        res.json({
          data: slice.map((s) => ({
            type: 'service_account',
            updated_at: s.created_at,
            updated_by_actor_id: null,
            archived_by_actor_id: null,
            ...s,
          })),
          next_page: next,
        })
      })
      app.get('/v1/organizations/api_keys', (req, res) => {
        const { status, workspace_id, created_by_user_id } = req.query
        const keys = estate.keys.filter(
          (k) =>
            (typeof status !== 'string' || k.status === status) &&
            (typeof workspace_id !== 'string' || k.workspace_id === workspace_id) &&
            (typeof created_by_user_id !== 'string' || k.created_by.id === created_by_user_id),
        )
        page(req, res, keys, renderKey)
      })
      app.get('/v1/organizations/api_keys/:id', (req, res) => {
        const k = estate.keys.find((x) => x.id === req.params.id)
        if (!k) return res.status(404).json(errorBody(404, `API key ${req.params.id} not found`))
        res.json(renderKey(k))
      })
      app.post('/v1/organizations/api_keys/:id', (req, res) => {
        const k = estate.keys.find((x) => x.id === req.params.id)
        if (!k) return res.status(404).json(errorBody(404, `API key ${req.params.id} not found`))
        const body = (req.body ?? {}) as { name?: string; status?: string }
        if (body.status !== undefined && !['active', 'inactive', 'archived'].includes(body.status))
          return res.status(400).json(errorBody(400, `status: invalid value ${body.status}`))
        if (k.status === 'archived' && body.status && body.status !== 'archived')
          return res.status(400).json(errorBody(400, 'Archived API keys cannot be modified.'))
        if (body.status) k.status = body.status as AKey['status']
        if (body.name) k.name = body.name
        res.json(renderKey(k))
      })
    },
  })
  return Object.assign(server, { estate, declared: declaredCounts(estate) })
}
