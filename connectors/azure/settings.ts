/**
 * Non-secret settings of a Microsoft Entra ID + Azure Key Vault source. Secrets never live
 * here or in the database: a client secret or certificate path is read from an environment
 * variable whose NAME is stored, at the moment a credential is built.
 */
import { z } from 'zod'

const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const tenantId = z
  .string()
  .trim()
  .refine((v) => guid.test(v) || /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(v), {
    message: 'tenantId is the directory (tenant) id, a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47, or a verified domain such as contoso.onmicrosoft.com.',
  })

const envName = z
  .string()
  .trim()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'An environment variable name has letters, digits and _ (e.g. AZURE_CLIENT_SECRET). Store the NAME, never the secret.')

const httpsUrl = (what: string) =>
  z
    .string()
    .trim()
    .url(`${what} must be a URL such as https://graph.microsoft.com`)
    .refine((v) => v.startsWith('https://'), { message: `${what} must use https:// (Microsoft identity libraries refuse plain http).` })
    .transform((v) => v.replace(/\/+$/, ''))

export const azureCredentialSchema = z.discriminatedUnion('kind', [
  z
    .object({
      /** DefaultAzureCredential: environment, workload identity, managed identity, Azure CLI, … */
      kind: z.literal('default'),
      /** Client id of a user-assigned managed identity, when the host has several. */
      managedIdentityClientId: z.string().trim().regex(guid, 'managedIdentityClientId is a GUID.').optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('client_secret'),
      clientIdEnv: envName.default('AZURE_CLIENT_ID'),
      clientSecretEnv: envName.default('AZURE_CLIENT_SECRET'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('client_certificate'),
      clientIdEnv: envName.default('AZURE_CLIENT_ID'),
      /** Env var holding the path of a PEM file with the private key and certificate. */
      certificatePathEnv: envName.default('AZURE_CLIENT_CERTIFICATE_PATH'),
    })
    .strict(),
  z
    .object({
      /** Workload identity federation (AKS, GitHub Actions, …): a federated token file, no secret. */
      kind: z.literal('workload_identity'),
      clientIdEnv: envName.default('AZURE_CLIENT_ID'),
      tokenFilePathEnv: envName.default('AZURE_FEDERATED_TOKEN_FILE'),
    })
    .strict(),
])

export const azureSettingsSchema = z
  .object({
    tenantId,
    credential: azureCredentialSchema.default({ kind: 'default' }),
    /** Subscriptions whose Key Vaults are scanned; all the credential can see when omitted. */
    subscriptions: z.array(z.string().trim().regex(guid, 'A subscription id is a GUID.')).max(500).optional(),
    /** Scan Azure Key Vault (secrets, keys, certificates: metadata only). */
    keyVault: z.boolean().default(true),
    /** Read sign-in activity reports (beta, needs AuditLog.Read.All and an Entra ID P1/P2 licence). */
    signInActivity: z.boolean().default(true),
    /** Read Microsoft Entra Agent ID objects (blueprints, agent identities, agent users; beta). */
    agentId: z.boolean().default(true),
    /**
     * Endpoint overrides: sovereign clouds (e.g. graph.microsoft.us) or the local stand-in.
     * `caCertificatePem` is an extra trusted CA (public certificate, not a secret), for a
     * TLS-inspecting proxy or the stand-in's self-signed certificate.
     */
    endpoints: z
      .object({
        authority: httpsUrl('endpoints.authority').optional(),
        graph: httpsUrl('endpoints.graph').optional(),
        arm: httpsUrl('endpoints.arm').optional(),
        /** Key Vault DNS suffix, e.g. vault.usgovcloudapi.net; the token audience follows it. */
        keyVaultSuffix: z
          .string()
          .trim()
          .regex(/^[a-z0-9.-]+$/i, 'keyVaultSuffix is a DNS suffix such as vault.azure.net')
          .optional(),
        caCertificatePem: z
          .string()
          .refine((v) => v.includes('-----BEGIN CERTIFICATE-----'), { message: 'caCertificatePem must be a PEM certificate (-----BEGIN CERTIFICATE-----).' })
          .optional(),
      })
      .strict()
      .default({}),
    /** Attempts for throttled (429) or failed (5xx) calls; Retry-After is honoured. */
    maxRetries: z.number().int().min(0).max(10).default(5),
    /** Identities per yielded batch. */
    batchSize: z.number().int().min(1).max(5000).default(500),
  })
  .strict()

export type AzureSettings = z.infer<typeof azureSettingsSchema>
export type AzureSettingsInput = z.input<typeof azureSettingsSchema>
export type AzureCredentialSettings = z.infer<typeof azureCredentialSchema>

export const MICROSOFT_CLOUD = {
  authority: 'https://login.microsoftonline.com',
  graph: 'https://graph.microsoft.com',
  arm: 'https://management.azure.com',
  keyVaultSuffix: 'vault.azure.net',
} as const

export interface ResolvedEndpoints {
  authority: string
  graph: string
  arm: string
  keyVaultSuffix: string
  /** Token scopes: one per API, never one for all. */
  graphScope: string
  armScope: string
  keyVaultScope: string
  caCertificatePem: string | null
  /** True when any endpoint points somewhere other than the public cloud default. */
  custom: boolean
}

export function resolveEndpoints(settings: Pick<AzureSettings, 'endpoints'>): ResolvedEndpoints {
  const e = settings.endpoints
  const graph = e.graph ?? MICROSOFT_CLOUD.graph
  const arm = e.arm ?? MICROSOFT_CLOUD.arm
  const keyVaultSuffix = e.keyVaultSuffix ?? MICROSOFT_CLOUD.keyVaultSuffix
  const custom = Boolean(e.graph || e.arm || e.authority || e.keyVaultSuffix)
  // The stand-in (and only it) serves the real API paths on a local host; its token audiences
  // stay the public-cloud ones so the credential flow is exactly the production one.
  const local = (url: string) => /^https:\/\/(127\.0\.0\.1|localhost)(:|\/|$)/.test(url)
  return {
    authority: e.authority ?? MICROSOFT_CLOUD.authority,
    graph,
    arm,
    keyVaultSuffix,
    graphScope: `${local(graph) ? MICROSOFT_CLOUD.graph : graph}/.default`,
    armScope: `${local(arm) ? MICROSOFT_CLOUD.arm : arm}/.default`,
    keyVaultScope: `https://${keyVaultSuffix}/.default`,
    caCertificatePem: e.caCertificatePem ?? null,
    custom,
  }
}
