/**
 * Google Cloud REST through google-auth-library + fetch (see docs/decisions/024-gcp-client.md).
 * google-auth-library turns Application Default Credentials, a service account key file or a
 * workload identity federation config into an access token; every API call is a plain
 * documented REST request through the shared counting, retrying fetch, so call counts,
 * cancellation and Retry-After handling are the same as the other REST connectors'.
 */
import { existsSync } from 'node:fs'
import { GoogleAuth } from 'google-auth-library'
import { LeashError } from '../../cli/errors.js'
import type { ApiCallCounter } from '../contract.js'
import {
  countingFetch,
  DEFAULT_RETRY,
  type FetchLike,
  HttpError,
  type OperationTable,
  retryingFetch,
  type RetryPolicy,
} from '../saas-kit/http.js'
import type { GcpSettings } from './settings.js'

/** One call, retries and Retry-After waits included, gives up after this long. */
const CALL_TIMEOUT_MS = 180_000

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform'

export const DEFAULT_ENDPOINTS = {
  iam: 'https://iam.googleapis.com',
  resourceManager: 'https://cloudresourcemanager.googleapis.com',
  policyAnalyzer: 'https://policyanalyzer.googleapis.com',
  aiplatform: 'https://{location}-aiplatform.googleapis.com',
} as const

const OPERATIONS: OperationTable = [
  ['GET', /\/v1\/projects\/[^/]+\/serviceAccounts$/, 'iam.serviceAccounts.list'],
  ['GET', /\/v1\/projects\/[^/]+\/serviceAccounts\/[^/]+\/keys$/, 'iam.serviceAccountKeys.list'],
  ['GET', /\/v1\/projects\/[^/]+\/serviceAccounts\/[^/]+\/keys\/[^/:]+$/, 'iam.serviceAccountKeys.get'],
  ['POST', /\/keys\/[^/]+:disable$/, 'iam.serviceAccountKeys.disable'],
  ['POST', /\/keys\/[^/]+:enable$/, 'iam.serviceAccountKeys.enable'],
  ['DELETE', /\/keys\/[^/]+$/, 'iam.serviceAccountKeys.delete'],
  ['GET', /\/v1\/projects\/[^/]+\/serviceAccounts\/[^/]+$/, 'iam.serviceAccounts.get'],
  ['POST', /\/serviceAccounts\/[^/]+:disable$/, 'iam.serviceAccounts.disable'],
  ['POST', /\/serviceAccounts\/[^/]+:enable$/, 'iam.serviceAccounts.enable'],
  ['POST', /\/v[13]\/projects\/[^/]+:getIamPolicy$/, 'resourcemanager.projects.getIamPolicy'],
  ['GET', /\/v3\/projects$/, 'resourcemanager.projects.list'],
  ['GET', /\/v3\/folders$/, 'resourcemanager.folders.list'],
  ['GET', /\/v3\/projects\/[^/]+$/, 'resourcemanager.projects.get'],
  [
    'GET',
    /\/activityTypes\/serviceAccountLastAuthentication\/activities:query$/,
    'policyanalyzer.serviceAccountLastAuthenticationActivities.query',
  ],
  [
    'GET',
    /\/activityTypes\/serviceAccountKeyLastAuthentication\/activities:query$/,
    'policyanalyzer.serviceAccountKeyLastAuthenticationActivities.query',
  ],
  ['GET', /\/reasoningEngines$/, 'aiplatform.reasoningEngines.list'],
  ['POST', /\/token$/, 'sts.token'],
]

/** The Google error envelope: {"error":{"code":403,"message":…,"status":"PERMISSION_DENIED","details":[…]}}. */
export interface GoogleErrorBody {
  error?: {
    code?: number
    message?: string
    status?: string
    details?: { '@type'?: string; reason?: string; domain?: string; metadata?: Record<string, string> }[]
  }
}

/** An HTTP failure with Google's status word and ErrorInfo reason (e.g. SERVICE_DISABLED). */
export class GoogleApiError extends HttpError {
  constructor(
    status: number,
    operation: string,
    message: string,
    readonly googleStatus: string | null,
    readonly reason: string | null,
    readonly permission: string | null,
  ) {
    super(status, operation, message)
    this.name = 'GoogleApiError'
  }
  /** The API is not enabled in the project (403 SERVICE_DISABLED): nothing of that service exists to read. */
  get serviceDisabled(): boolean {
    return this.reason === 'SERVICE_DISABLED' || /has not been used in project|is disabled/i.test(this.message)
  }
}

export interface GcpClient {
  endpoints: { iam: string; resourceManager: string; policyAnalyzer: string; aiplatform: string }
  get<T>(url: string): Promise<T>
  post<T>(url: string, body?: unknown): Promise<T>
  delete<T>(url: string): Promise<T>
  /** Follows `nextPageToken` until the last page; `key` names the list field (`accounts`, `projects`, …). */
  list<T>(url: string, key: string, pageSize?: number): Promise<T[]>
  aiplatformBase(location: string): string
}

function trimBase(url: string): string {
  return url.replace(/\/+$/, '')
}

