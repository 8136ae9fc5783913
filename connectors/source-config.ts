/**
 * `leash.config.yaml`: sources configured as code. Validated with errors that name the file,
 * the line and the field; secrets are refused (name an environment variable instead), and
 * the result is synced into the `sources` table without ever deleting scan history.
 *
 * Where credentials come from is part of each provider's settings (the SDK's default chain,
 * or the NAMES of environment variables), validated by the provider's own schema.
 */
import { readFile } from 'node:fs/promises'
import { isDeepStrictEqual } from 'node:util'
import type { Kysely } from 'kysely'
import { validate as validateCron } from 'node-cron'
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml'
import { z } from 'zod'
import { LeashError } from '../cli/errors.js'
import { json } from '../db/connection.js'
import type { Database } from '../db/schema.js'
import { PROVIDER_NAMES } from './contract.js'
import { getProvider, isProviderName } from './registry.js'

export const DEFAULT_SCHEDULE = '0 */6 * * *'

const sourceSchema = z
  .object({
    name: z
      .string()
      .trim()
      .min(1)
      .max(80)
      .regex(/^[\w .:@/-]+$/, 'letters, digits, spaces and . : @ / _ - only'),
    provider: z.string(),
    schedule: z
      .string()
      .default(DEFAULT_SCHEDULE)
      .refine((value) => validateCron(value), 'a cron expression in node-cron syntax, e.g. "0 */6 * * *" (every 6 hours)'),
    enabled: z.boolean().default(true),
    settings: z.record(z.unknown()).default({}),
    thresholds: z.record(z.union([z.number(), z.string(), z.boolean()])).default({}),
  })
  .strict()

const configSchema = z
  .object({
    sources: z.array(sourceSchema).default([]),
  })
  .strict()

export type SourceConfig = z.infer<typeof sourceSchema>

export interface ConfigIssue {
  line: number | null
  path: string
  message: string
}

/** Keys whose values would be secrets. Their values must be environment variable names. */
const SECRET_KEY = /(secret|password|passwd|token|api[-_]?key|private[-_]?key|client[-_]?secret|credential)s?$/i
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/
/**
 * Values that are secrets whatever the key is called: the documented prefixes of provider
 * keys and tokens, and PEM private keys.
 */
const SECRET_VALUE = [
  /^(AKIA|ASIA)[A-Z0-9]{16}$/, // AWS access key id: a key pair pasted into the file
  /^sk-(ant-|proj-|admin-|svcacct-)?[\w-]{16,}$/, // OpenAI and Anthropic API/admin keys
  /^(ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}$/, // GitHub tokens
  /^hv[sbr]\.[\w-]{20,}$/, // HashiCorp Vault tokens
  /^ya29\.[\w-]{20,}$/, // Google OAuth access tokens
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
]

export class ConfigError extends LeashError {
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super(
      `${file} is not valid:\n${issues.map((i) => `  ${file}${i.line ? `:${i.line}` : ''} ${i.path || '(top level)'}: ${i.message}`).join('\n')}`,
      'Fix the fields named above (README: "Configuring real sources" shows every provider’s settings).',
    )
    this.name = 'ConfigError'
  }
}

export async function loadConfigFile(file: string): Promise<SourceConfig[]> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw new LeashError(`Cannot read ${file}: ${(error as Error).message}`, 'Check the file’s permissions.')
  }
  return parseConfig(text, file)
}

export function parseConfig(text: string, file = 'leash.config.yaml'): SourceConfig[] {
  const lineCounter = new LineCounter()
  const document = parseDocument(text, { lineCounter, prettyErrors: false })
  if (document.errors.length > 0) {
    throw new ConfigError(
      file,
      document.errors.map((error) => ({
        line: lineCounter.linePos(error.pos[0]).line,
        path: '',
        message: `YAML syntax: ${error.message.split('\n')[0]}`,
      })),
    )
  }
  const lineOf = (path: (string | number)[]) => lineOfPath(document, lineCounter, path)
  const parsed = configSchema.safeParse(document.toJS() ?? {})
  if (!parsed.success) {
    throw new ConfigError(
      file,
      parsed.error.issues.map((issue) => ({ line: lineOf(issue.path), path: formatPath(issue.path), message: explainIssue(issue) })),
    )
  }

  const issues: ConfigIssue[] = []
  const names = new Set<string>()
  parsed.data.sources.forEach((source, index) => {
    const at = (...rest: (string | number)[]) => ['sources', index, ...rest]
    if (names.has(source.name)) issues.push({ line: lineOf(at('name')), path: formatPath(at('name')), message: `"${source.name}" is used by two sources; names must be unique.` })
    names.add(source.name)
    if (!isProviderName(source.provider)) {
      issues.push({
        line: lineOf(at('provider')),
        path: formatPath(at('provider')),
        message: `unknown provider "${source.provider}"; use one of: ${PROVIDER_NAMES.join(', ')}.`,
      })
      return
    }
    for (const secret of findInlineSecrets(source.settings)) {
      issues.push({
        line: lineOf(at('settings', ...secret)),
        path: formatPath(at('settings', ...secret)),
        message: 'looks like a secret value. Leash never stores secrets: put it in an environment variable and give the variable’s name here.',
      })
    }
    const settings = getProvider(source.provider).settingsSchema.safeParse(source.settings)
    if (!settings.success) {
      for (const issue of settings.error.issues) {
        issues.push({ line: lineOf(at('settings', ...issue.path)), path: formatPath(at('settings', ...issue.path)), message: explainIssue(issue) })
      }
    } else {
      source.settings = settings.data as Record<string, unknown>
    }
  })
  if (issues.length > 0) throw new ConfigError(file, issues)
  return parsed.data.sources
}

