/**
 * Revocations against the stand-in: plan changes nothing, execute is idempotent, verify
 * re-reads, and the next scan shows the change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { NormalizedIdentity, RevocationAction, RevocationTarget } from '../contract.js'
import { actionContext, applyEnv, collectScan, scanContext } from '../saas-kit/testing.js'
import { azureProvider, type AzureSettings } from './index.js'
import { startAzureStandIn, type AzureStandIn } from './stand-in/server.js'

let standIn: AzureStandIn
let restoreEnv: () => void

beforeAll(async () => {
  standIn = await startAzureStandIn({ seed: 'test' })
  restoreEnv = applyEnv(standIn.env)
})
afterAll(async () => {
  restoreEnv()
  await standIn.stop()
})

const action = (id: string): RevocationAction<AzureSettings> => {
  const a = azureProvider.revocationActions.find((x) => x.id === id)
  if (!a) throw new Error(`no action ${id}`)
  return a
}

function target(identity: NormalizedIdentity, credentialId: string | null = null): RevocationTarget {
  const c = credentialId ? identity.credentials.find((x) => x.externalId === credentialId) : null
  return {
    identity: { externalId: identity.externalId, kind: identity.kind, accountId: identity.scope.accountId, displayName: identity.displayName, attributes: identity.attributes },
    credential: c ? { externalId: c.externalId, type: c.type, status: c.status } : null,
  }
}

async function scan(): Promise<NormalizedIdentity[]> {
  const result = await collectScan(azureProvider, scanContext(standIn.settings))
  expect(result.problems).toEqual([])
  return result.identities
}

describe('revocation', () => {
  it('removes a client secret: plan → execute twice (acts once) → verify → gone from the next scan', async () => {
    const before = await scan()
    const app = before.find((i) => i.kind === 'application' && i.credentials.some((c) => c.type === 'client_secret'))!
    const secret = app.credentials.find((c) => c.type === 'client_secret')!
    const t = target(app, secret.externalId)
    const remove = action('azure.application.remove_password')
    expect(remove.appliesTo(t)).toBe(true)
    expect(remove.destructive).toBe(true)
    const ctx = actionContext(standIn.settings)
    const plan = await remove.plan(ctx, t)
    expect(plan.calls).toEqual([expect.objectContaining({ operation: 'graph:POST /applications/{id}/removePassword', parameters: { applicationObjectId: app.externalId, keyId: secret.externalId } })])
    expect((await scan()).find((i) => i.externalId === app.externalId)!.credentials.map((c) => c.externalId)).toContain(secret.externalId)

    const first = await remove.execute(ctx, t)
    expect(first.ok).toBe(true)
    expect(first.calls).toHaveLength(1)
    const second = await remove.execute(ctx, t)
    expect(second).toEqual({ calls: [], ok: true, error: null })
    expect(standIn.control.requests.filter((r) => r.includes('/removePassword'))).toHaveLength(1)
    expect(await remove.verify(ctx, t)).toMatchObject({ verified: true })
    expect((await scan()).find((i) => i.externalId === app.externalId)!.credentials.map((c) => c.externalId)).not.toContain(secret.externalId)
    expect(ctx.apiCalls.total).toBeGreaterThan(0)
  })

  it('disables a service principal reversibly, and the undo re-enables it', async () => {
    const app = (await scan()).find((i) => i.kind === 'application' && i.status === 'active' && i.attributes.servicePrincipalId)!
    const t = target(app)
    const disable = action('azure.service_principal.disable')
    const ctx = actionContext(standIn.settings)
    const plan = await disable.plan(ctx, t)
    expect(plan).toMatchObject({ reversible: true, undoActionId: 'azure.service_principal.enable' })
    expect(plan.calls[0]).toMatchObject({ operation: 'graph:PATCH /servicePrincipals/{id}', parameters: { servicePrincipalId: app.attributes.servicePrincipalId, accountEnabled: false } })
    expect((await disable.execute(ctx, t)).ok).toBe(true)
    expect((await disable.execute(ctx, t)).calls[0]?.response).toMatchObject({ alreadyDone: true })
    expect(await disable.verify(ctx, t)).toMatchObject({ verified: true })
    expect((await scan()).find((i) => i.externalId === app.externalId)!.status).toBe('disabled')

    const enable = action('azure.service_principal.enable')
    expect((await enable.execute(ctx, t)).ok).toBe(true)
    expect(await enable.verify(ctx, t)).toMatchObject({ verified: true })
    expect((await scan()).find((i) => i.externalId === app.externalId)!.status).toBe('active')
  })

  it('disables an agent identity', async () => {
    const agent = (await scan()).find((i) => i.kind === 'agent_identity')!
    const t = target(agent)
    const disable = action('azure.service_principal.disable')
    expect(disable.appliesTo(t)).toBe(true)
    const ctx = actionContext(standIn.settings)
    expect((await disable.execute(ctx, t)).ok).toBe(true)
    expect((await scan()).find((i) => i.externalId === agent.externalId)!.status).toBe('disabled')
  })

  it('removes high-privilege application permissions and leaves the others', async () => {
    const agent = (await scan()).find((i) => i.entitlements.some((e) => e.action === 'RoleManagement.ReadWrite.Directory') && i.kind === 'application')!
    const others = agent.entitlements.filter((e) => e.action !== 'RoleManagement.ReadWrite.Directory').map((e) => e.action)
    const t = target(agent)
    const remove = action('azure.app_role_assignment.remove_high_privilege')
    const ctx = actionContext(standIn.settings)
    const plan = await remove.plan(ctx, t)
    expect(plan.calls.map((c) => c.parameters.permission)).toEqual(['RoleManagement.ReadWrite.Directory'])
    expect((await remove.execute(ctx, t)).ok).toBe(true)
    expect((await remove.execute(ctx, t)).calls).toEqual([])
    expect(await remove.verify(ctx, t)).toMatchObject({ verified: true })
    const after = (await scan()).find((i) => i.externalId === agent.externalId)!
    expect(after.entitlements.map((e) => e.action)).toEqual(others)
    expect(after.escalationPaths).toEqual([])
  })

  it('disables a Key Vault secret (every version) and re-enables it', async () => {
    const secret = (await scan()).find((i) => i.kind === 'secret' && i.attributes.itemType === 'secret' && i.status === 'active')!
    const t = target(secret, secret.credentials[0]!.externalId)
    const disable = action('azure.keyvault.secret.disable')
    expect(disable.appliesTo(t)).toBe(true)
    const ctx = actionContext(standIn.settings)
    const plan = await disable.plan(ctx, t)
    expect(plan).toMatchObject({ reversible: true, undoActionId: 'azure.keyvault.secret.enable' })
    expect(plan.calls).toHaveLength(1)
    expect((await disable.execute(ctx, t)).ok).toBe(true)
    expect((await disable.execute(ctx, t)).calls).toEqual([])
    expect(await disable.verify(ctx, t)).toMatchObject({ verified: true })
    const after = (await scan()).find((i) => i.externalId === secret.externalId)!
    expect(after.status).toBe('disabled')
    expect(after.credentials[0]!.status).toBe('inactive')
    const enable = action('azure.keyvault.secret.enable')
    expect((await enable.execute(ctx, t)).ok).toBe(true)
    expect((await scan()).find((i) => i.externalId === secret.externalId)!.status).toBe('active')
  })

  it('explains that a certificate cannot be removed and offers disabling the service principal', async () => {
    const app = (await scan()).find((i) => i.kind === 'application' && i.status === 'active' && i.credentials.some((c) => c.type === 'certificate'))!
    const cert = app.credentials.find((c) => c.type === 'certificate')!
    const t = target(app, cert.externalId)
    expect(action('azure.application.remove_password').appliesTo(t)).toBe(false)
    const fallback = azureProvider.revocationActions.filter((a) => a.appliesTo(t)).find((a) => a.id === 'azure.application.certificate_disable_principal')!
    const ctx = actionContext(standIn.settings)
    const plan = await fallback.plan(ctx, t)
    expect(plan.caveats.join(' ')).toMatch(/proof-of-possession/)
    expect(plan.calls).toEqual([expect.objectContaining({ operation: 'graph:PATCH /servicePrincipals/{id}', parameters: expect.objectContaining({ accountEnabled: false }) })])
    expect(plan.undoActionId).toBe('azure.service_principal.enable')
    expect((await fallback.execute(ctx, t)).ok).toBe(true)
    expect(standIn.control.requests.some((r) => r.includes('removeKey'))).toBe(false)
    expect((await scan()).find((i) => i.externalId === app.externalId)!.status).toBe('disabled')
  })
})
