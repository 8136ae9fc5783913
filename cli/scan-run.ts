/**
 * What `leash scan` runs (cli/scan.ts defines the command and imports this when it runs):
 * picks the sources, scans each in this process with a progress bar on stderr, prints a summary.
 */
import { userInfo } from 'node:os'
import { SingleBar } from 'cli-progress'
import type { Kysely } from 'kysely'
import type { OpenDatabase } from '../db/open.js'
import type { Database, Source } from '../db/schema.js'
import { queueTimings } from '../jobs/queue.js'
import { executeScanRun, type ScanRunResult } from '../jobs/runner.js'
import { failStaleRuns, startRunNow } from '../jobs/runs.js'
import { describeError, LeashError } from './errors.js'
import { onShutdown } from './shutdown.js'

export interface ScanCommandOptions {
  source?: string[]
  all?: boolean
  json?: boolean
}

/** Picks the sources a `leash scan` invocation means, or explains what to pass. */
export async function selectSources(db: Kysely<Database>, options: ScanCommandOptions): Promise<Source[]> {
  const all = await db.selectFrom('sources').selectAll().orderBy('name').execute()
  const names = all.map((s) => s.name)
  if (options.source?.length) {
    const missing = options.source.filter((name) => !names.includes(name))
    if (missing.length) {
      throw new LeashError(
        `No source named ${missing.map((m) => `"${m}"`).join(', ')}.`,
        names.length ? `Known sources: ${names.join(', ')}.` : 'Add a source on the Sources page or in leash.config.yaml first.',
      )
    }
    return all.filter((s) => options.source!.includes(s.name))
  }
  if (options.all) {
    const enabled = all.filter((s) => s.enabled)
    if (!enabled.length) throw new LeashError('There are no enabled sources to scan.', 'Add a source on the Sources page or in leash.config.yaml, or enable one.')
    return enabled
  }
  if (all.length === 1) return all
  if (all.length === 0) throw new LeashError('There are no sources to scan.', 'Add a source on the Sources page or in leash.config.yaml (or try `leash scan --demo`).')
  throw new LeashError(`There are ${all.length} sources; which should be scanned?`, `Pass --all, or --source with one of: ${names.join(', ')}.`)
}

/** Runs the scans; returns the exit code. Shared by `--demo`, which scans the sources it seeds. */
export async function runScanCommand(database: OpenDatabase, options: ScanCommandOptions, sources?: Source[]): Promise<number> {
  const { db } = database
  const timings = queueTimings()
  // A scan killed earlier (crash, SIGKILL) is marked failed in plain words before anything else.
  const stale = await failStaleRuns(db, { staleAfterSeconds: timings.staleAfterSeconds })
  if (stale.length && !options.json) console.error(`leash: marked ${stale.length} earlier scan(s) failed: their process stopped mid-scan.`)

  const selected = sources ?? (await selectSources(db, options))
  const controller = new AbortController()
  onShutdown(async () => controller.abort(new Error('interrupted')))
  const requestedBy = safeUser()
  let failed = false
  for (const source of selected) {
    if (controller.signal.aborted) break
    const workerId = `cli@${process.pid}`
    let result: ScanRunResult | { source: string; sourceId: string; status: 'failed'; errors: { message: string; remedy: string }[] }
    const bar = options.json ? null : new SingleBar({ stream: process.stderr, format: `${source.name} [{bar}] {identities} identities | {phase} | {apiCalls} API calls | {duration_formatted}`, noTTYOutput: true, notTTYSchedule: 5000, hideCursor: true })
    try {
      const runId = await startRunNow(db, { sourceId: source.id, requestedBy, trigger: 'cli', workerId })
      bar?.start(1, 0, { identities: 0, phase: 'scanning', apiCalls: 0 })
      result = await executeScanRun(database, runId, {
        workerId,
        signal: controller.signal,
        heartbeatMs: timings.heartbeatMs,
        onProgress: (p) => {
          // Total unknown while streaming: the bar fills when the scan is done.
          bar?.update(p.phase === 'done' ? 1 : 0, { identities: p.identitiesSeen, phase: p.phase, apiCalls: p.apiCalls })
        },
      })
      bar?.stop()
    } catch (error) {
      bar?.stop()
      result = {
        source: source.name,
        sourceId: source.id,
        status: 'failed',
        errors: [{ message: error instanceof LeashError ? error.message : describeError(error), remedy: error instanceof LeashError ? error.remedy : 'See the message; scan again when it is fixed.' }],
      }
    }
    if (result.status === 'failed') failed = true
    if (options.json) console.log(JSON.stringify(result))
    else printSummary(result)
  }
  return failed ? 1 : 0
}

function safeUser(): string {
  try {
    return `cli:${userInfo().username}`
  } catch {
    return 'cli'
  }
}

function printSummary(result: ScanRunResult | { source: string; status: string; errors: { message: string; remedy: string }[] }): void {
  const out = (line: string) => console.log(line)
  if (!('identities' in result)) {
    out(`${result.source}: ${result.status}`)
    for (const e of result.errors) out(`  ✗ ${e.message}\n    → ${e.remedy}`)
    return
  }
  const i = result.identities
  out(`${result.source}: ${result.status} in ${(result.durationMs / 1000).toFixed(1)} s (run ${result.scanRunId})`)
  out(`  identities: ${i.seen} seen, ${i.new} new, ${i.changed} changed, ${i.retired} retired${i.skipped ? `, ${i.skipped} skipped (malformed)` : ''}`)
  out(`  credentials: ${result.credentials.seen} seen, ${result.credentials.removed} removed; ${result.changes} changes recorded; ${result.apiCalls.total} API calls`)
  out(`  now: ${result.totals.identities} identities, ${result.totals.agents} AI agents, ${result.totals.credentials} credentials`)
  const findings = Object.entries(result.totals.findingsByDimension)
  if (findings.length) out(`  open findings: ${findings.map(([d, n]) => `${d} ${n}`).join(', ')}`)
  if (result.retireWarning) out(`  ⚠ ${String(result.retireWarning.message)}\n    → ${String(result.retireWarning.remedy)}`)
  for (const e of result.errors) {
    out(`  ✗ ${e.scope ? `[${e.scope}] ` : ''}${e.operation}${e.permission ? ` (needs ${e.permission})` : ''}: ${e.message}\n    → ${e.remedy}`)
  }
}
