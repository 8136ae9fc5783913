/**
 * COPY in PostgreSQL's text format, over pg-copy-streams, both ways. FROM STDIN is the fastest
 * way to move many rows into PostgreSQL from Node: no per-row parameters, no 65,535-parameter
 * limit. TO STDOUT is the cheapest way to read many small rows out: PostgreSQL only runs each
 * column's output function, and Node splits text instead of the driver building an object per
 * row (docs/decisions/033).
 */
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import type pg from 'pg'
import { from as copyFrom, to as copyTo } from 'pg-copy-streams'

export type CopyValue = string | number | boolean | Date | null | undefined

const SPECIAL = /[\\\t\n\r]/

/** One field in COPY text format: NULL is \N; backslash, tab, newline and CR are escaped. */
export function copyField(value: CopyValue): string {
  if (value === null || value === undefined) return '\\N'
  if (typeof value === 'string') {
    return SPECIAL.test(value) ? value.replace(/[\\\t\n\r]/g, escapeChar) : value
  }
  if (typeof value === 'boolean') return value ? 't' : 'f'
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '\\N'
  return Number.isNaN(value.getTime()) ? '\\N' : value.toISOString()
}

function escapeChar(char: string): string {
  switch (char) {
    case '\\':
      return '\\\\'
    case '\t':
      return '\\t'
    case '\n':
      return '\\n'
    default:
      return '\\r'
  }
}

/** A json or jsonb field: JSON text, escaped for COPY. */
export function copyJson(value: unknown): string {
  const text: string | undefined = JSON.stringify(value ?? null)
  return text === undefined ? '\\N' : copyJsonText(text)
}

/** JSON text already made by JSON.stringify, escaped for COPY. */
export function copyJsonText(text: string): string {
  // JSON.stringify escapes every control character (tab, newline and CR included), so the
  // backslash is the only character left that COPY's text format needs escaped.
  return text.includes('\\') ? text.replaceAll('\\', '\\\\') : text
}

/** About how much COPY text goes into one string, and one write to the connection. */
const CHUNK_CHARS = 1 << 20

/**
 * Collects rows as COPY text, joined into chunks of about 1 MB as they come. A batch waiting
 * to be sent is then a few large strings rather than one small string per row: the young
 * generation of the garbage collector copies every small object still alive each time it
 * runs, so many small strings held across a write cost far more than a few large ones.
 */
export class CopyBuffer {
  private readonly done: string[] = []
  private pending: string[] = []
  private pendingChars = 0
  private rows = 0

  row(fields: string[]): void {
    this.line(fields.join('\t'))
  }

  /** One row already in COPY text format (fields escaped, tab-separated, no newline). */
  line(text: string): void {
    this.pending.push(text)
    this.pendingChars += text.length + 1
    this.rows += 1
    if (this.pendingChars >= CHUNK_CHARS) this.flush()
  }

  get length(): number {
    return this.rows
  }

  /** The rows as newline-terminated chunks of COPY text. */
  chunks(): string[] {
    this.flush()
    return this.done
  }

  private flush(): void {
    if (this.pending.length === 0) return
    this.done.push(this.pending.join('\n') + '\n')
    this.pending = []
    this.pendingChars = 0
  }
}

/** Streams the rows into `table (columns)`, one chunk of about 1 MB at a time. */
export async function copyRows(client: pg.PoolClient | pg.Client, table: string, columns: readonly string[], rows: CopyBuffer): Promise<void> {
  if (rows.length === 0) return
  const stream = client.query(copyFrom(`copy ${table} (${columns.join(', ')}) from stdin`))
  await pipeline(Readable.from(rows.chunks()), stream)
}

/** A row read with copyOut: its fields in select-list order, null for SQL NULL. */
export type CopyOutRow = (string | null)[]

const ESCAPED: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' }

/**
 * One field of COPY TO's text format back to its value. PostgreSQL writes NULL as \N and
 * escapes only the backslash, the delimiter (tab) and the control characters \b \f \n \r \t \v;
 * every other character stands as it is.
 */
export function decodeCopyField(field: string): string | null {
  if (field === '\\N') return null
  if (!field.includes('\\')) return field
  return field.replace(/\\(.)/gs, (_, char: string) => ESCAPED[char] ?? char)
}

/**
 * Runs `select` (a query without parameters: COPY takes none, so callers inline only numbers
 * they have checked) as COPY … TO STDOUT and returns its rows. The whole result is held at
 * once, so this is for bounded reads such as one scoring batch.
 */
export async function copyOut(pool: pg.Pool, select: string): Promise<CopyOutRow[]> {
  const client = await pool.connect()
  let failed = false
  try {
    const chunks: Buffer[] = []
    for await (const chunk of client.query(copyTo(`copy (${select}) to stdout`))) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    const rows: CopyOutRow[] = []
    let start = 0
    while (start < text.length) {
      let end = text.indexOf('\n', start)
      if (end < 0) end = text.length
      const line = text.slice(start, end)
      const fields: CopyOutRow = line.split('\t')
      // Decoded in place, and only in a line with a backslash (an escape or a NULL): most have none.
      if (line.includes('\\')) {
        for (let index = 0; index < fields.length; index += 1) {
          const field = fields[index]!
          if (field.includes('\\')) fields[index] = decodeCopyField(field)
        }
      }
      rows.push(fields)
      start = end + 1
    }
    return rows
  } catch (error) {
    // A connection that failed mid-COPY may be unusable: let the pool discard it.
    failed = true
    throw error
  } finally {
    client.release(failed)
  }
}
