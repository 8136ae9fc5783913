/**
 * Where `leash start` and `leash scan` find leash.config.yaml, and applying it: --config, else
 * LEASH_CONFIG, else ./leash.config.yaml. A file named explicitly must exist; the default one
 * is optional. Validation errors name the file, line and field (connectors/source-config.ts).
 */
import { access } from 'node:fs/promises'
import path from 'node:path'
import type { Kysely } from 'kysely'
import { loadConfigFile, syncConfiguredSources, type SourceConfig } from '../connectors/source-config.js'
import type { Database } from '../db/schema.js'
import { LeashError } from './errors.js'

export const DEFAULT_CONFIG_FILE = 'leash.config.yaml'

export function configFilePath(
  option: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd = process.cwd(),
): { file: string; explicit: boolean } {
  const named = option?.trim() || env.LEASH_CONFIG?.trim()
  return named ? { file: path.resolve(cwd, named), explicit: true } : { file: path.resolve(cwd, DEFAULT_CONFIG_FILE), explicit: false }
}

export interface AppliedConfig {
  file: string
  sources: SourceConfig[]
  created: number
  updated: number
  disabled: number
}

/**
 * Validates the config file and makes the sources table match it. Invalid files fail before
 * anything is written. Without a file (and none named), nothing changes.
 */
export async function applyConfigFile(
  db: Kysely<Database>,
  options: { config?: string; log?: (line: string) => void; env?: Readonly<Record<string, string | undefined>>; cwd?: string } = {},
): Promise<AppliedConfig | null> {
  const { file, explicit } = configFilePath(options.config, options.env, options.cwd)
  try {
    await access(file)
  } catch {
    if (explicit)
      throw new LeashError(
        `The config file ${file} does not exist.`,
        'Check the path given with --config or LEASH_CONFIG, or remove it to use ./leash.config.yaml.',
      )
    return null
  }
  const sources = await loadConfigFile(file)
  const result = await syncConfiguredSources(db, sources)
  const relative = path.relative(options.cwd ?? process.cwd(), file) || file
  options.log?.(
    `config: ${relative}: ${sources.length} source(s) (${result.created} added, ${result.updated} updated${result.disabled ? `, ${result.disabled} no longer in the file and disabled` : ''}).`,
  )
  return { file, sources, ...result }
}
