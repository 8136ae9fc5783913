/**
 * The database a benchmark works in: LEASH_BENCH_DATABASE_URL when set, else a database of the
 * benchmark's own name on the DATABASE_URL server (or the embedded one), created when missing
 * and migrated. Benchmarks never write into the DATABASE_URL database itself.
 *
 * A benchmark that changes what it measures (the scoring pass rewrites every identity) can run
 * on a copy: `copyOf` names a seeded database that the benchmark's database is created from
 * (CREATE DATABASE … TEMPLATE), dropped first if a previous run left it, so every run starts
 * from the same rows and the same on-disk layout rather than from the last run's dead tuples.
 */
import pg from 'pg'
import { connectDatabase, type DatabaseHandle } from '../db/connection.js'
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../db/embedded.js'
import { migrateToLatest } from '../db/migrate.js'
import { explainConnectionError } from '../db/open.js'

export interface BenchDatabase {
  handle: DatabaseHandle
  /** Closes the handle and drops the database if it is a copy. */
  close(): Promise<void>
}

export interface BenchServer {
  /** null when LEASH_BENCH_DATABASE_URL names the database to use. */
  serverUrl: string | null
  embedded: EmbeddedDatabase | null
  open(name: string, options: { applicationName: string; copyOf?: string }): Promise<BenchDatabase>
  stop(): Promise<void>
}

export async function openBenchServer(options: { log: (line: string) => void }): Promise<BenchServer> {
  const named = process.env.LEASH_BENCH_DATABASE_URL
  let embedded: EmbeddedDatabase | null = null
  let serverUrl: string | null = null
  if (!named) {
    serverUrl = process.env.DATABASE_URL ?? null
    if (!serverUrl) {
      embedded = await startEmbeddedDatabase({ log: options.log })
      serverUrl = embedded.url
    }
  }
  const admin = async (work: (client: pg.Client) => Promise<void>) => {
    const client = new pg.Client({ connectionString: serverUrl! })
    await client.connect()
    try {
      await work(client)
    } finally {
      await client.end()
    }
  }
  return {
    serverUrl,
    embedded,
    async open(name, { applicationName, copyOf }) {
      let url = named
      const copy = !named && copyOf !== undefined
      if (!url) {
        await admin(async (client) => {
          if (copy) {
            await client.query(`drop database if exists ${name} with (force)`)
            // FILE_COPY (PostgreSQL 15+) copies the files instead of writing every block to
            // the WAL, which would leave the run to pay for gigabytes of checkpoint writes.
            const version = await client.query<{ v: string }>('show server_version_num')
            const strategy = Number(version.rows[0]?.v) >= 150000 ? ' strategy = file_copy' : ''
            await client.query(`create database ${name} template ${copyOf}${strategy}`)
          } else {
            const exists = await client.query('select 1 from pg_database where datname = $1', [name])
            if (exists.rowCount === 0) await client.query(`create database ${name}`)
          }
        })
        const parsed = new URL(serverUrl!)
        parsed.pathname = `/${name}`
        url = parsed.toString()
      }
      const handle = connectDatabase(url, { max: 6, applicationName })
      try {
        await handle.pool.query('select 1')
      } catch (error) {
        await handle.close().catch(() => {})
        throw explainConnectionError(url, error, named ? 'LEASH_BENCH_DATABASE_URL' : embedded ? 'embedded' : 'DATABASE_URL')
      }
      await migrateToLatest(handle.db)
      return {
        handle,
        async close() {
          await handle.close()
          if (copy) await admin((client) => client.query(`drop database if exists ${name} with (force)`).then(() => undefined))
        },
      }
    },
    async stop() {
      await embedded?.stop()
    },
  }
}

/** One database of the benchmark's own name (see openBenchServer). */
export async function openBenchDatabase(
  name: string,
  options: { log: (line: string) => void; applicationName: string },
): Promise<{ handle: DatabaseHandle; embedded: EmbeddedDatabase | null }> {
  const server = await openBenchServer({ log: options.log })
  const database = await server.open(name, { applicationName: options.applicationName })
  return { handle: database.handle, embedded: server.embedded }
}
