/**
 * Identity search against real PostgreSQL: the search text lives in identity_search_text, kept in
 * step with identities by triggers (docs/decisions/039), and a search resolves to ids when it
 * matches few identities and is checked row by row when it matches many.
 */
import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { useTestDatabase } from '../../test/db.js'
import { storeIdentity, storeSource } from '../../scoring/testing-db.js'
import { countIdentities, listIdentities, prepareIdentityFilter, SEARCH_ID_LIMIT } from './identities.js'

const database = useTestDatabase()

async function searchText(identityId: number): Promise<string[]> {
  const rows = await sql<{ search_text: string }>`select search_text from identity_search_text where identity_id = ${identityId}`.execute(
    database.current.db,
  )
  return rows.rows.map((row) => row.search_text)
}

async function namesFound(q: string): Promise<string[]> {
  const db = database.current.db
  const page = await listIdentities(db, await prepareIdentityFilter(db, { q }), {}, 200)
  return page.rows.map((row) => row.display_name).sort()
}

describe('identity search text', () => {
  it('follows every insert, rename and delete of an identity', async () => {
    const db = database.current.db
    const sourceId = await storeSource(db, 'search-follow')
    const id = await storeIdentity(db, sourceId, { name: 'Ledger-Reconciler' })
    expect(await searchText(id)).toEqual(['ledger-reconciler\narn:aws:iam::123456789012:user/ledger-reconciler'])
    expect(await namesFound('reconciler')).toEqual(['Ledger-Reconciler'])

    await db.updateTable('identities').set({ display_name: 'Invoice-Matcher' }).where('id', '=', id).execute()
    expect(await namesFound('invoice-m')).toEqual(['Invoice-Matcher'])
    expect(await namesFound('ledger-reconciler\narn')).toEqual([])
    // The external id is searched as well, and still holds the old name.
    expect(await namesFound('user/ledger-reconciler')).toEqual(['Invoice-Matcher'])

    // Updates of other columns leave the search text as it is.
    await db.updateTable('identities').set({ risk_score: 90, display_name: 'Invoice-Matcher' }).where('id', '=', id).execute()
    expect(await searchText(id)).toEqual(['invoice-matcher\narn:aws:iam::123456789012:user/ledger-reconciler'])

    await db.deleteFrom('identities').where('id', '=', id).execute()
    expect(await searchText(id)).toEqual([])
  })

  it('indexes identities inserted many at once, as ingest inserts them', async () => {
    const db = database.current.db
    const sourceId = await storeSource(db, 'search-bulk')
    await sql`
      insert into identities (source_id, provider, kind, external_id, display_name, account_id)
      select ${sourceId}, 'aws', 'role', 'arn:aws:iam::210987654321:role/fleet-' || n, 'fleet-worker-' || n, '210987654321'
      from generate_series(1, ${SEARCH_ID_LIMIT + 1}) as n`.execute(db)
    const covered = await sql<{ n: number }>`
      select count(*)::int as n from identities i join identity_search_text s on s.identity_id = i.id where i.source_id = ${sourceId}`.execute(
      db,
    )
    expect(covered.rows[0]!.n).toBe(SEARCH_ID_LIMIT + 1)

    // Few matches: resolved to their ids first.
    const few = await prepareIdentityFilter(db, { q: 'fleet-worker-1234' })
    expect(few.searchMatches).toHaveLength(1)
    expect(await namesFound('fleet-worker-1234')).toEqual(['fleet-worker-1234'])

    // More than SEARCH_ID_LIMIT matches: checked row by row, with the same answer.
    const many = await prepareIdentityFilter(db, { q: 'FLEET-worker' })
    expect(many.searchMatches).toBeNull()
    const page = await listIdentities(db, many, { sort: 'name' }, 50)
    expect(page.rows).toHaveLength(50)
    for (const row of page.rows) expect(row.display_name).toMatch(/^fleet-worker-\d+$/)
    expect(await countIdentities(db, many)).toEqual({ count: 1000, exact: false })
  })

  it('finds an identity by a key id together with the names that match the same term', async () => {
    const db = database.current.db
    const sourceId = await storeSource(db, 'search-keys')
    const keyed = await storeIdentity(db, sourceId, { name: 'payments-bot' })
    await storeIdentity(db, sourceId, { name: 'akiapaymentsbot-shadow' })
    const filter = await prepareIdentityFilter(db, { q: 'AKIAPAYMENTS-BOT' })
    expect(filter.credentialMatches).toEqual([keyed])
    expect(await namesFound('AKIAPAYMENTS-BOT')).toEqual(['payments-bot'])
    expect(await namesFound('akiapaymentsbot')).toEqual(['akiapaymentsbot-shadow'])
  })
})
