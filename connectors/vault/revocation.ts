/**
 * Vault revocation: revoke a token by its accessor (the token and its children stop working),
 * destroy an AppRole secret-id by its accessor. Neither can be undone.
 */
import type { ExecutionResult, RevocationAction, RevocationPlan, RevocationTarget, VerificationResult } from '../contract.js'
import { HttpError } from '../saas-kit/http.js'
import { scrubSecrets } from '../saas-kit/identity.js'
import { createVaultClient } from './client.js'
import type { VaultSettings } from './settings.js'

function gone(error: unknown): boolean {
  return (
    error instanceof HttpError &&
    (error.status === 404 || (error.status === 400 && /invalid accessor|not found|failed to find/i.test(error.message)))
  )
}

async function run(operation: string, parameters: Record<string, unknown>, call: () => Promise<unknown>): Promise<ExecutionResult> {
  const at = new Date().toISOString()
  try {
    await call()
    return { calls: [{ operation, parameters, ok: true, response: { status: 'done' }, error: null, at }], ok: true, error: null }
  } catch (error) {
    if (gone(error))
      return { calls: [{ operation, parameters, ok: true, response: { alreadyAbsent: true }, error: null, at }], ok: true, error: null }
    const message = scrubSecrets(error instanceof Error ? error.message : String(error))
    return { calls: [{ operation, parameters, ok: false, response: null, error: message, at }], ok: false, error: message }
  }
}

async function absent(call: () => Promise<unknown>, what: string): Promise<VerificationResult> {
  try {
    await call()
    return { verified: false, observed: `Vault still knows ${what}.` }
  } catch (error) {
    if (gone(error)) return { verified: true, observed: `Vault no longer knows ${what}.` }
    throw error
  }
}

function tokenAccessor(t: RevocationTarget): string {
  const a = t.credential?.externalId ?? t.identity.attributes.accessor
  if (typeof a !== 'string' || !a) throw new Error(`No token accessor on ${t.identity.externalId}; rescan the source.`)
  return a
}

export const revokeToken: RevocationAction<VaultSettings> = {
  id: 'vault.token.revoke',
  title: 'Revoke the token (by accessor)',
  reversible: false,
  destructive: false,
  appliesTo: (t) => t.identity.attributes.provider === 'vault' && t.identity.kind === 'token',
  async plan(_ctx, target): Promise<RevocationPlan> {
    const accessor = tokenAccessor(target)
    return {
      actionId: this.id,
      summary: `Revoke Vault token ${target.identity.displayName} (accessor ${accessor}). Its child tokens and leases are revoked with it.`,
      calls: [
        {
          operation: 'vault:auth/token/revoke-accessor',
          parameters: { accessor },
          effect: 'POST /v1/auth/token/revoke-accessor: the token, its children and its leases stop working.',
        },
      ],
      reversible: false,
      undoActionId: null,
      caveats: [
        target.identity.attributes.orphan === false
          ? 'This token is not an orphan: its parent may mint a new one.'
          : 'The workload needs a new token from its auth method.',
        'Needs "update" on auth/token/revoke-accessor.',
      ],
    }
  },
  async execute(ctx, target) {
    const accessor = tokenAccessor(target)
    return run('vault:auth/token/revoke-accessor', { accessor }, () =>
      createVaultClient(ctx.settings, ctx).post('auth/token/revoke-accessor', { accessor }),
    )
  },
  async verify(ctx, target) {
    const accessor = tokenAccessor(target)
    return absent(() => createVaultClient(ctx.settings, ctx).post('auth/token/lookup-accessor', { accessor }), `token accessor ${accessor}`)
  },
}

function secretIdTarget(t: RevocationTarget) {
  const mount = t.identity.attributes.mount
  const role = t.identity.attributes.role
  const accessor = t.credential?.externalId
  if (typeof mount !== 'string' || typeof role !== 'string' || !accessor)
    throw new Error(`Pick a secret-id of an AppRole role to destroy (${t.identity.externalId}).`)
  return { mount, role, accessor, base: `auth/${mount}role/${encodeURIComponent(role)}/secret-id-accessor` }
}

export const destroySecretId: RevocationAction<VaultSettings> = {
  id: 'vault.secret_id.destroy',
  title: 'Destroy the AppRole secret-id (by accessor)',
  reversible: false,
  destructive: false,
  appliesTo: (t) => t.identity.attributes.provider === 'vault' && t.identity.kind === 'role' && t.credential?.type === 'secret_id',
  async plan(_ctx, target): Promise<RevocationPlan> {
    const { mount, role, accessor, base } = secretIdTarget(target)
    return {
      actionId: this.id,
      summary: `Destroy secret-id ${accessor} of AppRole ${role} (${mount}): it can no longer log in. Tokens it already obtained live until they expire.`,
      calls: [
        {
          operation: 'vault:auth/approle/role/secret-id-accessor/destroy',
          parameters: { mount, role, secret_id_accessor: accessor },
          effect: `POST /v1/${base}/destroy`,
        },
      ],
      reversible: false,
      undoActionId: null,
      caveats: [
        'Tokens issued with this secret-id are not revoked; revoke them separately if they must stop now.',
        `Needs "update" on ${base}/destroy.`,
      ],
    }
  },
  async execute(ctx, target) {
    const { mount, role, accessor, base } = secretIdTarget(target)
    return run('vault:auth/approle/role/secret-id-accessor/destroy', { mount, role, secret_id_accessor: accessor }, () =>
      createVaultClient(ctx.settings, ctx).post(`${base}/destroy`, { secret_id_accessor: accessor }),
    )
  },
  async verify(ctx, target) {
    const { accessor, base } = secretIdTarget(target)
    return absent(
      () => createVaultClient(ctx.settings, ctx).post(`${base}/lookup`, { secret_id_accessor: accessor }),
      `secret-id accessor ${accessor}`,
    )
  },
}

export const vaultRevocationActions = [revokeToken, destroySecretId]
