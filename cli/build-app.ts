/**
 * Builds the Remix app when the build is missing or older than its sources, so that a fresh
 * clone's `npm start` works without a separate build step. Two Leash processes starting at once
 * (tests do) take turns through a lock file: a build empties build/ first, and the other would
 * otherwise load a half-written app.
 */
import { spawn } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import lockfile from 'proper-lockfile'
import { LeashError } from './errors.js'
import { PROJECT_ROOT } from './web-server.js'

const SOURCE_DIRS = ['app', 'db', 'connectors', 'scoring', 'jobs']
const BUILD_LOCK = path.join(PROJECT_ROOT, '.leash-build.lock')

export async function ensureAppBuilt(log: (line: string) => void): Promise<void> {
  if (await isBuildCurrent()) return
  // The lock is refreshed while held; one left by a killed process is taken over after 30 s.
  const release = await lockfile.lock(PROJECT_ROOT, {
    lockfilePath: BUILD_LOCK,
    stale: 30_000,
    retries: { retries: 600, minTimeout: 500, maxTimeout: 1_000 },
  })
  try {
    // Another process may have built it while this one waited.
    if (await isBuildCurrent()) return
    await build(log)
  } finally {
    await release()
  }
}

async function isBuildCurrent(): Promise<boolean> {
  const entry = path.join(PROJECT_ROOT, 'build', 'server', 'index.js')
  if (!existsSync(entry)) return false
  const builtAt = statSync(entry).mtimeMs
  const newest = await newestMtime(SOURCE_DIRS.map((dir) => path.join(PROJECT_ROOT, dir)))
  return newest <= builtAt
}

async function build(log: (line: string) => void): Promise<void> {
  log('Building the web app (once; rebuilt when sources change) …')
  const remixCli = path.join(PROJECT_ROOT, 'node_modules', '@remix-run', 'dev', 'dist', 'cli.js')
  if (!existsSync(remixCli)) {
    throw new LeashError('The web app is not built and the build tools are not installed.', 'Run `npm install` (with dev dependencies), then `npm start`.')
  }
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [remixCli, 'vite:build'], { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new LeashError(`Building the web app failed:\n${stderr.trim().slice(-2000)}`, 'Fix the error above, or run `npm run build` to see the full output.')),
    )
    child.on('error', reject)
  })
}

async function newestMtime(dirs: string[]): Promise<number> {
  let newest = 0
  for (const dir of dirs) {
    if (!existsSync(dir)) continue
    for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
      if (!entry.isFile() || /\.test\.tsx?$/.test(entry.name)) continue
      const info = await stat(path.join(entry.parentPath, entry.name))
      newest = Math.max(newest, info.mtimeMs)
    }
  }
  return newest
}
