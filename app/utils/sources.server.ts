/**
 * Adding a real source from the Sources page and testing its connection. The form's settings
 * go through exactly the validation leash.config.yaml gets (connectors/source-config.ts: the
 * provider's zod schema, cron syntax, secrets refused), so a source is never valid in one place
 * and not the other. Every change is in the audit trail.
 */
import type { Kysely } from 'kysely'
import { z } from 'zod'
import type { PermissionCheck } from '../../connectors/contract.js'
import { getProvider, providers } from '../../connectors/registry.js'
import { ConfigError, DEFAULT_SCHEDULE, parseConfig } from '../../connectors/source-config.js'
import { LeashError } from '../../cli/errors.js'
import { appendAuditEvent, type AuditActor } from '../../db/audit.js'
import { json } from '../../db/connection.js'
import type { Database } from '../../db/schema.js'
import { ApiCalls } from '../../jobs/runner.js'

export interface ProviderChoice {
  name: string
  displayName: string
  /** Top-level settings fields, for the form's hint ("accounts?, organization?, region = us-east-1"). */
  fields: { key: string; optional: boolean; defaultValue: string | null }[]
}

/** Unwraps refinements, defaults and optionals to reach the object schema underneath. */
function objectShape(schema: z.ZodTypeAny): Record<string, z.ZodTypeAny> | null {
  let current: z.ZodTypeAny = schema
  for (let i = 0; i < 10; i++) {
    if (current instanceof z.ZodObject) return current.shape as Record<string, z.ZodTypeAny>
    if (current instanceof z.ZodEffects) current = current.innerType()
    else if (current instanceof z.ZodDefault || current instanceof z.ZodOptional || current instanceof z.ZodNullable)
      current = current._def.innerType
    else return null
  }
  return null
}

export function providerChoices(): ProviderChoice[] {
  return Object.values(providers).map((provider) => {
    const shape = objectShape(provider.settingsSchema as z.ZodTypeAny) ?? {}
    return {
      name: provider.name,
      displayName: provider.displayName,
      fields: Object.entries(shape).map(([key, field]) => {
        const defaultValue = field instanceof z.ZodDefault ? JSON.stringify((field._def.defaultValue as () => unknown)()) : null
        return { key, optional: field.isOptional(), defaultValue: defaultValue && defaultValue.length <= 40 ? defaultValue : null }
      }),
    }
  })
}

export const NewSourceSchema = z.object({
  provider: z.string({ required_error: 'Choose a provider.' }).trim().min(1, 'Choose a provider.'),
  name: z.string({ required_error: 'Give the source a name.' }).trim().min(1, 'Give the source a name.').max(80, 'At most 80 characters.'),
  schedule: z.string().trim().default(DEFAULT_SCHEDULE),
  settings: z.string().max(20_000, 'The settings are too long (at most 20,000 characters).').default(''),
})
export type NewSourceInput = z.infer<typeof NewSourceSchema>

export type SourceFieldErrors = Partial<Record<'provider' | 'name' | 'schedule' | 'settings' | 'form', string[]>>

/** Lines of the config document built below that come before the settings block. */
const SETTINGS_FIRST_LINE = 7

/**
 * Validates the form as a one-source leash.config.yaml and maps each problem back to the form
 * field (and, for settings, the line of the text box) it is about. The config loader stops at
 * the first stage that fails (fields, then the provider's settings), so the form is checked
 * twice: its fields with empty settings, and its settings with a valid schedule, so that every
 * problem shows at once.
 */
