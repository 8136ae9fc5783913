/** Helpers for connector tests: run a scan against a stand-in and collect what it emitted. */
import type { ActionContext, NormalizedIdentity, Provider, ScanContext, ScanEvent, ScanProblem } from '../contract.js'
import { createApiCallCounter } from './counter.js'

export interface CollectedScan {
  events: ScanEvent[]
  identities: NormalizedIdentity[]
  problems: ScanProblem[]
  finished: { scope: string; complete: boolean }[]
  apiCalls: ReturnType<typeof createApiCallCounter>
}

export function scanContext<S>(settings: S, signal: AbortSignal = new AbortController().signal): ScanContext<S> {
  return { sourceName: 'test', settings, signal, apiCalls: createApiCallCounter(), now: new Date() }
}

export function actionContext<S>(settings: S): ActionContext<S> {
  return { sourceName: 'test', settings, signal: new AbortController().signal, apiCalls: createApiCallCounter() }
}

export async function collectScan<S>(provider: Provider<S>, ctx: ScanContext<S>): Promise<CollectedScan> {
  const events: ScanEvent[] = []
  for await (const event of provider.scan(ctx)) events.push(event)
  return {
    events,
    identities: events.flatMap((e) => (e.type === 'batch' ? e.identities : [])),
    problems: events.flatMap((e) => (e.type === 'problem' ? [e.problem] : [])),
    finished: events.flatMap((e) => (e.type === 'scope_finished' ? [{ scope: e.scope.accountId, complete: e.complete }] : [])),
    apiCalls: ctx.apiCalls as ReturnType<typeof createApiCallCounter>,
  }
}

/** Sets the stand-in's environment for the duration of a test file; returns the restore function. */
export function applyEnv(env: Record<string, string>): () => void {
  const previous: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(env)) {
    previous[k] = process.env[k]
    process.env[k] = v
  }
  return () => {
    for (const [k, v] of Object.entries(previous)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}
