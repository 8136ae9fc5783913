/**
 * Builds the Kysely instance over a `pg` pool. The only place that configures the driver.
 */
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import type { Database } from './schema.js'

// int8 (ids, counts) fits in a JS number below 2^53, which bigint identities reach long after
// a million identities; numeric stays a string to keep its precision. Set once, deliberately.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value))

// The pool behind each Kysely instance made here, for the few bulk writers that COPY (which
// needs a pg client; Kysely does not expose its pool). Kept on the instance under a global
// symbol, not in a module-level map: the web server's bundle has its own copy of this module,
// yet gets the db from the CLI's. Transactions are other instances and have none.
const POOL = Symbol.for('leash.pgPool')

/** The pg pool behind a Kysely instance from connectDatabase, if it is one. */
export function poolOf(db: Kysely<Database>): pg.Pool | undefined {
  return (db as unknown as Record<symbol, pg.Pool | undefined>)[POOL]
}

export interface DatabaseHandle {
  db: Kysely<Database>
  pool: pg.Pool
  url: string
  close(): Promise<void>
}

export function connectDatabase(url: string, options: { max?: number; applicationName?: string } = {}): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'leash',
    // Fail fast with a clear message instead of hanging when the host is unreachable.
    connectionTimeoutMillis: 10_000,
  })
  // An idle client's error (e.g. the server restarted) must not crash the process.
  pool.on('error', (error) => {
    console.error(`leash: database connection lost: ${error.message}`)
  })
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  Object.defineProperty(db, POOL, { value: pool })
  return {
    db,
    pool,
    url,
    async close() {
      await db.destroy()
    },
  }
}

/** Serializes a value for a jsonb column (arrays would otherwise become PostgreSQL arrays). */
export function json(value: unknown): string {
  return JSON.stringify(value)
}
