/**
 * The settings that drive the claims and revocation policy, read from the `settings` table
 * (key → jsonb value) with documented defaults. A stored value of the wrong shape fails with
 * a message naming the key, rather than silently weakening the policy.
 */
import { z } from 'zod'
import { WorkflowError, type Db } from './types.js'

const schemas = {
  /** Confirm ownership claims without a security lead's review. */
  'claims.auto_confirm': z.boolean().default(false),
  /** Hours a request waits for approval, and an approval stays valid for execution. */
  'revocation.approval_ttl_hours': z.number().int().min(1).max(24 * 30).default(24),
  /** Days a reversible revocation can be undone; deletion is offered only afterwards. */
  'revocation.undo_grace_days': z.number().int().min(0).max(365).default(7),
  /** Which requests need a second person: only high-impact ones, or every one. */
  'revocation.approval_policy': z.enum(['high_impact', 'always']).default('high_impact'),
  /** Tag keys (case-insensitive) that name an environment. */
  'revocation.environment_tag_keys': z.array(z.string().min(1)).default(['env', 'environment', 'stage', 'tier']),
  /** Values of those tags (case-insensitive) that mean production. */
  'revocation.production_tag_values': z.array(z.string().min(1)).default(['prod', 'production', 'prd', 'live']),
} as const

export type WorkflowSettingKey = keyof typeof schemas
export type WorkflowSettings = { [K in WorkflowSettingKey]: z.output<(typeof schemas)[K]> }
export const WORKFLOW_SETTING_KEYS = Object.keys(schemas) as WorkflowSettingKey[]

export function defaultWorkflowSettings(): WorkflowSettings {
  return parseWorkflowSettings({})
}

export function parseWorkflowSettings(stored: Partial<Record<string, unknown>>): WorkflowSettings {
  const out: Record<string, unknown> = {}
  for (const key of WORKFLOW_SETTING_KEYS) {
    const parsed = schemas[key].safeParse(stored[key] ?? undefined)
    if (!parsed.success) {
      throw new WorkflowError(
        400,
        `The setting "${key}" holds ${JSON.stringify(stored[key])}, which is not valid: ${parsed.error.issues.map((i) => i.message).join('; ')}.`,
        `Fix or delete the setting "${key}" (default: ${JSON.stringify(schemas[key].parse(undefined))}).`,
      )
    }
    out[key] = parsed.data
  }
  return out as WorkflowSettings
}

export async function loadWorkflowSettings(db: Db): Promise<WorkflowSettings> {
  const rows = await db.selectFrom('settings').select(['key', 'value']).where('key', 'in', WORKFLOW_SETTING_KEYS).execute()
  return parseWorkflowSettings(Object.fromEntries(rows.map((row) => [row.key, row.value])))
}
