/** OpenAI organizations: projects, project API keys, project service accounts and admin keys. */
import { LeashError } from '../../cli/errors.js'
import type { Provider } from '../contract.js'
import { checkPermission } from '../saas-kit/failures.js'
import { createOpenAIClient, DEFAULT_OPENAI_KEY_ENV } from './client.js'
import { openAIRevocationActions } from './revocation.js'
import { scanOpenAI } from './scan.js'
import { type OpenAISettings, openAISettingsSchema } from './settings.js'
import { STANDIN_ADMIN_KEY, startOpenAIStandIn } from './stand-in/server.js'

export const STANDIN_KEY_ENV = 'LEASH_STANDIN_OPENAI_ADMIN_KEY'

export const openaiProvider: Provider<OpenAISettings> = {
  name: 'openai',
  displayName: 'OpenAI organization',
  settingsSchema: openAISettingsSchema,
  scan: scanOpenAI,
  async testConnection(ctx) {
    let client
    try {
      client = createOpenAIClient(ctx.settings, ctx)
    } catch (error) {
      if (error instanceof LeashError)
        return [
          { permission: ctx.settings.apiKeyEnv ?? DEFAULT_OPENAI_KEY_ENV, status: 'missing', detail: `${error.message} ${error.remedy}` },
        ]
      throw error
    }
    const admin = client.admin.organization
    return [
      await checkPermission(ctx.signal, 'api.management.read', 'Lists organization members, admin keys, projects, service accounts and API keys.', () =>
        admin.projects.list({ limit: 1 }),
      ),
      await checkPermission(ctx.signal, 'api.management.read (admin keys)', 'Lists organization admin keys.', () => admin.adminAPIKeys.list({ limit: 1 })),
      {
        permission: 'api.management.write',
        status: 'unknown',
        detail: 'Needed only for revocation (deleting keys and service accounts); it cannot be tested without changing something.',
      },
    ]
  },
  revocationActions: openAIRevocationActions,
  async startStandIn(options) {
    const standIn = await startOpenAIStandIn(options)
    return {
      settings: { apiKeyEnv: STANDIN_KEY_ENV, baseUrl: standIn.baseUrl, organizationId: 'org-standin' },
      env: { [STANDIN_KEY_ENV]: STANDIN_ADMIN_KEY },
      declared: standIn.declared,
      stop: () => standIn.close(),
    }
  },
}
