import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { useTestDatabase } from '../../test/db.js'
import { BinaryCopyBuffer, fieldBlock } from './binary-copy.js'
import { copyRows } from './copy.js'

const database = useTestDatabase()

interface Row {
  big: number | null
  int: number | null
  small: number | null
  real: number | null
  flag: boolean | null
  at: number | null
  text: string | null
  json: unknown
}

const COLUMNS = ['n', 'big', 'int', 'small', 'real', 'flag', 'at', 'text', 'json', 'shared_text', 'shared_at'] as const
const SHARED_AT = Date.UTC(2026, 11, 7, 6, 40, 51, 359)

/** Any text PostgreSQL can store (no NUL), multi-byte and astral characters made likely. */
const text = fc.oneof(
  fc.string({ unit: 'binary' }).map((value) => value.replaceAll('\u0000', '')),
  fc.string({ unit: fc.constantFrom('a', 'é', '中', '😀', '\\', '\t', '\n', 'N') }),
)
const row: fc.Arbitrary<Row> = fc.record({
  big: fc.option(fc.maxSafeInteger().filter((value) => value >= Number.MIN_SAFE_INTEGER)),
  int: fc.option(fc.integer()),
  small: fc.option(fc.integer({ min: -32768, max: 32767 })),
  real: fc.option(fc.float({ noNaN: true, noDefaultInfinity: true })),
  flag: fc.option(fc.boolean()),
  // Whole milliseconds from year 1800 to 2200, as a JavaScript Date holds them.
  at: fc.option(fc.integer({ min: Date.UTC(1800, 0, 1), max: Date.UTC(2200, 0, 1) })),
  text: fc.option(text),
  json: fc.jsonValue(),
})

function write(buffer: BinaryCopyBuffer, rows: Row[], shared: Buffer): void {
  rows.forEach((r, index) => {
    buffer
      .row(COLUMNS.length)
      .int4(index)
      .int8(r.big)
      .int4(r.int)
      .int2(r.small)
      .float4(r.real)
      .bool(r.flag)
      .timestamptz(r.at)
      .text(r.text)
      .text(JSON.stringify(r.json))
      .block(shared)
  })
}

describe('binary COPY rows (BinaryCopyBuffer)', () => {
  it('PostgreSQL reads back exactly what was written, whatever the values, NULLs included', async () => {
    const pool = database.current.pool
    await pool.query(`create table binary_copy_check (n int, big int8, int int4, small int2, real real, flag boolean, at timestamptz,
      text text, json json, shared_text text, shared_at timestamptz)`)
    const shared = fieldBlock((fields) => fields.text('rule_é').timestamptz(SHARED_AT))
    await fc.assert(
      fc.asyncProperty(fc.array(row, { maxLength: 25 }), async (rows) => {
        await pool.query('truncate binary_copy_check')
        const buffer = new BinaryCopyBuffer()
        write(buffer, rows, shared)
        const client = await pool.connect()
        try {
          await copyRows(client, 'binary_copy_check', COLUMNS, buffer)
        } finally {
          client.release()
        }
        const read = await pool.query<Record<string, unknown>>(
          `select big::text, int, small, real::float8 as real, flag, (extract(epoch from at) * 1000)::float8 as at, text, json::text as json,
             shared_text, (extract(epoch from shared_at) * 1000)::float8 as shared_at
           from binary_copy_check order by n`,
        )
        expect(read.rows).toEqual(
          rows.map((r) => ({
            big: r.big === null ? null : String(r.big),
            int: r.int,
            small: r.small,
            real: r.real === null ? null : Math.fround(r.real),
            flag: r.flag,
            at: r.at,
            text: r.text,
            json: JSON.stringify(r.json),
            shared_text: 'rule_é',
            shared_at: SHARED_AT,
          })),
        )
      }),
      { numRuns: 40 },
    )
  })

  it('spreads rows over chunks of at most 1 MB, a field larger than a chunk included, and can be sent twice', async () => {
    const pool = database.current.pool
    await pool.query('create table binary_copy_large (n int8, t text)')
    const buffer = new BinaryCopyBuffer()
    const values = Array.from({ length: 4000 }, (_, index) => `${index}:${'ü'.repeat(index % 7 === 0 ? 600 : 60)}`)
    values.push('中'.repeat(700_000))
    values.forEach((value, index) => buffer.row(2).int8(index).text(value))
    const chunks = buffer.chunks()
    expect(chunks.length).toBeGreaterThan(2)
    for (const chunk of chunks.slice(0, -2)) expect(chunk.length).toBeLessThanOrEqual(1 << 20)
    expect(buffer.chunks()).toBe(chunks)
    const client = await pool.connect()
    try {
      // A batch rolled back is written again from the same buffer (scoring/write.ts).
      await client.query('begin')
      await copyRows(client, 'binary_copy_large', ['n', 't'], buffer)
      await client.query('rollback')
      await copyRows(client, 'binary_copy_large', ['n', 't'], buffer)
    } finally {
      client.release()
    }
    const read = await pool.query<{ t: string }>('select t from binary_copy_large order by n')
    expect(read.rows.map((r) => r.t)).toEqual(values)
  })

  it('refuses a number it cannot write exactly, and rows after the buffer was sent', () => {
    expect(() => new BinaryCopyBuffer().row(1).int8(2 ** 53)).toThrow(/whole number for an int8 field, got 9007199254740992/)
    expect(() => new BinaryCopyBuffer().row(1).int8(1.5)).toThrow(/whole number/)
    expect(() => new BinaryCopyBuffer().row(1).timestamptz(Date.UTC(2300, 0, 1))).toThrow(/as a timestamp to the microsecond/)
    const buffer = new BinaryCopyBuffer()
    buffer.row(1).int8(1)
    buffer.chunks()
    expect(() => buffer.row(1)).toThrow(/already finished/)
    expect(new BinaryCopyBuffer().chunks()).toEqual([])
  })

  it('writes an invalid Date as NULL, as COPY text did', async () => {
    const pool = database.current.pool
    await pool.query('create table binary_copy_dates (at timestamptz)')
    const buffer = new BinaryCopyBuffer()
    buffer.row(1).timestamptz(new Date('not a date').getTime())
    const client = await pool.connect()
    try {
      await copyRows(client, 'binary_copy_dates', ['at'], buffer)
    } finally {
      client.release()
    }
    expect((await pool.query('select at from binary_copy_dates')).rows).toEqual([{ at: null }])
  })
})
