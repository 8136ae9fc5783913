/**
 * `npm run bench -- dashboard [--identities N] [--json] [--duration S] [--connections C]`
 *
 * Seeds N identities (default 1,000,000; 3 credentials and 10 entitlements each, few providers,
 * many accounts, ~30% agents, findings, owners, 30 days of scans and posture snapshots) into a
 * dedicated database, `leash_bench_dashboard`, on the server of DATABASE_URL (or the embedded
 * PostgreSQL; LEASH_BENCH_DATABASE_URL names a database yourself). A database already holding
 * N seeded identities is reused. Then starts the built web app in its own process, signs in a
 * security lead (a session created in the database), and drives each page with C concurrent
 * connections (autocannon) for S seconds: Posture, Identities (first page, filtered, deep keyset
 * page, search), identity detail, Orphans and Sources. Prints p50/p95/p99 per page and the
 * server's peak RSS (VmHWM, added up over its processes). With --json the last line is
 * {"identities":N,"pages":{"<page>":{"p50":ms,"p95":ms,"p99":ms}},"peakRssMb":M}.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import autocannon from 'autocannon'
import { sql } from 'kysely'
import { ensureAppBuilt } from '../cli/build-app.js'
import { json, type DatabaseHandle } from '../db/connection.js'
import { encodeCursor } from '../db/queries/identities.js'
import { createSignedInUser, seedDashboard } from '../test/seed/dashboard-seed.js'
import { openBenchDatabase } from './_bench-database.js'

const BENCH_DATABASE = 'leash_bench_dashboard'
const SEED_MARK = 'bench.dashboard.seed'
const ROOT = path.resolve(import.meta.dirname, '..')

interface Args {
  identities: number
  json: boolean
  duration: number
  connections: number
}

function parseArgs(args: string[]): Args {
  const parsed: Args = { identities: 1_000_000, json: false, duration: 10, connections: 10 }
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index]
    if (arg === '--json') parsed.json = true
    else if (arg === '--identities' || arg === '--duration' || arg === '--connections') {
      const value = Number(args[(index += 1)])
      if (!Number.isInteger(value) || value < 1) throw new Error(`${arg} needs a positive whole number, e.g. ${arg} 100000`)
      if (arg === '--identities') parsed.identities = value
      else if (arg === '--duration') parsed.duration = value
      else parsed.connections = value
    } else throw new Error(`unknown option "${arg}". Usage: npm run bench -- dashboard [--identities N] [--json] [--duration S] [--connections C]`)
  }
  return parsed
}


/** Seeds N identities unless the database already holds exactly that seed. */
async function ensureSeeded(handle: DatabaseHandle, identities: number, log: (line: string) => void): Promise<void> {
  const { db } = handle
  const mark = await db.selectFrom('settings').select('value').where('key', '=', SEED_MARK).executeTakeFirst()
  if (mark && (mark.value as { identities?: number }).identities === identities) {
    log(`reusing the seeded database (${identities.toLocaleString('en')} identities)`)
    return
  }
  log(`seeding ${identities.toLocaleString('en')} identities (set-based; about a minute per 100,000 on 2 cores) …`)
  const started = Date.now()
  // Start from empty: the seed owns this database. Search text, findings and scores have no
  // foreign key to the identities (a trigger deletes them, and TRUNCATE fires none).
  await sql`truncate sources, users, sessions, settings, identity_search_text, findings, identity_scores restart identity cascade`.execute(db)
  await seedDashboard(db, { identities, log: (line) => log(`  ${line}`) })
  await db.insertInto('settings').values({ key: SEED_MARK, value: json({ identities, seededAt: new Date().toISOString() }) }).execute()
  log(`seeded in ${((Date.now() - started) / 1000).toFixed(0)} s`)
}

function startServer(databaseUrl: string): Promise<{ child: ChildProcess; url: string; webPids: number[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', '_dashboard-server.ts')], {
    cwd: ROOT,
    env: { ...process.env, LEASH_BENCH_DATABASE_URL: databaseUrl, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the web server did not start within 60 s:\n${output}`)), 60_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /ready (http:\/\/\S+) pids ([\d,]+)/.exec(output)
      if (match?.[1] && match[2]) {
        clearTimeout(timer)
        resolve({ child, url: match[1], webPids: match[2].split(',').map(Number) })
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the web server exited (${code}) before it was ready:\n${output}`))
    })
  })
}

/** Peak resident memory of a process (Linux VmHWM), in MB. */
function peakRssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const match = /VmHWM:\s+(\d+) kB/.exec(status)
    return match ? Math.round(Number(match[1]) / 1024) : 0
  } catch {
    return 0
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return Math.round(sorted[index]! * 10) / 10
}

interface PageResult {
  p50: number
  p95: number
  p99: number
  requests: number
  errors: number
}

