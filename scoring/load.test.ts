import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { useTestDatabase } from '../test/db.js'
import { copyLinesOf, lineFields } from '../jobs/ingest/copy.js'
import { fetchIdentitiesById, fetchPendingBatch, groupByIdentity } from './load.js'
import { storeIdentity, storeSource } from './testing-db.js'

const database = useTestDatabase()

describe('groupByIdentity', () => {
  /** COPY text of rows of (identity, row id, label), and the labels in the order grouped. */
  const grouped = (rows: string[][], byRowId = true) => {
    const lines = copyLinesOf(rows.map((row) => row.join('\t') + '\n').join(''))
    const { order, identityIds } = groupByIdentity(lines, byRowId)
    return { labels: Array.from(order, (line) => lineFields(lines, line)[2]), identityIds: Array.from(identityIds) }
  }

  it('keeps rows already in order as they are', () => {
    expect(
      grouped([
        ['1', '5', 'a'],
        ['1', '7', 'b'],
        ['2', '3', 'c'],
      ]),
    ).toEqual({ labels: ['a', 'b', 'c'], identityIds: [1, 1, 2] })
  })

  it('orders by identity, then by row id, as numbers (9 before 10), interleaved identities included', () => {
    expect(
      grouped([
        ['2', '1', 'd'],
        ['10', '4', 'e'],
        ['9', '12', 'b'],
        ['9', '8', 'a'],
        ['2', '10', 'c'],
      ]).labels,
    ).toEqual(['d', 'c', 'a', 'b', 'e'])
    expect(
      grouped([
        ['1', '5', 'a'],
        ['2', '6', 'c'],
        ['1', '105', 'b'],
        ['2', '106', 'd'],
      ]),
    ).toEqual({ labels: ['a', 'b', 'c', 'd'], identityIds: [1, 1, 2, 2] })
  })

  it('without row ids, keeps the rows of one identity in the order they were read', () => {
    expect(
      grouped(
        [
          ['3', '9', 'x'],
          ['1', '5', 'a'],
          ['3', '1', 'y'],
          ['1', '2', 'b'],
        ],
        false,
      ).labels,
    ).toEqual(['a', 'b', 'x', 'y'])
  })

  it('says which line and field is not an identity id', () => {
    expect(() => groupByIdentity(copyLinesOf('1\t2\n\\N\t3\n'), false)).toThrow(/Field 0 of line 1 of a COPY result is not a whole number/)
  })
})

describe('reading a batch', () => {
  it('gives each identity its credentials and entitlements in id order, wherever an update left the rows', async () => {
    const { db } = database.current
    const sourceId = await storeSource(db, 'order')
    const id = await storeIdentity(db, sourceId, { name: 'ordered' })
    await db
      .insertInto('credentials')
      .values(
        ['AKIABRAVO', 'AKIACHARLIE'].map((externalId) => ({
          identity_id: id,
          external_id: externalId,
          type: 'access_key',
          status: 'active',
          is_static: true,
        })),
      )
      .execute()
    await db
      .insertInto('entitlements')
      .values(
        [
          ['sqs:SendMessage', 'write'],
          ['iam:*', 'admin'],
        ].map(([action, level]) => ({
          identity_id: id,
          action: action!,
          resource: '*',
          access_level: level!,
          source_kind: 'inline_policy',
          source_ref: 'writer',
        })),
      )
      .execute()
    // Id order differs from both index orders (external id; access level) and, once an update
    // has written a new version of the first rows after the others, from physical order. The
    // update also makes the first grant one the pass reads (write on "*"; scoring/notable-entitlements.ts).
    await sql`update credentials set last_used_known = last_used_known where identity_id = ${id} and external_id = ${'AKIAORDERED'}`.execute(
      db,
    )
    await sql`update entitlements set access_level = 'write', resource = '*' where identity_id = ${id} and action = ${'s3:GetObject'}`.execute(
      db,
    )
    const physical = await sql<{
      external_id: string
    }>`select external_id from credentials where identity_id = ${id} order by ctid`.execute(db)
    expect(physical.rows.map((row) => row.external_id)).toEqual(['AKIABRAVO', 'AKIACHARLIE', 'AKIAORDERED'])

    const [loaded] = await fetchIdentitiesById(db, [id])
    expect(loaded!.identity.credentials.map((credential) => credential.externalId)).toEqual(['AKIAORDERED', 'AKIABRAVO', 'AKIACHARLIE'])
    expect(loaded!.identity.entitlements.map((entitlement) => entitlement.action)).toEqual(['s3:GetObject', 'sqs:SendMessage', 'iam:*'])
    expect(loaded!.identity.maxAccessLevel).toBe('admin')
  })

  it('reads only the pending identities of a dense range, and says where the next batch starts', async () => {
    const { db } = database.current
    const sourceId = await storeSource(db, 'range')
    const ids: number[] = []
    for (const name of ['one', 'two', 'three', 'four', 'five']) ids.push(await storeIdentity(db, sourceId, { name }))
    // Pending: all but the third, whose id lies inside the range the others span.
    await db.updateTable('identity_posture').set({ needs_scoring: false }).execute()
    await db
      .updateTable('identity_posture')
      .set({ needs_scoring: true })
      .where('identity_id', 'in', [ids[0]!, ids[1]!, ids[3]!, ids[4]!])
      .execute()

    const all = await fetchPendingBatch(db, { afterId: 0, limit: 10, dueBefore: null })
    expect(all.identities.map((loaded) => loaded.identity.id)).toEqual([ids[0], ids[1], ids[3], ids[4]])
    expect(all.identities.map((loaded) => loaded.identity.displayName)).toEqual(['one', 'two', 'four', 'five'])
    expect(all).toMatchObject({ lastId: ids[4], full: false })

    const first = await fetchPendingBatch(db, { afterId: 0, limit: 2, dueBefore: null })
    expect(first.identities.map((loaded) => loaded.identity.id)).toEqual([ids[0], ids[1]])
    expect(first).toMatchObject({ lastId: ids[1], full: true })
    const second = await fetchPendingBatch(db, { afterId: first.lastId!, limit: 2, dueBefore: null })
    expect(second.identities.map((loaded) => loaded.identity.id)).toEqual([ids[3], ids[4]])
    expect(second).toMatchObject({ lastId: ids[4], full: true })
    expect(await fetchPendingBatch(db, { afterId: second.lastId!, limit: 2, dueBefore: null })).toEqual({
      identities: [],
      lastId: null,
      full: false,
    })

    // Ids far apart are looked up one by one, with the same result.
    const sparse = await fetchIdentitiesById(db, [ids[4]!, ids[0]!, ids[4]!])
    expect(sparse.map((loaded) => loaded.identity.id)).toEqual([ids[0], ids[4]])
  })
})
