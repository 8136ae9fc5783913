/**
 * `leash scan --demo [--json]`: the demo estate without the web server. Starts the stand-ins
 * in this process, registers (or re-points) the demo sources, scans them into the database
 * through the same path as `leash scan`, backfills the demo history once, and exits. With
 * --json, stdout holds one summary object per source (`leash scan`'s format); a line per
 * source on stderr compares what was found with what the seed declares.
 */
import type { Kysely } from 'kysely'
import type { Provider } from '../../connectors/contract.js'
import type { OpenDatabase } from '../../db/open.js'
import type { Database } from '../../db/schema.js'
import { LeashError } from '../../cli/errors.js'
import { runScanCommand, type ScanCommandOptions } from '../../cli/scan-run.js'
import { backfillDemoHistory } from './history.js'
import { prepareDemoEstate } from './prepare.js'

export interface DemoScanOptions extends ScanCommandOptions {
  demo?: boolean
}

export interface DeclaredCheck {
  source: string
  declared: { identities: number; agents: number; credentials: number }
  found: { identities: number; agents: number; credentials: number } | null
  matches: boolean
}

export async function runDemoScan(
  database: OpenDatabase,
  options: DemoScanOptions,
  extra: { stateFile?: string; providers?: Readonly<Record<string, Provider<any>>>; log?: (line: string) => void } = {},
): Promise<{ code: number; checks: DeclaredCheck[] }> {
  if (options.source?.length || options.all) {
    throw new LeashError(
      '--demo scans the demo sources only; it cannot be combined with --source or --all.',
      'Run `leash scan --demo` on its own, or scan real sources with --source/--all.',
    )
  }
  const log = extra.log ?? ((line: string) => console.error(`leash: ${line}`))
  const demo = await prepareDemoEstate(database.db, { log, stateFile: extra.stateFile, providers: extra.providers })
  try {
    if (demo.sources.length === 0)
      throw new LeashError(
        'No demo stand-in could start, so there is nothing to scan.',
        'See the messages above for why each stand-in failed.',
      )
    const code = await runScanCommand(
      database,
      { json: options.json },
      demo.sources.map((s) => s.source),
    )
    const added = await backfillDemoHistory(database.db)
    if (added.snapshots > 0) log(`demo: added ${added.snapshots} snapshots of demo scan history (the past weeks).`)
    const checks = await compareWithSeeds(
      database.db,
      demo.sources.map((s) => ({ id: s.source.id, name: s.source.name, declared: s.standIn.running.declared })),
    )
    for (const check of checks) {
      const f = check.found
      log(
        `${check.source}: seed declares ${check.declared.identities} identities, ${check.declared.agents} agents, ${check.declared.credentials} credentials; ` +
          (f ? `found ${f.identities}, ${f.agents}, ${f.credentials} ${check.matches ? '✓' : '✗ (differs)'}` : 'no scan result'),
      )
    }
    return { code: code !== 0 || demo.failures.length > 0 ? 1 : 0, checks }
  } finally {
    await demo.stop()
  }
}

/** What the last scan of each demo source found, next to what its seed declares. */
async function compareWithSeeds(
  db: Kysely<Database>,
  sources: { id: string; name: string; declared: DeclaredCheck['declared'] }[],
): Promise<DeclaredCheck[]> {
  const checks: DeclaredCheck[] = []
  for (const source of sources) {
    const run = await db
      .selectFrom('scan_runs')
      .select('summary')
      .where('source_id', '=', source.id)
      .where('trigger', '=', 'cli')
      .orderBy('queued_at', 'desc')
      .executeTakeFirst()
    const totals = (run?.summary as { totals?: { identities?: number; agents?: number; credentials?: number } } | undefined)?.totals
    const found = totals
      ? { identities: Number(totals.identities ?? 0), agents: Number(totals.agents ?? 0), credentials: Number(totals.credentials ?? 0) }
      : null
    checks.push({
      source: source.name,
      declared: source.declared,
      found,
      matches:
        found !== null &&
        found.identities === source.declared.identities &&
        found.agents === source.declared.agents &&
        found.credentials === source.declared.credentials,
    })
  }
  return checks
}