async function drive(url: string, paths: string[], cookie: string, options: { duration: number; connections: number }): Promise<PageResult> {
  const latencies: number[] = []
  let errors = 0
  let next = 0
  const instance = autocannon({
    url,
    connections: options.connections,
    duration: options.duration,
    headers: { cookie, accept: 'text/html' },
    requests: [{ setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length]! }) }],
  })
  const emitter = instance as unknown as NodeJS.EventEmitter
  emitter.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime)
    else errors += 1
  })
  const result = await instance
  errors += result.errors + result.timeouts
  latencies.sort((a, b) => a - b)
  return { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), requests: latencies.length, errors }
}

export async function run(argv: string[]): Promise<void> {
  const args = parseArgs(argv)
  const log = (line: string) => console.log(`bench dashboard: ${line}`)
  const { handle, embedded } = await openBenchDatabase(BENCH_DATABASE, { log, applicationName: 'leash-bench' })
  let server: ChildProcess | null = null
  try {
    await ensureSeeded(handle, args.identities, log)
    await ensureAppBuilt(log)
    const { db } = handle
    const { cookie } = await createSignedInUser(db, 'security_lead', `bench-lead-${Date.now().toString(36)}`)

    // Targets: a deep keyset page (the middle of the risk order), a search term, detail ids spread over the table.
    const total = args.identities
    const deep = await sql<{ id: number; risk_score: number }>`
      select id, risk_score from identities where status <> 'gone' order by risk_score desc, id desc offset ${Math.floor(total / 2)} limit 1`.execute(db)
    const deepRow = deep.rows[0]
    const deepCursor = deepRow ? encodeCursor({ sort: 'risk', dir: 'desc', value: String(deepRow.risk_score), id: deepRow.id }) : ''
    const sample = await sql<{ id: number; display_name: string }>`
      select id, display_name from identities where id % ${Math.max(1, Math.floor(total / 200))} = 7 order by id limit 200`.execute(db)
    const searchTerms = sample.rows.slice(0, 20).map((row) => row.display_name.slice(-14))
    const keyIds = await sql<{ external_id: string }>`select external_id from credentials where id % ${Math.max(1, Math.floor(total / 50))} = 3 limit 20`.execute(db)

    const pages: Record<string, string[]> = {
      posture: ['/posture'],
      'identities-first': ['/identities'],
      'identities-filtered': ['/identities?provider=aws&agent=yes&ownerStatus=none', '/identities?risk=critical&dimension=privilege', '/identities?provider=azure&sort=last_used'],
      'identities-deep': deepCursor ? [`/identities?after=${deepCursor}`] : ['/identities'],
      'identities-search': [
        ...searchTerms.map((term) => `/identities?q=${encodeURIComponent(term)}`),
        ...keyIds.rows.map((row) => `/identities?q=${encodeURIComponent(row.external_id)}`),
      ],
      detail: sample.rows.map((row) => `/identities/${row.id}`),
      orphans: ['/orphans'],
      sources: ['/sources'],
    }

    const started = await startServer(handle.url)
    server = started.child
    log(`server ${started.url} (${started.webPids.length} web processes); ${args.connections} connections, ${args.duration} s per page`)
    // Warm up each page once so the first measurement is not a cold start.
    for (const paths of Object.values(pages)) {
      for (const target of paths.slice(0, 3)) {
        const response = await fetch(`${started.url}${target}`, { headers: { cookie } })
        if (!response.ok) throw new Error(`${target} answered ${response.status}: ${(await response.text()).slice(0, 300)}`)
        await response.arrayBuffer()
      }
    }
    const results: Record<string, PageResult> = {}
    for (const [name, paths] of Object.entries(pages)) {
      results[name] = await drive(started.url, paths, cookie, { duration: args.duration, connections: args.connections })
      const r = results[name]!
      log(`${name.padEnd(20)} p50 ${String(r.p50).padStart(7)} ms  p95 ${String(r.p95).padStart(7)} ms  p99 ${String(r.p99).padStart(7)} ms  (${r.requests} requests${r.errors ? `, ${r.errors} errors` : ''})`)
    }
    // The server's memory is its primary's and every web process's, added up.
    const peaks = [server.pid!, ...started.webPids].map(peakRssMb)
    const peak = peaks.reduce((sum, mb) => sum + mb, 0)
    log(`peak server RSS ${peak} MB (${peaks.length} processes: ${peaks.join(' + ')} MB)`)
    const slow = Object.entries(results).filter(([, r]) => r.p95 >= 200)
    log(slow.length === 0 ? 'every page under the 200 ms p95 target' : `over the 200 ms p95 target: ${slow.map(([name]) => name).join(', ')}`)
    if (args.json) {
      const summary = {
        identities: args.identities,
        pages: Object.fromEntries(Object.entries(results).map(([name, r]) => [name, { p50: r.p50, p95: r.p95, p99: r.p99 }])),
        peakRssMb: peak,
      }
      console.log(JSON.stringify(summary))
    }
  } finally {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM')
      await new Promise((resolve) => server!.once('exit', resolve))
    }
    await handle.close()
    await embedded?.stop()
  }
}