function findInlineSecrets(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((item, index) => findInlineSecrets(item, [...path, index]))
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, child]) => {
      if (typeof child === 'string' && SECRET_KEY.test(key) && !/env$/i.test(key) && !ENV_NAME.test(child)) return [[...path, key]]
      if (typeof child === 'string' && SECRET_VALUE.some((pattern) => pattern.test(child.trim()))) return [[...path, key]]
      return findInlineSecrets(child, [...path, key])
    })
  }
  return []
}

function explainIssue(issue: z.ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}; check the spelling.`
  if (issue.code === 'invalid_type' && issue.received === 'undefined') return `is required (${issue.expected}).`
  return issue.message
}

function formatPath(path: (string | number)[]): string {
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? part : `.${part}`)).join('')
}

/** The line of the deepest node along `path` that exists (a missing field points at its parent). */
function lineOfPath(document: Document, lineCounter: LineCounter, path: (string | number)[]): number | null {
  let node: unknown = document.contents
  let line: number | null = rangeLine(node, lineCounter)
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => (item.key as { value?: unknown } | null)?.value === key)
      if (!pair) break
      line = rangeLine(pair.key, lineCounter) ?? line
      node = pair.value
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key]
      line = rangeLine(node, lineCounter) ?? line
    } else {
      break
    }
  }
  return line
}

function rangeLine(node: unknown, lineCounter: LineCounter): number | null {
  const range = (node as { range?: [number, number, number] } | null)?.range
  return range ? lineCounter.linePos(range[0]).line : null
}

/**
 * Makes the `sources` table match the config file: creates and updates sources named there
 * (origin 'config'); a config source that disappeared from the file is disabled, never deleted,
 * so its identities and history stay.
 */
export async function syncConfiguredSources(db: Kysely<Database>, sources: SourceConfig[]): Promise<{ created: number; updated: number; disabled: number }> {
  return db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('sources').select(['id', 'name', 'origin', 'thresholds']).execute()
    const byName = new Map(existing.map((s) => [s.name, s]))
    let created = 0
    let updated = 0
    for (const source of sources) {
      const values = {
        provider: source.provider,
        settings: json(source.settings),
        schedule: source.schedule,
        enabled: source.enabled,
        thresholds: json(source.thresholds),
        origin: 'config',
        updated_at: new Date(),
      }
      const current = byName.get(source.name)
      if (current) {
        if (current.origin !== 'config') {
          throw new LeashError(
            `The source "${source.name}" in leash.config.yaml has the name of a source created on the Sources page.`,
            'Rename one of them; Leash will not let the file silently take over a source managed in the UI.',
          )
        }
        await trx.updateTable('sources').set(values).where('id', '=', current.id).execute()
        // New limits apply to what is stored now, not only to what the next scan changes. The
        // next scoring pass marks the source's identities in chunks (scoring/scope-changes.ts):
        // marking a large source here would hold start-up and its row locks for minutes.
        if (!isDeepStrictEqual(current.thresholds, source.thresholds)) {
          await trx.insertInto('scoring_scope_changes').values({ scope_type: 'source', scope_value: current.id }).execute()
        }
        updated++
      } else {
        await trx
          .insertInto('sources')
          .values({ name: source.name, ...values })
          .execute()
        created++
      }
    }
    const named = new Set(sources.map((s) => s.name))
    const gone = existing.filter((s) => s.origin === 'config' && !named.has(s.name)).map((s) => s.id)
    if (gone.length > 0) await trx.updateTable('sources').set({ enabled: false, updated_at: new Date() }).where('id', 'in', gone).execute()
    return { created, updated, disabled: gone.length }
  })
}
