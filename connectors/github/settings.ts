import { z } from 'zod'

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name, not a secret')

export interface GitHubAppSettings {
  appId: number
  /** Environment variable holding the path of the app's private key (.pem). */
  privateKeyPathEnv: string
  /** Installation id per organization; looked up with the app JWT when absent. */
  installationIds?: Record<string, number>
}

export interface GitHubSettings {
  /** Organization logins to scan. */
  organizations: string[]
  /** Environment variable holding a token (default GITHUB_TOKEN); ignored when `app` is set. */
  tokenEnv?: string
  /** Authenticate as a GitHub App installation (recommended: needed for fine-grained token grants). */
  app?: GitHubAppSettings
  /**
   * Environment variable holding an organization owner's token (read:org; admin:org to revoke),
   * used only for SAML SSO credential authorizations — the one place classic tokens are visible,
   * and an endpoint GitHub Apps cannot call. Optional.
   */
  ownerTokenEnv?: string
  /** API base URL, e.g. https://github.example.com/api/v3 for GitHub Enterprise Server. */
  baseUrl?: string
  /** Scan each repository's deploy keys (default true; one call per repository). */
  deployKeys?: boolean
}

export const gitHubSettingsSchema: z.ZodType<GitHubSettings> = z
  .object({
    organizations: z
      .array(z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, 'must be a GitHub organization login'))
      .min(1, 'name at least one organization'),
    tokenEnv: envName.optional(),
    app: z
      .object({
        appId: z.number().int().positive(),
        privateKeyPathEnv: envName,
        installationIds: z.record(z.number().int().positive()).optional(),
      })
      .strict()
      .optional(),
    ownerTokenEnv: envName.optional(),
    baseUrl: z.string().url().optional(),
    deployKeys: z.boolean().optional(),
  })
  .strict()
