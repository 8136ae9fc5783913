/**
 * The part `npm start` and `leash scan --demo` share: start every registered provider's
 * stand-in on its remembered loopback port, put their fake credentials into this process's
 * environment, and register (or re-point) the demo sources.
 */
import type { Kysely } from 'kysely'
import type { Provider } from '../../connectors/contract.js'
import { providers as registry } from '../../connectors/registry.js'
import type { Database, Source } from '../../db/schema.js'
import { assignDemoPorts, readDemoState, writeDemoState } from './ports.js'
import { replayDemoRevocations } from './replay.js'
import { upsertDemoSources } from './sources.js'
import { applyStandInEnv, startDemoStandIns, type DemoStandIn } from './stand-ins.js'
import { demoStateFile } from './switch.js'

export interface PreparedDemoSource {
  source: Source
  standIn: DemoStandIn
}

export interface PreparedDemo {
  sources: PreparedDemoSource[]
  failures: { provider: string; message: string }[]
  stop(): Promise<void>
}

export async function prepareDemoEstate(
  db: Kysely<Database>,
  options: { log?: (line: string) => void; stateFile?: string; providers?: Readonly<Record<string, Provider<any>>> } = {},
): Promise<PreparedDemo> {
  const log = options.log ?? (() => {})
  const stateFile = options.stateFile ?? demoStateFile()
  const names = Object.keys(options.providers ?? registry)
  const state = await readDemoState(stateFile)
  const { ports, changed } = await assignDemoPorts(names, state)
  const running = await startDemoStandIns({ ports, providers: options.providers })
  try {
    for (const failure of running.failures)
      log(`demo: the ${failure.provider} stand-in did not start (${failure.message}); the demo runs without it.`)
    // Remember where each stand-in really is (a fallback port is remembered too).
    const actual: Record<string, number> = { ...state.ports }
    for (const s of running.standIns) if (s.port) actual[s.provider] = s.port
    if (changed || running.standIns.some((s) => s.port && state.ports[s.provider] !== s.port))
      await writeDemoState(stateFile, { version: 1, ports: actual })
    const replaced = applyStandInEnv(running.standIns)
    if (replaced.length > 0)
      log(`demo: ${replaced.join(', ')} now hold the stand-ins' fake credentials in this process (set LEASH_DEMO=0 to use your own).`)
    const departedOwners = running.standIns.flatMap((s) => s.running.departedOwners ?? [])
    const { sources } = await upsertDemoSources(
      db,
      running.standIns.map((s) => ({
        provider: s.provider,
        displayName: s.displayName,
        settings: s.running.settings,
        envNames: Object.keys(s.running.env),
      })),
      { departedOwners },
    )
    const prepared = sources.map((source, index) => ({ source, standIn: running.standIns[index]! }))
    // Revocations made on the demo before a restart are applied again before anything scans.
    await replayDemoRevocations(db, prepared, options.providers ?? registry, log)
    return {
      sources: prepared,
      failures: running.failures,
      stop: () => running.stop(),
    }
  } catch (error) {
    await running.stop()
    throw error
  }
}
