import type { Server } from 'node:http'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { useTestDatabase } from '../test/db.js'
import { csrfProtection, securityHeaders } from './web-security.js'

const database = useTestDatabase()
let server: Server
let origin: string
let stateChanges = 0

beforeAll(async () => {
  const app = express()
  app.set('trust proxy', 'loopback')
  app.use(securityHeaders())
  app.use(csrfProtection(database.current.db))
  app.get('/page', (_req, res) => {
    res.type('html').send(`<script nonce="${(res.locals as { cspNonce: string }).cspNonce}"></script>`)
  })
  app.post('/change', (_req, res) => {
    stateChanges++
    res.send('changed')
  })
  server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
  })
  const address = server.address()
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
})

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
})

const post = (headers: Record<string, string>) => fetch(`${origin}/change`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body: 'a=1' })

describe('cross-site request forgery', () => {
  it('refuses a forged cross-site POST and records it, without changing state', async () => {
    const before = stateChanges
    const forged = await post({ Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site', Cookie: 'leash_session=abc' })
    expect(forged.status).toBe(403)
    expect(await forged.text()).toMatch(/did not come from Leash itself/)
    const sameSite = await post({ Origin: 'http://other.127.0.0.1.nip.io', 'Sec-Fetch-Site': 'same-site' })
    expect(sameSite.status).toBe(403)
    const originOnly = await post({ Origin: 'https://evil.example' })
    expect(originOnly.status).toBe(403)
    const nullOrigin = await post({ Origin: 'null' })
    expect(nullOrigin.status).toBe(403)
    const bare = await post({ Cookie: 'leash_session=abc' })
    expect(bare.status).toBe(403)
    expect(stateChanges).toBe(before)
    const events = await database.current.db.selectFrom('audit_events').selectAll().where('action', '=', 'csrf.refused').execute()
    expect(events.length).toBeGreaterThanOrEqual(5)
    expect(JSON.stringify(events)).not.toContain('leash_session=abc')
  })

  it('lets same-origin requests and API-token requests through', async () => {
    const before = stateChanges
    expect((await post({ Origin: origin, 'Sec-Fetch-Site': 'same-origin' })).status).toBe(200)
    expect((await post({ Origin: origin })).status).toBe(200)
    expect((await post({ 'Sec-Fetch-Site': 'same-origin' })).status).toBe(200)
    expect((await post({ Authorization: 'Bearer leash_abcdefgh_xyz' })).status).toBe(200)
    expect(stateChanges).toBe(before + 4)
  })

  it('never blocks safe methods', async () => {
    expect((await fetch(`${origin}/page`, { headers: { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' } })).status).toBe(200)
  })
})

describe('security headers', () => {
  it('sends a strict CSP with a fresh nonce per response, and the other headers', async () => {
    const first = await fetch(`${origin}/page`)
    const second = await fetch(`${origin}/page`)
    const csp = first.headers.get('content-security-policy')!
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1]
    expect(nonce).toBeTruthy()
    expect(await first.text()).toContain(`nonce="${nonce}"`)
    expect(second.headers.get('content-security-policy')).not.toContain(nonce)
    expect(csp).toContain("default-src 'self'")
    expect(csp).toContain("script-src 'self' 'nonce-")
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/)
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).toContain("object-src 'none'")
    expect(csp).toContain("base-uri 'none'")
    expect(csp).toContain("form-action 'self'")
    expect(first.headers.get('x-content-type-options')).toBe('nosniff')
    expect(first.headers.get('x-frame-options')).toBe('DENY')
    expect(first.headers.get('referrer-policy')).toBe('same-origin')
    expect(first.headers.get('permissions-policy')).toContain('camera=()')
    // Plain HTTP on localhost: no HSTS (it would pin every local app to HTTPS).
    expect(first.headers.get('strict-transport-security')).toBeNull()
  })

  it('sends HSTS over HTTPS outside localhost', async () => {
    const response = await fetch(`${origin}/page`, { headers: { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'leash.example.com' } })
    expect(response.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains')
    expect(response.headers.get('content-security-policy')).toContain('upgrade-insecure-requests')
  })
})
