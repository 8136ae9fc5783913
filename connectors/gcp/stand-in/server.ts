/**
 * A local stand-in for the Google Cloud APIs Leash reads, speaking their JSON:
 * - STS token exchange (`POST /v1/token`), so google-auth-library's workload identity
 *   federation client obtains a real-looking access token from a credential config file;
 * - IAM v1: serviceAccounts list/get/disable/enable, keys list/get/disable/enable/delete
 *   (`accounts`, `keys`, `nextPageToken`, the `-` project wildcard);
 * - Resource Manager v3 projects get/list and folders list, v1/v3 `:getIamPolicy`
 *   (`bindings`, `etag`, `version`);
 * - Policy Analyzer v1 `activities:query` for both last-authentication activity types;
 * - Vertex AI v1 reasoningEngines list (every `{location}` resolves to this server).
 * Errors use Google's envelope `{"error":{"code","message","status","details":[ErrorInfo]}}`;
 * injected throttling answers 429 RESOURCE_EXHAUSTED with Retry-After.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import express, { type Request, type Response } from 'express'
import { intParam, startStandInServer, type StandInServer } from '../../saas-kit/stand-in.js'
import {
  agentPrincipal,
  buildEstate,
  declaredCounts,
  type GAccount,
  type GcpEstate,
  type GKey,
  LIMITED_SUBJECT,
  LIMITED_TOKEN,
  SCANNER_SUBJECT,
  SCANNER_TOKEN,
  type Seed,
} from './estate.js'

export interface GcpStandIn extends StandInServer {
  estate: GcpEstate
  declared: { identities: number; agents: number; credentials: number }
  /** Workload identity federation config files (token_url → this server), by principal. */
  credentialFiles: { scanner: string; limited: string }
}

const STATUS_WORDS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
}

export function googleError(status: number, message: string, permission?: string, domain = 'iam.googleapis.com') {
  return {
    error: {
      code: status,
      message,
      status: STATUS_WORDS[status] ?? 'UNKNOWN',
      ...(permission
        ? {
            details: [
              { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'IAM_PERMISSION_DENIED', domain, metadata: { permission } },
            ],
          }
        : {}),
    },
  }
}

function send(res: Response, status: number, message: string, permission?: string) {
  res.status(status).json(googleError(status, message, permission))
}

/** Opaque page tokens: base64 of the next offset. */
function paginate<T>(req: Request, items: T[], fallback: number, max: number): { page: T[]; nextPageToken?: string } {
  const size = intParam(req.query.pageSize, fallback, max)
  const token = typeof req.query.pageToken === 'string' ? req.query.pageToken : ''
  const start = token ? Number(Buffer.from(token, 'base64').toString('utf8')) || 0 : 0
  const page = items.slice(start, start + size)
  return start + size < items.length ? { page, nextPageToken: Buffer.from(String(start + size)).toString('base64') } : { page }
}

function keyJson(a: GAccount, k: GKey) {
  return {
    name: `projects/${a.projectId}/serviceAccounts/${a.email}/keys/${k.id}`,
    validAfterTime: k.validAfterTime,
    validBeforeTime: k.validBeforeTime,
    keyAlgorithm: k.keyAlgorithm,
    keyOrigin: k.keyOrigin,
    keyType: 'USER_MANAGED',
    ...(k.disabled ? { disabled: true } : {}),
    ...(k.disableReason ? { disableReason: k.disableReason } : {}),
    ...(k.extendedStatus ? { extendedStatus: k.extendedStatus } : {}),
  }
}

function accountJson(a: GAccount) {
  return {
    name: `projects/${a.projectId}/serviceAccounts/${a.email}`,
    projectId: a.projectId,
    uniqueId: a.uniqueId,
    email: a.email,
    displayName: a.displayName,
    etag: 'MDEwMjE5MjA=',
    ...(a.description ? { description: a.description } : {}),
    oauth2ClientId: a.uniqueId,
    ...(a.disabled ? { disabled: true } : {}),
  }
}

/** Permissions the limited principal lacks: it cannot query Policy Analyzer. */
function deniedPermission(tokenValue: string, path: string): string | null {
  if (tokenValue !== LIMITED_TOKEN) return null
  if (path.includes('/activityTypes/serviceAccountLastAuthentication/'))
    return 'policyanalyzer.serviceAccountLastAuthenticationActivities.query'
  if (path.includes('/activityTypes/serviceAccountKeyLastAuthentication/'))
    return 'policyanalyzer.serviceAccountKeyLastAuthenticationActivities.query'
  if (/:(disable|enable)$/.test(path) || /\/keys\/[^/]+$/.test(path))
    return path.includes('/keys/') ? 'iam.serviceAccountKeys.disable' : 'iam.serviceAccounts.disable'
  return null
}

