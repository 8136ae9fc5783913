/**
 * COPY … FROM STDIN in PostgreSQL's text format, over pg-copy-streams. The fastest way to
 * move many rows into PostgreSQL from Node: no per-row parameters, no 65,535-parameter limit.
 */
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import type pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'

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
  if (text === undefined) return '\\N'
  // JSON.stringify escapes every control character (tab, newline and CR included), so the
  // backslash is the only character left that COPY's text format needs escaped.
  return text.includes('\\') ? text.replaceAll('\\', '\\\\') : text
}

/** Collects rows as COPY text lines; `copyRows` sends them. */
export class CopyBuffer {
  readonly lines: string[] = []
  row(fields: string[]): void {
    this.lines.push(fields.join('\t'))
  }
  /** One row already in COPY text format (fields escaped, tab-separated, no newline). */
  line(text: string): void {
    this.lines.push(text)
  }
  get length(): number {
    return this.lines.length
  }
}

/**
 * Streams the rows into `table (columns)`. Sent in chunks of about 1 MB so a large batch is
 * never one giant string.
 */
export async function copyRows(client: pg.PoolClient | pg.Client, table: string, columns: readonly string[], rows: CopyBuffer | string[]): Promise<void> {
  const lines = Array.isArray(rows) ? rows : rows.lines
  if (lines.length === 0) return
  const stream = client.query(copyFrom(`copy ${table} (${columns.join(', ')}) from stdin`))
  await pipeline(Readable.from(chunks(lines)), stream)
}

function* chunks(lines: string[]): Generator<string> {
  let chunk: string[] = []
  let size = 0
  for (const line of lines) {
    chunk.push(line)
    size += line.length + 1
    if (size >= 1 << 20) {
      yield chunk.join('\n') + '\n'
      chunk = []
      size = 0
    }
  }
  if (chunk.length > 0) yield chunk.join('\n') + '\n'
}
