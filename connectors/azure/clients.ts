/**
 * The only place Microsoft SDK clients are built. Every client:
 * - authenticates with one @azure/identity credential, asking for a token per API
 *   (Graph, Resource Manager, Key Vault scopes are never shared),
 * - counts every HTTP attempt (retries and token requests included) into the ApiCallCounter,
 * - retries 429 and 5xx answers honouring Retry-After, a bounded number of times,
 * - trusts `endpoints.caCertificatePem` in addition to the system CAs when it is set.
 */
import { readFileSync } from 'node:fs'
import {
  ClientCertificateCredential,
  ClientSecretCredential,
  DefaultAzureCredential,
  WorkloadIdentityCredential,
  type TokenCredential,
} from '@azure/identity'
import {
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineRequest,
  type HttpClient,
  type PipelinePolicy,
} from '@azure/core-rest-pipeline'
import { KeyVaultManagementClient } from '@azure/arm-keyvault'
import { SecretClient } from '@azure/keyvault-secrets'
import { KeyClient } from '@azure/keyvault-keys'
import { CertificateClient } from '@azure/keyvault-certificates'
import {
  AuthenticationHandler,
  Client,
  RetryHandler,
  RetryHandlerOptions,
  type Context,
  type Middleware,
} from '@microsoft/microsoft-graph-client'
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js'
import { LeashError } from '../../cli/errors.js'
import type { ApiCallCounter } from '../contract.js'
import { resolveEndpoints, type AzureSettings, type ResolvedEndpoints } from './settings.js'

export interface AzureClients {
  endpoints: ResolvedEndpoints
  credential: TokenCredential
  graph: Client
  /** Graph base URLs ending without a slash: `${graphV1}/applications`. */
  graphV1: string
  graphBeta: string
  arm(subscriptionId: string): KeyVaultManagementClient
  /** Raw ARM GET (subscription list), through the same counted, retried pipeline. */
  armGet(path: string, signal: AbortSignal): Promise<unknown>
  secrets(vaultUrl: string): SecretClient
  keys(vaultUrl: string): KeyClient
  certificates(vaultUrl: string): CertificateClient
}

function requireEnv(name: string, what: string): string {
  const value = process.env[name]
  if (!value) {
    throw new LeashError(
      `The environment variable ${name} (${what}) is not set.`,
      `Set ${name} in the environment of the Leash process, or change the credential's env variable names in the source settings.`,
    )
  }
  return value
}

/** Builds the credential the settings name. Secrets are read from the environment here, only. */
export function createCredential(settings: AzureSettings, apiCalls: ApiCallCounter): TokenCredential {
  const endpoints = resolveEndpoints(settings)
  const common = {
    ...(settings.endpoints.authority ? { authorityHost: endpoints.authority } : {}),
    // Instance discovery asks login.microsoftonline.com which authorities exist; a custom
    // authority (sovereign cloud proxy, the stand-in) answers for itself.
    ...(settings.endpoints.authority ? { disableInstanceDiscovery: true } : {}),
    ...tlsOptions(endpoints),
    additionalPolicies: [{ policy: countingPolicy(apiCalls, 'login'), position: 'perRetry' as const }],
  }
  const c = settings.credential
  switch (c.kind) {
    case 'default':
      return new DefaultAzureCredential({
        ...common,
        tenantId: settings.tenantId,
        ...(c.managedIdentityClientId ? { managedIdentityClientId: c.managedIdentityClientId } : {}),
      })
    case 'client_secret':
      return new ClientSecretCredential(
        settings.tenantId,
        requireEnv(c.clientIdEnv, 'the application (client) id'),
        requireEnv(c.clientSecretEnv, 'the client secret'),
        common,
      )
    case 'client_certificate': {
      const path = requireEnv(c.certificatePathEnv, 'the path of the PEM certificate with its private key')
      let certificate: string
      try {
        certificate = readFileSync(path, 'utf8')
      } catch (error) {
        throw new LeashError(`Cannot read the client certificate at ${path} (from ${c.certificatePathEnv}): ${(error as Error).message}`, 'Point the variable at a readable PEM file that holds the private key and the certificate.')
      }
      return new ClientCertificateCredential(settings.tenantId, requireEnv(c.clientIdEnv, 'the application (client) id'), { certificate }, common)
    }
    case 'workload_identity':
      return new WorkloadIdentityCredential({
        ...common,
        tenantId: settings.tenantId,
        clientId: requireEnv(c.clientIdEnv, 'the application (client) id'),
        tokenFilePath: requireEnv(c.tokenFilePathEnv, 'the federated token file path'),
      })
  }
}

