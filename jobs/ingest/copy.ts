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
import type { BinaryCopyBuffer } from './binary-copy.js'

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

/** How many bytes of COPY text go into one chunk, and one write to the connection. */
const CHUNK_BYTES = 1 << 20
/** A buffer's first chunk is smaller: most batches of a quiet pass write little or nothing. */
const FIRST_CHUNK_BYTES = 64 << 10

/**
 * Collects rows as COPY text, encoded to UTF-8 as they come into chunks of up to 1 MB. A batch
 * waiting to be sent is then a few buffers outside the JavaScript heap, not thousands of small
 * strings that every young-generation collection would copy, and nothing is joined or encoded
 * again on the way to the socket (docs/decisions/032 and 040).
 */
export class CopyBuffer {
  private readonly done: Buffer[] = []
  private chunk: Buffer | null = null
  private used = 0
  private rows = 0

  row(fields: string[]): void {
    this.line(fields.join('\t'))
  }

  /** One row already in COPY text format (fields escaped, tab-separated, no newline). */
  line(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit; the newline takes one more.
    const most = text.length * 3 + 1
    if (this.chunk === null || this.used + most > this.chunk.length) this.next(most)
    const chunk = this.chunk!
    this.used += chunk.write(text, this.used, 'utf8')
    chunk[this.used++] = 0x0a
    this.rows += 1
  }

  get length(): number {
    return this.rows
  }

  /** The rows as newline-terminated chunks of UTF-8 COPY text. */
  chunks(): Buffer[] {
    this.close()
    return this.done
  }

  private next(atLeast: number): void {
    this.close()
    const size = this.done.length === 0 && atLeast <= FIRST_CHUNK_BYTES ? FIRST_CHUNK_BYTES : Math.max(CHUNK_BYTES, atLeast)
    this.chunk = Buffer.allocUnsafe(size)
  }

  private close(): void {
    if (this.chunk !== null && this.used > 0) this.done.push(this.chunk.subarray(0, this.used))
    this.chunk = null
    this.used = 0
  }
}

/** Streams the rows (text, or binary from binary-copy.ts) into `table (columns)`, one chunk of about 1 MB at a time. */
export async function copyRows(
  client: pg.PoolClient | pg.Client,
  table: string,
  columns: readonly string[],
  rows: CopyBuffer | BinaryCopyBuffer,
): Promise<void> {
  if (rows.length === 0) return
  const format = rows instanceof CopyBuffer ? '' : ' with (format binary)'
  const stream = client.query(copyFrom(`copy ${table} (${columns.join(', ')}) from stdin${format}`))
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
 * A COPY TO result as it came: its text, and where each line starts. A reader splits a line into
 * fields (lineFields) only when it needs that row, so a large result is one string and one typed
 * array until then, which the garbage collector never copies (docs/decisions/047).
 */
export interface CopyLines {
  text: string
  /** Lines (rows) in the result. */
  count: number
  /** Where line i starts, for i below count; entry `count` is where a next line would start. Line i ends before starts[i + 1] - 1. */
  starts: Int32Array
}

/**
 * Runs `select` (a query without parameters: COPY takes none, so callers inline only numbers
 * they have checked) as COPY … TO STDOUT and returns its text with its lines found. The whole
 * result is held at once, so this is for bounded reads such as one scoring batch.
 */
export async function copyOutLines(pool: pg.Pool, select: string): Promise<CopyLines> {
  const client = await pool.connect()
  let failed = false
  try {
    const chunks: Buffer[] = []
    for await (const chunk of client.query(copyTo(`copy (${select}) to stdout`))) chunks.push(chunk as Buffer)
    return copyLinesOf(Buffer.concat(chunks).toString('utf8'))
  } catch (error) {
    // A connection that failed mid-COPY may be unusable: let the pool discard it.
    failed = true
    throw error
  } finally {
    client.release(failed)
  }
}

/** COPY TO text with its lines found. */
export function copyLinesOf(text: string): CopyLines {
  let count = 0
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) count += 1
  // COPY ends every row with a newline; text after the last one would be a row without it.
  const unterminated = text.length > 0 && !text.endsWith('\n')
  if (unterminated) count += 1
  const starts = new Int32Array(count + 1)
  let line = 0
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) starts[++line] = at + 1
  if (unterminated) starts[count] = text.length + 1
  return { text, count, starts }
}

/** Line `index` of a COPY TO result as its fields, decoded. */
export function lineFields(lines: CopyLines, index: number): CopyOutRow {
  const line = lines.text.slice(lines.starts[index]!, lines.starts[index + 1]! - 1)
  const fields: CopyOutRow = line.split('\t')
  // Decoded in place, and only in a line with a backslash (an escape or a NULL): most have none.
  if (line.includes('\\')) {
    for (let field = 0; field < fields.length; field += 1) {
      const value = fields[field]!
      if (value.includes('\\')) fields[field] = decodeCopyField(value)
    }
  }
  return fields
}

/**
 * Field `field` (the first by default) of line `index` of a COPY TO result as a whole number,
 * read without making a string: the identity and row ids by which a batch's child rows are grouped.
 */
export function leadingInteger(lines: CopyLines, index: number, field = 0): number {
  const { text, starts } = lines
  let at = starts[index]!
  const end = starts[index + 1]! - 1
  for (let skip = field; skip > 0; skip -= 1) {
    at = text.indexOf('\t', at) + 1
    if (at === 0 || at > end) throw new Error(`Line ${index} of a COPY result has no field ${field}.`)
  }
  let value = 0
  let digits = 0
  for (; at < end; at += 1) {
    const code = text.charCodeAt(at)
    if (code === 9) break
    if (code < 48 || code > 57) throw new Error(`Field ${field} of line ${index} of a COPY result is not a whole number.`)
    value = value * 10 + (code - 48)
    digits += 1
  }
  if (digits === 0) throw new Error(`Field ${field} of line ${index} of a COPY result is empty or NULL, not a whole number.`)
  return value
}

/** Runs `select` as COPY … TO STDOUT and returns its rows (see copyOutLines). */
export async function copyOut(pool: pg.Pool, select: string): Promise<CopyOutRow[]> {
  const lines = await copyOutLines(pool, select)
  const rows: CopyOutRow[] = new Array(lines.count)
  for (let index = 0; index < lines.count; index += 1) rows[index] = lineFields(lines, index)
  return rows
}
