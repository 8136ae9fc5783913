import { describe, expect, it } from 'vitest'
import { useTestDatabase } from '../test/db.js'
import { scanServices } from './queue.js'
import { fireScheduledSlot, listSourceSchedules, nextRunOf, slotTime, startScheduler } from './scheduler.js'
import { createTestSource } from './testing/helpers.js'

describe('scheduled scans', () => {
  const database = useTestDatabase()

  it('a slot fires once however many schedulers try to claim it', async () => {
    const { db } = database.current
    const sourceId = await createTestSource(db, 'slots', {})
    const slot = new Date('2026-11-21T06:00:00Z')
    const results = await Promise.all(['a', 'b', 'c'].map((schedulerId) => fireScheduledSlot(db, null, { sourceId, slot, schedulerId })))
    expect(results.filter((r) => r.claimed)).toHaveLength(1)
    const runs = await db.selectFrom('scan_runs').select(['status', 'trigger', 'requested_by']).where('source_id', '=', sourceId).execute()
    expect(runs).toEqual([{ status: 'queued', trigger: 'schedule', requested_by: 'scheduler' }])
    // The next slot while that scan is still waiting: claimed, but no second run.
    const next = await fireScheduledSlot(db, null, { sourceId, slot: new Date('2026-11-21T12:00:00Z'), schedulerId: 'a' })
    expect(next).toMatchObject({ claimed: true, alreadyActive: true })
    const slots = await db.selectFrom('scan_schedule_slots').select(['outcome']).where('source_id', '=', sourceId).orderBy('slot_time').execute()
    expect(slots.map((s) => s.outcome)).toEqual(['queued', 'skipped_active'])
  })

  it('two running schedulers fire each slot of a source once, and follow schedule changes', async () => {
    const { db } = database.current
    const sourceId = await createTestSource(db, 'every-second', {}, '* * * * * *')
    const schedulers = await Promise.all(['one', 'two'].map((schedulerId) => startScheduler({ db, queue: null, schedulerId, reloadMs: 60_000 })))
    try {
      expect(schedulers[0]!.tasks.has(sourceId)).toBe(true)
      await new Promise((resolve) => setTimeout(resolve, 3200))
      const slots = await db.selectFrom('scan_schedule_slots').select(['slot_time', 'claimed_by', 'outcome']).where('source_id', '=', sourceId).orderBy('slot_time').execute()
      expect(slots.length).toBeGreaterThanOrEqual(2)
      expect(new Set(slots.map((s) => s.slot_time.getTime())).size).toBe(slots.length)
      expect(slots[0]!.outcome).toBe('queued')
      const runs = await db.selectFrom('scan_runs').select('id').where('source_id', '=', sourceId).execute()
      expect(runs).toHaveLength(1)

      await db.updateTable('sources').set({ enabled: false }).where('id', '=', sourceId).execute()
      await Promise.all(schedulers.map((s) => s.reload()))
      expect(schedulers[0]!.tasks.has(sourceId)).toBe(false)
    } finally {
      await Promise.all(schedulers.map((s) => s.stop()))
    }
  })

  it('lists each source with its next run and last run for the Sources page', async () => {
    const { db } = database.current
    const every6h = await createTestSource(db, 'listed', {})
    const broken = await createTestSource(db, 'broken-schedule', {}, 'every tuesday')
    await scanServices(db).requestScan({ sourceId: every6h, requestedBy: 'alice', trigger: 'manual' })
    const schedules = await listSourceSchedules(db)
    const listed = schedules.find((s) => s.sourceId === every6h)!
    expect(listed.schedule).toBe('0 */6 * * *')
    expect(listed.nextRunAt!.getTime()).toBeGreaterThan(Date.now())
    expect(listed.nextRunAt!.getTime() - Date.now()).toBeLessThanOrEqual(6 * 3600_000)
    expect(listed.nextRunAt!.getMinutes()).toBe(0)
    expect(listed.lastRun).toMatchObject({ status: 'queued', trigger: 'manual' })
    const bad = schedules.find((s) => s.sourceId === broken)!
    expect(bad.nextRunAt).toBeNull()
    expect(bad.problem).toMatch(/not a valid cron expression/)
  })

  it('computes slots and next runs from the cron expression', () => {
    expect(slotTime('*/5 * * * *', new Date('2026-11-21T10:05:00.731Z')).toISOString()).toBe('2026-11-21T10:05:00.000Z')
    expect(slotTime('*/5 * * * * *', new Date('2026-11-21T10:05:07.731Z')).toISOString()).toBe('2026-11-21T10:05:07.000Z')
    const next = nextRunOf('*/15 * * * *', new Date())!
    expect(next.getMinutes() % 15).toBe(0)
    expect(nextRunOf('not cron')).toBeNull()
  })
})
