/** OpenAI organizations: projects, project API keys, project service accounts and admin keys. */
import { LeashError } from '../../cli/errors.js'
import type { PermissionCheck, Provider, ScanContext } from '../contract.js'
import { httpStatusOf, rethrowIfAborted } from '../saas-kit/failures.js'
import { scrubSecrets } from '../saas-kit/identity.js'
import { createOpenAIClient, DEFAULT_OPENAI_KEY_ENV } from './client.js'
import { openAIRevocationActions } from './revocation.js'
import { scanOpenAI } from './scan.js'
import { type OpenAISettings, openAISettingsSchema } from './settings.js'
import { STANDIN_ADMIN_KEY, startOpenAIStandIn } from './stand-in/server.js'

export const STANDIN_KEY_ENV = 'LEASH_STANDIN_OPENAI_ADMIN_KEY'

async function check(
  ctx: ScanContext<OpenAISettings>,
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
    const message = scrubSecrets(error instanceof Error ? error.message : String(error))
    return { permission, status: status === 403 || status === 401 ? 'missing' : 'unknown', detail: message }
  }
}

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
      await check(ctx, 'api.management.read', 'Lists organization members, admin keys, projects, service accounts and API keys.', () =>
        admin.projects.list({ limit: 1 }),
      ),
      await check(ctx, 'api.management.read (admin keys)', 'Lists organization admin keys.', () => admin.adminAPIKeys.list({ limit: 1 })),
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