export async function startGcpStandIn(options: { seed: Seed; port?: number }): Promise<GcpStandIn> {
  const estate = buildEstate(options.seed)
  const projectById = (id: string) => estate.projects.find((p) => p.projectId === id || p.number === id)
  const findAccount = (project: string, ref: string) =>
    estate.accounts.find(
      (a) =>
        (project === '-' || a.projectId === project || projectById(project)?.projectId === a.projectId) &&
        (a.email === ref || a.uniqueId === ref),
    )
  const seg = (s: string | undefined) => decodeURIComponent(s ?? '')

  const server = await startStandInServer({
    port: options.port,
    errorBody: (status, message) => googleError(status, message),
    authorize(req) {
      if (req.path === '/v1/token') return null
      const header = req.header('authorization') ?? ''
      const bearer = header.startsWith('Bearer ') ? header.slice(7) : ''
      if (bearer !== SCANNER_TOKEN && bearer !== LIMITED_TOKEN)
        return {
          status: 401,
          body: googleError(
            401,
            'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
          ),
        }
      const permission = deniedPermission(bearer, req.path)
      if (permission)
        return { status: 403, body: googleError(403, `Permission '${permission}' denied on resource (or it may not exist).`, permission) }
      return null
    },
    routes(app) {
      // STS token exchange (RFC 8693), as google-auth-library's external account client sends it.
      app.post('/v1/token', express.urlencoded({ extended: false }), (req, res) => {
        const body = req.body as Record<string, string>
        if (body.grant_type !== 'urn:ietf:params:oauth:grant-type:token-exchange')
          return res.status(400).json({ error: 'invalid_grant', error_description: 'Unsupported grant_type.' })
        const accessToken =
          body.subject_token === SCANNER_SUBJECT ? SCANNER_TOKEN : body.subject_token === LIMITED_SUBJECT ? LIMITED_TOKEN : null
        if (!accessToken) return res.status(400).json({ error: 'invalid_grant', error_description: 'The subject token is invalid.' })
        res.json({
          access_token: accessToken,
          issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          token_type: 'Bearer',
          expires_in: 3600,
        })
      })

      // Resource Manager.
      app.get('/v3/projects', (req, res) => {
        const parent = String(req.query.parent ?? '')
        if (!parent) return send(res, 400, 'Request contains an invalid argument: parent is required.')
        const { page, nextPageToken } = paginate(
          req,
          estate.projects.filter((p) => p.parent === parent),
          50,
          100,
        )
        res.json({
          projects: page.map((p) => ({
            name: `projects/${p.number}`,
            parent: p.parent,
            projectId: p.projectId,
            state: 'ACTIVE',
            displayName: p.displayName,
            labels: p.labels,
            etag: `W/"${p.number}"`,
          })),
          ...(nextPageToken ? { nextPageToken } : {}),
        })
      })
      app.get('/v3/folders', (req, res) => {
        const parent = String(req.query.parent ?? '')
        const { page, nextPageToken } = paginate(
          req,
          estate.folders.filter((f) => f.parent === parent),
          50,
          100,
        )
        res.json({ folders: page.map((f) => ({ ...f, state: 'ACTIVE' })), ...(nextPageToken ? { nextPageToken } : {}) })
      })
      app.get('/v3/projects/:project', (req, res) => {
        const p = projectById(seg(req.params.project))
        if (!p)
          return send(
            res,
            403,
            `Permission 'resourcemanager.projects.get' denied on resource (or it may not exist).`,
            'resourcemanager.projects.get',
          )
        res.json({
          name: `projects/${p.number}`,
          parent: p.parent,
          projectId: p.projectId,
          state: 'ACTIVE',
          displayName: p.displayName,
          labels: p.labels,
        })
      })

      // Everything with a `:verb` suffix, and the IAM paths, parsed by hand (express paths treat ':' as a parameter).
      app.all(/^\/v[13]\/projects\/.+/, (req, res, next) => {
        const path = req.path
        const parts = path.split('/').slice(1) // ['v1', 'projects', P, ...]
        const [version, , rawProject] = parts
        // getIamPolicy on a project.
        const iamPolicy = /^([^/:]+):getIamPolicy$/.exec(rawProject ?? '')
        if (req.method === 'POST' && iamPolicy && parts.length === 3) {
          const p = projectById(seg(iamPolicy[1]))
          const policy = p ? estate.policies.get(p.projectId) : undefined
          if (!p || !policy)
            return send(
              res,
              403,
              `Permission 'resourcemanager.projects.getIamPolicy' denied on resource (or it may not exist).`,
              'resourcemanager.projects.getIamPolicy',
            )
          const requested = Number((req.body as { options?: { requestedPolicyVersion?: number } })?.options?.requestedPolicyVersion ?? 1)
          const hasConditions = policy.bindings.some((b) => b.condition)
          if (hasConditions && requested < 3) return send(res, 400, 'Policy has conditional bindings: request version 3.')
          return res.json({
            version: policy.version,
            etag: policy.etag,
            bindings: policy.bindings.map((b) => ({ ...b, members: [...b.members].sort() })),
          })
        }
        if (version !== 'v1' || parts[3] !== 'serviceAccounts') return next()
        const project = seg(rawProject)
        // serviceAccounts.list
        if (parts.length === 4 && req.method === 'GET') {
          const p = projectById(project)
          if (!p) return send(res, 404, `Project ${project} not found.`)
          const { page, nextPageToken } = paginate(
            req,
            estate.accounts.filter((a) => a.projectId === p.projectId),
            20,
            100,
          )
          return res.json({ accounts: page.map(accountJson), ...(nextPageToken ? { nextPageToken } : {}) })
        }
        const accountPart = seg(parts[4])
        const verb = /^(.+):(disable|enable)$/.exec(accountPart)
        const account = findAccount(project, verb ? (verb[1] as string) : accountPart)
        if (!account) return send(res, 404, `Unknown service account ${verb ? verb[1] : accountPart}.`)
        if (parts.length === 5) {
          if (req.method === 'GET' && !verb) return res.json(accountJson(account))
          if (req.method === 'POST' && verb) {
            account.disabled = verb[2] === 'disable'
            return res.json({})
          }
          return next()
        }
        if (parts[5] !== 'keys') return next()
        if (parts.length === 6 && req.method === 'GET') {
          const types = ([] as unknown[]).concat(req.query.keyTypes ?? req.query['keyTypes[]'] ?? []).map(String)
          // Every listed key is user-managed: the stand-in does not model Google's system-managed keys.
          const keys = types.length === 0 || types.includes('USER_MANAGED') ? account.keys : []
          return res.json(keys.length ? { keys: keys.map((k) => keyJson(account, k)) } : {})
        }
        const keyPart = seg(parts[6])
        const keyVerb = /^(.+):(disable|enable)$/.exec(keyPart)
        const keyIndex = account.keys.findIndex((k) => k.id === (keyVerb ? keyVerb[1] : keyPart))
        const k = account.keys[keyIndex]
        if (!k) return send(res, 404, `Service account key ${keyVerb ? keyVerb[1] : keyPart} does not exist.`)
        if (req.method === 'GET' && !keyVerb) return res.json(keyJson(account, k))
        if (req.method === 'DELETE' && !keyVerb) {
          account.keys.splice(keyIndex, 1)
          return res.json({})
        }
        if (req.method === 'POST' && keyVerb) {
          if (keyVerb[2] === 'disable') {
            k.disabled = true
            k.disableReason ??= 'SERVICE_ACCOUNT_KEY_DISABLE_REASON_USER_INITIATED'
          } else {
            if (k.disableReason && /EXPOSED|COMPROMISE/.test(k.disableReason))
              return send(res, 400, 'A key disabled because it was exposed or compromised cannot be enabled.')
            k.disabled = false
            delete k.disableReason
          }
          return res.json({})
        }
        return next()
      })

      // Policy Analyzer activity queries.
      app.get(/^\/v1\/projects\/([^/]+)\/locations\/global\/activityTypes\/([^/]+)\/activities:query$/, (req, res) => {
        const [projectRef, activityType] = [seg((req.params as Record<string, string>)[0]), (req.params as Record<string, string>)[1]]
        const p = projectById(projectRef)
        if (!p) return send(res, 404, `Project ${projectRef} not found.`)
        const period = { startTime: estate.observedSince, endTime: `${new Date().toISOString().slice(0, 10)}T08:00:00Z` }
        const accounts = estate.accounts.filter((a) => a.projectId === p.projectId)
        let activities: unknown[]
        if (activityType === 'serviceAccountLastAuthentication') {
          activities = accounts
            .filter((a) => a.lastAuth)
            .map((a) => {
              const full = `//iam.googleapis.com/projects/${p.projectId}/serviceAccounts/${a.uniqueId}`
              return {
                activityType,
                fullResourceName: full,
                observationPeriod: period,
                activity: {
                  lastAuthenticatedTime: a.lastAuth,
                  serviceAccount: { serviceAccountId: a.uniqueId, projectNumber: p.number, fullResourceName: full },
                },
              }
            })
        } else if (activityType === 'serviceAccountKeyLastAuthentication') {
          activities = accounts.flatMap((a) =>
            a.keys
              .filter((k) => k.lastAuth)
              .map((k) => {
                const full = `//iam.googleapis.com/projects/${p.projectId}/serviceAccounts/${a.uniqueId}/keys/${k.id}`
                return {
                  activityType,
                  fullResourceName: full,
                  observationPeriod: period,
                  activity: {
                    lastAuthenticatedTime: k.lastAuth,
                    serviceAccountKey: { serviceAccountId: a.uniqueId, projectNumber: p.number, fullResourceName: full },
                  },
                }
              }),
          )
        } else return send(res, 400, `Unsupported activity type ${activityType}.`)
        const { page, nextPageToken } = paginate(req, activities, 1000, 1000)
        res.json({ activities: page, ...(nextPageToken ? { nextPageToken } : {}) })
      })

      // Vertex AI Agent Engine (reasoning engines).
      app.get('/v1/projects/:project/locations/:location/reasoningEngines', (req, res) => {
        const p = projectById(seg(req.params.project))
        if (!p) return send(res, 404, 'Project not found.')
        const location = seg(req.params.location)
        const engines = estate.engines.filter((e) => e.projectId === p.projectId && e.location === location)
        const { page, nextPageToken } = paginate(req, engines, 50, 100)
        res.json({
          reasoningEngines: page.map((e) => ({
            name: `projects/${p.number}/locations/${e.location}/reasoningEngines/${e.id}`,
            displayName: e.displayName,
            description: e.description,
            createTime: e.createTime,
            updateTime: e.createTime,
            etag: `AMEw9y${e.id.slice(-6)}`,
            spec: {
              agentFramework: e.agentFramework,
              ...(e.serviceAccount ? { serviceAccount: e.serviceAccount } : {}),
              ...(e.identityType !== 'IDENTITY_TYPE_UNSPECIFIED' ? { identityType: e.identityType } : {}),
              effectiveIdentity:
                e.identityType === 'AGENT_IDENTITY'
                  ? agentPrincipal(estate.orgId, p.number, e.location, e.id).replace(/^principal:\/\//, '')
                  : (e.serviceAccount ?? `service-${p.number}@gcp-sa-aiplatform-re.iam.gserviceaccount.com`),
            },
          })),
          ...(nextPageToken ? { nextPageToken } : {}),
        })
      })
    },
  })

  // Credential configuration files, as `gcloud iam workload-identity-pools create-cred-config` writes them.
  const dir = mkdtempSync(join(tmpdir(), 'leash-gcp-standin-'))
  const writeConfig = (name: string, subject: string) => {
    const subjectFile = join(dir, `${name}.token`)
    writeFileSync(subjectFile, subject, { mode: 0o600 })
    const file = join(dir, `${name}.json`)
    writeFileSync(
      file,
      JSON.stringify(
        {
          type: 'external_account',
          audience: `//iam.googleapis.com/projects/${estate.projects[0]?.number ?? '1'}/locations/global/workloadIdentityPools/leash-standin/providers/${name}`,
          subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
          token_url: `${server.url}/v1/token`,
          credential_source: { file: subjectFile },
        },
        null,
        2,
      ),
      { mode: 0o600 },
    )
    return file
  }
  const credentialFiles = { scanner: writeConfig('scanner', SCANNER_SUBJECT), limited: writeConfig('limited', LIMITED_SUBJECT) }
  const close = server.close
  return Object.assign(server, {
    estate,
    declared: declaredCounts(estate),
    credentialFiles,
    async close() {
      await close()
      rmSync(dir, { recursive: true, force: true })
    },
  })
}
