/**
 * Scheduled scans: one node-cron task per enabled source (sources.schedule, default every
 * 6 hours), reloaded when sources change (polled; cheap, and works through any proxy/pooler).
 *
 * With several schedulers running (several `npm start` replicas), a slot fires once: before
 * queueing, a scheduler claims (source, slot time) in scan_schedule_slots, whose primary key
 * lets exactly one INSERT win.
 */
import type { Kysely } from 'kysely'
import { sql } from 'kysely'
import cron, { type ScheduledTask } from 'node-cron'
import type { Database, ScanRun } from '../db/schema.js'
import { requestScan, type ScanQueue } from './queue.js'


export interface SourceSchedule {
  sourceId: string
  sourceName: string
  schedule: string
  enabled: boolean
  /** null when disabled or the expression is invalid. */
  nextRunAt: Date | null
  /** Why there is no next run, in plain words. */
  problem: string | null
  lastRun: Pick<ScanRun, 'id' | 'status' | 'trigger' | 'queued_at' | 'started_at' | 'finished_at' | 'identities_seen'> | null
}

/** The slot a firing belongs to: the minute (or the second, for six-field expressions). */
export function slotTime(expression: string, firedAt: Date): Date {
  const withSeconds = expression.trim().split(/\s+/).length === 6
  const ms = withSeconds ? 1000 : 60_000
  return new Date(Math.floor(firedAt.getTime() / ms) * ms)
}

/** The next time an expression fires after `from`, or null when it is not valid. */
export function nextRunOf(expression: string, from = new Date()): Date | null {
  if (!cron.validate(expression)) return null
  const task = cron.createTask(expression, () => {})
  try {
    const next = task.getNextRun()
    if (next && next.getTime() >= from.getTime()) return next
    return task.getNextRuns(2).find((d) => d.getTime() >= from.getTime()) ?? null
  } finally {
    void task.destroy()
  }
}

/** For the Sources page: each source's schedule, its next run and its last run. */
export async function listSourceSchedules(db: Kysely<Database>): Promise<SourceSchedule[]> {
  const sources = await db.selectFrom('sources').select(['id', 'name', 'schedule', 'enabled']).orderBy('name').execute()
  const lastRuns = await db
    .selectFrom('scan_runs')
    .distinctOn('source_id')
    .select(['source_id', 'id', 'status', 'trigger', 'queued_at', 'started_at', 'finished_at', 'identities_seen'])
    .orderBy('source_id')
    .orderBy('queued_at', 'desc')
    .execute()
  const lastBySource = new Map(lastRuns.map((r) => [r.source_id, r]))
  return sources.map((s) => {
    const valid = cron.validate(s.schedule)
    const last = lastBySource.get(s.id)
    return {
      sourceId: s.id,
      sourceName: s.name,
      schedule: s.schedule,
      enabled: s.enabled,
      nextRunAt: s.enabled && valid ? nextRunOf(s.schedule) : null,
      problem: !s.enabled ? 'Scheduled scans are off for this source.' : valid ? null : `"${s.schedule}" is not a valid cron expression; the source is not scanned on a schedule.`,
      lastRun: last
        ? { id: last.id, status: last.status, trigger: last.trigger, queued_at: last.queued_at, started_at: last.started_at, finished_at: last.finished_at, identities_seen: last.identities_seen }
        : null,
    }
  })
}

/**
 * Claims a slot and queues the scan. Returns the run id, or null when another scheduler
 * claimed the slot first.
 */
