/**
 * A local stand-in for Vault's HTTP API (https://developer.hashicorp.com/vault/api-docs):
 * `X-Vault-Token` auth, `GET …?list=true` lists answered as `{"data":{"keys":[…]}}` (404 for an
 * empty folder, as Vault does), the standard response envelope, `{"errors":[…]}` failures,
 * and ACL checks per token policy. State: a revoked token or destroyed secret-id is gone.
 */
import type { Request, Response } from 'express'
import { startStandInServer, type StandInServer } from '../../saas-kit/stand-in.js'
import { buildEstate, declaredCounts, LIMITED_TOKEN, type Seed, type VaultEstate } from './estate.js'

export interface VaultStandIn extends StandInServer {
  estate: VaultEstate
  declared: { identities: number; agents: number; credentials: number }
}

let requestSeq = 0
function envelope(data: unknown, extra: Record<string, unknown> = {}) {
  requestSeq += 1
  return {
    request_id: `00000000-0000-0000-0000-${String(requestSeq).padStart(12, '0')}`,
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: null,
    auth: null,
    ...extra,
  }
}

function errors(res: Response, status: number, ...messages: string[]) {
  res.status(status).json({ errors: messages })
}

/** Paths a token may not touch, by policy: the limited scanner lacks audit and policy reads. */
function denied(estate: VaultEstate, tokenId: string, path: string): boolean {
  const t = estate.tokens.find((x) => x.id === tokenId)
  if (!t) return true
  if (t.policies.includes('root') || t.policies.includes('leash-scanner') || t.policies.includes('break-glass-admin')) return false
  if (path === 'auth/token/lookup-self') return false
  if (tokenId === LIMITED_TOKEN) return path.startsWith('sys/audit') || path.startsWith('sys/policies')
  return true
}

