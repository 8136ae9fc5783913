import { z } from 'zod'

export interface AnthropicSettings {
  /** Environment variable holding an Anthropic Admin API key (default ANTHROPIC_ADMIN_KEY). Never the key itself. */
  apiKeyEnv?: string
  /** Organization id, used as the scan scope id (default `anthropic-organization`). */
  organizationId?: string
  /** API base URL; only for a proxy or the local stand-in. */
  baseUrl?: string
}

export const anthropicSettingsSchema: z.ZodType<AnthropicSettings> = z
  .object({
    apiKeyEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name such as ANTHROPIC_ADMIN_KEY, not a key')
      .optional(),
    organizationId: z.string().min(1).optional(),
    baseUrl: z.string().url().optional(),
  })
  .strict()
