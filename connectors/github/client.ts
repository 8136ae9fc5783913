/**
 * The one place Octokit is constructed. Credentials: a token from the named environment
 * variable, or a GitHub App (id + private key file whose path is in an environment variable)
 * exchanged for a per-organization installation token by @octokit/auth-app.
 */
import { readFileSync } from 'node:fs'
import { createAppAuth } from '@octokit/auth-app'
import { Octokit } from '@octokit/rest'
import { LeashError } from '../../cli/errors.js'
import type { ApiCallCounter } from '../contract.js'
import { countingFetch, DEFAULT_RETRY, type OperationTable, retryingFetch } from '../saas-kit/http.js'
import type { GitHubSettings } from './settings.js'

export const DEFAULT_GITHUB_TOKEN_ENV = 'GITHUB_TOKEN'
export const DEFAULT_GITHUB_BASE_URL = 'https://api.github.com'

const OPERATIONS: OperationTable = [
  ['GET', /\/orgs\/[^/]+\/installation$/, 'GetOrgInstallation'],
  ['POST', /\/app\/installations\/\d+\/access_tokens$/, 'CreateInstallationAccessToken'],
  ['GET', /\/orgs\/[^/]+\/members$/, 'ListOrgMembers'],
  ['GET', /\/orgs\/[^/]+\/installations$/, 'ListOrgAppInstallations'],
  ['GET', /\/orgs\/[^/]+\/personal-access-tokens$/, 'ListPatGrants'],
  ['POST', /\/orgs\/[^/]+\/personal-access-tokens$/, 'UpdatePatAccesses'],
  ['GET', /\/orgs\/[^/]+\/credential-authorizations$/, 'ListSamlSsoAuthorizations'],
  ['DELETE', /\/orgs\/[^/]+\/credential-authorizations\/\d+$/, 'RemoveSamlSsoAuthorization'],
  ['GET', /\/orgs\/[^/]+\/repos$/, 'ListOrgRepos'],
  ['GET', /\/repos\/[^/]+\/[^/]+\/keys$/, 'ListDeployKeys'],
  ['GET', /\/repos\/[^/]+\/[^/]+\/keys\/\d+$/, 'GetDeployKey'],
  ['DELETE', /\/repos\/[^/]+\/[^/]+\/keys\/\d+$/, 'DeleteDeployKey'],
]

const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }

function requestOptions(ctx: { apiCalls: ApiCallCounter; signal: AbortSignal }) {
  // Counting sits inside the retry loop so every attempt is counted; retries honour
  // Retry-After and GitHub's x-ratelimit-reset (403/429), bounded by DEFAULT_RETRY.
  const counted = countingFetch({ prefix: 'github', table: OPERATIONS, apiCalls: ctx.apiCalls, signal: ctx.signal })
  return { fetch: retryingFetch(counted, DEFAULT_RETRY, Math.random, ctx.signal) }
}

function appPrivateKey(settings: GitHubSettings): string {
  const envName = settings.app?.privateKeyPathEnv as string
  const path = process.env[envName]
  if (!path) {
    throw new LeashError(
      `The GitHub App private key path variable ${envName} is not set.`,
      `Download the app's private key (.pem) and export its path as ${envName}.`,
    )
  }
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw new LeashError(
      `Cannot read the GitHub App private key at ${path} (from ${envName}): ${(error as Error).message}.`,
      'Check the path and that the Leash process may read the file.',
    )
  }
}

/** A client for one organization. */
export async function createGitHubClient(
  settings: GitHubSettings,
  org: string,
  ctx: { apiCalls: ApiCallCounter; signal: AbortSignal },
): Promise<Octokit> {
  const baseUrl = settings.baseUrl ?? DEFAULT_GITHUB_BASE_URL
  const request = requestOptions(ctx)
  if (settings.app) {
    const privateKey = appPrivateKey(settings)
    let installationId = settings.app.installationIds?.[org]
    if (!installationId) {
      const asApp = new Octokit({
        authStrategy: createAppAuth,
        auth: { appId: settings.app.appId, privateKey },
        baseUrl,
        request,
        log: silent,
      })
      const { data } = await asApp.rest.apps.getOrgInstallation({ org })
      installationId = data.id
    }
    return new Octokit({
      authStrategy: createAppAuth,
      auth: { appId: settings.app.appId, privateKey, installationId },
      baseUrl,
      request,
      log: silent,
    })
  }
  const envName = settings.tokenEnv ?? DEFAULT_GITHUB_TOKEN_ENV
  const token = process.env[envName]
  if (!token) {
    throw new LeashError(
      `The GitHub token variable ${envName} is not set.`,
      `Export a token as ${envName}, or configure a GitHub App (recommended) in the source settings.`,
    )
  }
  return new Octokit({ auth: token, baseUrl, request, log: silent })
}

/** The owner-token client for SSO credential authorizations, or null when none is configured. */
export function createGitHubOwnerClient(settings: GitHubSettings, ctx: { apiCalls: ApiCallCounter; signal: AbortSignal }): Octokit | null {
  if (!settings.ownerTokenEnv) return null
  const token = process.env[settings.ownerTokenEnv]
  if (!token) {
    throw new LeashError(
      `The GitHub owner token variable ${settings.ownerTokenEnv} is not set.`,
      `Export an organization owner's token (read:org) as ${settings.ownerTokenEnv}, or remove ownerTokenEnv from the source settings.`,
    )
  }
  return new Octokit({ auth: token, baseUrl: settings.baseUrl ?? DEFAULT_GITHUB_BASE_URL, request: requestOptions(ctx), log: silent })
}
