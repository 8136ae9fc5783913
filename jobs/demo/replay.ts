/**
 * The stand-ins keep their state in memory, so a restart brings back every key the demo's users
 * revoked. Before the first scan after a restart, the demo replays the revocations that took
 * effect (verified or partly done, not undone) against the fresh stand-ins, in the order they
 * ran, so the inventory, findings and history stay what the users made them. Replays call the
 * same provider actions with the same planned targets (every action is idempotent); they are not
 * new revocations, so they add no revocation rows, only one audit event saying what was replayed.
 */
import type { Kysely } from 'kysely'
import type { Provider } from '../../connectors/contract.js'
import { appendAuditEvent } from '../../db/audit.js'
import type { Database } from '../../db/schema.js'
import type { StoredPlan } from '../revocation/targets.js'
import { ApiCalls } from '../runner.js'
import type { PreparedDemoSource } from './prepare.js'
import { DEMO_ACTOR } from './sources.js'

export async function replayDemoRevocations(
  db: Kysely<Database>,
  sources: readonly PreparedDemoSource[],
  providers: Readonly<Record<string, Provider<any>>>,
  log: (line: string) => void = () => {},
): Promise<{ replayed: number; failed: number }> {
  if (sources.length === 0) return { replayed: 0, failed: 0 }
  const bySource = new Map(sources.map((s) => [s.source.id, s]))
  const rows = await db
    .selectFrom('revocations')
    .innerJoin('identities', 'identities.id', 'revocations.identity_id')
    .select(['revocations.id', 'revocations.action_id', 'revocations.plan', 'identities.source_id'])
    .where('identities.source_id', 'in', [...bySource.keys()])
    .where('revocations.status', 'in', ['verified', 'partial'])
    .where('revocations.undo_of_revocation_id', 'is', null)
    .orderBy('revocations.executed_at')
    .execute()
  let replayed = 0
  let failed = 0
  const failures: string[] = []
  for (const row of rows) {
    const demo = bySource.get(row.source_id)!
    const provider = providers[demo.source.provider]
    const action = provider?.revocationActions.find((a) => a.id === row.action_id)
    const plan = row.plan as unknown as StoredPlan
    if (!provider || !action || !plan?.target) {
      failed++
      failures.push(`${row.id}: its action "${row.action_id}" is not available any more`)
      continue
    }
    try {
      const result = await action.execute(
        {
          sourceName: demo.source.name,
          settings: provider.settingsSchema.parse(demo.standIn.running.settings),
          signal: AbortSignal.timeout(30_000),
          apiCalls: new ApiCalls(),
        },
        plan.target,
      )
      if (result.ok) replayed++
      else {
        failed++
        failures.push(`${row.id}: ${result.error ?? 'the provider refused it'}`)
      }
    } catch (error) {
      failed++
      failures.push(`${row.id}: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  if (replayed + failed > 0) {
    log(
      `demo: replayed ${replayed} earlier revocation(s) on the fresh stand-ins${failed ? `; ${failed} could not be replayed (${failures.slice(0, 3).join('; ')})` : ''}.`,
    )
    await appendAuditEvent(db, {
      actor: DEMO_ACTOR,
      action: 'demo.revocations_replayed',
      object: { type: 'source', id: 'demo' },
      after: { replayed, failed, failures: failures.slice(0, 20) },
      reason:
        'The demo stand-ins restarted with their seeded state; revocations that had taken effect were applied again so the demo estate stays as its users left it.',
    })
  }
  return { replayed, failed }
}
