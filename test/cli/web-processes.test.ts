/**
 * `leash start` serves the built app on several web processes (cli/web-processes.ts): they
 * share the port, a dead one is replaced, and stopping Leash stops them all.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { createDatabaseFromTemplate } from '../database.js'

const LEASH = path.resolve(import.meta.dirname, '..', '..', 'bin', 'leash.js')

/** Process ids of a process's children (Linux). */
function childrenOf(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim()
  return text === '' ? [] : text.split(/\s+/).map(Number)
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function until<T>(what: string, check: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** GET on a new connection each time (a kept-alive one could belong to a process the test killed), failing after 10 s. */
function status(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, timeout: 10_000 }, (response) => {
        response.resume()
        resolve(response.statusCode ?? 0)
      })
      .on('timeout', function (this: http.ClientRequest) {
        this.destroy(new Error(`no answer from ${url} within 10 s`))
      })
      .on('error', reject)
  })
}

let app: ChildProcess | null = null
let drop: (() => Promise<void>) | null = null

afterEach(async () => {
  if (app && app.exitCode === null) {
    app.kill('SIGKILL')
    for (const pid of app.pid ? childrenOf(app.pid) : []) process.kill(pid, 'SIGKILL')
  }
  app = null
  await drop?.()
  drop = null
})

describe('leash start with several web processes', () => {
  it('runs three web processes on one port, keeps answering when one dies and replaces it, and stops them all', async () => {
    const database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'), { max: 1 })
    drop = () => database.drop()
    let output = ''
    app = spawn(process.execPath, [LEASH, 'start', '--port', '0', '--host', '127.0.0.1'], {
      env: { ...process.env, DATABASE_URL: database.url, LEASH_DEMO: '0', LEASH_WEB_PROCESSES: '3' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    app.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
    app.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const url = await until('ready', () => /ready: (http:\/\/\S+) \(3 web processes\)/.exec(output)?.[1]?.replace('localhost', '127.0.0.1'), 180_000)
    const primary = app.pid!
    const web = childrenOf(primary)
    expect(web).toHaveLength(3)

    // Many requests at once on one port: every one answered.
    const statuses = await Promise.all(Array.from({ length: 30 }, () => status(`${url}/login`)))
    expect(statuses.every((status) => status === 200)).toBe(true)

    // A web process that dies: once the main process has seen it go (a connection handed to it
    // at the moment it died is lost with it), the others answer, and it is replaced.
    process.kill(web[0]!, 'SIGKILL')
    await until('the main process to see the web process exit', () => /exited \(SIGKILL\); starting another/.test(output))
    expect(await status(`${url}/login`)).toBe(200)
    const replaced = await until('a replacement web process', () => {
      const now = childrenOf(primary)
      return now.length === 3 && !now.includes(web[0]!) ? now : undefined
    })
    expect(await status(`${url}/login`)).toBe(200)

    // Stopping Leash stops every web process, and it exits cleanly.
    const exited = new Promise<number | null>((resolve) => app!.once('exit', (code) => resolve(code)))
    app.kill('SIGTERM')
    expect(await exited).toBe(143)
    await until('every web process to stop', () => replaced.every((pid) => !isRunning(pid)))
  }, 240_000) // A first start builds the app; on a busy 2-core machine that alone can take a minute.
})