export async function fireScheduledSlot(
  db: Kysely<Database>,
  queue: ScanQueue | null,
  input: { sourceId: string; slot: Date; schedulerId: string },
): Promise<{ claimed: boolean; scanRunId: string | null; alreadyActive: boolean }> {
  const claim = await db
    .insertInto('scan_schedule_slots')
    .values({ source_id: input.sourceId, slot_time: input.slot, claimed_by: input.schedulerId })
    .onConflict((oc) => oc.columns(['source_id', 'slot_time']).doNothing())
    .returning('source_id')
    .executeTakeFirst()
  if (!claim) return { claimed: false, scanRunId: null, alreadyActive: false }
  const { scanRunId, alreadyActive } = await requestScan(db, queue, { sourceId: input.sourceId, requestedBy: 'scheduler', trigger: 'schedule' })
  await db
    .updateTable('scan_schedule_slots')
    .set({ scan_run_id: alreadyActive ? null : scanRunId, outcome: alreadyActive ? 'skipped_active' : 'queued' })
    .where('source_id', '=', input.sourceId)
    .where('slot_time', '=', input.slot)
    .execute()
  return { claimed: true, scanRunId, alreadyActive }
}

export interface Scheduler {
  /** Re-reads sources now (also happens every reloadMs). */
  reload(): Promise<void>
  /** The node-cron tasks by source id (tests, diagnostics). */
  readonly tasks: ReadonlyMap<string, ScheduledTask>
  stop(): Promise<void>
}

export async function startScheduler(options: {
  db: Kysely<Database>
  queue: ScanQueue | null
  schedulerId: string
  reloadMs?: number
  log?: (line: string) => void
}): Promise<Scheduler> {
  const { db, queue, schedulerId } = options
  const log = options.log ?? (() => {})
  const tasks = new Map<string, { task: ScheduledTask; schedule: string }>()
  let stopped = false

  const fire = async (sourceId: string, schedule: string, firedAt: Date) => {
    try {
      const result = await fireScheduledSlot(db, queue, { sourceId, slot: slotTime(schedule, firedAt), schedulerId })
      if (result.claimed && !result.alreadyActive) log(`scheduled scan queued for source ${sourceId} (run ${result.scanRunId})`)
      if (result.claimed && result.alreadyActive) log(`scheduled scan of source ${sourceId} skipped: it is still being scanned`)
    } catch (error) {
      log(`scheduled scan of source ${sourceId} could not be queued: ${error instanceof Error ? error.message : String(error)}`)
    }
  }

  const reload = async () => {
    if (stopped) return
    const sources = await db.selectFrom('sources').select(['id', 'name', 'schedule', 'enabled']).execute()
    const wanted = new Map(sources.filter((s) => s.enabled && cron.validate(s.schedule)).map((s) => [s.id, s]))
    for (const s of sources) {
      if (s.enabled && !cron.validate(s.schedule)) log(`source "${s.name}" has an invalid schedule "${s.schedule}"; it is not scanned on a schedule`)
    }
    for (const [id, entry] of tasks) {
      const want = wanted.get(id)
      if (!want || want.schedule !== entry.schedule) {
        await entry.task.destroy()
        tasks.delete(id)
      }
    }
    for (const [id, s] of wanted) {
      if (tasks.has(id)) continue
      const task = cron.schedule(s.schedule, (ctx) => fire(id, s.schedule, ctx.date ?? new Date()), { name: `leash-scan-${id}`, noOverlap: false })
      tasks.set(id, { task, schedule: s.schedule })
    }
  }

  await reload()
  const timer = setInterval(() => {
    reload().catch((error: unknown) => log(`could not reload schedules: ${error instanceof Error ? error.message : String(error)}`))
  }, options.reloadMs ?? 30_000)
  timer.unref()

  return {
    reload,
    get tasks() {
      return new Map([...tasks].map(([id, t]) => [id, t.task]))
    },
    async stop() {
      stopped = true
      clearInterval(timer)
      for (const { task } of tasks.values()) await task.destroy()
      tasks.clear()
    },
  }
}

/** Old slot claims are only needed to dedupe one firing: keep a week for the record. */
export async function pruneScheduleSlots(db: Kysely<Database>): Promise<void> {
  await db.deleteFrom('scan_schedule_slots').where('slot_time', '<', sql<Date>`now() - interval '7 days'`).execute()
}
