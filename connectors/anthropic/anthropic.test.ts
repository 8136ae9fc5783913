import { readFileSync } from 'node:fs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { NormalizedIdentity, RevocationTarget } from '../contract.js'
import { actionContext, applyEnv, collectScan, scanContext } from '../saas-kit/testing.js'
import { anthropicProvider, STANDIN_KEY_ENV } from './index.js'
import { activateApiKey, deactivateApiKey } from './revocation.js'
import type { AnthropicSettings } from './settings.js'
import { type AnthropicStandIn, STANDIN_ADMIN_KEY, STANDIN_READONLY_ADMIN_KEY, startAnthropicStandIn } from './stand-in/server.js'
import { type RawKey, transformOrganization } from './transform.js'

function target(identity: NormalizedIdentity, credentialId?: string): RevocationTarget {
  const cred = identity.credentials.find((c) => !credentialId || c.externalId === credentialId) ?? null
  return {
    identity: {
      externalId: identity.externalId,
      kind: identity.kind,
      accountId: identity.scope.accountId,
      displayName: identity.displayName,
      attributes: identity.attributes,
    },
    credential: cred ? { externalId: cred.externalId, type: cred.type, status: cred.status } : null,
  }
}

describe('Anthropic documented example', () => {
  it('parses the List API Keys example response verbatim', () => {
    // Source: https://platform.claude.com/docs/en/api/admin/api_keys/list (fixtures/SOURCES.md)
    const page = JSON.parse(readFileSync(new URL('./fixtures/list-api-keys.json', import.meta.url), 'utf8')) as { data: RawKey[] }
    const scope = { accountId: 'org', kind: 'organization' as const }
    const dir = {
      users: new Map([
        [
          'user_01WCz1FkmYMm4gnmykNKUu3Q',
          { id: 'user_01WCz1FkmYMm4gnmykNKUu3Q', email: 'dev@example.com', name: 'Dev', role: 'developer' },
        ],
      ]),
      workspaces: new Map(),
    }
    const [id, ...rest] = transformOrganization(page.data, [], scope, dir, new Date('2025-01-01T00:00:00Z'))
    expect(rest).toHaveLength(0)
    expect(id).toMatchObject({ externalId: 'anthropic:api_key:apikey_01Rj2N8SVvo6BePZj99NhmiT', kind: 'api_key', status: 'active' })
    expect(id?.credentials[0]).toMatchObject({
      externalId: 'apikey_01Rj2N8SVvo6BePZj99NhmiT',
      status: 'active',
      expiresAt: null,
      lastUsedKnown: false,
    })
    expect(id?.credentials[0]?.createdAt?.toISOString()).toBe('2024-10-30T23:58:27.427Z')
    expect(id?.credentials[0]?.displayName).toBe('Developer Key (sk-ant-api03-R2D...igAA)')
    expect(id?.entitlements[0]).toMatchObject({ resource: 'workspaces/wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ', accessLevel: 'write' })
    expect(id?.owners[0]).toMatchObject({ ref: 'dev@example.com', kind: 'person', active: true })
    expect(id?.agentSignals[0]).toMatchObject({ platform: 'anthropic', weight: 1 })
    // The Admin API has no last-used time: usage is unreadable, never "never used".
    expect(id?.unreadable).toContainEqual({ field: 'usage', operation: 'anthropic:ListApiKeys', permission: null })
  })
})

