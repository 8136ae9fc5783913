import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { useTestDatabase } from '../../test/db.js'
import { CopyBuffer, copyField, copyJson, copyOut, copyRows, decodeCopyField } from './copy.js'

const database = useTestDatabase()

/** What PostgreSQL's COPY text format makes of a field (the reverse of the escaping). */
function copyDecode(field: string): string | null {
  if (field === '\\N') return null
  return field.replace(/\\(.)/g, (_, char: string) => ({ t: '\t', n: '\n', r: '\r' })[char] ?? char)
}

describe('COPY text fields', () => {
  it('a JSON field has no raw tab, newline or CR and decodes to the JSON text, whatever the value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: 'binary' }), (value, text) => {
        for (const input of [value, { text }, [text, value]]) {
          const field = copyJson(input)
          expect(field).not.toMatch(/[\t\n\r]/)
          expect(copyDecode(field)).toBe(JSON.stringify(input))
        }
      }),
    )
  })

  it('escapes backslash, tab, newline and CR in a text field, and writes NULL as \\N', () => {
    expect(copyField('a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re')
    expect(copyDecode(copyField('a\\b\tc\nd\re'))).toBe('a\\b\tc\nd\re')
    expect(copyField(null)).toBe('\\N')
    expect(copyJson(undefined)).toBe('null')
  })

  it('a buffer keeps every row, in order, as UTF-8 in chunks of at most 1 MB', () => {
    const buffer = new CopyBuffer()
    const lines = Array.from({ length: 5000 }, (_, index) => `${index}\t${'x'.repeat(500)}`)
    for (const line of lines.slice(0, 2500)) buffer.line(line)
    buffer.row(['2500', 'x'.repeat(500)])
    for (const line of lines.slice(2501)) buffer.line(line)
    const chunks = buffer.chunks()
    expect(buffer.length).toBe(5000)
    // A first chunk of 64 KB, then chunks of 1 MB: 2.5 MB of rows.
    expect(chunks.length).toBe(4)
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(1 << 20)
      expect(chunk.at(-1)).toBe(0x0a)
    }
    expect(Buffer.concat(chunks).toString('utf8')).toBe(lines.join('\n') + '\n')
  })

  it('a buffer encodes text beyond ASCII and a row larger than a chunk', () => {
    const buffer = new CopyBuffer()
    const rows = ['é\t😀', 'ü'.repeat(700_000), '中文\t\\N']
    for (const row of rows) buffer.line(row)
    expect(Buffer.concat(buffer.chunks()).toString('utf8')).toBe(rows.join('\n') + '\n')
    expect(new CopyBuffer().chunks()).toEqual([])
  })
})

describe('COPY TO STDOUT (copyOut)', () => {
  // Any text PostgreSQL can store (no NUL), with the characters COPY escapes made likely.
  const text = fc.oneof(
    fc.string({ unit: 'binary' }).map((value) => value.replaceAll('\u0000', '')),
    fc.string({ unit: fc.constantFrom('\\', '\t', '\n', '\r', '\b', '\f', '\v', '\u0001', '\u001f', 'N', 'a', 'é', '😀', ' ') }),
  )

  it('reads back exactly what was stored, whatever the text, NULLs and JSON included', async () => {
    const pool = database.current.pool
    await pool.query('create table copy_out_check (n int, t text, j json, b boolean)')
    const rowsOf = fc.array(fc.tuple(fc.option(text), fc.option(fc.jsonValue()), fc.option(fc.boolean())), { maxLength: 30 })
    await fc.assert(
      fc.asyncProperty(rowsOf, async (rows) => {
        await pool.query('truncate copy_out_check')
        const buffer = new CopyBuffer()
        rows.forEach(([t, j, b], index) => buffer.row([String(index), copyField(t), j === null ? '\\N' : copyJson(j), copyField(b)]))
        const client = await pool.connect()
        try {
          await copyRows(client, 'copy_out_check', ['n', 't', 'j', 'b'], buffer)
        } finally {
          client.release()
        }
        const read = await copyOut(pool, 'select n, t, j, b from copy_out_check order by n')
        // What the driver reads through the ordinary protocol is the reference.
        const expected = await pool.query<{ n: number; t: string | null; j: string | null; b: boolean | null }>(
          'select n, t, j::text as j, b from copy_out_check order by n',
        )
        expect(read).toEqual(expected.rows.map((row) => [String(row.n), row.t, row.j, row.b === null ? null : row.b ? 't' : 'f']))
        expect(read.map((row) => row[1])).toEqual(rows.map(([t]) => t))
      }),
      { numRuns: 60 },
    )
  })

  it('reads a result of many chunks whole: rows and multi-byte characters split across chunks come back intact', async () => {
    const pool = database.current.pool
    // ~3 MB of rows of varied widths, so chunk boundaries fall inside rows and inside 2-, 3- and 4-byte characters.
    const select = `select g, repeat(chr(233) || 'x' || chr(8364) || chr(128512) || E'\\t\\\\', g % 97), case when g % 5 = 0 then null else 'n' || g end
      from generate_series(1, 12000) g order by g`
    const read = await copyOut(pool, select)
    const expected = await pool.query<{ g: number; repeat: string; case: string | null }>(select)
    expect(read.length).toBe(12000)
    expect(read).toEqual(expected.rows.map((row) => [String(row.g), row.repeat, row.case]))
  })

  it('returns no rows for an empty result, and one empty field for an empty string', async () => {
    const pool = database.current.pool
    expect(await copyOut(pool, 'select 1 where false')).toEqual([])
    expect(await copyOut(pool, "select ''")).toEqual([['']])
    expect(await copyOut(pool, "select null::text, 'a'")).toEqual([[null, 'a']])
  })

  it('decodes every escape COPY writes', () => {
    expect(decodeCopyField('\\N')).toBeNull()
    expect(decodeCopyField('a\\\\b\\tc\\nd\\re\\bf\\fg\\vh')).toBe('a\\b\tc\nd\re\bf\fg\vh')
    expect(decodeCopyField('\\\\N')).toBe('\\N')
  })

  it('fails with PostgreSQL\'s message and leaves the pool usable', async () => {
    const pool = database.current.pool
    await expect(copyOut(pool, 'select no_such_column from copy_out_check')).rejects.toThrow(/no_such_column/)
    expect(await copyOut(pool, 'select 42')).toEqual([['42']])
  })
})
