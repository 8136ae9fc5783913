/**
 * The only place AWS SDK clients are built. Every client:
 * - takes credentials from the SDK's default chain (or from an AssumeRole made here),
 * - counts every HTTP attempt into the scan's ApiCallCounter through a middleware,
 * - retries throttling, 5xx and network errors with the SDK's own retry strategy
 *   (adaptive or standard mode: exponential backoff with full jitter, bounded attempts),
 * - points at `settings.endpoint` when set (the local stand-in).
 * Cancellation: callers pass `abortSignal` on every send (see `send` below).
 */
import { IAMClient } from '@aws-sdk/client-iam'
import { OrganizationsClient } from '@aws-sdk/client-organizations'
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts'
import { fromNodeProviderChain } from '@aws-sdk/credential-providers'
import type { ApiCallCounter } from '../contract.js'
import type { AwsAccountSettings, AwsSettings } from './settings.js'

/** Derived from the SDK so no internal types package is imported directly. */
export type AwsCredentialIdentityProvider = ReturnType<typeof fromNodeProviderChain>
export type AwsCredentialIdentity = Awaited<ReturnType<AwsCredentialIdentityProvider>>

export interface AwsClients {
  iam: IAMClient
  sts: STSClient
  secrets: SecretsManagerClient
  organizations: OrganizationsClient
  destroy(): void
}

type AnyClient = IAMClient | STSClient | SecretsManagerClient | OrganizationsClient

/** Connection settings every client shares. */
interface ClientOptions {
  settings: Pick<AwsSettings, 'endpoint' | 'region' | 'retryMode' | 'maxAttempts'>
  credentials: AwsCredentialIdentityProvider | AwsCredentialIdentity
  apiCalls: ApiCallCounter
}

/** The SDK's credential chain, resolved once and refreshed by the SDK when it expires. */
export function defaultCredentials(): AwsCredentialIdentityProvider {
  return fromNodeProviderChain()
}

function commonConfig(options: ClientOptions) {
  return {
    region: options.settings.region,
    credentials: options.credentials,
    ...(options.settings.endpoint ? { endpoint: options.settings.endpoint } : {}),
    retryMode: options.settings.retryMode,
    maxAttempts: options.settings.maxAttempts,
    // A stuck connection must not hang a scan: it times out and the retry strategy takes over.
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
  }
}

/**
 * Counts each HTTP attempt (retries included: each is a call AWS sees and rate-limits) as
 * `<service>:<Operation>`, e.g. `iam:GetAccountAuthorizationDetails`. The middleware sits in
 * the finalizeRequest step below the retry middleware, so it runs once per attempt.
 */
function countCalls(client: AnyClient, service: string, apiCalls: ApiCallCounter): void {
  const stack = client.middlewareStack as unknown as IAMClient['middlewareStack']
  stack.add(
    (next, context) => async (args) => {
      apiCalls.record(`${service}:${String(context.commandName ?? 'Unknown').replace(/Command$/, '')}`)
      return next(args)
    },
    { step: 'finalizeRequest', priority: 'low', name: 'leashCountApiCalls' },
  )
}

export function createClients(options: ClientOptions): AwsClients {
  const config = commonConfig(options)
  // IAM is global; the SDK resolves its endpoint for the partition of `region`.
  const iam = new IAMClient(config)
  const sts = new STSClient(config)
  const secrets = new SecretsManagerClient(config)
  const organizations = new OrganizationsClient(config)
  countCalls(iam, 'iam', options.apiCalls)
  countCalls(sts, 'sts', options.apiCalls)
  countCalls(secrets, 'secretsmanager', options.apiCalls)
  countCalls(organizations, 'organizations', options.apiCalls)
  return {
    iam,
    sts,
    secrets,
    organizations,
    destroy() {
      iam.destroy()
      sts.destroy()
      secrets.destroy()
      organizations.destroy()
    },
  }
}

export function roleArnFor(account: Pick<AwsAccountSettings, 'accountId' | 'roleName' | 'roleArn'>, partition = 'aws'): string | null {
  if (account.roleArn) return account.roleArn
  if (account.roleName) return `arn:${partition}:iam::${account.accountId}:role/${account.roleName}`
  return null
}

/**
 * Credentials for a role in another account, assumed with the base clients' STS (so the call
 * is counted and retried like any other). Refreshed five minutes before they expire, so a
 * long scan of a large account keeps working.
 */
export function assumedRoleCredentials(
  sts: STSClient,
  roleArn: string,
  externalId: string | undefined,
  signal: AbortSignal,
): AwsCredentialIdentityProvider {
  let current: AwsCredentialIdentity | null = null
  let pending: Promise<AwsCredentialIdentity> | null = null
  const refresh = async (): Promise<AwsCredentialIdentity> => {
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: 'leash-scan',
        DurationSeconds: 3600,
        ...(externalId ? { ExternalId: externalId } : {}),
      }),
      { abortSignal: signal },
    )
    const c = out.Credentials
    if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`sts:AssumeRole on ${roleArn} returned no credentials.`)
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    }
  }
  return async () => {
    const fresh = current && (!current.expiration || current.expiration.getTime() - Date.now() > 5 * 60_000)
    if (fresh && current) return current
    pending ??= refresh().finally(() => {
      pending = null
    })
    current = await pending
    return current
  }
}
