/**
 * Faults against real PostgreSQL: failing sources do not touch others; a process killed
 * mid-scan leaves the database consistent and the run failed at the next start.
 */
import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { useTestDatabase } from '../test/db.js'
import { createTestSource, scanNow, setTestSettings } from './testing/helpers.js'
import { spawnLeash, waitFor } from './testing/processes.js'

const account = (accountId: string, identities: number) => ({ accountId, identities, omit: [] as number[], mutations: {} as Record<string, string>, incomplete: false })

describe('scan faults', () => {
  const database = useTestDatabase({ max: 12 })

  it('one failing source (bad credentials, throttling storm, malformed data) never blocks or corrupts another', async () => {
    const { db } = database.current
    const good = await createTestSource(db, 'good', { accounts: [account('100000000001', 40)], delayMs: 5, batchSize: 10 })
    const badCredentials = await createTestSource(db, 'bad-credentials', { accounts: [account('100000000002', 30)] })
    const throttled = await createTestSource(db, 'throttled', { accounts: [account('100000000003', 30)], batchSize: 10 })
    const malformed = await createTestSource(db, 'malformed', { accounts: [account('100000000004', 30)], batchSize: 10 })
    // Everyone has a known inventory first.
    for (const id of [good, badCredentials, throttled, malformed]) expect((await scanNow(database.current, id)).status).toBe('succeeded')
    const before = await sql<{ source_id: string; n: number }>`select source_id, count(*)::int as n from identities where status = 'active' group by source_id`.execute(db)

    await setTestSettings(db, badCredentials, { accounts: [account('100000000002', 30)], failure: 'bad_credentials' })
    await setTestSettings(db, throttled, { accounts: [{ ...account('100000000003', 30), omit: [25, 26, 27, 28, 29] }], batchSize: 10, failure: 'throttling' })
    await setTestSettings(db, malformed, { accounts: [account('100000000004', 30)], batchSize: 10, failure: 'malformed' })
    await setTestSettings(db, good, { accounts: [{ ...account('100000000001', 40), omit: [0] }], delayMs: 5, batchSize: 10 })

    // All four at once, as four workers would.
    const [g, b, t, m] = await Promise.all([good, badCredentials, throttled, malformed].map((id) => scanNow(database.current, id)))
    expect(g!.status).toBe('succeeded')
    expect(g!.identities).toMatchObject({ seen: 39, retired: 1 })

    expect(b!.status).toBe('failed')
    expect(b!.errors[0]).toMatchObject({ operation: 'sts:GetCallerIdentity', message: expect.stringMatching(/token .* is invalid/), remedy: expect.stringMatching(/access key/) })
    expect(t!.status).toBe('failed')
    expect(t!.errors.at(-1)!.message).toMatch(/ThrottlingException/)
    expect(t!.identities.retired).toBe(0)
    expect(m!.status).toBe('partial')
    expect(m!.identities.retired).toBe(0)

    const after = await sql<{ source_id: string; n: number }>`select source_id, count(*)::int as n from identities where status = 'active' group by source_id`.execute(db)
    const count = (rows: { source_id: string; n: number }[], id: string) => rows.find((r) => r.source_id === id)?.n
    // Nothing known before is lost where the scan failed; the good source reflects its provider.
    expect(count(after.rows, badCredentials)).toBe(count(before.rows, badCredentials))
    expect(count(after.rows, throttled)).toBe(count(before.rows, throttled))
    expect(count(after.rows, malformed)).toBe(count(before.rows, malformed))
    expect(count(after.rows, good)).toBe(39)
    const runs = await db.selectFrom('scan_runs').select(['source_id', 'status']).where('status', 'in', ['queued', 'running']).execute()
    expect(runs).toEqual([])
  })

  it('a process killed mid-scan leaves the database consistent, and the run is marked failed at the next start', async () => {
    const { db } = database.current
    const sourceId = await createTestSource(db, 'killed', { accounts: [account('200000000001', 200)], batchSize: 10 })
    const first = await scanNow(database.current, sourceId)
    expect(first.status).toBe('succeeded')
    await db.updateTable('identities').set({ needs_scoring: false }).execute()

    // A slow rescan in which every identity's grants changed, killed part-way.
    const mutations = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [String(i), 'privilege_gained']))
    await setTestSettings(db, sourceId, { accounts: [{ ...account('200000000001', 200), omit: [150, 151], mutations }], batchSize: 10, delayMs: 150 })
    const env = { DATABASE_URL: database.current.url, LEASH_SCAN_HEARTBEAT_MS: '200', LEASH_SCAN_STALE_SECONDS: '2' }
    const child = spawnLeash(['scan', '--source', 'killed', '--json'], env)
    const running = await waitFor(
      'the scan to store some batches',
      async () =>
        db
          .selectFrom('scan_runs')
          .select(['id', 'identities_seen'])
          .where('source_id', '=', sourceId)
          .where('status', '=', 'running')
          .where('identities_seen', '>=', 30)
          .executeTakeFirst(),
      60_000,
    )
    child.child.kill('SIGKILL')
    await child.exited

    // Consistent: every identity is whole (each batch was one transaction), nothing retired.
    const shape = await sql<{ bad: number; total: number; active: number }>`
      select count(*) filter (where (select count(*) from entitlements e where e.identity_id = i.id) not in (10, 11)
                                or (select count(*) from credentials c where c.identity_id = i.id) <> 3)::int as bad,
             count(*)::int as total, count(*) filter (where status = 'active')::int as active
        from identities i where source_id = ${sourceId}`.execute(db)
    expect(shape.rows[0]).toEqual({ bad: 0, total: 200, active: 200 })
    const gained = await sql<{ n: number }>`select count(*)::int as n from identity_changes where scan_run_id = ${running.id} and change_type = 'privilege_gained'`.execute(db)
    const stored = await sql<{ n: number }>`select count(*)::int as n from identities where source_id = ${sourceId} and last_seen_scan_id = ${running.id}`.execute(db)
    // History matches exactly what was committed.
    expect(gained.rows[0]!.n).toBe(stored.rows[0]!.n)
    expect(stored.rows[0]!.n).toBeGreaterThanOrEqual(30)
    expect(stored.rows[0]!.n).toBeLessThan(198)

    // The next start (after the heartbeat went stale) marks it failed, in plain words, and scans again.
    await new Promise((resolve) => setTimeout(resolve, 2500))
    await setTestSettings(db, sourceId, { accounts: [{ ...account('200000000001', 200), omit: [150, 151], mutations }], batchSize: 50 })
    const next = spawnLeash(['scan', '--source', 'killed', '--json'], env)
    expect(await next.exited).toBe(0)
    const killed = await db.selectFrom('scan_runs').selectAll().where('id', '=', running.id).executeTakeFirstOrThrow()
    expect(killed.status).toBe('failed')
    expect(killed.errors).toEqual([expect.objectContaining({ operation: 'leash:worker', message: expect.stringMatching(/stopped .*nothing was retired/) })])
    const scope = await db.selectFrom('scan_scopes').select('status').where('scan_run_id', '=', running.id).executeTakeFirstOrThrow()
    expect(scope.status).toBe('incomplete')
    const summary = JSON.parse(next.output().trim().split('\n').at(-1)!) as { status: string; identities: { retired: number } }
    expect(summary.status).not.toBe('failed')
    expect(summary.identities.retired).toBe(2)
  })

  it('`leash scan` exits non-zero when a scan failed', async () => {
    const { db } = database.current
    await createTestSource(db, 'cli-bad', { accounts: [account('300000000001', 5)], failure: 'bad_credentials' })
    const child = spawnLeash(['scan', '--source', 'cli-bad', '--json'], { DATABASE_URL: database.current.url })
    expect(await child.exited).toBe(1)
    const summary = JSON.parse(child.output().trim().split('\n').at(-1)!) as { status: string; errors: { message: string }[] }
    expect(summary.status).toBe('failed')
    expect(summary.errors[0]!.message).toMatch(/token/)
  })
})