describe('Anthropic against the stand-in', () => {
  let standIn: AnthropicStandIn
  let settings: AnthropicSettings
  let restoreEnv: () => void

  beforeAll(async () => {
    standIn = await startAnthropicStandIn({ seed: 'test' })
    settings = { apiKeyEnv: STANDIN_KEY_ENV, baseUrl: standIn.url, organizationId: 'org-test' }
    restoreEnv = applyEnv({ [STANDIN_KEY_ENV]: STANDIN_ADMIN_KEY })
  })
  afterAll(async () => {
    restoreEnv()
    await standIn.close()
  })
  afterEach(() => standIn.clearFaults())

  it('finds everything the seed declares, with its flaws', async () => {
    const scan = await collectScan(anthropicProvider, scanContext(settings))
    expect(scan.problems).toEqual([])
    expect(scan.finished).toEqual([{ scope: 'org-test', complete: true }])
    expect(scan.identities).toHaveLength(standIn.declared.identities)
    expect(scan.identities.flatMap((i) => i.credentials)).toHaveLength(standIn.declared.credentials)
    expect(scan.identities.filter((i) => i.agentSignals.some((s) => s.platform === 'anthropic' && s.weight === 1))).toHaveLength(
      standIn.declared.agents,
    )
    const byId = new Map(scan.identities.map((i) => [i.externalId, i]))
    expect(byId.get('anthropic:api_key:apikey_01DaveOrphan')?.owners[0]).toMatchObject({ ref: 'user_01Dave', active: false })
    expect(byId.get('anthropic:api_key:apikey_01BobDefault')?.entitlements[0]).toMatchObject({ resource: 'workspaces/default' })
    expect(byId.get('anthropic:api_key:apikey_01BobDefault')?.credentials[0]?.expiresAt).toBeNull()
    expect(byId.get('anthropic:api_key:apikey_01ProdSupport')?.environments).toContain('production')
    expect(byId.get('anthropic:api_key:apikey_01BobInactive')).toMatchObject({ status: 'disabled', credentials: [{ status: 'inactive' }] })
    expect(byId.has('anthropic:api_key:apikey_01Archived')).toBe(false)
    const ci = byId.get('anthropic:service_account:svcacct_01ClaudeCodeCI')
    expect(ci?.credentials.map((c) => c.externalId)).toEqual(['apikey_01ClaudeCodeCI'])
    expect(ci?.entitlements[0]).toMatchObject({ accessLevel: 'admin' })
    expect(ci?.owners[0]).toMatchObject({ ref: 'alice@example.com', active: true })
    expect(scan.apiCalls.byOperation).toMatchObject({
      'anthropic:ListApiKeys': 1,
      'anthropic:ListUsers': 1,
      'anthropic:ListWorkspaces': 1,
      'anthropic:ListServiceAccounts': 1,
    })
  })

  it('retries a throttled page after Retry-After', async () => {
    standIn.inject({ match: /^GET \/v1\/organizations\/api_keys/, kind: 'throttle', times: 1, retryAfterSeconds: 1 })
    const scan = await collectScan(anthropicProvider, scanContext(settings))
    expect(scan.problems).toEqual([])
    expect(scan.finished).toEqual([{ scope: 'org-test', complete: true }])
    expect(scan.apiCalls.byOperation['anthropic:ListApiKeys']).toBe(2)
  })

  it('treats a refused member list as unreadable owners, not as orphaned keys', async () => {
    standIn.inject({ match: /^GET \/v1\/organizations\/users/, kind: 'forbidden', times: 1 })
    const scan = await collectScan(anthropicProvider, scanContext(settings))
    expect(scan.problems).toHaveLength(1)
    expect(scan.problems[0]).toMatchObject({
      operation: 'anthropic:ListUsers',
      fatalForScope: false,
      permission: expect.stringContaining('Admin API'),
    })
    const dave = scan.identities.find((i) => i.externalId === 'anthropic:api_key:apikey_01DaveOrphan')
    expect(dave?.owners[0]?.active).toBeNull()
    expect(dave?.unreadable.map((u) => u.field)).toContain('owners')
    expect(scan.finished).toEqual([{ scope: 'org-test', complete: true }])
  })

  it('marks the organization incomplete when the keys cannot be read (refused or malformed)', async () => {
    standIn.inject({ match: /^GET \/v1\/organizations\/api_keys/, kind: 'forbidden', times: 1 })
    const refused = await collectScan(anthropicProvider, scanContext(settings))
    expect(refused.problems[0]).toMatchObject({ operation: 'anthropic:ListApiKeys', fatalForScope: true })
    expect(refused.finished).toEqual([{ scope: 'org-test', complete: false }])
    standIn.inject({ match: /^GET \/v1\/organizations\/api_keys/, kind: 'malformed', times: 1 })
    const malformed = await collectScan(anthropicProvider, scanContext(settings))
    expect(malformed.problems[0]?.message).toMatch(/malformed/)
    expect(malformed.finished).toEqual([{ scope: 'org-test', complete: false }])
  })

  it('sets a key inactive, verifies, sees it on the next scan, and undoes it', async () => {
    const before = await collectScan(anthropicProvider, scanContext(settings))
    const key = before.identities.find((i) => i.externalId === 'anthropic:api_key:apikey_01DaveOrphan') as NormalizedIdentity
    const ctx = actionContext(settings)
    expect(deactivateApiKey.appliesTo(target(key))).toBe(true)
    expect(activateApiKey.appliesTo(target(key))).toBe(false)
    const plan = await deactivateApiKey.plan(ctx, target(key))
    expect(plan).toMatchObject({
      reversible: true,
      undoActionId: 'anthropic.api_key.activate',
      calls: [{ parameters: { api_key_id: 'apikey_01DaveOrphan', status: 'inactive' } }],
    })

    const restore = applyEnv({ [STANDIN_KEY_ENV]: STANDIN_READONLY_ADMIN_KEY })
    const refused = await deactivateApiKey.execute(actionContext(settings), target(key))
    restore()
    expect(refused).toMatchObject({ ok: false })
    expect(await deactivateApiKey.verify(ctx, target(key))).toMatchObject({ verified: false })

    expect(await deactivateApiKey.execute(ctx, target(key))).toMatchObject({ ok: true })
    expect(await deactivateApiKey.execute(ctx, target(key))).toMatchObject({ ok: true })
    expect(await deactivateApiKey.verify(ctx, target(key))).toMatchObject({ verified: true })
    const after = await collectScan(anthropicProvider, scanContext(settings))
    const now = after.identities.find((i) => i.externalId === key.externalId) as NormalizedIdentity
    expect(now).toMatchObject({ status: 'disabled', credentials: [{ status: 'inactive' }] })

    expect(activateApiKey.appliesTo(target(now))).toBe(true)
    expect(await activateApiKey.execute(ctx, target(now))).toMatchObject({ ok: true })
    expect(await activateApiKey.verify(ctx, target(now))).toMatchObject({ verified: true })
  })

  it('pages through a large generated organization', async () => {
    const big = await anthropicProvider.startStandIn({ seed: { identities: 2500 } })
    const restore = applyEnv(big.env)
    try {
      const scan = await collectScan(anthropicProvider, scanContext(big.settings))
      expect(scan.problems).toEqual([])
      expect(scan.identities).toHaveLength(big.declared.identities)
      expect(scan.identities.flatMap((i) => i.credentials)).toHaveLength(big.declared.credentials)
      expect(scan.apiCalls.byOperation['anthropic:ListApiKeys']).toBeGreaterThan(1)
    } finally {
      restore()
      await big.stop()
    }
  })
})
