/** The one place the Anthropic SDK is constructed. Credentials come from the named environment variable only. */
import Anthropic from '@anthropic-ai/sdk'
import { LeashError } from '../../cli/errors.js'
import type { ApiCallCounter } from '../contract.js'
import { countingFetch, type OperationTable } from '../saas-kit/http.js'
import type { AnthropicSettings } from './settings.js'

export const DEFAULT_ANTHROPIC_BASE_URL = 'https://api.anthropic.com'
export const DEFAULT_ANTHROPIC_KEY_ENV = 'ANTHROPIC_ADMIN_KEY'

const OPERATIONS: OperationTable = [
  ['GET', /\/v1\/organizations\/users$/, 'ListUsers'],
  ['GET', /\/v1\/organizations\/workspaces$/, 'ListWorkspaces'],
  ['GET', /\/v1\/organizations\/service_accounts$/, 'ListServiceAccounts'],
  ['GET', /\/v1\/organizations\/api_keys$/, 'ListApiKeys'],
  ['GET', /\/v1\/organizations\/api_keys\/[^/]+$/, 'GetApiKey'],
  ['POST', /\/v1\/organizations\/api_keys\/[^/]+$/, 'UpdateApiKey'],
]

export function adminKeyFromEnv(settings: AnthropicSettings): string {
  const name = settings.apiKeyEnv ?? DEFAULT_ANTHROPIC_KEY_ENV
  const value = process.env[name]
  if (!value) {
    throw new LeashError(
      `The Anthropic admin key environment variable ${name} is not set.`,
      `Create an Admin API key (Claude Console → Settings → Admin keys, organization admins only) and export it as ${name} before starting Leash.`,
    )
  }
  return value
}

export function createAnthropicClient(settings: AnthropicSettings, ctx: { apiCalls: ApiCallCounter; signal: AbortSignal }): Anthropic {
  return new Anthropic({
    apiKey: adminKeyFromEnv(settings),
    // Explicit so ANTHROPIC_AUTH_TOKEN / ANTHROPIC_BASE_URL in the environment never leak in.
    authToken: null,
    baseURL: settings.baseUrl ?? DEFAULT_ANTHROPIC_BASE_URL,
    // The SDK retries 429/5xx itself, honouring retry-after-ms / Retry-After with jittered backoff.
    maxRetries: 4,
    timeout: 60_000,
    logLevel: 'off',
    fetch: countingFetch({ prefix: 'anthropic', table: OPERATIONS, apiCalls: ctx.apiCalls, signal: ctx.signal }),
  })
}
