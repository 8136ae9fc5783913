/**
 * `npm run bench -- aws-scan [--identities N] [--json]`
 *
 * Scans generated estates (10,000 and 100,000 identities by default) through the local AWS
 * stand-in with the official SDK and reports wall time, API calls (total and per 1,000
 * identities) and peak resident memory.
 *
 * Honesty notes:
 * - The stand-in runs in this same process (one loopback HTTP server), so its CPU and memory
 *   (rendering XML pages, the credential report) are included in the figures: real AWS would be
 *   slower per call but cost Leash no memory.
 * - The wall time includes a full GC after each account (to report the retained heap).
 * - Peak RSS is sampled every 25 ms during each run (process.memoryUsage().rss); the process's
 *   lifetime maximum (process.resourceUsage().maxRSS) is printed too. Runs share one process,
 *   so the second run starts with whatever the first left on the heap.
 * - Identities are consumed and dropped batch by batch, as ingest would after writing them.
 */
import { parseArgs } from 'node:util'
import v8 from 'node:v8'
import vm from 'node:vm'
import { awsProvider } from '../connectors/aws/index.js'
import { startAwsStandIn } from '../connectors/aws/stand-in/index.js'
import { callCounter, useEnv } from '../connectors/aws/test-support.js'

// A full GC between accounts shows what the scan retains (as opposed to what V8 has not yet
// collected or the allocator has not returned to the OS, which RSS also includes).
v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

interface Run {
  identities: number
  apiCalls: number
  seconds: number
  peakRssMb: number
}

async function scanOnce(
  identities: number,
): Promise<Run & { byOperation: Record<string, number>; seen: number; problems: number; accounts: number; retainedHeapMb: number }> {
  gc()
  const standIn = await startAwsStandIn({ seed: { identities } })
  const restore = useEnv(standIn.env)
  const apiCalls = callCounter()
  let peak = process.memoryUsage().rss
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, 25)
  const started = performance.now()
  let seen = 0
  let problems = 0
  let accounts = 0
  let retained = 0
  try {
    for await (const event of awsProvider.scan({ sourceName: 'bench', settings: standIn.settings, signal: new AbortController().signal, apiCalls, now: new Date() })) {
      if (event.type === 'batch') seen += event.identities.length
      else if (event.type === 'problem') problems++
      else if (event.type === 'scope_finished') {
        accounts++
        gc()
        retained = Math.max(retained, process.memoryUsage().heapUsed)
      }
      peak = Math.max(peak, process.memoryUsage().rss)
    }
  } finally {
    clearInterval(sampler)
    restore()
    await standIn.stop()
  }
  const seconds = (performance.now() - started) / 1000
  return {
    identities,
    apiCalls: apiCalls.total,
    seconds: Math.round(seconds * 100) / 100,
    peakRssMb: Math.round(peak / 1024 / 1024),
    byOperation: { ...apiCalls.byOperation },
    retainedHeapMb: Math.round(retained / 1024 / 1024),
    seen,
    problems,
    accounts,
  }
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { identities: { type: 'string' }, json: { type: 'boolean', default: false } }, allowPositionals: false })
  const sizes = values.identities ? [Number(values.identities)] : [10_000, 100_000]
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--identities takes a positive whole number, e.g. --identities 10000')
  const runs: Run[] = []
  for (const size of sizes) {
    const r = await scanOnce(size)
    if (r.seen !== size || r.problems > 0) throw new Error(`the scan of ${size} identities saw ${r.seen} and reported ${r.problems} problem(s)`)
    runs.push({ identities: r.identities, apiCalls: r.apiCalls, seconds: r.seconds, peakRssMb: r.peakRssMb })
    console.log(
      `aws-scan ${size.toLocaleString('en')} identities in ${r.accounts} account(s): ${r.seconds}s, ${r.apiCalls} API calls ` +
        `(${((r.apiCalls / size) * 1000).toFixed(1)} per 1,000 identities), peak RSS ${r.peakRssMb} MB`,
    )
    console.log(`  calls: ${Object.entries(r.byOperation).map(([op, n]) => `${op}=${n}`).join(', ')}`)
    console.log(`  heap retained after each account (after a full GC): at most ${r.retainedHeapMb} MB`)
  }
  console.log(`  process maxRSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB (stand-in in the same process; see bench/aws-scan.ts)`)
  if (values.json) console.log(JSON.stringify({ runs }))
}
