import { describe, expect, it } from 'vitest'
import { anthropicProvider } from '../anthropic/index.js'
import type { Provider } from '../contract.js'
import { githubProvider } from '../github/index.js'
import { openaiProvider } from '../openai/index.js'
import { vaultProvider } from '../vault/index.js'
import { applyEnv, collectScan, scanContext } from './testing.js'

// The demo estate: each SaaS provider's `demo` seed scans cleanly and finds what it declares.
describe.each([
  ['openai', openaiProvider],
  ['anthropic', anthropicProvider],
  ['github', githubProvider],
  ['vault', vaultProvider],
] as [string, Provider<any>][])('%s demo seed', (_name, provider) => {
  it('is deterministic and fully found by a scan', async () => {
    const a = await provider.startStandIn({ seed: 'demo' })
    const b = await provider.startStandIn({ seed: 'demo' })
    const restore = applyEnv(a.env)
    try {
      expect(a.declared).toEqual(b.declared)
      expect(a.declared.identities).toBeGreaterThan(10)
      const scan = await collectScan(provider, scanContext(a.settings))
      expect(scan.problems).toEqual([])
      expect(scan.finished.every((f) => f.complete)).toBe(true)
      expect(scan.identities).toHaveLength(a.declared.identities)
      expect(scan.identities.flatMap((i) => i.credentials)).toHaveLength(a.declared.credentials)
      expect(scan.identities.filter((i) => i.agentSignals.length > 0)).toHaveLength(a.declared.agents)
    } finally {
      restore()
      await a.stop()
      await b.stop()
    }
  })
})
