/**
 * The queue with real worker processes (`node bin/leash.js worker`) on a real database: work is
 * shared, no source is scanned twice at once, and a dead worker's scan is retried by another.
 * The workers scan with the test provider, selected by LEASH_TEST_PROVIDER_MODULE (set only here).
 */
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { useTestDatabase } from '../test/db.js'
import { requestScan, startScanQueue, type ScanQueue } from './queue.js'
import { createTestSource, setTestSettings } from './testing/helpers.js'
import { spawnLeash, waitFor, type LeashProcess } from './testing/processes.js'

const account = (accountId: string, identities: number) => ({ accountId, identities, omit: [] as number[], mutations: {} as Record<string, string>, incomplete: false })
const workerEnv = (url: string) => ({ DATABASE_URL: url, LEASH_SCAN_HEARTBEAT_MS: '200', LEASH_SCAN_STALE_SECONDS: '2', LEASH_SCAN_SWEEP_MS: '500' })

describe('scan queue with worker processes', () => {
  const database = useTestDatabase({ max: 8 })
  const processes: LeashProcess[] = []
  let queue: ScanQueue | null = null
  afterAll(async () => {
    for (const p of processes) p.child.kill('SIGKILL')
    await Promise.all(processes.map((p) => p.exited))
    await queue?.stop()
  })

  const startWorker = async (url: string) => {
    const worker = spawnLeash(['worker', '--concurrency', '1'], workerEnv(url))
    processes.push(worker)
    await waitFor('the worker to be ready', async () => worker.output().includes('ready ('), 90_000).catch((error: Error) => {
      throw new Error(`${error.message}; its output:\n${worker.output()}`)
    })
    return worker
  }

  it('several processes starting at once on a new database all get the queue', async () => {
    // Four starts race to create pg-boss's schema and the scan queue (a partition with its
    // own indexes); unserialized, create_queue deadlocks on the catalog.
    const { db, url } = database.current
    const queues = await Promise.all([1, 2, 3, 4].map(() => startScanQueue({ url, db, supervise: false })))
    try {
      for (const started of queues) expect(await started.boss.getQueue('leash-scan')).toMatchObject({ name: 'leash-scan', policy: 'stately' })
    } finally {
      await Promise.all(queues.map((started) => started.stop()))
    }
  })

  it('two workers share a queue of sources, and no source is scanned twice at once', async () => {
    const { db, url } = database.current
    const trace = path.join(await mkdtemp(path.join(tmpdir(), 'leash-queue-')), 'trace.log')
    const names = ['alpha', 'bravo', 'charlie', 'delta']
    const ids: string[] = []
    for (const [n, name] of names.entries()) {
      ids.push(await createTestSource(db, name, { accounts: [account(`90000000000${n}`, 60)], batchSize: 10, delayMs: 150, traceFile: trace }))
    }
    const [a, b] = await Promise.all([startWorker(url), startWorker(url)])
    queue = await startScanQueue({ url, db, supervise: false })

    for (let round = 0; round < 2; round++) {
      // "Scan now" pressed three times per source at once: one run per source.
      const requests = await Promise.all(ids.flatMap((sourceId) => [1, 2, 3].map(() => requestScan(db, queue, { sourceId, requestedBy: 'test', trigger: 'manual' }))))
      for (const sourceId of ids) {
        const runIds = new Set(requests.filter((_, i) => ids[Math.floor(i / 3)] === sourceId).map((r) => r.scanRunId))
        expect(runIds.size).toBe(1)
      }
      await waitFor(
        'every scan to finish',
        async () => (await db.selectFrom('scan_runs').select('id').where('status', 'in', ['queued', 'running']).execute()).length === 0,
        90_000,
        200,
      )
    }

    const runs = await db.selectFrom('scan_runs').select(['source_id', 'status', 'worker_id']).execute()
    expect(runs).toHaveLength(8)
    // Scanning finished cleanly (status 'partial' only if the scoring step after it reported a problem).
    for (const run of await db.selectFrom('scan_runs').select(['status', 'errors', 'identities_seen']).execute()) {
      expect(['succeeded', 'partial']).toContain(run.status)
      expect((run.errors as { operation: string }[]).filter((e) => e.operation !== 'leash:scoring')).toEqual([])
      expect(run.identities_seen).toBe(60)
    }
    expect(new Set(runs.map((r) => r.worker_id)).size).toBe(2)

    const events = (await readFile(trace, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => {
        const [kind, source, pid, at] = line.split(' ')
        return { kind: kind!, source: source!, pid: pid!, at: Number(at) }
      })
    expect(new Set(events.map((e) => e.pid))).toEqual(new Set([String(a.child.pid), String(b.child.pid)]))
    for (const name of names) {
      // Per source, starts and ends strictly alternate: never two scans of it at once.
      const sequence = events.filter((e) => e.source === name).map((e) => e.kind)
      expect(sequence).toEqual(['start', 'end', 'start', 'end'])
    }
  }, 180_000)

  it('a worker that dies mid-scan has its scan retried by another worker', async () => {
    const { db, url } = database.current
    for (const p of processes.splice(0)) {
      p.child.kill('SIGTERM')
      await p.exited
    }
    const sourceId = await createTestSource(db, 'echo', { accounts: [account('910000000000', 300)], batchSize: 10, delayMs: 200 })
    const doomed = await startWorker(url)
    const { scanRunId } = await requestScan(db, queue, { sourceId, requestedBy: 'test', trigger: 'manual' })
    await waitFor(
      'the scan to be under way',
      async () => db.selectFrom('scan_runs').select('id').where('id', '=', scanRunId).where('status', '=', 'running').where('identities_seen', '>=', 20).executeTakeFirst(),
      60_000,
    )
    doomed.child.kill('SIGKILL')
    await doomed.exited
    await setTestSettings(db, sourceId, { accounts: [account('910000000000', 300)], batchSize: 50 })

    const rescuer = await startWorker(url)
    const retry = await waitFor(
      'the retry to succeed',
      async () => db.selectFrom('scan_runs').selectAll().where('retry_of', '=', scanRunId).where('status', 'in', ['succeeded', 'partial']).executeTakeFirst(),
      90_000,
      250,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; worker output:\n${rescuer.output()}`)
    })
    expect(retry).toMatchObject({ trigger: 'retry', attempt: 2, identities_seen: 300 })
    const failed = await db.selectFrom('scan_runs').selectAll().where('id', '=', scanRunId).executeTakeFirstOrThrow()
    expect(failed.status).toBe('failed')
    expect(failed.errors).toEqual([expect.objectContaining({ operation: 'leash:worker', message: expect.stringMatching(/worker running this scan stopped/) })])
    const identities = await db.selectFrom('identities').select('id').where('source_id', '=', sourceId).where('status', '=', 'active').execute()
    expect(identities).toHaveLength(300)
  }, 180_000)
})
