/**
 * Runs one scan: a claimed scan_runs row in, a finished row out. Streams the connector's
 * events into ingest, keeps a heartbeat, records problems in plain words, then hands over to
 * scoring (only what changed is re-scored) and the posture snapshot.
 *
 * Whatever happens, the run ends in a final status (succeeded, partial, failed, cancelled):
 * an exception from the connector or the database fails this run only, never another source's,
 * and retires nothing.
 */
import type { Kysely } from 'kysely'
import type pg from 'pg'
import { LeashError } from '../cli/errors.js'
import type { ApiCallCounter, Provider, ScanContext, ScanProblem, ScanScope } from '../connectors/contract.js'
import type { Database } from '../db/schema.js'
import { RunNoLongerActiveError, ScanIngest, type IngestStats, type RetireWarningScope, type ScopeOutcome } from './ingest/ingest.js'
import { defaultProviderResolver, type ProviderResolver } from './providers.js'
import { finishRun, getScanRun, getSource, heartbeat, problemToError, type ScanRunError } from './runs.js'

export interface AfterScanHooks {
  /** Re-scores identities with needs_scoring (scoring/index.ts scorePendingIdentities). */
  score(db: Kysely<Database>, options: { signal: AbortSignal; onProgress?: (done: number, total: number) => void }): Promise<unknown>
  /** Stores a posture snapshot for the source (scoring/index.ts takePostureSnapshot). */
  snapshot(db: Kysely<Database>, options: { sourceId: string; scanRunId: string }): Promise<unknown>
}

export interface RunnerDependencies {
  resolveProvider?: ProviderResolver
  /** Scoring after the scan; default: scoring/index.ts. `null` skips it (ingest-only tests). */
  afterScan?: AfterScanHooks | null
}

export interface ScanProgress {
  phase: 'scanning' | 'scoring' | 'done'
  identitiesSeen: number
  scopesFinished: number
  apiCalls: number
}

export interface ExecuteOptions {
  workerId: string
  signal?: AbortSignal
  deps?: RunnerDependencies
  onProgress?: (progress: ScanProgress) => void
  heartbeatMs?: number
  flushIdentities?: number
}

export interface ScanRunResult {
  scanRunId: string
  sourceId: string
  source: string
  provider: string
  status: 'succeeded' | 'partial' | 'failed' | 'cancelled'
  /** The source's first inventory: everything is new, so no per-identity "new" change events. */
  baseline: boolean
  identities: { seen: number; new: number; changed: number; unchanged: number; retired: number; skipped: number }
  credentials: { seen: number; removed: number }
  entitlementsSeen: number
  changes: number
  scopes: { accountId: string; complete: boolean; retired: number }[]
  apiCalls: { total: number; byOperation: Record<string, number> }
  durationMs: number
  errors: ScanRunError[]
  retireWarning: Record<string, unknown> | null
  /** Totals for the source after the scan (and scoring). */
  totals: { identities: number; agents: number; credentials: number; findingsByDimension: Record<string, number> }
}

export class ApiCalls implements ApiCallCounter {
  private counts: Record<string, number> = {}
  private count = 0
  record(operation: string): void {
    this.counts[operation] = (this.counts[operation] ?? 0) + 1
    this.count += 1
  }
  get total(): number {
    return this.count
  }
  get byOperation(): Readonly<Record<string, number>> {
    return this.counts
  }
}

let scoringModule: Promise<AfterScanHooks> | null = null
/** scoring/index.ts, loaded on first use so a scan without scoring never needs it. */
export function defaultAfterScan(): Promise<AfterScanHooks> {
  scoringModule ??= import('../scoring/index.js').then((m) => ({
    score: (db, options) => m.scorePendingIdentities(db, options),
    snapshot: (db, options) => m.takePostureSnapshot(db, options),
  }))
  return scoringModule
}

function describe(error: unknown): string {
  if (error instanceof LeashError) return `${error.message} ${error.remedy}`
  return error instanceof Error ? error.message : String(error)
}

