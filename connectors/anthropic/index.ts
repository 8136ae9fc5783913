/** Anthropic organizations: workspaces, API keys (active/inactive/expired), service accounts. */
import { LeashError } from '../../cli/errors.js'
import type { Provider } from '../contract.js'
import { checkPermission } from '../saas-kit/failures.js'
import { createAnthropicClient, DEFAULT_ANTHROPIC_KEY_ENV } from './client.js'
import { anthropicRevocationActions } from './revocation.js'
import { scanAnthropic } from './scan.js'
import { type AnthropicSettings, anthropicSettingsSchema } from './settings.js'
import { STANDIN_ADMIN_KEY, startAnthropicStandIn } from './stand-in/server.js'

export const STANDIN_KEY_ENV = 'LEASH_STANDIN_ANTHROPIC_ADMIN_KEY'

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
      await checkPermission(ctx.signal, 'Admin API: read API keys', 'Lists API keys with status, workspace and creator.', () =>
        client.organization.apiKeys.list({ limit: 1 }),
      ),
      await checkPermission(ctx.signal, 'Admin API: read members', 'Resolves key creators to people and tells who has left.', () =>
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
