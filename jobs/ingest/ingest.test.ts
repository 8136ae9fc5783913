import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import type { NormalizedIdentity } from '../../connectors/contract.js'
import { useTestDatabase } from '../../test/db.js'
import { listChangesSince } from '../changes.js'
import { confirmRetirement } from '../retirement.js'
import { startRunNow } from '../runs.js'
import { createTestSource, scanNow, setTestSettings } from '../testing/helpers.js'
import { syntheticExternalId, syntheticIdentity, syntheticScope, type Mutation } from '../testing/synthetic.js'
import { ScanIngest, STORED_IDENTITIES_SQL } from './ingest.js'

describe('streaming ingest', () => {
  const database = useTestDatabase()

  it('stores a first scan whole: identities, credentials, entitlements, owners, posture inputs, history', async () => {
    const { db } = database.current
    const sourceId = await createTestSource(db, 'first', { accounts: [{ accountId: '111111111111', identities: 120, omit: [], mutations: {}, incomplete: false }], batchSize: 25 })
    const result = await scanNow(database.current, sourceId, { flushIdentities: 40 })
    expect(result.status).toBe('succeeded')
    expect(result.identities).toMatchObject({ seen: 120, new: 120, changed: 0, retired: 0 })

    const counts = await db
      .selectFrom('identities')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.countAll<number>().filterWhere('needs_scoring', '=', true).as('pending')])
      .where('source_id', '=', sourceId)
      .executeTakeFirstOrThrow()
    expect(counts).toEqual({ n: 120, pending: 120 })
    const credentials = await sql<{ n: number }>`select count(*)::int as n from credentials`.execute(db)
    expect(credentials.rows[0]!.n).toBe(360)
    const entitlements = await sql<{ n: number }>`select count(*)::int as n from entitlements`.execute(db)
    expect(entitlements.rows[0]!.n).toBe(1200)

    const one = await db.selectFrom('identities').selectAll().where('external_id', '=', syntheticExternalId('111111111111', 3)).executeTakeFirstOrThrow()
    expect(one).toMatchObject({ provider: 'test', kind: 'role', account_id: '111111111111', status: 'active', credential_count: 3, last_used_known: true })
    expect(one.first_seen_scan_id).toBe(result.scanRunId)
    expect(one.last_seen_scan_id).toBe(result.scanRunId)
    expect(one.agent_reasons).toEqual([expect.objectContaining({ id: 'aws.trust.bedrock', platform: 'bedrock' })])
    expect(Object.keys(one.posture_inputs).sort()).toEqual(['environments', 'escalationPaths', 'federationPossible', 'monitoring', 'unreadable', 'unusedGrants', 'workloads'])
    expect(one.tags).toMatchObject({ owner: 'team-3@example.com' })
    const owners = await db.selectFrom('identity_owners').selectAll().where('identity_id', '=', one.id).execute()
    expect(owners).toEqual([expect.objectContaining({ owner_ref: 'team-3@example.com', role: 'owner', source: 'tag', kind: 'team' })])

    const run = await db.selectFrom('scan_runs').selectAll().where('id', '=', result.scanRunId).executeTakeFirstOrThrow()
    expect(run).toMatchObject({ status: 'succeeded', identities_seen: 120, identities_new: 120, credentials_seen: 360, entitlements_seen: 1200 })
    expect(run.api_calls).toBeGreaterThan(0)
    expect(run.api_calls_by_operation).toHaveProperty(['iam:GetAccountAuthorizationDetails'])
    const scopes = await db.selectFrom('scan_scopes').selectAll().where('scan_run_id', '=', result.scanRunId).execute()
    expect(scopes).toEqual([expect.objectContaining({ account_id: '111111111111', status: 'complete', identities_seen: 120 })])

    // The first scan of a source is its baseline: no per-identity "new" events.
    expect(result.baseline).toBe(true)
    expect(await listChangesSince(db, { sinceScanRunId: result.scanRunId, limit: 5000 })).toEqual([])
  })

  it('rescans write only what changed, with the right change history, and never touch overrides or claims', async () => {
    const { db } = database.current
    const account = { accountId: '222222222222', identities: 60, omit: [] as number[], mutations: {} as Record<string, string>, incomplete: false }
    const sourceId = await createTestSource(db, 'rescan', { accounts: [account] })
    await scanNow(database.current, sourceId)
    // Scoring has run: nothing pending. A person overrode one classification and claimed one identity.
    await db.updateTable('identities').set({ needs_scoring: false }).where('source_id', '=', sourceId).execute()
    const claimed = await db.selectFrom('identities').select('id').where('external_id', '=', syntheticExternalId('222222222222', 6)).executeTakeFirstOrThrow()
    await db.updateTable('identities').set({ agent_override: 'not_agent', agent_override_by: 'alice' }).where('id', '=', claimed.id).execute()
    await db.insertInto('identity_owners').values({ identity_id: claimed.id, owner_ref: 'alice@example.com', role: 'owner', kind: 'person', source: 'claim', display_name: null, active: true }).execute()
    const entitlementIdsBefore = await db.selectFrom('entitlements').select('id').where('identity_id', '=', claimed.id).execute()

    await setTestSettings(db, sourceId, {
      accounts: [
        {
          ...account,
          identities: 61,
          omit: [9],
          mutations: { 1: 'credential_added', 2: 'credential_removed', 3: 'privilege_gained', 4: 'privilege_lost', 5: 'owner_changed', 6: 'owner_changed', 7: 'disabled', 8: 'credential_disabled' },
        },
      ],
    })
    const second = await scanNow(database.current, sourceId)
    expect(second.status).toBe('succeeded')
    expect(second.baseline).toBe(false)
    expect(second.identities).toMatchObject({ seen: 60, new: 1, changed: 8, unchanged: 51, retired: 1 })

    const changes = await listChangesSince(db, { sinceScanRunId: second.scanRunId, sourceId })
    const byType = (type: string) => changes.filter((c) => c.changeType === type).map((c) => c.identityName).sort()
    expect(byType('credential_added')).toEqual(['agent-1'])
    expect(byType('credential_removed')).toEqual(['agent-2'])
    expect(byType('privilege_gained')).toEqual(['agent-3'])
    expect(byType('privilege_lost')).toEqual(['agent-4'])
    expect(byType('owner_changed')).toEqual(['agent-5', 'agent-6'])
    expect(byType('status_changed')).toEqual(['agent-7'])
    expect(byType('credential_status_changed')).toEqual(['agent-8'])
    expect(byType('identity_gone')).toEqual(['agent-9'])
    expect(byType('identity_new')).toEqual(['agent-60'])
    const gained = changes.find((c) => c.changeType === 'privilege_gained')!
    expect(gained.details).toMatchObject({ addedCount: 1, maxAccessLevel: { to: 'admin' } })
    const owner = changes.find((c) => c.changeType === 'owner_changed' && c.identityName === 'agent-5')!
    expect(owner.details).toMatchObject({ before: [{ ref: 'team-5@example.com' }], after: [{ ref: 'new-owner-5@example.com' }] })

    // Only the changed and the retired identities wait for scoring.
    const pending = await db.selectFrom('identities').select('display_name').where('source_id', '=', sourceId).where('needs_scoring', '=', true).orderBy('display_name').execute()
    expect(pending.map((p) => p.display_name)).toEqual(['agent-1', 'agent-2', 'agent-3', 'agent-4', 'agent-5', 'agent-6', 'agent-60', 'agent-7', 'agent-8', 'agent-9'])
    // Unchanged identities are stamped with the new scan.
    const stamped = await db.selectFrom('identities').select('last_seen_scan_id').where('external_id', '=', syntheticExternalId('222222222222', 30)).executeTakeFirstOrThrow()
    expect(stamped.last_seen_scan_id).toBe(second.scanRunId)

    const gone = await db.selectFrom('credentials').select(['credentials.status']).innerJoin('identities', 'identities.id', 'credentials.identity_id').where('identities.display_name', '=', 'agent-2').where('identities.source_id', '=', sourceId).execute()
    expect(gone.map((g) => g.status).sort()).toEqual(['active', 'active', 'gone'])
    const retired = await db.selectFrom('identities').select('status').where('external_id', '=', syntheticExternalId('222222222222', 9)).executeTakeFirstOrThrow()
    expect(retired.status).toBe('gone')

    // Scoring's and people's data is untouched.
    const kept = await db.selectFrom('identities').select(['agent_override', 'agent_override_by']).where('id', '=', claimed.id).executeTakeFirstOrThrow()
    expect(kept).toEqual({ agent_override: 'not_agent', agent_override_by: 'alice' })
    const owners = await db.selectFrom('identity_owners').select(['owner_ref', 'source']).where('identity_id', '=', claimed.id).orderBy('source').execute()
    expect(owners).toEqual([
      { owner_ref: 'alice@example.com', source: 'claim' },
      { owner_ref: 'new-owner-6@example.com', source: 'tag' },
    ])
    // Entitlements of an identity whose grants did not change are not rewritten.
    const entitlementIdsAfter = await db.selectFrom('entitlements').select('id').where('identity_id', '=', claimed.id).execute()
    expect(entitlementIdsAfter).toEqual(entitlementIdsBefore)

    // The identity comes back upstream.
    await setTestSettings(db, sourceId, { accounts: [account] })
    const third = await scanNow(database.current, sourceId)
    const returned = await listChangesSince(db, { sinceScanRunId: third.scanRunId, sourceId, changeTypes: ['identity_returned'] })
    expect(returned.map((c) => c.identityName)).toEqual(['agent-9'])
    const back = await db.selectFrom('identities').select('status').where('external_id', '=', syntheticExternalId('222222222222', 9)).executeTakeFirstOrThrow()
    expect(back.status).toBe('active')
  })

  it('a partial scan retires nothing, not even credentials', async () => {
    const { db } = database.current
    const account = { accountId: '333333333333', identities: 20, omit: [] as number[], mutations: {} as Record<string, string>, incomplete: false }
    const sourceId = await createTestSource(db, 'partial', { accounts: [account] })
    await scanNow(database.current, sourceId)
    await setTestSettings(db, sourceId, { accounts: [{ ...account, omit: [0, 1], mutations: { 2: 'credential_removed' }, incomplete: true }] })
    const result = await scanNow(database.current, sourceId)
    expect(result.status).toBe('partial')
    expect(result.errors).toEqual([expect.objectContaining({ operation: 'iam:ListAccessKeys', permission: 'iam:ListAccessKeys', fatalForScope: true })])
    const statuses = await db.selectFrom('identities').select('status').where('source_id', '=', sourceId).execute()
    expect(statuses.every((s) => s.status === 'active')).toBe(true)
    const credentialStatuses = await sql<{ status: string }>`select c.status from credentials c join identities i on i.id = c.identity_id where i.source_id = ${sourceId}`.execute(db)
    expect(credentialStatuses.rows.every((c) => c.status === 'active')).toBe(true)
    const scope = await db.selectFrom('scan_scopes').select('status').where('scan_run_id', '=', result.scanRunId).executeTakeFirstOrThrow()
    expect(scope.status).toBe('incomplete')
  })

  it('holds back a cleanup that would retire more than half a scope until a person confirms it', async () => {
    const { db } = database.current
    const account = { accountId: '444444444444', identities: 10, omit: [] as number[], mutations: {} as Record<string, string>, incomplete: false }
    const sourceId = await createTestSource(db, 'guard', { accounts: [account] })
    await scanNow(database.current, sourceId)
    await setTestSettings(db, sourceId, { accounts: [{ ...account, omit: [0, 1, 2, 3, 4, 5] }] })
    const result = await scanNow(database.current, sourceId)
    expect(result.identities.retired).toBe(0)
    expect(result.retireWarning).toMatchObject({ scopes: [{ accountId: '444444444444', present: 10, wouldRetire: 6 }] })
    const active = await db.selectFrom('identities').select('id').where('source_id', '=', sourceId).where('status', '=', 'active').execute()
    expect(active).toHaveLength(10)

    const { retired } = await confirmRetirement(database.current.db, result.scanRunId, 'security-lead@example.com')
    expect(retired).toBe(6)
    const run = await db.selectFrom('scan_runs').select(['retire_warning', 'identities_retired']).where('id', '=', result.scanRunId).executeTakeFirstOrThrow()
    expect(run.retire_warning).toMatchObject({ confirmedBy: 'security-lead@example.com', retired: 6 })
    expect(run.identities_retired).toBe(6)
    const gone = await listChangesSince(db, { sinceScanRunId: result.scanRunId, sourceId, changeTypes: ['identity_gone'] })
    expect(gone).toHaveLength(6)
    expect(gone[0]!.details).toMatchObject({ confirmedBy: 'security-lead@example.com' })
    await expect(confirmRetirement(database.current.db, result.scanRunId, 'someone-else')).rejects.toThrow(/already confirmed/)
  })

  it('skips malformed identities with a plain problem, and retires nothing in their scope', async () => {
    const { db } = database.current
    const account = { accountId: '555555555555', identities: 8, omit: [] as number[], mutations: {} as Record<string, string>, incomplete: false }
    const sourceId = await createTestSource(db, 'malformed', { accounts: [account] })
    await scanNow(database.current, sourceId)
    await setTestSettings(db, sourceId, { accounts: [{ ...account, omit: [5] }], failure: 'malformed' })
    const result = await scanNow(database.current, sourceId)
    expect(result.status).toBe('partial')
    expect(result.identities).toMatchObject({ seen: 6, skipped: 1, retired: 0 })
    expect(result.errors[0]!.message).toMatch(/agent-1 in 555555555555 was not stored: kind "robot"/)
    const statuses = await db.selectFrom('identities').select(['display_name', 'status', 'kind']).where('source_id', '=', sourceId).orderBy('display_name').execute()
    expect(statuses.every((s) => s.status === 'active' && s.kind === 'role')).toBe(true)
    expect(statuses).toHaveLength(8)
  })
})

