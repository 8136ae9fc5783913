import { describe, expect, inject, it } from 'vitest'
import { createEmptyDatabase, databaseUrl } from '../test/database.js'
import { connectDatabase } from './connection.js'
import { migrateToLatest } from './migrate.js'
import { migrations } from './migrations/index.js'

describe('migrateToLatest', () => {
  it('applies every migration exactly once when several processes start at once', async () => {
    const adminUrl = inject('adminDatabaseUrl')
    const database = await createEmptyDatabase(adminUrl)
    // Separate pools stand in for separate processes: each has its own connections and lock attempts.
    const handles = [database, ...[2, 3].map(() => connectDatabase(databaseUrl(adminUrl, database.name), { max: 2 }))]
    try {
      const results = await Promise.all(handles.map((handle) => migrateToLatest(handle.db)))
      const applied = results.flatMap((result) => result.results?.filter((r) => r.status === 'Success').map((r) => r.migrationName) ?? [])
      expect(applied.sort()).toEqual(Object.keys(migrations).sort())
      const { rows } = await handles[0]!.pool.query<{ name: string }>('select name from kysely_migration order by name')
      expect(rows.map((row) => row.name)).toEqual(Object.keys(migrations).sort())
    } finally {
      await Promise.all(handles.slice(1).map((handle) => handle.close()))
      await database.drop()
    }
  })
})
