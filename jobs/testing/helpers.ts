/** Shared set-up for the scan tests: sources on the test provider, and a scan in one call. */
import type { Kysely } from 'kysely'
import type pg from 'pg'
import { json } from '../../db/connection.js'
import type { Database } from '../../db/schema.js'
import { executeScanRun, type AfterScanHooks, type ScanRunResult } from '../runner.js'
import { startRunNow } from '../runs.js'
import { testProvider, type TestSettings } from './test-provider.js'

export async function createTestSource(db: Kysely<Database>, name: string, settings: Partial<TestSettings>, schedule?: string): Promise<string> {
  const row = await db
    .insertInto('sources')
    .values({ provider: 'test', name, settings: json(settings), ...(schedule ? { schedule } : {}) })
    .returning('id')
    .executeTakeFirstOrThrow()
  return row.id
}

export async function setTestSettings(db: Kysely<Database>, sourceId: string, settings: Partial<TestSettings>): Promise<void> {
  await db.updateTable('sources').set({ settings: json(settings) }).where('id', '=', sourceId).execute()
}

export async function scanNow(
  handle: { db: Kysely<Database>; pool: pg.Pool },
  sourceId: string,
  options: { afterScan?: AfterScanHooks | null; flushIdentities?: number } = {},
): Promise<ScanRunResult> {
  const runId = await startRunNow(handle.db, { sourceId, requestedBy: 'test', trigger: 'cli', workerId: 'test-worker' })
  return executeScanRun(handle, runId, {
    workerId: 'test-worker',
    deps: { resolveProvider: () => testProvider, afterScan: options.afterScan ?? null },
    flushIdentities: options.flushIdentities,
  })
}
