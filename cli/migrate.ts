import type { Command } from 'commander'

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('Apply pending database migrations (DATABASE_URL, or the embedded database) and exit.')
    .action(async () => {
      // Imported here, not at the top, so `leash --help` does not load the database layer.
      const { openDatabase } = await import('../db/open.js')
      const database = await openDatabase({ migrate: false, log: (line) => console.log(line) })
      try {
        const { migrateToLatest } = await import('../db/migrate.js')
        const result = await migrateToLatest(database.db)
        const applied = result.results?.filter((r) => r.status === 'Success').map((r) => r.migrationName) ?? []
        console.log(applied.length ? `Applied ${applied.length} migration(s): ${applied.join(', ')}` : 'The database is up to date.')
      } finally {
        await database.close()
      }
    })
}
