/** HashiCorp Vault: token accessors, AppRole roles and secret-ids, KV v2 metadata, audit devices. */
import { LeashError } from '../../cli/errors.js'
import type { PermissionCheck, Provider } from '../contract.js'
import { httpStatusOf, rethrowIfAborted } from '../saas-kit/failures.js'
import { scrubSecrets } from '../saas-kit/identity.js'
import { createVaultClient, listKeys } from './client.js'
import { vaultRevocationActions } from './revocation.js'
import { CAPABILITIES, scanVault } from './scan.js'
import { type VaultSettings, vaultSettingsSchema } from './settings.js'
import { SCANNER_TOKEN } from './stand-in/estate.js'
import { startVaultStandIn } from './stand-in/server.js'

export const STANDIN_TOKEN_ENV = 'LEASH_STANDIN_VAULT_TOKEN'

export const vaultProvider: Provider<VaultSettings> = {
  name: 'vault',
  displayName: 'HashiCorp Vault',
  settingsSchema: vaultSettingsSchema,
  scan: scanVault,
  async testConnection(ctx) {
    let client
    try {
      client = createVaultClient(ctx.settings, ctx)
    } catch (error) {
      if (error instanceof LeashError)
        return [{ permission: 'Vault address and token', status: 'missing', detail: `${error.message} ${error.remedy}` }]
      throw error
    }
    const checks: PermissionCheck[] = []
    for (const [permission, call] of [
      [CAPABILITIES.audit, () => client.get('sys/audit')],
      [CAPABILITIES.auth, () => client.get('sys/auth')],
      [CAPABILITIES.mounts, () => client.get('sys/mounts')],
      [CAPABILITIES.accessors, () => listKeys(client, 'auth/token/accessors')],
    ] as const) {
      try {
        await call()
        checks.push({ permission, status: 'present', detail: 'Readable.' })
      } catch (error) {
        rethrowIfAborted(error, ctx.signal)
        const status = httpStatusOf(error)
        checks.push({
          permission,
          status: status === 403 || status === 401 ? 'missing' : 'unknown',
          detail: scrubSecrets(String(error instanceof Error ? error.message : error)),
        })
      }
    }
    return checks
  },
  revocationActions: vaultRevocationActions,
  async startStandIn(options) {
    const standIn = await startVaultStandIn(options)
    return {
      settings: { address: standIn.url, tokenEnv: STANDIN_TOKEN_ENV },
      env: { [STANDIN_TOKEN_ENV]: SCANNER_TOKEN },
      declared: standIn.declared,
      stop: () => standIn.close(),
    }
  },
}