export function validateNewSource(
  input: NewSourceInput,
): { ok: true; settings: Record<string, unknown>; schedule: string } | { ok: false; errors: SourceFieldErrors } {
  const settingsText = input.settings.replace(/\r\n?/g, '\n').replace(/\t/g, '  ')
  const schedule = input.schedule || DEFAULT_SCHEDULE
  const document = (scheduleValue: string, settings: string | null) =>
    [
      'sources:',
      `  - name: ${JSON.stringify(input.name)}`,
      `    provider: ${JSON.stringify(input.provider)}`,
      `    schedule: ${JSON.stringify(scheduleValue)}`,
      '    enabled: true',
      '    settings:',
      settings === null || settings.trim() === ''
        ? '      {}'
        : settings
            .split('\n')
            .map((line) => `      ${line}`)
            .join('\n'),
    ].join('\n')

  const errors: SourceFieldErrors = {}
  const add = (field: keyof SourceFieldErrors, message: string) => {
    const list = (errors[field] ??= [])
    if (!list.includes(message)) list.push(message)
  }
  const attempt = (text: string, onlyFields: boolean) => {
    try {
      const [source] = parseConfig(text, 'form')
      return source!
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      for (const issue of error.issues) {
        const path = issue.path.replace(/^sources\[0\]\.?/, '')
        if (path === 'name' || path === 'provider' || path === 'schedule') add(path, issue.message)
        else if (onlyFields) continue
        else if (path.startsWith('settings') || (issue.line !== null && issue.line >= SETTINGS_FIRST_LINE)) {
          const field = path.replace(/^settings\.?/, '')
          const line =
            issue.line !== null && issue.line >= SETTINGS_FIRST_LINE && settingsText.trim() !== ''
              ? `line ${issue.line - SETTINGS_FIRST_LINE + 1}: `
              : ''
          add('settings', `${line}${field ? `${field}: ` : ''}${issue.message}`)
        } else add('form', `${path || 'form'}: ${issue.message}`)
      }
      return null
    }
  }
  attempt(document(schedule, null), true)
  const source = attempt(document(DEFAULT_SCHEDULE, settingsText), false)
  if (Object.keys(errors).length > 0 || !source)
    return { ok: false, errors: Object.keys(errors).length ? errors : { form: ['The source is not valid.'] } }
  return { ok: true, settings: source.settings, schedule }
}

export async function createSource(
  db: Kysely<Database>,
  actor: AuditActor,
  input: { provider: string; name: string; schedule: string; settings: Record<string, unknown> },
  ip: string | null,
): Promise<{ id: string } | { nameTaken: true }> {
  return db.transaction().execute(async (trx) => {
    const taken = await trx.selectFrom('sources').select('id').where('name', '=', input.name).executeTakeFirst()
    if (taken) return { nameTaken: true as const }
    const row = await trx
      .insertInto('sources')
      .values({
        name: input.name,
        provider: input.provider,
        schedule: input.schedule,
        settings: json(input.settings),
        origin: 'ui',
        is_demo: false,
        enabled: true,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    await appendAuditEvent(trx, {
      actor,
      action: 'source.created',
      object: { type: 'source', id: row.id },
      after: { name: input.name, provider: input.provider, schedule: input.schedule, settings: input.settings },
      ip,
    })
    return { id: row.id }
  })
}

export interface ConnectionTestResult {
  ok: boolean
  checks: PermissionCheck[]
  error: { message: string; remedy: string } | null
  apiCalls: number
  durationMs: number
}

/** Calls the provider's testConnection with the stored settings; never throws for provider errors. */
export async function testSourceConnection(
  db: Kysely<Database>,
  actor: AuditActor,
  sourceId: string,
  ip: string | null,
  options: { timeoutMs?: number } = {},
): Promise<ConnectionTestResult | null> {
  const source = await db.selectFrom('sources').select(['id', 'name', 'provider', 'settings']).where('id', '=', sourceId).executeTakeFirst()
  if (!source) return null
  const started = Date.now()
  const apiCalls = new ApiCalls()
  let result: ConnectionTestResult
  try {
    const provider = getProvider(source.provider)
    const parsed = provider.settingsSchema.safeParse(source.settings)
    if (!parsed.success) {
      throw new LeashError(
        `The stored settings are not valid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(settings)'}: ${i.message}`).join('; ')}.`,
        'Correct them in leash.config.yaml (or remove and add the source again), then test again.',
      )
    }
    const checks = await provider.testConnection({
      sourceName: source.name,
      settings: parsed.data,
      signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
      apiCalls,
      now: new Date(),
    })
    result = {
      ok: checks.every((c) => c.status === 'present'),
      checks,
      error: null,
      apiCalls: apiCalls.total,
      durationMs: Date.now() - started,
    }
  } catch (error) {
    const message = error instanceof LeashError ? error.message : error instanceof Error ? error.message : String(error)
    const remedy =
      error instanceof LeashError
        ? error.remedy
        : 'Check the settings and that the credentials they name are available to Leash (environment variables or the SDK’s standard chain), then test again.'
    result = { ok: false, checks: [], error: { message, remedy }, apiCalls: apiCalls.total, durationMs: Date.now() - started }
  }
  await appendAuditEvent(db, {
    actor,
    action: 'source.connection_tested',
    object: { type: 'source', id: source.id },
    after: {
      ok: result.ok,
      present: result.checks.filter((c) => c.status === 'present').map((c) => c.permission),
      missing: result.checks.filter((c) => c.status === 'missing').map((c) => c.permission),
      unknown: result.checks.filter((c) => c.status === 'unknown').map((c) => c.permission),
      error: result.error?.message ?? null,
    },
    ip,
  })
  return result
}
