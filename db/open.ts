/**
 * Opens Leash's database: DATABASE_URL when set, otherwise the embedded PostgreSQL.
 * Connection problems become one clear LeashError naming the host and what to check.
 */
import { LeashError } from '../cli/errors.js'
import { connectDatabase, type DatabaseHandle } from './connection.js'
import { startEmbeddedDatabase, type EmbeddedDatabase } from './embedded.js'
import { migrateToLatest } from './migrate.js'

export interface OpenDatabase extends DatabaseHandle {
  embedded: EmbeddedDatabase | null
}

export interface OpenOptions {
  migrate?: boolean
  log?: (line: string) => void
  poolSize?: number
  applicationName?: string
  /** Overrides DATABASE_URL (tests). */
  url?: string
}

export async function openDatabase(options: OpenOptions = {}): Promise<OpenDatabase> {
  const log = options.log ?? (() => {})
  const configured = options.url ?? process.env.DATABASE_URL
  let embedded: EmbeddedDatabase | null = null
  let url: string
  if (configured && configured.trim() !== '') {
    url = configured.trim()
    assertUsableUrl(url)
  } else {
    embedded = await startEmbeddedDatabase({ log })
    url = embedded.url
  }
  const handle = connectDatabase(url, { max: options.poolSize, applicationName: options.applicationName })
  try {
    await handle.pool.query('select 1')
  } catch (error) {
    await handle.close().catch(() => {})
    await embedded?.stop().catch(() => {})
    throw explainConnectionError(url, error, embedded ? 'embedded' : 'DATABASE_URL')
  }
  if (options.migrate !== false) {
    await migrateToLatest(handle.db)
  }
  return {
    ...handle,
    embedded,
    async close() {
      await handle.close()
      await embedded?.stop()
    },
  }
}

function assertUsableUrl(url: string): void {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new LeashError(
      'DATABASE_URL is not a valid URL.',
      'Use the form postgres://USER:PASSWORD@HOST:5432/DATABASE, or unset DATABASE_URL to use the embedded database.',
    )
  }
  if (!['postgres:', 'postgresql:'].includes(parsed.protocol)) {
    throw new LeashError(
      `DATABASE_URL uses the scheme "${parsed.protocol}", not postgres:.`,
      'Use the form postgres://USER:PASSWORD@HOST:5432/DATABASE.',
    )
  }
}

/**
 * Maps driver errors to one line that names the host and what to check. `setting` is the
 * variable the URL came from (DATABASE_URL, or a benchmark's LEASH_BENCH_DATABASE_URL), or
 * 'embedded' for the embedded PostgreSQL.
 */
export function explainConnectionError(url: string, error: unknown, setting: 'embedded' | 'DATABASE_URL' | 'LEASH_BENCH_DATABASE_URL'): LeashError {
  const parsed = new URL(url)
  const where = `${parsed.hostname}:${parsed.port || '5432'}`
  const origin = setting === 'embedded' ? 'the embedded PostgreSQL' : setting
  const variable = setting === 'embedded' ? 'DATABASE_URL' : setting
  const code = (error as { code?: string }).code
  const user = decodeURIComponent(parsed.username || 'postgres')
  const database = parsed.pathname.replace(/^\//, '') || user
  switch (code) {
    case 'ECONNREFUSED':
      return new LeashError(`Cannot reach PostgreSQL at ${where} (${origin}): connection refused.`, `Check that the server is running and that the host and port in ${variable} are right.`)
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new LeashError(`Cannot reach PostgreSQL at ${where} (${origin}): the host name does not resolve.`, `Check the host name in ${variable}.`)
    case 'ETIMEDOUT':
      return new LeashError(`Cannot reach PostgreSQL at ${where} (${origin}): the connection timed out.`, 'Check the host, the port and any firewall between Leash and the server.')
    case '28P01':
    case '28000':
      return new LeashError(`PostgreSQL at ${where} refused the login of user "${user}" (${origin}).`, `Check the user name and password in ${variable}, and the server's pg_hba.conf.`)
    case '3D000':
      return new LeashError(`PostgreSQL at ${where} has no database "${database}" (${origin}).`, `Create it (createdb -h ${parsed.hostname} ${database}) or name an existing one in ${variable}.`)
    default: {
      const message = error instanceof Error ? error.message : String(error)
      if (/timeout/i.test(message)) {
        return new LeashError(`Cannot reach PostgreSQL at ${where} (${origin}): the connection timed out.`, 'Check the host, the port and any firewall between Leash and the server.')
      }
      return new LeashError(`Cannot use PostgreSQL at ${where} (${origin}): ${message}`, `Check ${variable} and that the server is PostgreSQL 14 or newer.`)
    }
  }
}