export async function executeScanRun(handle: { db: Kysely<Database>; pool: pg.Pool }, scanRunId: string, options: ExecuteOptions): Promise<ScanRunResult> {
  const { db } = handle
  const started = Date.now()
  const run = await getScanRun(db, scanRunId)
  if (!run) throw new Error(`Scan run ${scanRunId} does not exist.`)
  const source = await getSource(db, run.source_id)
  if (!source) throw new Error(`Source ${run.source_id} of scan run ${scanRunId} does not exist.`)

  const apiCalls = new ApiCalls()
  const errors: ScanRunError[] = []
  const scopes = new Map<string, { scope: ScanScope; fatal: boolean; outcome: ScopeOutcome | null }>()
  const warnings: RetireWarningScope[] = []
  const controller = new AbortController()
  const abortFromOutside = () => controller.abort(options.signal?.reason)
  options.signal?.addEventListener('abort', abortFromOutside, { once: true })
  let lost = false
  let thrown: unknown = null
  let ingest: ScanIngest | null = null
  let stats: IngestStats | null = null
  let baseline = false
  const progress: ScanProgress = { phase: 'scanning', identitiesSeen: 0, scopesFinished: 0, apiCalls: 0 }
  const report = () => {
    progress.apiCalls = apiCalls.total
    options.onProgress?.({ ...progress })
  }

  const beat = setInterval(() => {
    heartbeat(db, scanRunId, options.workerId, apiCalls)
      .then((ours) => {
        if (!ours && !lost) {
          lost = true
          controller.abort(new RunNoLongerActiveError(scanRunId))
        }
      })
      .catch(() => {
        // A missed heartbeat is retried on the next tick; a dead database fails the scan elsewhere.
      })
  }, options.heartbeatMs ?? 10_000)
  beat.unref()

  const recordProblem = (problem: ScanProblem) => {
    errors.push(problemToError(problem))
    if (problem.fatalForScope && problem.scope) {
      const entry = scopes.get(problem.scope.accountId)
      if (entry) entry.fatal = true
      else scopes.set(problem.scope.accountId, { scope: problem.scope, fatal: true, outcome: null })
    }
  }

  try {
    const provider: Provider<unknown> = await (options.deps?.resolveProvider ?? defaultProviderResolver)(source.provider)
    const parsed = provider.settingsSchema.safeParse(source.settings)
    if (!parsed.success) {
      throw new LeashError(
        `The settings of source "${source.name}" are not valid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(settings)'}: ${i.message}`).join('; ')}.`,
        'Correct them on the Sources page or in leash.config.yaml, then scan again.',
      )
    }
    ingest = await ScanIngest.open(handle.pool, {
      sourceId: source.id,
      provider: source.provider,
      scanRunId,
      workerId: options.workerId,
      flushIdentities: options.flushIdentities,
      onProblem: recordProblem,
      onProgress: (s) => {
        progress.identitiesSeen = s.identitiesSeen
        report()
      },
    })
    baseline = ingest.baseline
    const ctx: ScanContext<unknown> = { sourceName: source.name, settings: parsed.data, signal: controller.signal, apiCalls, now: new Date() }
    for await (const event of provider.scan(ctx)) {
      if (controller.signal.aborted) break
      switch (event.type) {
        case 'scope_started':
          if (!scopes.has(event.scope.accountId)) scopes.set(event.scope.accountId, { scope: event.scope, fatal: false, outcome: null })
          await ingest.startScope(event.scope)
          break
        case 'batch':
          if (!scopes.has(event.scope.accountId)) scopes.set(event.scope.accountId, { scope: event.scope, fatal: false, outcome: null })
          await ingest.add(event.scope, event.identities)
          break
        case 'problem':
          recordProblem(event.problem)
          break
        case 'scope_finished': {
          const entry = scopes.get(event.scope.accountId) ?? { scope: event.scope, fatal: false, outcome: null }
          scopes.set(event.scope.accountId, entry)
          entry.outcome = await ingest.finishScope(event.scope, event.complete && !entry.fatal)
          if (entry.outcome.warning) warnings.push(entry.outcome.warning)
          progress.scopesFinished += 1
          report()
          break
        }
        default:
          recordProblem({
            scope: null,
            operation: 'leash:ingest',
            permission: null,
            message: `The connector sent an event Leash does not know (${JSON.stringify((event as { type?: unknown }).type)}).`,
            remedy: 'Report this connector bug; the scan continues without it.',
            fatalForScope: false,
          })
      }
    }
    await ingest.flush()
    if (controller.signal.aborted) throw controller.signal.reason ?? new Error('The scan was stopped.')
  } catch (error) {
    thrown = error
    if (error instanceof RunNoLongerActiveError) lost = true
  } finally {
    stats = ingest ? { ...ingest.stats } : null
    await ingest?.close()
  }

  if (lost) {
    clearInterval(beat)
    options.signal?.removeEventListener('abort', abortFromOutside)
    throw thrown instanceof RunNoLongerActiveError ? thrown : new RunNoLongerActiveError(scanRunId)
  }

  const cancelled = thrown !== null && options.signal?.aborted === true
  if (thrown !== null) {
    errors.push({
      scope: null,
      operation: cancelled ? 'leash:cancel' : 'leash:scan',
      permission: null,
      message: cancelled
        ? 'The scan was stopped before it finished (Leash was shutting down). What it stored is kept; nothing was retired.'
        : `The scan stopped with an error: ${describe(thrown)}`,
      remedy: cancelled
        ? 'It runs again at its next scheduled time, or start it now from the Sources page.'
        : thrown instanceof LeashError
          ? thrown.remedy
          : 'What was stored before the error is kept and nothing was retired. Check the source’s settings and permissions, then scan again; if it repeats, report it with this message.',
      fatalForScope: true,
    })
  }

  const scopeList = [...scopes.values()].map((entry) => ({
    accountId: entry.scope.accountId,
    complete: entry.outcome?.complete === true,
    retired: entry.outcome?.retired ?? 0,
  }))
  const anyComplete = scopeList.some((s) => s.complete)
  let status: ScanRunResult['status']
  if (cancelled) status = 'cancelled'
  // Did not finish (connector or database error): failed, whatever it stored before is kept.
  else if (thrown !== null) status = 'failed'
  // Finished but read nothing anywhere (e.g. bad credentials): failed.
  else if (scopeList.length > 0 && !anyComplete && (stats?.identitiesSeen ?? 0) === 0) status = 'failed'
  else if (errors.length > 0 || scopeList.some((s) => !s.complete)) status = 'partial'
  else status = 'succeeded'

  // Scoring: what changed is re-scored even after a partial scan (what was read is real).
  if (status !== 'cancelled' && (stats?.identitiesSeen ?? 0) + (stats?.identitiesRetired ?? 0) > 0) {
    progress.phase = 'scoring'
    report()
    try {
      const hooks = options.deps?.afterScan === undefined ? await defaultAfterScan() : options.deps.afterScan
      if (hooks) {
        await hooks.score(db, { signal: controller.signal })
        await hooks.snapshot(db, { sourceId: source.id, scanRunId })
      }
    } catch (error) {
      errors.push({
        scope: null,
        operation: 'leash:scoring',
        permission: null,
        message: `The inventory was stored, but scoring it failed: ${describe(error)}`,
        remedy: 'Scores are brought up to date by the next scan; if this repeats, report it with this message.',
        fatalForScope: false,
      })
      if (status === 'succeeded') status = 'partial'
    }
  }

  const totals = await sourceTotals(db, source.id)
  const retireWarning =
    warnings.length > 0
      ? {
          scopes: warnings,
          message: `This scan did not see more than half of the identities in ${warnings.map((w) => `${w.accountId} (${w.wouldRetire} of ${w.present})`).join(', ')}. Nothing was retired there.`,
          remedy: 'If those identities were really deleted, confirm the retirement on the Sources page; if not, check the connector’s permissions and scan again.',
          confirmedBy: null,
          confirmedAt: null,
        }
      : null
  const result: ScanRunResult = {
    scanRunId,
    sourceId: source.id,
    source: source.name,
    provider: source.provider,
    status,
    baseline,
    identities: {
      seen: stats?.identitiesSeen ?? 0,
      new: stats?.identitiesNew ?? 0,
      changed: stats?.identitiesChanged ?? 0,
      unchanged: stats?.identitiesUnchanged ?? 0,
      retired: stats?.identitiesRetired ?? 0,
      skipped: stats?.identitiesSkipped ?? 0,
    },
    credentials: { seen: stats?.credentialsSeen ?? 0, removed: stats?.credentialsRemoved ?? 0 },
    entitlementsSeen: stats?.entitlementsSeen ?? 0,
    changes: stats?.changes ?? 0,
    scopes: scopeList,
    apiCalls: { total: apiCalls.total, byOperation: { ...apiCalls.byOperation } },
    durationMs: Date.now() - started,
    errors,
    retireWarning,
    totals,
  }
  clearInterval(beat)
  options.signal?.removeEventListener('abort', abortFromOutside)
  const finished = await finishRun(db, scanRunId, options.workerId, {
    status,
    errors,
    apiCalls,
    retireWarning,
    summary: {
      baseline,
      identities: result.identities,
      credentials: result.credentials,
      entitlementsSeen: result.entitlementsSeen,
      changes: result.changes,
      scopes: result.scopes,
      apiCalls: result.apiCalls.total,
      durationMs: result.durationMs,
      totals,
      agents: totals.agents,
      findingsByDimension: totals.findingsByDimension,
    },
  })
  if (!finished) throw new RunNoLongerActiveError(scanRunId)
  progress.phase = 'done'
  report()
  return result
}

async function sourceTotals(db: Kysely<Database>, sourceId: string): Promise<ScanRunResult['totals']> {
  const identities = await db
    .selectFrom('identities')
    .select((eb) => [eb.fn.countAll<number>().as('identities'), eb.fn.countAll<number>().filterWhere('is_agent', '=', true).as('agents')])
    .where('source_id', '=', sourceId)
    .where('status', 'in', ['active', 'disabled'])
    .executeTakeFirstOrThrow()
  const credentials = await db
    .selectFrom('credentials')
    .innerJoin('identities', 'identities.id', 'credentials.identity_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('identities.source_id', '=', sourceId)
    .where('credentials.status', 'in', ['active', 'inactive', 'expired'])
    .executeTakeFirstOrThrow()
  const findings = await db
    .selectFrom('findings')
    .innerJoin('identities', 'identities.id', 'findings.identity_id')
    .select(['findings.dimension', (eb) => eb.fn.countAll<number>().as('n')])
    .where('identities.source_id', '=', sourceId)
    .where('findings.status', '=', 'open')
    .groupBy('findings.dimension')
    .execute()
  return {
    identities: Number(identities.identities),
    agents: Number(identities.agents),
    credentials: Number(credentials.n),
    findingsByDimension: Object.fromEntries(findings.map((f) => [f.dimension, Number(f.n)])),
  }
}
