import { describe, expect, it } from 'vitest'
import { json } from '../../db/connection.js'
import { useTestDatabase } from '../../test/db.js'
import { backfillDemoHistory, DEMO_HISTORY_DAYS, deriveAggregates, historyFactors } from './history.js'

const database = useTestDatabase()

describe('demo history', () => {
  it('is the same every time and trends towards today (fewer findings and less risk now)', () => {
    const a = historyFactors()
    expect(a).toEqual(historyFactors())
    expect(a).toHaveLength(DEMO_HISTORY_DAYS)
    const oldest = a[a.length - 1]!
    expect(oldest.findings).toBeGreaterThan(1.3)
    expect(oldest.identities).toBeLessThan(0.95)
    expect(oldest.risk).toBeGreaterThan(1.1)
    // Not a straight line: the day-to-day figures wobble.
    const steps = a.slice(1).map((f, i) => f.findings - a[i]!.findings)
    expect(new Set(steps.map((s) => s.toFixed(3))).size).toBeGreaterThan(10)
  })

  it('scales the aggregates the dashboard reads and marks them as demo backfill', () => {
    const f = { daysAgo: 10, identities: 0.9, agents: 0.8, findings: 1.5, orphans: 2, risk: 1.2, minutes: 3 }
    const derived = deriveAggregates(
      {
        byDimension: { ownership: 10, privilege: 4 },
        byProvider: { aws: { identities: 100, agents: 30, openFindings: 20, meanRisk: 40 } },
        orphans: 3,
        future: 'kept',
      },
      f,
    )
    expect(derived).toMatchObject({
      byDimension: { ownership: 15, privilege: 6 },
      byProvider: { aws: { identities: 90, agents: 24, openFindings: 30, meanRisk: 48 } },
      orphans: 6,
      future: 'kept',
      demoBackfill: true,
    })
  })

  it('backfills each demo source once, before its first real snapshot, and leaves real sources alone', async () => {
    const { db } = database.current
    const demo = await db
      .insertInto('sources')
      .values({ name: 'Demo · Test', provider: 'aws', is_demo: true, origin: 'demo' })
      .returning('id')
      .executeTakeFirstOrThrow()
    const real = await db.insertInto('sources').values({ name: 'real', provider: 'aws' }).returning('id').executeTakeFirstOrThrow()
    const now = new Date()
    const snapshot = (sourceId: string | null) => ({
      taken_at: now,
      source_id: sourceId,
      identities: 200,
      agents: 60,
      open_findings: 300,
      orphans: 12,
      mean_risk: 40,
      posture_score: 60,
      aggregates: json({ byDimension: { ownership: 100, privilege: 200 } }),
    })
    // Nothing scanned yet: nothing to derive from.
    expect(await backfillDemoHistory(db)).toEqual({ sources: 0, snapshots: 0, runs: 0 })
    await db
      .insertInto('posture_snapshots')
      .values([snapshot(demo.id), snapshot(real.id), snapshot(null)])
      .execute()

    const added = await backfillDemoHistory(db)
    // A real source exists, so the whole-estate series is not invented.
    expect(added).toEqual({ sources: 1, snapshots: DEMO_HISTORY_DAYS, runs: DEMO_HISTORY_DAYS })
    expect(await backfillDemoHistory(db)).toEqual({ sources: 0, snapshots: 0, runs: 0 })

    const rows = await db.selectFrom('posture_snapshots').selectAll().where('source_id', '=', demo.id).orderBy('taken_at').execute()
    expect(rows).toHaveLength(DEMO_HISTORY_DAYS + 1)
    const history = rows.slice(0, -1)
    expect(history.every((r) => r.taken_at < now && (r.aggregates as { demoBackfill?: boolean }).demoBackfill === true)).toBe(true)
    expect(history[0]!.open_findings).toBeGreaterThan(rows[rows.length - 1]!.open_findings)
    expect(now.getTime() - history[0]!.taken_at.getTime()).toBeGreaterThan((DEMO_HISTORY_DAYS - 1) * 86_400_000)
    const runs = await db.selectFrom('scan_runs').select(['trigger', 'status', 'source_id', 'summary']).execute()
    expect(runs).toHaveLength(DEMO_HISTORY_DAYS)
    expect(
      runs.every(
        (r) =>
          r.trigger === 'demo' &&
          r.status === 'succeeded' &&
          r.source_id === demo.id &&
          (r.summary as { demoBackfill?: boolean }).demoBackfill,
      ),
    ).toBe(true)
    expect(await db.selectFrom('posture_snapshots').select('id').where('source_id', '=', real.id).execute()).toHaveLength(1)
    expect(await db.selectFrom('posture_snapshots').select('id').where('source_id', 'is', null).execute()).toHaveLength(1)
  })
})
