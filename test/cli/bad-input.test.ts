/**
 * The foundation's bad-input promises, through the real `leash` command: one clear line
 * naming the problem and what to do, a non-zero exit, no stack trace, nothing deleted.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, inject, it } from 'vitest'
import { createDatabaseFromTemplate } from '../database.js'

const run = promisify(execFile)
const LEASH = path.resolve(import.meta.dirname, '..', '..', 'bin', 'leash.js')

async function leash(args: string[], options: { env?: Record<string, string | undefined>; cwd?: string } = {}) {
  const env = { ...process.env, ...options.env }
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key]
  try {
    const { stdout, stderr } = await run(process.execPath, [LEASH, ...args], { env, cwd: options.cwd, timeout: 60_000 })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string }
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr }
  }
}

function expectNoStackTrace(text: string) {
  expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/)
}

describe('leash with bad input', () => {
  it('names the host and what to check when DATABASE_URL is unreachable', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const port = (server.address() as net.AddressInfo).port
        server.close(() => resolve(port))
      })
    })
    const result = await leash(['migrate'], { env: { DATABASE_URL: `postgres://postgres@127.0.0.1:${closedPort}/leash` } })
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain(`127.0.0.1:${closedPort}`)
    expect(result.stderr).toMatch(/connection refused/)
    expect(result.stderr).toMatch(/Check that the server is running/)
    expectNoStackTrace(result.stderr)
  })

  it('says which user was refused when authentication fails', async () => {
    const admin = new URL(inject('adminDatabaseUrl'))
    admin.username = 'no_such_leash_user'
    admin.password = 'wrong'
    const result = await leash(['migrate'], { env: { DATABASE_URL: admin.toString() } })
    expect(result.code).not.toBe(0)
    // Trust-auth servers reject an unknown role with 28000 as well: either way the user is named.
    expect(result.stderr).toMatch(/no_such_leash_user/)
    expectNoStackTrace(result.stderr)
  })

  it('names a missing database, and the variable that named it, for leash and for the benchmarks', async () => {
    const missing = new URL(inject('adminDatabaseUrl'))
    missing.pathname = '/leash_no_such_database'
    const result = await leash(['migrate'], { env: { DATABASE_URL: missing.toString() } })
    expect(result.code).not.toBe(0)
    expect(result.stderr).toMatch(/has no database "leash_no_such_database" \(DATABASE_URL\)/)
    expect(result.stderr).toMatch(/createdb -h 127\.0\.0\.1 leash_no_such_database/)
    expectNoStackTrace(result.stderr)

    const bench = path.resolve(import.meta.dirname, '..', '..', 'bin', 'bench.js')
    const failed = await run(process.execPath, [bench, 'score', '--identities', '10'], {
      env: { ...process.env, LEASH_BENCH_DATABASE_URL: missing.toString() },
      timeout: 60_000,
    }).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    )
    expect(failed?.code).toBe(1)
    expect(failed?.stderr).toMatch(/has no database "leash_no_such_database" \(LEASH_BENCH_DATABASE_URL\)/)
    expect(failed?.stderr).toMatch(/name an existing one in LEASH_BENCH_DATABASE_URL/)
    expectNoStackTrace(failed?.stderr ?? '')
  })

  it('rejects a DATABASE_URL that is not a postgres URL', async () => {
    const result = await leash(['migrate'], { env: { DATABASE_URL: 'mysql://localhost/leash' } })
    expect(result.code).not.toBe(0)
    expect(result.stderr).toMatch(/DATABASE_URL uses the scheme "mysql:"/)
  })

  it('says which port is taken and how to choose another', async () => {
    const blocker = net.createServer()
    const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port)))
    const database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'), { max: 1 })
    try {
      const result = await leash(['start', '--port', String(port), '--host', '127.0.0.1'], { env: { DATABASE_URL: database.url, LEASH_DEMO: '0' } })
      expect(result.code).not.toBe(0)
      expect(result.stderr).toContain(`Port ${port} is already in use`)
      expect(result.stderr).toContain('PORT=')
      expectNoStackTrace(result.stderr)
    } finally {
      blocker.close()
      await database.drop()
    }
  })

  it.each([
    { setting: 'number of web processes', name: 'LEASH_WEB_PROCESSES', value: 'many', example: 'LEASH_WEB_PROCESSES=2' },
    { setting: 're-evaluation interval', name: 'LEASH_REEVALUATE_HOURS', value: 'daily', example: 'LEASH_REEVALUATE_HOURS=24' },
    { setting: 'number of scoring threads', name: 'LEASH_SCORING_THREADS', value: 'all', example: 'LEASH_SCORING_THREADS=1' },
  ])('explains a wrong $setting ($name) before it starts anything', async ({ name, value, example }) => {
    const result = await leash(['start', '--port', '0'], { env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/unused', [name]: value } })
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain(`${name} is "${value}"`)
    expect(result.stderr).toContain(example)
    expectNoStackTrace(result.stderr)
  })

  it('refuses a foreign embedded data directory, names it, and leaves it untouched', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'leash-foreign-'))
    const dataDir = path.join(cwd, '.leash', 'postgres')
    await mkdir(dataDir, { recursive: true })
    await writeFile(path.join(dataDir, 'precious.txt'), 'not a database')
    const result = await leash(['migrate'], { cwd, env: { DATABASE_URL: undefined } })
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain(dataDir)
    expect(result.stderr).toMatch(/not created by Leash|corrupt or foreign/)
    expect(existsSync(path.join(dataDir, 'precious.txt'))).toBe(true)
    expect(await readFile(path.join(dataDir, 'precious.txt'), 'utf8')).toBe('not a database')
  })

  it('explains an invalid port', async () => {
    const result = await leash(['start', '--port', 'eighty'], { env: { DATABASE_URL: inject('adminDatabaseUrl') } })
    expect(result.code).not.toBe(0)
    expect(result.stderr).toMatch(/"eighty" is not a valid port/)
  })

  it('has --help for every command', async () => {
    const top = await leash(['--help'])
    expect(top.code).toBe(0)
    const commands = [...top.stdout.matchAll(/^ {2}([a-z-]+)\b/gm)].map((m) => m[1]!).filter((c) => c !== 'help')
    expect(commands).toEqual(expect.arrayContaining(['start', 'migrate']))
    for (const command of commands) {
      const help = await leash([command, '--help'])
      expect(help.code, `leash ${command} --help`).toBe(0)
      expect(help.stdout).toMatch(/Usage: leash/)
    }
  })
})
