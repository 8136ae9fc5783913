/** The one place the OpenAI SDK is constructed. Credentials come from the named environment variable only. */
import OpenAI from 'openai'
import { LeashError } from '../../cli/errors.js'
import type { ApiCallCounter } from '../contract.js'
import { countingFetch, type OperationTable } from '../saas-kit/http.js'
import type { OpenAISettings } from './settings.js'

export const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1'
export const DEFAULT_OPENAI_KEY_ENV = 'OPENAI_ADMIN_KEY'

const OPERATIONS: OperationTable = [
  ['GET', /\/organization\/users$/, 'ListUsers'],
  ['GET', /\/organization\/admin_api_keys$/, 'ListAdminApiKeys'],
  ['GET', /\/organization\/admin_api_keys\/[^/]+$/, 'RetrieveAdminApiKey'],
  ['DELETE', /\/organization\/admin_api_keys\/[^/]+$/, 'DeleteAdminApiKey'],
  ['GET', /\/organization\/projects$/, 'ListProjects'],
  ['GET', /\/organization\/projects\/[^/]+\/service_accounts$/, 'ListProjectServiceAccounts'],
  ['GET', /\/organization\/projects\/[^/]+\/service_accounts\/[^/]+$/, 'RetrieveProjectServiceAccount'],
  ['DELETE', /\/organization\/projects\/[^/]+\/service_accounts\/[^/]+$/, 'DeleteProjectServiceAccount'],
  ['GET', /\/organization\/projects\/[^/]+\/api_keys$/, 'ListProjectApiKeys'],
  ['GET', /\/organization\/projects\/[^/]+\/api_keys\/[^/]+$/, 'RetrieveProjectApiKey'],
  ['DELETE', /\/organization\/projects\/[^/]+\/api_keys\/[^/]+$/, 'DeleteProjectApiKey'],
]

export function adminKeyFromEnv(settings: OpenAISettings): string {
  const name = settings.apiKeyEnv ?? DEFAULT_OPENAI_KEY_ENV
  const value = process.env[name]
  if (!value) {
    throw new LeashError(
      `The OpenAI admin key environment variable ${name} is not set.`,
      `Create an Admin API key (Organization settings → Admin keys) and export it as ${name} before starting Leash.`,
    )
  }
  return value
}

export function createOpenAIClient(settings: OpenAISettings, ctx: { apiCalls: ApiCallCounter; signal: AbortSignal }): OpenAI {
  return new OpenAI({
    adminAPIKey: adminKeyFromEnv(settings),
    // Explicit nulls so OPENAI_API_KEY / OPENAI_BASE_URL / OPENAI_ORG_ID in the environment never leak in.
    apiKey: null,
    organization: null,
    project: null,
    baseURL: settings.baseUrl ?? DEFAULT_OPENAI_BASE_URL,
    // The SDK retries 429 and 5xx itself, honouring retry-after-ms / Retry-After, with jittered backoff.
    maxRetries: 4,
    timeout: 60_000,
    logLevel: 'off',
    fetch: countingFetch({ prefix: 'openai', table: OPERATIONS, apiCalls: ctx.apiCalls, signal: ctx.signal }),
  })
}
