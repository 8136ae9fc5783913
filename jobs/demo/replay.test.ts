/**
 * A revocation made on the demo survives a restart: the fresh AWS stand-in comes back with its
 * seeded state, and the demo applies the revocation again before anything scans.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RevocationTarget } from '../../connectors/contract.js'
import { awsProvider } from '../../connectors/aws/index.js'
import { json } from '../../db/connection.js'
import { useTestDatabase } from '../../test/db.js'
import { ApiCalls } from '../runner.js'
import { prepareDemoEstate } from './prepare.js'

const database = useTestDatabase()
const providers = { aws: awsProvider }
let dir: string
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'leash-demo-replay-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const target = (key: string, user: string): RevocationTarget => ({
  identity: {
    externalId: `arn:aws:iam::345678901234:user/agents/${user}`,
    kind: 'user',
    accountId: '345678901234',
    displayName: user,
    attributes: { userName: user },
  },
  credential: { externalId: key, type: 'access_key', status: 'active' },
})

describe('demo revocations across restarts', () => {
  it('replays revocations that took effect (not undone ones) on the restarted stand-ins', async () => {
    const { db } = database.current
    const stateFile = path.join(dir, 'demo.json')
    const first = await prepareDemoEstate(db, { stateFile, providers })
    const sourceId = first.sources[0]!.source.id
    await first.stop()

    const identity = async (name: string) =>
      (
        await db
          .insertInto('identities')
          .values({
            source_id: sourceId,
            provider: 'aws',
            kind: 'user',
            external_id: `arn:aws:iam::345678901234:user/agents/${name}`,
            display_name: name,
            account_id: '345678901234',
          })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id
    const revocation = async (identityId: number, t: RevocationTarget, status: 'verified' | 'undone', key: string) =>
      db
        .insertInto('revocations')
        .values({
          identity_id: identityId,
          action_id: 'aws.access_key.deactivate',
          reason: 'replay test',
          plan: json({ version: 1, sourceId, target: t }),
          impact: 'normal',
          approval_required: false,
          status,
          idempotency_key: key,
          executed_at: new Date(),
        })
        .execute()
    await revocation(await identity('invoice-agent'), target('AKIADEMOINVOICEAGT01', 'invoice-agent'), 'verified', 'k1')
    // Undone by its user: the key stays active after the restart.
    await revocation(await identity('rag-indexer-agent'), target('AKIADEMORAGINDEXR001', 'rag-indexer-agent'), 'undone', 'k2')
    const logs: string[] = []
    const second = await prepareDemoEstate(db, { stateFile, providers, log: (l) => logs.push(l) })
    try {
      const running = second.sources[0]!.standIn.running
      const deactivate = awsProvider.revocationActions.find((a) => a.id === 'aws.access_key.deactivate')!
      const ctx = { sourceName: 'demo', settings: running.settings as never, signal: AbortSignal.timeout(30_000), apiCalls: new ApiCalls() }
      expect(await deactivate.verify(ctx, target('AKIADEMOINVOICEAGT01', 'invoice-agent'))).toMatchObject({ verified: true })
      expect(await deactivate.verify(ctx, target('AKIADEMORAGINDEXR001', 'rag-indexer-agent'))).toMatchObject({ verified: false })
      expect(logs.join('\n')).toMatch(/replayed 1 earlier revocation/)
      const audit = await db
        .selectFrom('audit_events')
        .select(['action', 'after'])
        .where('action', '=', 'demo.revocations_replayed')
        .execute()
      expect(audit).toEqual([{ action: 'demo.revocations_replayed', after: { replayed: 1, failed: 0, failures: [] } }])
    } finally {
      await second.stop()
    }
  })
})
