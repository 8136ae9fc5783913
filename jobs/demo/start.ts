/**
 * Demo mode for `npm start`: while no real source is configured (none in the database, none in
 * leash.config.yaml) and LEASH_DEMO is not 0, the stand-ins run on loopback, the demo sources
 * point at them, and their first scan is queued at once (the web app answers meanwhile).
 * When the first scans are done, the demo's scan history is backfilled (once).
 *
 * When the demo does not run, demo sources left from earlier are disabled (not deleted), so the
 * scheduler does not scan stand-ins that are not there; they are enabled again with the demo.
 */
import type { Kysely } from 'kysely'
import type { Provider } from '../../connectors/contract.js'
import type { Database } from '../../db/schema.js'
import { requestScan, type ScanQueue } from '../queue.js'
import { backfillDemoHistory } from './history.js'
import { prepareDemoEstate, type PreparedDemo } from './prepare.js'
import { countRealSources, setDemoSourcesEnabled } from './sources.js'
import { demoAllowed } from './switch.js'

export interface DemoRuntime {
  demo: PreparedDemo
  /** Settles when the first scans have finished and history is backfilled (never rejects). */
  firstScans: Promise<void>
  stop(): Promise<void>
}

export type DemoDecision = { run: true } | { run: false; reason: string }

export async function decideDemo(
  db: Kysely<Database>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<DemoDecision> {
  if (!demoAllowed(env)) return { run: false, reason: 'LEASH_DEMO=0' }
  const real = await countRealSources(db)
  if (real > 0) return { run: false, reason: `${real} real source${real === 1 ? ' is' : 's are'} configured` }
  return { run: true }
}

export async function startDemoEstate(options: {
  db: Kysely<Database>
  queue: ScanQueue | null
  log?: (line: string) => void
  env?: Readonly<Record<string, string | undefined>>
  stateFile?: string
  providers?: Readonly<Record<string, Provider<any>>>
  /** How often to look at the first scans' progress (ms). */
  pollMs?: number
}): Promise<DemoRuntime | null> {
  const { db } = options
  const log = options.log ?? (() => {})
  const decision = await decideDemo(db, options.env)
  if (!decision.run) {
    const disabled = await setDemoSourcesEnabled(db, false)
    if (disabled > 0) log(`demo: off (${decision.reason}); ${disabled} demo source(s) kept with their history but no longer scanned.`)
    return null
  }
  const demo = await prepareDemoEstate(db, { log, stateFile: options.stateFile, providers: options.providers })
  log(
    `demo: no real source configured, so Leash runs its demo estate: ${demo.sources.map((s) => s.source.name).join(', ')} (stand-ins on 127.0.0.1; LEASH_DEMO=0 turns this off).`,
  )
  const runIds: string[] = []
  for (const { source } of demo.sources) {
    const { scanRunId } = await requestScan(db, options.queue, { sourceId: source.id, requestedBy: 'demo', trigger: 'demo' })
    runIds.push(scanRunId)
  }
  const controller = new AbortController()
  const firstScans = waitForRuns(db, runIds, { signal: controller.signal, pollMs: options.pollMs ?? 1000 })
    .then(async () => {
      if (controller.signal.aborted) return
      const added = await backfillDemoHistory(db)
      if (added.snapshots > 0)
        log(`demo: added ${added.snapshots} snapshots of demo scan history (the past weeks) for ${added.sources} source(s).`)
    })
    .catch((error: unknown) => {
      if (!controller.signal.aborted)
        log(`demo: could not backfill the demo history: ${error instanceof Error ? error.message : String(error)}`)
    })
  return {
    demo,
    firstScans,
    async stop() {
      controller.abort()
      await firstScans
      await demo.stop()
    },
  }
}

/** Resolves when none of the runs is queued or running any more (or the signal aborts). */
export async function waitForRuns(
  db: Kysely<Database>,
  runIds: readonly string[],
  options: { signal: AbortSignal; pollMs: number },
): Promise<void> {
  if (runIds.length === 0) return
  while (!options.signal.aborted) {
    const active = await db
      .selectFrom('scan_runs')
      .select('id')
      .where('id', 'in', [...runIds])
      .where('status', 'in', ['queued', 'running'])
      .executeTakeFirst()
    if (!active) return
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        options.signal.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, options.pollMs)
      options.signal.addEventListener('abort', done, { once: true })
    })
  }
}
