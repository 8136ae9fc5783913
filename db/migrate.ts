import { Migrator, type MigrationResultSet } from 'kysely'
import type { Kysely } from 'kysely'
import { migrations } from './migrations/index.js'

/**
 * Runs every pending migration. Kysely's Migrator holds an advisory lock while it runs,
 * so several processes starting at once apply each migration exactly once.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
  })
  const result = await migrator.migrateToLatest()
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')
    const detail = result.error instanceof Error ? result.error.message : String(result.error)
    throw new Error(`Migration ${failed?.migrationName ?? '(unknown)'} failed: ${detail}`)
  }
  return result
}
