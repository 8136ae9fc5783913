import { readFileSync } from 'node:fs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { NormalizedIdentity, RevocationTarget } from '../contract.js'
import { actionContext, applyEnv, collectScan, scanContext } from '../saas-kit/testing.js'
import { openaiProvider, STANDIN_KEY_ENV } from './index.js'
import { deleteProjectApiKey, deleteServiceAccount } from './revocation.js'
import type { OpenAISettings } from './settings.js'
import { STANDIN_ADMIN_KEY, STANDIN_READONLY_ADMIN_KEY, startOpenAIStandIn, type OpenAIStandIn } from './stand-in/server.js'
import { type RawProjectKey, transformProject } from './transform.js'

function target(identity: NormalizedIdentity): RevocationTarget {
  const cred = identity.credentials[0] ?? null
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

describe('OpenAI documented example', () => {
  it('parses the List project API keys example response verbatim', () => {
    // Source: https://platform.openai.com/docs/api-reference/project-api-keys/list (fixtures/SOURCES.md)
    const page = JSON.parse(readFileSync(new URL('./fixtures/project-api-keys-list.json', import.meta.url), 'utf8')) as {
      data: RawProjectKey[]
    }
    const scope = { accountId: 'proj_abc', kind: 'project' as const }
    const [id, ...rest] = transformProject({ id: 'proj_abc', name: 'Example', created_at: 1711471533 }, [], page.data, scope, null)
    expect(rest).toHaveLength(0)
    expect(id?.kind).toBe('api_key')
    expect(id?.owners[0]).toMatchObject({ ref: 'user@example.com', kind: 'person', role: 'owner', active: null })
    expect(id?.credentials[0]).toMatchObject({ externalId: 'key_abc', type: 'api_key', lastUsedKnown: true })
    expect(id?.credentials[0]?.createdAt?.toISOString()).toBe('2024-03-26T16:45:33.000Z')
    expect(id?.credentials[0]?.lastUsedAt?.toISOString()).toBe('2024-03-26T16:45:34.000Z')
    expect(id?.credentials[0]?.displayName).toContain('sk-abc...def')
    expect(id?.entitlements[0]).toMatchObject({ action: 'openai:project.owner', accessLevel: 'admin' })
    expect(id?.agentSignals[0]).toMatchObject({ platform: 'openai', weight: 1 })
    // Owners could not be checked against the member list: said so, not guessed.
    expect(id?.unreadable).toContainEqual({ field: 'owners', operation: 'openai:ListUsers', permission: 'api.management.read' })
  })
})

describe('OpenAI against the stand-in', () => {
  let standIn: OpenAIStandIn
  let settings: OpenAISettings
  let restoreEnv: () => void

  beforeAll(async () => {
    standIn = await startOpenAIStandIn({ seed: 'test' })
    settings = { apiKeyEnv: STANDIN_KEY_ENV, baseUrl: standIn.baseUrl, organizationId: 'org-test' }
    restoreEnv = applyEnv({ [STANDIN_KEY_ENV]: STANDIN_ADMIN_KEY })
  })
  afterAll(async () => {
    restoreEnv()
    await standIn.close()
  })
  afterEach(() => standIn.clearFaults())

  it('finds everything the seed declares, with its flaws', async () => {
    const scan = await collectScan(openaiProvider, scanContext(settings))
    expect(scan.problems).toEqual([])
    expect(scan.identities).toHaveLength(standIn.declared.identities)
    expect(scan.identities.flatMap((i) => i.credentials)).toHaveLength(standIn.declared.credentials)
    expect(scan.identities.filter((i) => i.agentSignals.some((s) => s.platform === 'openai' && s.weight === 1))).toHaveLength(
      standIn.declared.agents,
    )
    expect(scan.finished).toEqual([
      { scope: 'org-test', complete: true },
      { scope: 'proj_support', complete: true },
      { scope: 'proj_sandbox', complete: true },
    ])
    const byId = new Map(scan.identities.map((i) => [i.externalId, i]))
    // Orphaned key: its owner left the organization.
    expect(byId.get('openai:proj_support:api_key:key_carol_orphan')?.owners[0]).toMatchObject({ ref: 'carol@example.com', active: false })
    // Never used: usage is known and empty, not unknown.
    const never = byId.get('openai:proj_sandbox:api_key:key_bob_never')
    expect(never?.credentials[0]).toMatchObject({ lastUsedAt: null, lastUsedKnown: true })
    // Agent service account holding the project owner role.
    expect(byId.get('openai:proj_support:service_account:svc_acct_support_agent')?.entitlements[0]).toMatchObject({ accessLevel: 'admin' })
    // A service account without a key is still an identity.
    expect(byId.get('openai:proj_sandbox:service_account:svc_acct_idle')?.credentials).toEqual([])
    // Admin key without expiry.
    expect(byId.get('openai:admin_api_key:key_admin_ops')?.credentials[0]).toMatchObject({ type: 'admin_key', expiresAt: null })
    // Archived projects are not scanned.
    expect([...byId.keys()].some((k) => k.includes('proj_oldpilot'))).toBe(false)
    expect(scan.apiCalls.byOperation['openai:ListProjectApiKeys']).toBe(2)
    expect(JSON.stringify(scan.identities)).not.toContain(STANDIN_ADMIN_KEY)
  })

  it('retries a throttled call after Retry-After and still completes', async () => {
    standIn.inject({ match: /^GET \/v1\/organization\/projects\?/, kind: 'throttle', times: 1, retryAfterSeconds: 1 })
    const scan = await collectScan(openaiProvider, scanContext(settings))
    expect(scan.problems).toEqual([])
    expect(scan.finished.every((f) => f.complete)).toBe(true)
    expect(scan.apiCalls.byOperation['openai:ListProjects']).toBe(2)
  })

  it('reports a refused call as a problem naming the scope, not as findings, and leaves that project incomplete', async () => {
    standIn.inject({ match: /^GET \/v1\/organization\/projects\/proj_sandbox\/api_keys/, kind: 'forbidden', times: 1 })
    const scan = await collectScan(openaiProvider, scanContext(settings))
    expect(scan.problems).toHaveLength(1)
    expect(scan.problems[0]).toMatchObject({
      operation: 'openai:ListProjectApiKeys',
      permission: 'api.management.read',
      fatalForScope: true,
      scope: { accountId: 'proj_sandbox' },
    })
    expect(scan.finished).toContainEqual({ scope: 'proj_sandbox', complete: false })
    expect(scan.finished).toContainEqual({ scope: 'proj_support', complete: true })
    expect(scan.identities.some((i) => i.scope.accountId === 'proj_sandbox')).toBe(false)
  })

  it('reports a malformed page as a problem and an incomplete scope', async () => {
    standIn.inject({ match: /^GET \/v1\/organization\/admin_api_keys/, kind: 'malformed', times: 1 })
    const scan = await collectScan(openaiProvider, scanContext(settings))
    expect(scan.problems[0]).toMatchObject({ operation: 'openai:ListAdminApiKeys', fatalForScope: true })
    expect(scan.problems[0]?.message).toMatch(/malformed/)
    expect(scan.finished).toContainEqual({ scope: 'org-test', complete: false })
  })

  it('reports a missing key variable as a problem instead of throwing', async () => {
    const scan = await collectScan(openaiProvider, scanContext({ ...settings, apiKeyEnv: 'LEASH_TEST_UNSET_OPENAI_KEY' }))
    expect(scan.problems[0]?.message).toContain('LEASH_TEST_UNSET_OPENAI_KEY')
    expect(scan.finished).toEqual([{ scope: 'org-test', complete: false }])
  })

  it('deletes a person key: plan, execute, verify, the next scan no longer has it, and a second run is a no-op', async () => {
    const before = await collectScan(openaiProvider, scanContext(settings))
    const key = before.identities.find((i) => i.externalId === 'openai:proj_sandbox:api_key:key_bob_never') as NormalizedIdentity
    const t = target(key)
    expect(deleteProjectApiKey.appliesTo(t)).toBe(true)
    const ctx = actionContext(settings)
    const plan = await deleteProjectApiKey.plan(ctx, t)
    expect(plan.calls[0]).toMatchObject({
      operation: 'openai:DeleteProjectApiKey',
      parameters: { project_id: 'proj_sandbox', key_id: 'key_bob_never' },
    })
    expect(plan.reversible).toBe(false)
    expect(await deleteProjectApiKey.verify(ctx, t)).toMatchObject({ verified: false })
    expect(await deleteProjectApiKey.execute(ctx, t)).toMatchObject({ ok: true })
    expect(await deleteProjectApiKey.verify(ctx, t)).toMatchObject({ verified: true })
    const again = await deleteProjectApiKey.execute(ctx, t)
    expect(again).toMatchObject({ ok: true, calls: [{ response: { alreadyAbsent: true } }] })
    const after = await collectScan(openaiProvider, scanContext(settings))
    expect(after.identities.some((i) => i.externalId === key.externalId)).toBe(false)
    expect(after.identities).toHaveLength(before.identities.length - 1)
  })

  it('deletes a service account with its key, and refuses cleanly with a read-only admin key', async () => {
    const before = await collectScan(openaiProvider, scanContext(settings))
    const sa = before.identities.find((i) => i.externalId === 'openai:proj_sandbox:service_account:svc_acct_eval') as NormalizedIdentity
    expect(deleteProjectApiKey.appliesTo(target(sa))).toBe(false)
    expect(deleteServiceAccount.appliesTo(target(sa))).toBe(true)

    const restore = applyEnv({ [STANDIN_KEY_ENV]: STANDIN_READONLY_ADMIN_KEY })
    const refused = await deleteServiceAccount.execute(actionContext(settings), target(sa))
    restore()
    expect(refused.ok).toBe(false)
    expect(refused.error).toMatch(/api\.management\.write/)

    const ctx = actionContext(settings)
    expect(await deleteServiceAccount.execute(ctx, target(sa))).toMatchObject({ ok: true })
    expect(await deleteServiceAccount.verify(ctx, target(sa))).toMatchObject({ verified: true })
    const after = await collectScan(openaiProvider, scanContext(settings))
    expect(after.identities.some((i) => i.externalId === sa.externalId)).toBe(false)
    expect(after.identities.flatMap((i) => i.credentials).some((c) => c.externalId === 'key_svc_eval')).toBe(false)
  })

  it('pages through a large generated organization and finds every declared identity', async () => {
    const big = await openaiProvider.startStandIn({ seed: { identities: 1200 } })
    const restore = applyEnv(big.env)
    try {
      const scan = await collectScan(openaiProvider, scanContext(big.settings))
      expect(scan.problems).toEqual([])
      expect(scan.identities).toHaveLength(big.declared.identities)
      expect(scan.identities.flatMap((i) => i.credentials)).toHaveLength(big.declared.credentials)
      expect(scan.apiCalls.byOperation['openai:ListProjects']).toBe(2)
    } finally {
      restore()
      await big.stop()
    }
  })
})