describe('ingest write path', () => {
  const database = useTestDatabase()
  const account = '666666666666'
  const scope = syntheticScope(account)
  const identities = (from: number, to: number, mutations: Record<number, Mutation> = {}) =>
    Array.from({ length: to - from }, (_, k) => syntheticIdentity(account, from + k, { mutation: mutations[from + k] ?? null }))

  /** One scan straight through ScanIngest, batch by batch, with small flushes. */
  async function ingest(sourceId: string, batches: NormalizedIdentity[][]) {
    const { db, pool } = database.current
    const runId = await startRunNow(db, { sourceId, requestedBy: 'test', trigger: 'cli', workerId: 'w' })
    const scan = await ScanIngest.open(pool, { sourceId, provider: 'test', scanRunId: runId, workerId: 'w', flushIdentities: 10 })
    try {
      await scan.startScope(scope)
      for (const batch of batches) await scan.add(scope, batch)
      await scan.finishScope(scope, true)
    } finally {
      await scan.close()
    }
    await db.updateTable('scan_runs').set({ status: 'succeeded', finished_at: new Date() }).where('id', '=', runId).execute()
    return { runId, stats: scan.stats, baseline: scan.baseline }
  }

  async function partCounts(sourceId: string) {
    const { rows } = await sql<{ identities: number; credentials: number; entitlements: number; owners: number }>`
      select (select count(*)::int from identities where source_id = ${sourceId}) as identities,
             (select count(*)::int from credentials c join identities i on i.id = c.identity_id where i.source_id = ${sourceId}) as credentials,
             (select count(*)::int from entitlements e join identities i on i.id = e.identity_id where i.source_id = ${sourceId}) as entitlements,
             (select count(*)::int from identity_owners o join identities i on i.id = o.identity_id where i.source_id = ${sourceId}) as owners`.execute(database.current.db)
    return rows[0]!
  }

  it('a first scan that lists an identity again in a later flush stores it once, as last listed', async () => {
    const sourceId = await createTestSource(database.current.db, 'relisted', {})
    // Identity 3 comes back two flushes later with one more entitlement.
    const first = await ingest(sourceId, [identities(0, 10), identities(10, 20), [syntheticIdentity(account, 3, { mutation: 'privilege_gained' }), ...identities(20, 25)]])
    expect(first.baseline).toBe(true)
    expect(first.stats).toMatchObject({ identitiesSeen: 26, identitiesNew: 25, identitiesChanged: 1 })
    expect(await partCounts(sourceId)).toEqual({ identities: 25, credentials: 75, entitlements: 251, owners: 25 })
    const three = await database.current.db.selectFrom('identities').select(['id', 'max_access_level']).where('external_id', '=', syntheticExternalId(account, 3)).executeTakeFirstOrThrow()
    expect(three.max_access_level).toBe('admin')
  })

  it('a rescan that finds many new identities stores each whole, with an identity_new change', async () => {
    const { db } = database.current
    const sourceId = await createTestSource(db, 'growing', {})
    await ingest(sourceId, [identities(0, 10)])
    // Mostly new identities: after the first flush of new ones, their rows are encoded as they are added.
    const second = await ingest(sourceId, [identities(0, 10), identities(10, 20), identities(20, 30), identities(30, 40), identities(40, 50)])
    expect(second.baseline).toBe(false)
    expect(second.stats).toMatchObject({ identitiesSeen: 50, identitiesNew: 40, identitiesUnchanged: 10, identitiesChanged: 0 })
    expect(await partCounts(sourceId)).toEqual({ identities: 50, credentials: 150, entitlements: 500, owners: 50 })
    const news = await listChangesSince(db, { sinceScanRunId: second.runId, sourceId, changeTypes: ['identity_new'], limit: 100 })
    expect(news).toHaveLength(40)
    // Stored the same whichever way the rows were encoded: compare a first-scan identity with a later one.
    const rows = await sql<{ external_id: string; credential_count: number; first_seen_scan_id: string; tags: unknown; credentials: unknown; owners: unknown }>`
      select i.external_id, i.credential_count, i.first_seen_scan_id, i.tags,
             (select jsonb_agg(jsonb_build_object('status', c.status, 'attributes', c.attributes, 'lastUsedKnown', c.last_used_known) order by c.external_id) from credentials c where c.identity_id = i.id) as credentials,
             (select jsonb_agg(jsonb_build_object('ref', o.owner_ref, 'kind', o.kind, 'source', o.source)) from identity_owners o where o.identity_id = i.id) as owners
        from identities i where i.source_id = ${sourceId} and i.external_id in (${syntheticExternalId(account, 1)}, ${syntheticExternalId(account, 41)})
       order by i.display_name`.execute(db)
    expect(rows.rows).toHaveLength(2)
    const [one, fortyOne] = rows.rows
    expect(fortyOne!.first_seen_scan_id).toBe(second.runId)
    expect(fortyOne!.credential_count).toBe(one!.credential_count)
    expect(fortyOne!.credentials).toEqual(one!.credentials)
    expect(fortyOne!.owners).toEqual([{ ref: 'team-1@example.com', kind: 'team', source: 'tag' }])
    expect(one!.owners).toEqual([{ ref: 'team-1@example.com', kind: 'team', source: 'tag' }])
  })

  it('looks up stored identities through the unique key even before the table is analyzed', async () => {
    const { db, pool } = database.current
    const sourceId = await createTestSource(db, 'plan', {})
    await ingest(sourceId, [identities(0, 400)])
    const client = await pool.connect()
    try {
      await client.query('begin; set local enable_seqscan = off; set local jit = off')
      const analyzed = await client.query<{ n: number }>(`select count(*)::int as n from pg_stats where schemaname = 'public' and tablename = 'identities'`)
      expect(analyzed.rows[0]!.n).toBe(0)
      const externalIds = Array.from({ length: 200 }, (_, k) => syntheticExternalId(account, k * 2))
      const { rows } = await client.query<{ 'QUERY PLAN': unknown }>(`explain (format json) ${STORED_IDENTITIES_SQL}`, [sourceId, externalIds])
      const plan = JSON.stringify(rows[0]!['QUERY PLAN'])
      expect(plan).toContain('"Index Name":"identities_source_external_id_key"')
      expect(plan).not.toContain('identities_source_account_idx')
      const found = await client.query(STORED_IDENTITIES_SQL, [sourceId, externalIds])
      expect(found.rowCount).toBe(200)
    } finally {
      await client.query('rollback')
      client.release()
    }
  })
})
