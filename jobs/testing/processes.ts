/** Runs `node bin/leash.js …` as a real child process against a test database. */
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'

export const ROOT = path.resolve(import.meta.dirname, '..', '..')
export const TEST_PROVIDER_MODULE = path.join(ROOT, 'jobs', 'testing', 'test-provider.ts')

export interface LeashProcess {
  child: ChildProcess
  output(): string
  exited: Promise<number | null>
}

export function spawnLeash(args: string[], env: Record<string, string>): LeashProcess {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'leash.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, LEASH_TEST_PROVIDER_MODULE: TEST_PROVIDER_MODULE, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, output: () => output, exited }
}

export async function waitFor<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
