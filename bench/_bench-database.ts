/**
 * The database a benchmark works in: LEASH_BENCH_DATABASE_URL when set, else a database of the
 * benchmark's own name on the DATABASE_URL server (or the embedded one), created when missing
 * and migrated. Benchmarks never write into the DATABASE_URL database itself.
 */
import pg from 'pg'
import { connectDatabase, type DatabaseHandle } from '../db/connection.js'
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../db/embedded.js'
import { migrateToLatest } from '../db/migrate.js'

export async function openBenchDatabase(
  name: string,
  options: { log: (line: string) => void; applicationName: string },
): Promise<{ handle: DatabaseHandle; embedded: EmbeddedDatabase | null }> {
  let embedded: EmbeddedDatabase | null = null
  let url = process.env.LEASH_BENCH_DATABASE_URL
  if (!url) {
    let server = process.env.DATABASE_URL
    if (!server) {
      embedded = await startEmbeddedDatabase({ log: options.log })
      server = embedded.url
    }
    const admin = new pg.Client({ connectionString: server })
    await admin.connect()
    try {
      const exists = await admin.query('select 1 from pg_database where datname = $1', [name])
      if (exists.rowCount === 0) await admin.query(`create database ${name}`)
    } finally {
      await admin.end()
    }
    const parsed = new URL(server)
    parsed.pathname = `/${name}`
    url = parsed.toString()
  }
  const handle = connectDatabase(url, { max: 4, applicationName: options.applicationName })
  await migrateToLatest(handle.db)
  return { handle, embedded }
}
