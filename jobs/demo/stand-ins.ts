/**
 * Starts the stand-in of every registered provider with the 'demo' seed. The list comes from
 * the registry, so a provider added later joins the demo with no change here. A stand-in that
 * cannot start is reported and left out; the others still run.
 */
import type { Provider, ProviderName, RunningStandIn } from '../../connectors/contract.js'
import { providers as registry } from '../../connectors/registry.js'

export interface DemoStandIn {
  provider: ProviderName
  displayName: string
  port: number | null
  running: RunningStandIn<unknown>
}

export interface DemoStandIns {
  standIns: DemoStandIn[]
  failures: { provider: string; message: string }[]
  stop(): Promise<void>
}

export async function startDemoStandIns(options: {
  /** Fixed port per provider (from .leash/demo.json); missing means any free port. */
  ports?: Readonly<Record<string, number>>
  providers?: Readonly<Record<string, Provider<any>>>
}): Promise<DemoStandIns> {
  const all = Object.entries(options.providers ?? registry) as [ProviderName, Provider<unknown>][]
  const started = await Promise.allSettled(
    all.map(async ([name, provider]): Promise<DemoStandIn> => {
      const port = options.ports?.[name] ?? null
      if (port) {
        try {
          return { provider: name, displayName: provider.displayName, port, running: await provider.startStandIn({ seed: 'demo', port }) }
        } catch {
          // Taken since the ports were chosen: any free port still gives a working demo (ids may change once).
        }
      }
      return { provider: name, displayName: provider.displayName, port: null, running: await provider.startStandIn({ seed: 'demo' }) }
    }),
  )
  const standIns: DemoStandIn[] = []
  const failures: DemoStandIns['failures'] = []
  started.forEach((result, index) => {
    if (result.status === 'fulfilled') standIns.push(result.value)
    else
      failures.push({ provider: all[index]![0], message: result.reason instanceof Error ? result.reason.message : String(result.reason) })
  })
  return {
    standIns,
    failures,
    async stop() {
      await Promise.allSettled(standIns.map((s) => s.running.stop()))
    },
  }
}

/**
 * Puts the stand-ins' environment (fake keys, variable names the demo settings point at) into
 * this process, where the scans and revocations read it. Returns the variables it replaced, so
 * the caller can say so: a real key in the environment is shadowed while the demo runs.
 */
export function applyStandInEnv(standIns: readonly DemoStandIn[], env: Record<string, string | undefined> = process.env): string[] {
  const replaced: string[] = []
  for (const standIn of standIns) {
    for (const [name, value] of Object.entries(standIn.running.env)) {
      if (env[name] !== undefined && env[name] !== value && !name.startsWith('LEASH_')) replaced.push(name)
      env[name] = value
    }
  }
  return replaced
}