function tlsOptions(endpoints: ResolvedEndpoints): { tlsOptions?: { ca: string } } {
  return endpoints.caCertificatePem ? { tlsOptions: { ca: endpoints.caCertificatePem } } : {}
}

/** Names an HTTP call `<api>:<METHOD> <path without ids>` so counts group by operation. */
export function operationName(api: string, method: string, url: string): string {
  let path: string
  try {
    path = new URL(url).pathname
  } catch {
    path = url
  }
  const normalized = path
    .replace(/^\/(v1\.0|beta)/, '')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '{id}')
    .replace(/\/(secrets|keys|certificates)\/[^/]+(\/[^/]+)?/, '/$1/{name}')
    .replace(/\/resourceGroups\/[^/]+/i, '/resourceGroups/{rg}')
    .replace(/\/oauth2\/v2\.0\/token$/, '/oauth2/token')
    .replace(/^\/[^/]+\/(v2\.0\/\.well-known|oauth2)/, '/{tenant}/$1')
  return `${api}:${method.toUpperCase()} ${normalized || '/'}`
}

/** Azure SDK pipeline policy: one count per attempt (placed perRetry). */
function countingPolicy(apiCalls: ApiCallCounter, api: string): PipelinePolicy {
  return {
    name: `leashCount-${api}`,
    sendRequest(request, next) {
      apiCalls.record(operationName(api, request.method, request.url))
      return next(request)
    },
  }
}

/** Graph middleware that counts each attempt; sits below the retry handler. */
class CountingMiddleware implements Middleware {
  private nextMiddleware: Middleware | undefined
  constructor(private readonly apiCalls: ApiCallCounter) {}
  async execute(context: Context): Promise<void> {
    const url = typeof context.request === 'string' ? context.request : context.request.url
    const method = (typeof context.request === 'string' ? context.options?.method : context.request.method) ?? 'GET'
    this.apiCalls.record(operationName('graph', method, url))
    await this.nextMiddleware?.execute(context)
  }
  setNext(next: Middleware): void {
    this.nextMiddleware = next
  }
}

/**
 * The last Graph middleware: sends through @azure/core-rest-pipeline's HTTP client instead of
 * global fetch, so Graph calls honour the same TLS trust (custom CA) and proxy environment
 * variables as the Azure SDK clients. Node's fetch cannot take a CA per request.
 */
class CoreHttpMiddleware implements Middleware {
  private readonly tls: { ca: string } | null
  constructor(
    private readonly http: HttpClient,
    ca: string | null,
  ) {
    this.tls = ca ? { ca } : null
  }
  async execute(context: Context): Promise<void> {
    const isString = typeof context.request === 'string'
    const url = isString ? (context.request as string) : (context.request as Request).url
    const init = context.options ?? {}
    const method = (isString ? init.method : (context.request as Request).method) ?? 'GET'
    const headers = createHttpHeaders()
    const source = init.headers
    if (source instanceof Headers) source.forEach((v, k) => headers.set(k, v))
    else if (Array.isArray(source)) for (const [k, v] of source) headers.set(k, v)
    else if (source) for (const [k, v] of Object.entries(source as Record<string, string>)) headers.set(k, v)
    const request = createPipelineRequest({
      url,
      method: method.toUpperCase() as 'GET',
      headers,
      body: typeof init.body === 'string' ? init.body : init.body == null ? undefined : String(init.body),
      abortSignal: init.signal ?? undefined,
      timeout: 120_000,
    })
    // Set after creation (the factory does not copy it); one object so the HTTPS agent is reused.
    if (this.tls) request.tlsSettings = this.tls
    const response = await this.http.sendRequest(request)
    const out = new Headers()
    for (const [k, v] of response.headers) out.set(k, v)
    const noBody = response.status === 204 || response.status === 304
    context.response = new Response(noBody ? null : (response.bodyAsText ?? ''), { status: response.status, headers: out })
  }
}

