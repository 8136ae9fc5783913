/**
 * `npm run bench -- azure-scan [--identities N] [--json]`: scans a generated Entra tenant
 * (N identities, about a third agents, plus Key Vault items) in the local stand-in through
 * the real SDKs, and reports wall time, identities per second, API calls and memory.
 */
import { azureProvider } from '../connectors/azure/index.js'
import { startAzureStandIn } from '../connectors/azure/stand-in/server.js'
import { applyEnv, collectScan, scanContext } from '../connectors/saas-kit/testing.js'

export async function run(args: string[]): Promise<void> {
  const i = args.indexOf('--identities')
  const identities = i >= 0 ? Number(args[i + 1]) : 2000
  if (!Number.isInteger(identities) || identities < 12) throw new Error('--identities must be an integer of at least 12')
  const json = args.includes('--json')
  const standIn = await startAzureStandIn({ seed: { identities } })
  const restore = applyEnv(standIn.env)
  try {
    const started = performance.now()
    const scan = await collectScan(azureProvider, scanContext(standIn.settings))
    const ms = performance.now() - started
    if (scan.identities.length !== standIn.declared.identities) throw new Error(`scan found ${scan.identities.length} identities, the seed declares ${standIn.declared.identities}`)
    const result = {
      benchmark: 'azure-scan',
      identities: scan.identities.length,
      agents: scan.identities.filter((x) => x.agentSignals.length > 0).length,
      credentials: scan.identities.reduce((n, x) => n + x.credentials.length, 0),
      ms: Math.round(ms),
      identitiesPerSecond: Math.round((scan.identities.length / ms) * 1000),
      apiCalls: scan.apiCalls.total,
      batchCalls: scan.apiCalls.byOperation['graph:POST /$batch'] ?? 0,
      rssMb: Math.round(process.memoryUsage().rss / 1e6),
    }
    console.log(`azure-scan: ${result.identities} identities (${result.agents} agents, ${result.credentials} credentials) in ${result.ms} ms — ${result.identitiesPerSecond}/s, ${result.apiCalls} API calls (${result.batchCalls} $batch), RSS ${result.rssMb} MB`)
    if (json) console.log(JSON.stringify(result))
  } finally {
    restore()
    await standIn.stop()
  }
}