/** The credential file a source names (by environment variable), or null for Application Default Credentials. */
export function credentialFile(settings: GcpSettings): string | null {
  if (!settings.credentialsFileEnv) return null
  const path = process.env[settings.credentialsFileEnv]
  if (!path)
    throw new LeashError(
      `The environment variable ${settings.credentialsFileEnv} named in the source settings is not set.`,
      `Set ${settings.credentialsFileEnv} to the path of a service account key or workload identity federation config file, or remove credentialsFileEnv to use Application Default Credentials.`,
    )
  if (!existsSync(path))
    throw new LeashError(
      `${settings.credentialsFileEnv} points to ${path}, which does not exist.`,
      'Point it at the credential configuration file (gcloud iam workload-identity-pools create-cred-config writes one).',
    )
  return path
}

export function createGcpClient(
  settings: GcpSettings,
  ctx: { apiCalls: ApiCallCounter; signal: AbortSignal },
  options: { retry?: RetryPolicy; fetchImpl?: FetchLike } = {},
): GcpClient {
  const keyFilename = credentialFile(settings) ?? undefined
  const auth = new GoogleAuth({ keyFilename, scopes: [CLOUD_PLATFORM_SCOPE] })
  const e = settings.endpoints ?? {}
  const endpoints = {
    iam: trimBase(e.iam ?? DEFAULT_ENDPOINTS.iam),
    resourceManager: trimBase(e.resourceManager ?? DEFAULT_ENDPOINTS.resourceManager),
    policyAnalyzer: trimBase(e.policyAnalyzer ?? DEFAULT_ENDPOINTS.policyAnalyzer),
    aiplatform: trimBase(e.aiplatform ?? DEFAULT_ENDPOINTS.aiplatform),
  }
  const doFetch = retryingFetch(
    countingFetch({ prefix: 'gcp', table: OPERATIONS, apiCalls: ctx.apiCalls, signal: ctx.signal, fetchImpl: options.fetchImpl }),
    options.retry ?? DEFAULT_RETRY,
    Math.random,
    ctx.signal,
  )

  async function authHeaders(url: string): Promise<Headers> {
    try {
      return await auth.getRequestHeaders(url)
    } catch (error) {
      if (ctx.signal.aborted) throw ctx.signal.reason ?? error
      const message = error instanceof Error ? error.message : String(error)
      // google-auth-library's own failures (no ADC, token exchange refused) are credential problems: 401.
      const status = (error as { status?: number; response?: { status?: number } }).response?.status
      throw new HttpError(status === 403 ? 403 : 401, 'auth', `Google credentials could not be used: ${message.slice(0, 300)}`)
    }
  }

  async function send<T>(method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown): Promise<T> {
    const headers = await authHeaders(url)
    if (body !== undefined) headers.set('Content-Type', 'application/json')
    // A per-call signal (the scan's, plus a time limit) rather than the scan's own: fetch adds an
    // abort listener to the signal it is given, and thousands of calls on one long-lived signal
    // would pile them up (MaxListenersExceededWarning). AbortSignal.any holds its sources weakly.
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(CALL_TIMEOUT_MS)])
    const res = await doFetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal })
    const text = await res.text()
    if (!res.ok) {
      let parsed: GoogleErrorBody = {}
      try {
        parsed = JSON.parse(text) as GoogleErrorBody
      } catch {
        parsed = { error: { message: text.slice(0, 200) } }
      }
      const info = parsed.error?.details?.find((d) => d.reason)
      const path = new URL(url).pathname
      throw new GoogleApiError(
        res.status,
        path,
        `${method} ${path} answered ${res.status}${parsed.error?.status ? ` ${parsed.error.status}` : ''}: ${parsed.error?.message ?? res.statusText}`,
        parsed.error?.status ?? null,
        info?.reason ?? null,
        info?.metadata?.permission ?? null,
      )
    }
    if (!text) return {} as T
    return JSON.parse(text) as T
  }

  return {
    endpoints,
    get: (url) => send('GET', url),
    post: (url, body) => send('POST', url, body ?? {}),
    delete: (url) => send('DELETE', url),
    async list<T>(url: string, key: string, pageSize = 100): Promise<T[]> {
      const out: T[] = []
      let pageToken: string | undefined
      const seen = new Set<string>()
      do {
        const u = new URL(url)
        u.searchParams.set('pageSize', String(pageSize))
        if (pageToken) u.searchParams.set('pageToken', pageToken)
        const page = await send<Record<string, unknown> & { nextPageToken?: string }>('GET', u.toString())
        const items = page[key]
        if (items !== undefined && !Array.isArray(items))
          throw new SyntaxError(`${u.pathname}: "${key}" is not a list (malformed JSON page)`)
        out.push(...((items as T[] | undefined) ?? []))
        pageToken = page.nextPageToken || undefined
        // A server that repeats a page token would loop forever: treat it as a malformed answer.
        if (pageToken && seen.has(pageToken)) throw new SyntaxError(`${u.pathname}: nextPageToken repeated (malformed JSON pagination)`)
        if (pageToken) seen.add(pageToken)
      } while (pageToken)
      return out
    },
    aiplatformBase(location: string) {
      return endpoints.aiplatform.replace('{location}', location)
    },
  }
}