export function createClients(settings: AzureSettings, apiCalls: ApiCallCounter): AzureClients {
  const endpoints = resolveEndpoints(settings)
  const credential = createCredential(settings, apiCalls)
  const http = createDefaultHttpClient()

  const auth = new AuthenticationHandler(new TokenCredentialAuthenticationProvider(credential, { scopes: [endpoints.graphScope] }))
  // Retry-After is honoured by the SDK's RetryHandler (429, 503, 504); attempts are bounded.
  const retry = new RetryHandler(new RetryHandlerOptions(1, Math.min(settings.maxRetries, 10)))
  const count = new CountingMiddleware(apiCalls)
  const send = new CoreHttpMiddleware(http, endpoints.caCertificatePem)
  auth.setNext(retry)
  retry.setNext(count)
  count.setNext(send)
  const graphHost = new URL(endpoints.graph).hostname
  const graph = Client.initWithMiddleware({
    middleware: auth,
    baseUrl: `${endpoints.graph}/`,
    defaultVersion: 'v1.0',
    // The AuthenticationHandler only sends the token to known Graph hosts.
    ...(graphHost !== 'graph.microsoft.com' ? { customHosts: new Set([graphHost]) } : {}),
  })

  const azureOptions = (api: string) => ({
    ...tlsOptions(endpoints),
    retryOptions: { maxRetries: settings.maxRetries },
    additionalPolicies: [{ policy: countingPolicy(apiCalls, api), position: 'perRetry' as const }],
  })
  const isLocal = (url: string) => /^https:\/\/(127\.0\.0\.1|localhost)(:|\/|$)/.test(url)
  const vaultOptions = (vaultUrl: string) => ({
    ...azureOptions('keyvault'),
    // Key Vault's challenge names the resource (vault.azure.net); the SDK checks it matches the
    // vault's host. Only the local stand-in (127.0.0.1) is exempt; real vaults are verified.
    disableChallengeResourceVerification: isLocal(vaultUrl),
  })

  const armClients = new Map<string, KeyVaultManagementClient>()
  return {
    endpoints,
    credential,
    graph,
    graphV1: `${endpoints.graph}/v1.0`,
    graphBeta: `${endpoints.graph}/beta`,
    arm(subscriptionId) {
      let client = armClients.get(subscriptionId)
      if (!client) {
        client = new KeyVaultManagementClient(credential, subscriptionId, {
          ...azureOptions('arm'),
          endpoint: endpoints.arm,
          credentials: { scopes: [endpoints.armScope] },
        })
        armClients.set(subscriptionId, client)
      }
      return client
    },
    async armGet(path, signal) {
      // Reuses the management client's pipeline (auth, retry, counting, TLS) for one plain GET.
      const pipeline = this.arm('00000000-0000-0000-0000-000000000000').pipeline
      const request = createPipelineRequest({ url: `${endpoints.arm}${path}`, method: 'GET', abortSignal: signal })
      const response = await pipeline.sendRequest(http, request)
      if (response.status >= 400) {
        const error = new Error(`ARM GET ${path} answered ${response.status}: ${response.bodyAsText ?? ''}`.slice(0, 500)) as Error & { statusCode: number }
        error.statusCode = response.status
        throw error
      }
      return JSON.parse(response.bodyAsText ?? 'null') as unknown
    },
    secrets: (vaultUrl) => new SecretClient(vaultUrl, credential, vaultOptions(vaultUrl)),
    keys: (vaultUrl) => new KeyClient(vaultUrl, credential, vaultOptions(vaultUrl)),
    certificates: (vaultUrl) => new CertificateClient(vaultUrl, credential, vaultOptions(vaultUrl)),
  }
}