export async function startVaultStandIn(options: { seed: Seed; port?: number }): Promise<VaultStandIn> {
  const estate = buildEstate(options.seed)
  const list = (res: Response, keys: string[]) => (keys.length ? res.json(envelope({ keys })) : errors(res, 404))
  const isList = (req: Request) => req.query.list === 'true'
  const lookup = (t: VaultEstate['tokens'][number]) => ({
    accessor: t.accessor,
    creation_time: t.creation_time,
    creation_ttl: t.creation_ttl,
    display_name: t.display_name,
    entity_id: '',
    expire_time: t.expire_time,
    explicit_max_ttl: 0,
    id: '',
    issue_time: new Date(t.creation_time * 1000).toISOString(),
    meta: t.meta,
    num_uses: 0,
    orphan: t.orphan,
    path: t.path,
    policies: t.policies,
    renewable: t.expire_time != null,
    ttl: t.expire_time ? Math.max(0, Math.floor((Date.parse(t.expire_time) - Date.now()) / 1000)) : 0,
    type: 'service',
  })
  const role = (req: Request) => estate.roles.find((r) => r.name === req.params.role)

  const server = await startStandInServer({
    port: options.port,
    errorBody: (status, message) => ({ errors: [status === 403 ? `1 error occurred:\n\t* permission denied\n\n${message}` : message] }),
    authorize(req) {
      const tokenId = req.header('x-vault-token') ?? ''
      if (!tokenId) return { status: 400, body: { errors: ['missing client token'] } }
      if (!estate.tokens.some((t) => t.id === tokenId)) return { status: 403, body: { errors: ['permission denied', 'invalid token'] } }
      const path = req.path.replace(/^\/v1\//, '')
      if (denied(estate, tokenId, path)) return { status: 403, body: { errors: ['1 error occurred:\n\t* permission denied\n\n'] } }
      return null
    },
    routes(app) {
      app.get('/v1/sys/audit', (_req, res) => {
        const devices = Object.fromEntries(
          estate.auditDevices.map((d) => [
            d,
            { type: 'file', description: '', options: { file_path: '/var/log/vault_audit.log' }, local: false, path: d },
          ]),
        )
        res.json({ ...devices, ...envelope(devices) })
      })
      app.get('/v1/sys/auth', (_req, res) => {
        const data = {
          'token/': { type: 'token', description: 'token based credentials', accessor: 'auth_token_1', options: null },
          'approle/': { type: 'approle', description: '', accessor: 'auth_approle_2', options: null },
          'ldap/': { type: 'ldap', description: '', accessor: 'auth_ldap_3', options: null },
        }
        res.json({ ...data, ...envelope(data) })
      })
      app.get('/v1/sys/mounts', (_req, res) => {
        const data = {
          'secret/': { type: 'kv', description: 'key/value secret storage', options: { version: '2' } },
          'kv-v1/': { type: 'kv', description: 'legacy', options: { version: '1' } },
          'sys/': { type: 'system', description: 'system endpoints', options: null },
        }
        res.json({ ...data, ...envelope(data) })
      })
      app.get('/v1/sys/policies/acl/:name', (req, res) => {
        const policy = estate.policies[req.params.name as string]
        if (policy === undefined) return errors(res, 404)
        res.json(envelope({ name: req.params.name, policy }))
      })
      app.get('/v1/auth/token/lookup-self', (req, res) => {
        const t = estate.tokens.find((x) => x.id === req.header('x-vault-token'))
        res.json(envelope(t ? lookup(t) : null))
      })
      app.get('/v1/auth/token/accessors', (req, res) => {
        if (!isList(req)) return errors(res, 405, 'unsupported operation')
        list(
          res,
          estate.tokens.map((t) => t.accessor),
        )
      })
      app.post('/v1/auth/token/lookup-accessor', (req, res) => {
        const t = estate.tokens.find((x) => x.accessor === (req.body as { accessor?: string }).accessor)
        if (!t) return errors(res, 400, 'invalid accessor')
        res.json(envelope(lookup(t)))
      })
      app.post('/v1/auth/token/revoke-accessor', (req, res) => {
        const i = estate.tokens.findIndex((x) => x.accessor === (req.body as { accessor?: string }).accessor)
        if (i < 0) return errors(res, 400, 'invalid accessor')
        estate.tokens.splice(i, 1)
        res.status(204).end()
      })
      app.get('/v1/auth/approle/role', (req, res) =>
        isList(req)
          ? list(
              res,
              estate.roles.map((r) => r.name),
            )
          : errors(res, 405, 'unsupported operation'),
      )
      app.get('/v1/auth/approle/role/:role', (req, res) => {
        const r = role(req)
        if (!r) return errors(res, 404)
        res.json(
          envelope({
            bind_secret_id: true,
            local_secret_ids: false,
            secret_id_bound_cidrs: null,
            secret_id_num_uses: 0,
            secret_id_ttl: r.secret_id_ttl,
            token_bound_cidrs: [],
            token_explicit_max_ttl: 0,
            token_max_ttl: 0,
            token_no_default_policy: false,
            token_num_uses: 0,
            token_period: 0,
            token_policies: r.token_policies,
            token_ttl: r.token_ttl,
            token_type: 'default',
          }),
        )
      })
      app.get('/v1/auth/approle/role/:role/secret-id', (req, res) => {
        const r = role(req)
        if (!r || !isList(req)) return errors(res, 404)
        list(
          res,
          r.secretIds.map((s) => s.accessor),
        )
      })
      app.post('/v1/auth/approle/role/:role/secret-id-accessor/lookup', (req, res) => {
        const s = role(req)?.secretIds.find((x) => x.accessor === (req.body as { secret_id_accessor?: string }).secret_id_accessor)
        if (!s) return errors(res, 404, 'failed to find accessor entry for secret_id_accessor')
        res.json(
          envelope({
            cidr_list: [],
            creation_time: s.creation_time,
            expiration_time: s.expiration_time,
            last_updated_time: s.last_updated_time,
            metadata: s.metadata,
            secret_id_accessor: s.accessor,
            secret_id_num_uses: 0,
            secret_id_ttl: 0,
            token_bound_cidrs: [],
          }),
        )
      })
      app.post('/v1/auth/approle/role/:role/secret-id-accessor/destroy', (req, res) => {
        const r = role(req)
        const i = r?.secretIds.findIndex((x) => x.accessor === (req.body as { secret_id_accessor?: string }).secret_id_accessor) ?? -1
        if (!r || i < 0) return errors(res, 404, 'failed to find accessor entry for secret_id_accessor')
        r.secretIds.splice(i, 1)
        res.status(204).end()
      })
      // KV v2 metadata: a list of a folder, or the metadata of one secret.
      app.get(/^\/v1\/secret\/metadata\/?(.*)$/, (req, res) => {
        const path = (req.params as Record<string, string>)[0] ?? ''
        if (isList(req)) {
          const prefix = path && !path.endsWith('/') ? `${path}/` : path
          const children = new Set<string>()
          for (const s of estate.secrets) {
            if (!s.path.startsWith(prefix)) continue
            const rest = s.path.slice(prefix.length)
            const slash = rest.indexOf('/')
            children.add(slash < 0 ? rest : rest.slice(0, slash + 1))
          }
          return list(res, [...children].sort())
        }
        const s = estate.secrets.find((x) => x.path === path)
        if (!s) return errors(res, 404)
        const versions: Record<string, unknown> = {}
        for (let v = 1; v <= s.current_version; v++)
          versions[String(v)] = {
            created_time: v === s.current_version ? s.updated_time : s.created_time,
            deletion_time: '',
            destroyed: false,
          }
        res.json(
          envelope({
            cas_required: false,
            created_time: s.created_time,
            current_version: s.current_version,
            custom_metadata: s.custom_metadata,
            delete_version_after: '0s',
            max_versions: 0,
            oldest_version: 0,
            updated_time: s.updated_time,
            versions,
          }),
        )
      })
    },
  })
  return Object.assign(server, { estate, declared: declaredCounts(estate) })
}
