import { z } from 'zod'

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name such as OPENAI_ADMIN_KEY, not a key')

export interface OpenAISettings {
  /** Environment variable holding an OpenAI Admin API key (default OPENAI_ADMIN_KEY). Never the key itself. */
  apiKeyEnv?: string
  /** Organization id (org-…), used as the scan scope id and in links. */
  organizationId?: string
  /** API base URL; only for a proxy or the local stand-in. */
  baseUrl?: string
  /** Scan only these project ids (default: every active project). */
  projects?: string[]
}

export const openAISettingsSchema: z.ZodType<OpenAISettings> = z
  .object({
    apiKeyEnv: envName.optional(),
    organizationId: z.string().min(1).optional(),
    baseUrl: z.string().url().optional(),
    projects: z.array(z.string().regex(/^proj_[A-Za-z0-9_-]+$/, 'must be an OpenAI project id (proj_…)')).optional(),
  })
  .strict()
