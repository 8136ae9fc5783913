/**
 * Graph "get" steps: paging through @odata.nextLink and $batch (20 requests per batch, as
 * Graph allows). Only calls the API and parses; raises when it cannot finish. Throttling on
 * whole requests is retried by the Graph SDK's RetryHandler (Retry-After honoured); inside a
 * $batch each throttled sub-request is retried here after its own Retry-After, bounded.
 */
import type { z } from 'zod'
import type { AzureClients } from './clients.js'
import { parseCollection } from './graph-model.js'

export class GraphCallError extends Error {
  constructor(
    message: string,
    readonly statusCode: number | null,
    readonly code: string | null,
    readonly operation: string,
  ) {
    super(message)
    this.name = 'GraphCallError'
  }
}

/** HTTP status of any SDK error (Graph GraphError, Azure RestError, ours). */
export function statusOf(error: unknown): number | null {
  const e = error as { statusCode?: unknown; status?: unknown; response?: { status?: unknown } } | null
  if (typeof e?.statusCode === 'number' && e.statusCode > 0) return e.statusCode
  if (typeof e?.status === 'number' && e.status > 0) return e.status
  if (typeof e?.response?.status === 'number') return e.response.status
  return null
}

function toCallError(error: unknown, operation: string): GraphCallError {
  if (error instanceof GraphCallError) return error
  const e = error as { message?: string; code?: string; name?: string } | null
  // @azure/identity failures (wrong secret, unknown tenant, no credential in the chain) are
  // sign-in problems, not missing Graph permissions.
  // The Graph client re-wraps them in a GraphError whose `code` is the original error name.
  const credentialErrors = ['AuthenticationError', 'AuthenticationRequiredError', 'CredentialUnavailableError', 'AggregateAuthenticationError']
  if (credentialErrors.includes(e?.name ?? '') || credentialErrors.includes(e?.code ?? '')) {
    return new GraphCallError(e?.message ?? String(error), null, 'credential', operation)
  }
  return new GraphCallError(e?.message ?? String(error), statusOf(error), typeof e?.code === 'string' ? e.code : null, operation)
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new GraphCallError('The scan was cancelled.', null, 'aborted', 'cancel')
}

/**
 * Every page of a Graph collection, parsed. `operation` names the call in problems
 * (e.g. `GET /applications`). Items without an id are counted in `rejected`.
 */
export async function* graphPages<T extends z.ZodTypeAny>(
  clients: AzureClients,
  url: string,
  schema: T,
  operation: string,
  signal: AbortSignal,
  headers: Record<string, string> = {},
): AsyncGenerator<{ items: z.output<T>[]; rejected: number }> {
  let next: string | null = url
  let pages = 0
  while (next) {
    throwIfAborted(signal)
    let body: unknown
    try {
      body = await clients.graph.api(next).headers(headers).get()
    } catch (error) {
      throw toCallError(error, operation)
    }
    pages += 1
    if (pages > 100_000) throw new GraphCallError(`${operation} returned more than 100000 pages; stopping.`, null, 'paging_loop', operation)
    let parsed: { items: z.output<T>[]; rejected: number }
    try {
      parsed = parseCollection(schema, body)
    } catch (error) {
      throw new GraphCallError(`${operation}: ${(error as Error).message}`, null, 'malformed', operation)
    }
    yield parsed
    const link = (body as Record<string, unknown>)['@odata.nextLink']
    next = typeof link === 'string' && link.length > 0 ? link : null
  }
}

export async function graphListAll<T extends z.ZodTypeAny>(
  clients: AzureClients,
  url: string,
  schema: T,
  operation: string,
  signal: AbortSignal,
): Promise<{ items: z.output<T>[]; rejected: number }> {
  const items: z.output<T>[] = []
  let rejected = 0
  for await (const page of graphPages(clients, url, schema, operation, signal)) {
    items.push(...page.items)
    rejected += page.rejected
  }
  return { items, rejected }
}

export async function graphGet(clients: AzureClients, url: string, operation: string, signal: AbortSignal): Promise<unknown> {
  throwIfAborted(signal)
  try {
    return (await clients.graph.api(url).get()) as unknown
  } catch (error) {
    throw toCallError(error, operation)
  }
}

