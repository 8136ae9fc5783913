import { describe, expect, it } from 'vitest'
import { createApiCallCounter } from './counter.js'
import { countingFetch, type FetchLike, isThrottled, retryAfterMs, retryingFetch } from './http.js'

function scripted(statuses: { status: number; headers?: Record<string, string> }[]): FetchLike & { calls: number } {
  const f = (async () => {
    const next = statuses[Math.min(f.calls, statuses.length - 1)] as { status: number; headers?: Record<string, string> }
    f.calls += 1
    return new Response('{}', { status: next.status, headers: next.headers })
  }) as unknown as FetchLike & { calls: number }
  f.calls = 0
  return f
}

const fast = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 2_000 }

describe('retryingFetch', () => {
  it('retries a 429 and honours Retry-After, then returns the success', async () => {
    const inner = scripted([{ status: 429, headers: { 'retry-after': '0' } }, { status: 200 }])
    const res = await retryingFetch(inner, fast)('http://x/a')
    expect(res.status).toBe(200)
    expect(inner.calls).toBe(2)
  })

  it('gives up after maxAttempts and returns the last throttled answer', async () => {
    const inner = scripted([{ status: 503 }])
    const res = await retryingFetch(inner, fast)('http://x/a')
    expect(res.status).toBe(503)
    expect(inner.calls).toBe(4)
  })

  it('does not wait a Retry-After beyond its cap', async () => {
    const inner = scripted([{ status: 429, headers: { 'retry-after': '3600' } }, { status: 200 }])
    const res = await retryingFetch(inner, fast)('http://x/a')
    expect(res.status).toBe(429)
    expect(inner.calls).toBe(1)
  })

  it('does not repeat a failed POST that was not throttled', async () => {
    const inner = scripted([{ status: 503 }, { status: 200 }])
    const res = await retryingFetch(inner, fast)('http://x/a', { method: 'POST' })
    expect(res.status).toBe(503)
    expect(inner.calls).toBe(1)
  })

  it("treats GitHub's spent rate limit (403, remaining 0) as throttling and reads its reset time", () => {
    const now = Date.UTC(2026, 0, 1)
    const headers = new Headers({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 30) })
    expect(isThrottled(new Response(null, { status: 403, headers }))).toBe(true)
    expect(isThrottled(new Response(null, { status: 403 }))).toBe(false)
    expect(retryAfterMs(headers, now)).toBe(30_000)
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250' }))).toBe(250)
  })
})

describe('countingFetch', () => {
  it('names each attempt by the operation table and aborts with the scan signal', async () => {
    const apiCalls = createApiCallCounter()
    const controller = new AbortController()
    let seen: AbortSignal | undefined
    const f = countingFetch({
      prefix: 'p',
      table: [['GET', /\/things$/, 'ListThings']],
      apiCalls,
      signal: controller.signal,
      fetchImpl: async (_i, init) => {
        seen = init?.signal ?? undefined
        return new Response('{}')
      },
    })
    await f('http://x/v1/things')
    await f('http://x/v1/other/123')
    expect(apiCalls.byOperation).toEqual({ 'p:ListThings': 1, 'p:GET /v1/other/{id}': 1 })
    controller.abort()
    expect(seen?.aborted).toBe(true)
  })
})
