import { z } from 'zod'

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name, not a token')

export interface VaultSettings {
  /** Vault address, e.g. https://vault.example.com:8200 (default: the VAULT_ADDR environment variable). */
  address?: string
  /** Environment variable holding the Vault token (default VAULT_TOKEN). */
  tokenEnv?: string
  /** Enterprise namespace (X-Vault-Namespace). */
  namespace?: string
  /** KV v2 mount paths to read metadata from (default: every KV v2 mount in sys/mounts). */
  kvMounts?: string[]
  /** AppRole auth mount paths (default: every approle method in sys/auth). */
  approleMounts?: string[]
  /** Deepest KV folder level to walk (default 8). */
  kvMaxDepth?: number
}

const mount = z.string().regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*\/?$/, 'must be a mount path such as secret/ or approle/')

export const vaultSettingsSchema: z.ZodType<VaultSettings> = z
  .object({
    address: z.string().url().optional(),
    tokenEnv: envName.optional(),
    namespace: z.string().min(1).optional(),
    kvMounts: z.array(mount).optional(),
    approleMounts: z.array(mount).optional(),
    kvMaxDepth: z.number().int().min(1).max(32).optional(),
  })
  .strict()
