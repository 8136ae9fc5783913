/**
 * HTTP plumbing shared by the SaaS connectors (OpenAI, Anthropic, GitHub, Vault, Google Cloud):
 * one counting fetch that every client is given, so each HTTP attempt (retries included) lands
 * in ctx.apiCalls under a stable operation name and is cancelled by ctx.signal; and one bounded
 * retry policy for the clients that have none of their own (Vault and Google Cloud REST).
 * See docs/decisions/ for why the SDK-based connectors keep their SDK's own retries.
 */
import type { ApiCallCounter } from '../contract.js'

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>

/** [method or '*', path pattern, operation name]. The first match names the call. */
export type OperationTable = readonly (readonly [string, RegExp, string])[]

export function operationName(table: OperationTable, prefix: string, method: string, url: string): string {
  const path = new URL(url).pathname
  for (const [m, re, name] of table) {
    if ((m === '*' || m === method.toUpperCase()) && re.test(path)) return `${prefix}:${name}`
  }
  // Segments carrying ids (anything with a digit, except API versions such as v1) become {id}.
  const generic = path
    .split('/')
    .map((seg) => (/\d/.test(seg) && !/^v\d+$/.test(seg) ? '{id}' : seg))
    .join('/')
  return `${prefix}:${method.toUpperCase()} ${generic}`
}

function requestMethod(input: string | URL | Request, init?: RequestInit): string {
  return (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase()
}

function requestUrl(input: string | URL | Request): string {
  return input instanceof Request ? input.url : String(input)
}

/**
 * A fetch that records every attempt in the call counter and aborts with the scan's signal.
 * The signal is joined with the caller's own (the SDKs pass one for their timeouts).
 */
export function countingFetch(options: {
  prefix: string
  table: OperationTable
  apiCalls: ApiCallCounter
  signal: AbortSignal
  fetchImpl?: FetchLike
}): FetchLike {
  const base = options.fetchImpl ?? ((i, n) => fetch(i, n))
  return (input, init) => {
    const method = requestMethod(input, init)
    options.apiCalls.record(operationName(options.table, options.prefix, method, requestUrl(input)))
    const signals = [options.signal, init?.signal].filter((s): s is AbortSignal => s != null)
    return base(input, { ...init, signal: signals.length === 1 ? signals[0] : AbortSignal.any(signals) })
  }
}

/** Milliseconds a throttled response asks us to wait, from Retry-After (seconds or date) or retry-after-ms. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | null {
  const ms = headers.get('retry-after-ms')
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms))
  const ra = headers.get('retry-after')
  if (ra) {
    const seconds = Number(ra)
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
    const at = Date.parse(ra)
    if (Number.isFinite(at)) return Math.max(0, at - now)
  }
  // GitHub style: the primary rate limit is spent until x-ratelimit-reset (epoch seconds).
  if (headers.get('x-ratelimit-remaining') === '0') {
    const reset = Number(headers.get('x-ratelimit-reset'))
    if (Number.isFinite(reset) && reset > 0) return Math.max(0, reset * 1000 - now)
  }
  return null
}

export interface RetryPolicy {
  /** Total attempts including the first. */
  maxAttempts: number
  baseDelayMs: number
  maxDelayMs: number
  /** A Retry-After longer than this is not waited for: the throttled answer is returned. */
  maxRetryAfterMs: number
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 8_000, maxRetryAfterMs: 60_000 }

const RETRYABLE = new Set([429, 502, 503, 504])

/** 429, or GitHub's 403 for a spent primary limit (x-ratelimit-remaining: 0) or a secondary limit (Retry-After). */
export function isThrottled(response: Response): boolean {
  if (response.status === 429) return true
  return response.status === 403 && (response.headers.has('retry-after') || response.headers.get('x-ratelimit-remaining') === '0')
}

function sleep(ms: number, signal: AbortSignal | null | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Retries throttled (429) and transient (502/503/504, network) failures a bounded number of
 * times, waiting what Retry-After asks or else exponential backoff with full jitter. Only
 * idempotent methods are retried after a network error; a 429 is always safe to repeat.
 */
export function retryingFetch(
  inner: FetchLike,
  policy: RetryPolicy = DEFAULT_RETRY,
  random: () => number = Math.random,
  signal?: AbortSignal,
): FetchLike {
  return async (input, init) => {
    const waitSignal = init?.signal ?? signal
    const method = requestMethod(input, init)
    const idempotent = method !== 'POST' && method !== 'PATCH'
    for (let attempt = 1; ; attempt++) {
      const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)) * random()
      let response: Response
      try {
        response = await inner(input, init)
      } catch (error) {
        if (waitSignal?.aborted || !idempotent || attempt >= policy.maxAttempts) throw error
        await sleep(backoff, waitSignal)
        continue
      }
      const throttled = isThrottled(response)
      if ((!throttled && !RETRYABLE.has(response.status)) || attempt >= policy.maxAttempts) return response
      if (!throttled && !idempotent) return response
      const asked = retryAfterMs(response.headers)
      if (asked != null && asked > policy.maxRetryAfterMs) return response
      await response.body?.cancel().catch(() => undefined)
      await sleep(asked ?? backoff, waitSignal)
    }
  }
}

/** An HTTP failure from a REST client, keeping what the problem report needs. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly operation: string,
    message: string,
    readonly body: unknown = null,
  ) {
    super(message)
    this.name = 'HttpError'
  }
}

export function isAuthorizationFailure(status: number | undefined): boolean {
  return status === 401 || status === 403
}
