/** Helpers shared by the AWS connector's tests and the aws-scan benchmark. */
import type { ApiCallCounter, NormalizedIdentity, ScanEvent, ScanProblem } from '../contract.js'
import { awsProvider } from './index.js'
import type { AwsSettings } from './settings.js'

export function callCounter(): ApiCallCounter & { reset(): void } {
  let counts: Record<string, number> = {}
  return {
    record(operation) {
      counts[operation] = (counts[operation] ?? 0) + 1
    },
    get total() {
      return Object.values(counts).reduce((a, b) => a + b, 0)
    },
    get byOperation() {
      return counts
    },
    reset() {
      counts = {}
    },
  }
}

/** Sets the stand-in's fake credentials in process.env; returns a function restoring the previous values. */
export function useEnv(env: Record<string, string | undefined>): () => void {
  const previous: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(env)) {
    previous[k] = process.env[k]
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  return () => {
    for (const [k, v] of Object.entries(previous)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

export interface CollectedScan {
  events: ScanEvent[]
  identities: NormalizedIdentity[]
  problems: ScanProblem[]
  finished: Map<string, boolean>
  apiCalls: ReturnType<typeof callCounter>
  byName(name: string, accountId?: string): NormalizedIdentity
}

export async function collectScan(settings: AwsSettings, options: { signal?: AbortSignal; now?: Date } = {}): Promise<CollectedScan> {
  const apiCalls = callCounter()
  const events: ScanEvent[] = []
  for await (const event of awsProvider.scan({
    sourceName: 'aws-test',
    settings,
    signal: options.signal ?? new AbortController().signal,
    apiCalls,
    now: options.now ?? new Date(),
  })) {
    events.push(event)
  }
  const identities = events.flatMap((e) => (e.type === 'batch' ? e.identities : []))
  const problems = events.flatMap((e) => (e.type === 'problem' ? [e.problem] : []))
  const finished = new Map(events.flatMap((e) => (e.type === 'scope_finished' ? [[e.scope.accountId, e.complete] as const] : [])))
  return {
    events,
    identities,
    problems,
    finished,
    apiCalls,
    byName(name, accountId) {
      const found = identities.filter((i) => i.displayName === name && (!accountId || i.scope.accountId === accountId))
      if (found.length !== 1) throw new Error(`Expected one identity named ${name}${accountId ? ` in ${accountId}` : ''}, found ${found.length}.`)
      return found[0] as NormalizedIdentity
    },
  }
}
