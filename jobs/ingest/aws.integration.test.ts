/**
 * Ingest with the first real connector: the AWS stand-in (official SDK, real wire format),
 * through the registry, with scoring after the scan. A rescan of an unchanged estate rewrites
 * nothing and records no change; the run records API calls by operation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startAwsStandIn, type AwsStandIn } from '../../connectors/aws/stand-in/index.js'
import { useEnv } from '../../connectors/aws/test-support.js'
import { json } from '../../db/connection.js'
import { useTestDatabase } from '../../test/db.js'
import { listChangesSince } from '../changes.js'
import { executeScanRun } from '../runner.js'
import { startRunNow } from '../runs.js'

const database = useTestDatabase({ max: 8 })
let standIn: AwsStandIn
let restoreEnv: () => void
let sourceId: string

async function scan() {
  const runId = await startRunNow(database.current.db, { sourceId, requestedBy: 'test', trigger: 'cli', workerId: 'ingest-aws-test' })
  return executeScanRun(database.current, runId, { workerId: 'ingest-aws-test' })
}

beforeAll(async () => {
  standIn = await startAwsStandIn({ seed: 'test' })
  restoreEnv = useEnv(standIn.env)
  const source = await database.current.db
    .insertInto('sources')
    .values({ provider: 'aws', name: 'aws-stand-in', settings: json(standIn.settings) })
    .returning('id')
    .executeTakeFirstOrThrow()
  sourceId = source.id
})

afterAll(async () => {
  restoreEnv?.()
  await standIn?.stop()
})

describe('ingest from the AWS stand-in', () => {
  it('stores the estate, scores it, and a rescan of an unchanged estate changes nothing', async () => {
    const first = await scan()
    expect(first.status).toBe('succeeded')
    expect(first.baseline).toBe(true)
    expect(first.identities.seen).toBeGreaterThan(0)
    expect(first.identities.new).toBe(first.identities.seen)
    expect(first.apiCalls.total).toBeGreaterThan(0)
    expect(Object.keys(first.apiCalls.byOperation).some((op) => op.startsWith('iam:'))).toBe(true)
    expect(first.totals.identities).toBe(first.identities.seen)
    const pending = await database.current.db.selectFrom('identities').select('id').where('needs_scoring', '=', true).execute()
    expect(pending).toEqual([])
    const snapshots = await database.current.db.selectFrom('posture_snapshots').select('scan_run_id').where('source_id', '=', sourceId).execute()
    expect(snapshots.map((s) => s.scan_run_id)).toContain(first.scanRunId)

    const second = await scan()
    expect(second.status).toBe('succeeded')
    expect(second.identities).toMatchObject({ seen: first.identities.seen, new: 0, changed: 0, retired: 0 })
    expect(await listChangesSince(database.current.db, { sinceScanRunId: second.scanRunId, sourceId })).toEqual([])
  })
})
