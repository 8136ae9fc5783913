import { describe, expect, it } from 'vitest'
import { useTestDatabase } from '../../test/db.js'
import { startRevocationExpirySweep } from './expiry-sweep.js'

describe('startRevocationExpirySweep', () => {
  const database = useTestDatabase()

  it('marks a pending request whose approval window has passed as expired, and leaves a live one alone', async () => {
    const { db } = database.current
    const source = await db.insertInto('sources').values({ name: 's', provider: 'aws' }).returning('id').executeTakeFirstOrThrow()
    // Two identities: the database allows one open request per target and action.
    const identities = await db
      .insertInto('identities')
      .values(['a', 'b'].map((name) => ({ source_id: source.id, provider: 'aws', kind: 'user', external_id: `arn:aws:iam::1:user/${name}`, display_name: name, account_id: '1' })))
      .returning('id')
      .execute()
    const request = (key: string, expiresAt: Date) => ({
      identity_id: identities[key === 'old' ? 0 : 1]!.id,
      action_id: 'aws.access_key.deactivate',
      reason: 'leaked',
      plan: JSON.stringify({}),
      impact: 'high' as const,
      approval_required: true,
      status: 'pending_approval' as const,
      approval_expires_at: expiresAt,
      idempotency_key: key,
    })
    await db.insertInto('revocations').values([request('old', new Date(Date.now() - 60_000)), request('live', new Date(Date.now() + 3_600_000))]).execute()
    const lines: string[] = []
    const sweep = startRevocationExpirySweep({ db, intervalMs: 50, log: (line) => lines.push(line) })
    await expect.poll(async () => (await db.selectFrom('revocations').select('status').where('idempotency_key', '=', 'old').executeTakeFirstOrThrow()).status).toBe('expired')
    await sweep.stop()
    const live = await db.selectFrom('revocations').select('status').where('idempotency_key', '=', 'live').executeTakeFirstOrThrow()
    expect(live.status).toBe('pending_approval')
    expect(lines.join('\n')).toMatch(/1 revocation request\(s\) expired/)
  })
})
