/**
 * The identity as two tables and a view (docs/decisions/043): what ingest records in
 * identity_records, what scoring decides in identity_posture, and the view `identities` that
 * joins them. These tests hold the view's write rules, which the scoring pass's row-version
 * guard depends on, and the migration that split an existing table.
 */
import { randomBytes } from 'node:crypto'
import { Migrator, sql } from 'kysely'
import { describe, expect, inject, it } from 'vitest'
import { createEmptyDatabase } from '../test/database.js'
import { useTestDatabase } from '../test/db.js'
import { migrations } from './migrations/index.js'

const SPLIT = '2026-12-06T0100_identity_posture_table'

describe('the identities view', () => {
  const database = useTestDatabase()
  const db = () => database.current.db

  async function source(): Promise<string> {
    const row = await db()
      .insertInto('sources')
      .values({ provider: 'aws', name: `view-${randomBytes(3).toString('hex')}` })
      .returning('id')
      .executeTakeFirstOrThrow()
    return row.id
  }

  const versions = async (id: number) => {
    const { rows } = await sql<{ record: string; posture: string }>`
      select (select xmin::text from identity_records where id = ${id}) as record,
             (select xmin::text from identity_posture where identity_id = ${id}) as posture`.execute(db())
    return rows[0]!
  }

  it('inserts a record and a posture row with the tables’ defaults, and reads them back joined', async () => {
    const sourceId = await source()
    const inserted = await db()
      .insertInto('identities')
      .values({ source_id: sourceId, provider: 'aws', kind: 'role', external_id: 'arn:aws:iam::1:role/a', display_name: 'a', account_id: '1', risk_score: 40 })
      .returning(['id', 'posture_identity_id', 'status', 'needs_scoring', 'owner_status', 'tags'])
      .executeTakeFirstOrThrow()
    expect(inserted).toMatchObject({ posture_identity_id: inserted.id, status: 'active', needs_scoring: true, owner_status: 'none', tags: {} })
    const posture = await db().selectFrom('identity_posture').selectAll().where('identity_id', '=', inserted.id).executeTakeFirstOrThrow()
    expect(posture).toMatchObject({ provider: 'aws', risk_score: 40, needs_scoring: true, credential_count: 0 })
    const record = await db().selectFrom('identity_records').selectAll().where('id', '=', inserted.id).executeTakeFirstOrThrow()
    expect(record).toMatchObject({ display_name: 'a', status: 'active' })
    const search = await db().selectFrom('identity_search_text').select('search_text').where('identity_id', '=', inserted.id).executeTakeFirstOrThrow()
    expect(search.search_text).toBe('a\narn:aws:iam::1:role/a')
  })

  it('writes only the side whose columns changed, and always the posture row when the write flags the identity', async () => {
    const sourceId = await source()
    const { id } = await db()
      .insertInto('identities')
      .values({ source_id: sourceId, provider: 'aws', kind: 'role', external_id: 'arn:aws:iam::1:role/b', display_name: 'b', account_id: '1', needs_scoring: false })
      .returning('id')
      .executeTakeFirstOrThrow()
    const first = await versions(id)

    await db().updateTable('identities').set({ risk_score: 70, owner_ref: 'dana@example.com' }).where('id', '=', id).execute()
    const afterPosture = await versions(id)
    expect(afterPosture.record).toBe(first.record)
    expect(afterPosture.posture).not.toBe(first.posture)

    await db().updateTable('identities').set({ display_name: 'b-renamed' }).where('id', '=', id).execute()
    const afterRecord = await versions(id)
    expect(afterRecord.record).not.toBe(afterPosture.record)
    expect(afterRecord.posture).toBe(afterPosture.posture)

    // Flagging an identity that is already flagged still gives its posture row a new version:
    // a scoring batch that read the row before this write must leave it flagged.
    await db().updateTable('identities').set({ needs_scoring: true }).where('id', '=', id).execute()
    const flagged = await versions(id)
    await db().updateTable('identities').set({ needs_scoring: true }).where('id', '=', id).execute()
    const flaggedAgain = await versions(id)
    expect(flaggedAgain.posture).not.toBe(flagged.posture)
    expect(flaggedAgain.record).toBe(afterRecord.record)

    // A write that changes nothing writes nothing.
    await db().updateTable('identities').set({ needs_scoring: false }).where('id', '=', id).execute()
    const settled = await versions(id)
    await db().updateTable('identities').set({ needs_scoring: false, display_name: 'b-renamed' }).where('id', '=', id).execute()
    expect(await versions(id)).toEqual(settled)

    const row = await db().selectFrom('identities').select(['display_name', 'risk_score', 'owner_ref', 'needs_scoring']).where('id', '=', id).executeTakeFirstOrThrow()
    expect(row).toEqual({ display_name: 'b-renamed', risk_score: 70, owner_ref: 'dana@example.com', needs_scoring: false })
  })

  it('deletes the record, its posture row and its derived rows through the view', async () => {
    const sourceId = await source()
    const { id } = await db()
      .insertInto('identities')
      .values({ source_id: sourceId, provider: 'aws', kind: 'role', external_id: 'arn:aws:iam::1:role/c', display_name: 'c', account_id: '1' })
      .returning('id')
      .executeTakeFirstOrThrow()
    await db().insertInto('identity_scores').values({ identity_id: id, risk_score: 5, breakdown: sql`'{}'::json` as never }).execute()
    const deleted = await db().deleteFrom('identities').where('id', '=', id).executeTakeFirst()
    expect(Number(deleted.numDeletedRows)).toBe(1)
    const left = await sql<{ records: number; postures: number; scores: number; search: number }>`
      select (select count(*) from identity_records where id = ${id})::int as records,
             (select count(*) from identity_posture where identity_id = ${id})::int as postures,
             (select count(*) from identity_scores where identity_id = ${id})::int as scores,
             (select count(*) from identity_search_text where identity_id = ${id})::int as search`.execute(db())
    expect(left.rows[0]).toEqual({ records: 0, postures: 0, scores: 0, search: 0 })
  })

  it('pages by risk on the posture table’s own index', async () => {
    // A handful of rows would be read whole; at a million the planner must be able to take the
    // index. Forbidding sequential scans asks whether it can.
    const plan = await db()
      .transaction()
      .execute(async (trx) => {
        await sql`set local enable_seqscan = off`.execute(trx)
        const { rows } = await sql<{ 'QUERY PLAN': string }>`
          explain select id from identities where (risk_score, posture_identity_id) < (50, 1000)
          order by risk_score desc, posture_identity_id desc limit 51`.execute(trx)
        return rows.map((row) => row['QUERY PLAN']).join('\n')
      })
    expect(plan).toMatch(/Index (Only )?Scan using identity_posture_risk_idx on identity_posture p [^\n]*\n\s+Index Cond: \(ROW\(risk_score, identity_id\) < ROW\(50, 1000\)\)/)
  })
})

