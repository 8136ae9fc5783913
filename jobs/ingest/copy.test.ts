import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CopyBuffer, copyField, copyJson } from './copy.js'

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

  it('a buffer keeps every row, in order, in chunks of about 1 MB', () => {
    const buffer = new CopyBuffer()
    const lines = Array.from({ length: 5000 }, (_, index) => `${index}\t${'x'.repeat(500)}`)
    for (const line of lines.slice(0, 2500)) buffer.line(line)
    buffer.row(['2500', 'x'.repeat(500)])
    for (const line of lines.slice(2501)) buffer.line(line)
    const chunks = buffer.chunks()
    expect(buffer.length).toBe(5000)
    expect(chunks.length).toBe(3)
    for (const chunk of chunks) expect(chunk.endsWith('\n')).toBe(true)
    expect(chunks.join('')).toBe(lines.join('\n') + '\n')
  })
})
