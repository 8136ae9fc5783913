/**
 * The >50% guard's second half: a scan that would have retired more than half of a scope's
 * identities retired none and left scan_runs.retire_warning. A person confirms it here.
 */
import { CompiledQuery, sql, type Kysely } from 'kysely'
import { LeashError } from '../cli/errors.js'
import { json } from '../db/connection.js'
import type { Database } from '../db/schema.js'
import { retireUnseenIdentities, type RetireWarningScope } from './ingest/ingest.js'

interface RetireWarning {
  scopes: RetireWarningScope[]
  confirmedBy: string | null
  confirmedAt: string | null
  [key: string]: unknown
}

/**
 * Retires, for each scope in the run's warning, the identities that run did not see (and no
 * later scan saw either), with an identity_gone change each naming who confirmed. Refused when
 * a newer scan of the source has finished: its own cleanup decides now. The retired identities
 * are re-scored by the next scoring pass (needs_scoring).
 */
export async function confirmRetirement(db: Kysely<Database>, scanRunId: string, by: string): Promise<{ retired: number }> {
  const run = await db.selectFrom('scan_runs').selectAll().where('id', '=', scanRunId).executeTakeFirst()
  if (!run) throw new LeashError(`There is no scan run ${scanRunId}.`, 'Open the source’s latest scan on the Sources page.')
  const warning = run.retire_warning as RetireWarning | null
  if (!warning || !Array.isArray(warning.scopes) || warning.scopes.length === 0) {
    throw new LeashError('This scan has no retirement waiting for confirmation.', 'Nothing to do.')
  }
  if (!run.finished_at || !run.started_at) throw new LeashError('This scan has not finished yet.', 'Wait for it to finish.')
  const newer = await db
    .selectFrom('scan_runs')
    .select('id')
    .where('source_id', '=', run.source_id)
    .where('id', '<>', run.id)
    .where('status', 'in', ['succeeded', 'partial'])
    // Compared in SQL: JavaScript dates lose PostgreSQL's microseconds.
    .where('started_at', '>', (eb) => eb.selectFrom('scan_runs as r').select('r.started_at').where('r.id', '=', run.id))
    .executeTakeFirst()
  if (newer) {
    throw new LeashError(
      'A newer scan of this source has finished since this warning was raised.',
      'Review the newest scan instead: its cleanup (or its own warning) reflects the provider as it is now.',
    )
  }

  return db.transaction().execute(async (trx) => {
    // Lock the run so two people confirming at once retire once.
    const locked = await sql<{ retire_warning: RetireWarning | null }>`select retire_warning from scan_runs where id = ${scanRunId} for update`.execute(trx)
    const current = locked.rows[0]?.retire_warning
    if (current?.confirmedBy) throw new LeashError(`This retirement was already confirmed by ${current.confirmedBy}.`, 'Nothing to do.')
    const query = async (text: string, values: unknown[]) => {
      const result = await trx.executeQuery(CompiledQuery.raw(text, values))
      return { rowCount: Number(result.numAffectedRows ?? 0) }
    }
    let retired = 0
    for (const scope of warning.scopes) {
      retired += await retireUnseenIdentities(query, { sourceId: run.source_id, accountId: scope.accountId, scanRunId, onlySeenBeforeRun: true, confirmedBy: by })
    }
    const confirmed = { ...warning, confirmedBy: by, confirmedAt: new Date().toISOString(), retired }
    await trx
      .updateTable('scan_runs')
      .set({ retire_warning: json(confirmed), identities_retired: sql`identities_retired + ${retired}` })
      .where('id', '=', scanRunId)
      .execute()
    return { retired }
  })
}