describe(`migration ${SPLIT}`, () => {
  it('moves the posture of identities already stored onto posture rows, unchanged', async () => {
    const handle = await createEmptyDatabase(inject('adminDatabaseUrl'))
    try {
      const migrator = new Migrator({ db: handle.db, provider: { getMigrations: async () => migrations } })
      const names = Object.keys(migrations).sort()
      const before = await migrator.migrateTo(names[names.indexOf(SPLIT) - 1]!)
      expect(before.error).toBeUndefined()
      await sql`insert into sources (id, provider, name) values ('00000000-0000-4000-8000-000000000001', 'gcp', 'old')`.execute(handle.db)
      await sql`
        insert into identities (source_id, provider, kind, external_id, display_name, account_id, is_agent, classified_is_agent,
                                agent_platform, agent_override, owner_ref, owner_status, risk_score, score_privilege,
                                credential_count, oldest_credential_at, max_access_level, needs_scoring)
        values ('00000000-0000-4000-8000-000000000001', 'gcp', 'service_account', 'sa-1', 'sa one', 'p1', true, false,
                'vertex_ai', 'agent', 'dana@example.com', 'valid', 77, 90, 2, '2026-01-02T00:00:00Z', 'admin', false)`.execute(handle.db)

      const after = await migrator.migrateToLatest()
      expect(after.error).toBeUndefined()
      const row = await handle.db
        .selectFrom('identities')
        .select([
          'display_name',
          'provider',
          'is_agent',
          'classified_is_agent',
          'agent_platform',
          'agent_override',
          'owner_ref',
          'owner_status',
          'risk_score',
          'score_privilege',
          'credential_count',
          'oldest_credential_at',
          'max_access_level',
          'needs_scoring',
        ])
        .executeTakeFirstOrThrow()
      expect(row).toEqual({
        display_name: 'sa one',
        provider: 'gcp',
        is_agent: true,
        classified_is_agent: false,
        agent_platform: 'vertex_ai',
        agent_override: 'agent',
        owner_ref: 'dana@example.com',
        owner_status: 'valid',
        risk_score: 77,
        score_privilege: 90,
        credential_count: 2,
        oldest_credential_at: new Date('2026-01-02T00:00:00Z'),
        max_access_level: 'admin',
        needs_scoring: false,
      })
      const { rows: columns } = await sql<{ column_name: string }>`
        select column_name from information_schema.columns where table_name = 'identity_records' and column_name in ('risk_score', 'needs_scoring', 'owner_ref')`.execute(
        handle.db,
      )
      expect(columns).toEqual([])
    } finally {
      await handle.drop()
    }
  })
})
