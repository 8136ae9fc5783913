/** Anthropic organizations: workspaces, API keys (active/inactive/expired), service accounts. */
import { LeashError } from '../../cli/errors.js'
import type { PermissionCheck, Provider, ScanContext } from '../contract.js'
import { httpStatusOf, rethrowIfAborted } from '../saas-kit/failures.js'
import { scrubSecrets } from '../saas-kit/identity.js'
import { createAnthropicClient, DEFAULT_ANTHROPIC_KEY_ENV } from './client.js'
import { anthropicRevocationActions } from './revocation.js'
import { scanAnthropic } from './scan.js'
import { type AnthropicSettings, anthropicSettingsSchema } from './settings.js'
import { STANDIN_ADMIN_KEY, startAnthropicStandIn } from './stand-in/server.js'

export const STANDIN_KEY_ENV = 'LEASH_STANDIN_ANTHROPIC_ADMIN_KEY'

async function check(
  ctx: ScanContext<AnthropicSettings>,
  permission: string,
  detail: string,
  call: () => Promise<unknown>,
): Promise<PermissionCheck> {
  try {
    await call()
    return { permission, status: 'present', detail }
  } catch (error) {
    rethrowIfAborted(error, ctx.signal)
    const status = httpStatusOf(error)
    return {
      permission,
      status: status === 401 || status === 403 ? 'missing' : 'unknown',
      detail: scrubSecrets(error instanceof Error ? error.message : String(error)),
    }
  }
}

export const anthropicProvider: Provider<AnthropicSettings> = {
  name: 'anthropic',
  displayName: 'Anthropic organization',
  settingsSchema: anthropicSettingsSchema,
  scan: scanAnthropic,
  async testConnection(ctx) {
    let client
    try {
      client = createAnthropicClient(ctx.settings, ctx)
    } catch (error) {
      if (error instanceof LeashError)
        return [
          {
            permission: ctx.settings.apiKeyEnv ?? DEFAULT_ANTHROPIC_KEY_ENV,
            status: 'missing',
            detail: `${error.message} ${error.remedy}`,
          },
        ]
      throw error
    }
    return [
      await check(ctx, 'Admin API: read API keys', 'Lists API keys with status, workspace and creator.', () =>
        client.organization.apiKeys.list({ limit: 1 }),
      ),
      await check(ctx, 'Admin API: read members', 'Resolves key creators to people and tells who has left.', () =>
        client.organization.users.list({ limit: 1 }),
      ),
      {
        permission: 'Admin API: update API keys',
        status: 'unknown',
        detail: 'Needed only to set keys inactive; it cannot be tested without changing a key.',
      },
    ]
  },
  revocationActions: anthropicRevocationActions,
  async startStandIn(options) {
    const standIn = await startAnthropicStandIn(options)
    return {
      settings: { apiKeyEnv: STANDIN_KEY_ENV, baseUrl: standIn.url, organizationId: 'org-standin' },
      env: { [STANDIN_KEY_ENV]: STANDIN_ADMIN_KEY },
      declared: standIn.declared,
      stop: () => standIn.close(),
    }
  },
}