export async function graphSend(
  clients: AzureClients,
  method: 'POST' | 'PATCH' | 'DELETE',
  url: string,
  body: unknown,
  operation: string,
  signal: AbortSignal,
): Promise<unknown> {
  throwIfAborted(signal)
  try {
    const request = clients.graph.api(url)
    if (method === 'POST') return (await request.post(body)) as unknown
    if (method === 'PATCH') return (await request.patch(body)) as unknown
    return (await request.delete()) as unknown
  } catch (error) {
    throw toCallError(error, operation)
  }
}

export interface BatchRequest {
  id: string
  /** Relative to the batch's version root, e.g. `/applications/{id}/owners?$select=id`. */
  url: string
}

export interface BatchResult {
  status: number
  /** For collections, every item across the sub-request's pages. */
  value: unknown[]
  error: { code: string | null; message: string } | null
}

interface RawBatchResponse {
  id: string
  status: number
  headers?: Record<string, string>
  body?: unknown
}

const BATCH_LIMIT = 20

/**
 * Runs GET sub-requests through `/$batch` (20 at a time). A sub-request answered 429 or 5xx
 * is retried in a later batch after the largest Retry-After seen, up to `maxRetries` times;
 * an inner @odata.nextLink is followed with ordinary paged GETs.
 */
export async function graphBatchGet(
  clients: AzureClients,
  version: 'v1.0' | 'beta',
  requests: BatchRequest[],
  signal: AbortSignal,
  maxRetries: number,
): Promise<Map<string, BatchResult>> {
  const results = new Map<string, BatchResult>()
  const root = version === 'v1.0' ? clients.graphV1 : clients.graphBeta
  let pending = requests
  for (let attempt = 0; pending.length > 0; attempt++) {
    const retry: BatchRequest[] = []
    let waitSeconds = 0
    for (let i = 0; i < pending.length; i += BATCH_LIMIT) {
      throwIfAborted(signal)
      const chunk = pending.slice(i, i + BATCH_LIMIT)
      let body: { responses?: RawBatchResponse[] }
      try {
        body = (await clients.graph.api(`${root}/$batch`).post({
          requests: chunk.map((r) => ({ id: r.id, method: 'GET', url: r.url })),
        })) as { responses?: RawBatchResponse[] }
      } catch (error) {
        throw toCallError(error, 'POST /$batch')
      }
      for (const response of body.responses ?? []) {
        const request = chunk.find((r) => r.id === response.id)
        if (!request) continue
        const status = Number(response.status)
        if ((status === 429 || status >= 500) && attempt < maxRetries) {
          const header = Object.entries(response.headers ?? {}).find(([k]) => k.toLowerCase() === 'retry-after')?.[1]
          const seconds = Number(header)
          waitSeconds = Math.max(waitSeconds, Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, 120) : 2 ** attempt)
          retry.push(request)
          continue
        }
        if (status >= 200 && status < 300) {
          const b = (response.body ?? {}) as Record<string, unknown>
          const value: unknown[] = Array.isArray(b.value) ? [...(b.value as unknown[])] : [b]
          let next = typeof b['@odata.nextLink'] === 'string' ? (b['@odata.nextLink'] as string) : null
          while (next) {
            const page = (await graphGet(clients, next, `GET ${request.url.split('?')[0]}`, signal)) as Record<string, unknown>
            if (Array.isArray(page.value)) value.push(...(page.value as unknown[]))
            next = typeof page['@odata.nextLink'] === 'string' ? (page['@odata.nextLink'] as string) : null
          }
          results.set(request.id, { status, value, error: null })
        } else {
          const err = ((response.body as { error?: { code?: string; message?: string } } | undefined)?.error ?? {}) as { code?: string; message?: string }
          results.set(request.id, { status, value: [], error: { code: err.code ?? null, message: err.message ?? `HTTP ${status}` } })
        }
      }
      // A response the service left out is retried like a throttled one.
      for (const r of chunk) if (!results.has(r.id) && !retry.includes(r) && !(body.responses ?? []).some((x) => x.id === r.id)) retry.push(r)
    }
    if (retry.length > 0 && attempt >= maxRetries) {
      for (const r of retry) results.set(r.id, { status: 429, value: [], error: { code: 'TooManyRequests', message: 'Still throttled after retries.' } })
      break
    }
    pending = retry
    if (pending.length > 0) await sleep(waitSeconds * 1000, signal)
  }
  return results
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (ms <= 0) return resolve()
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(t)
      reject(new GraphCallError('The scan was cancelled.', null, 'aborted', 'cancel'))
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
