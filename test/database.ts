/**
 * Real PostgreSQL for tests. Every run works in databases of its own, created from one
 * migrated template and dropped afterwards, so two runs on one server never collide.
 *
 * The server is DATABASE_URL's when set (CI: 127.0.0.1:5432), else the embedded PostgreSQL
 * under .leash/test-postgres.
 */
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import pg from 'pg'
import { connectDatabase, type DatabaseHandle } from '../db/connection.js'
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../db/embedded.js'
import { migrateToLatest } from '../db/migrate.js'

export interface TestServer {
  /** URL of a maintenance database on the server, used to create and drop test databases. */
  adminUrl: string
  embedded: EmbeddedDatabase | null
}

export async function startTestServer(): Promise<TestServer> {
  const configured = process.env.DATABASE_URL
  if (configured) return { adminUrl: configured, embedded: null }
  const embedded = await startEmbeddedDatabase({ dataDir: path.resolve(import.meta.dirname, '..', '.leash', 'test-postgres') })
  return { adminUrl: embedded.url, embedded }
}

export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl)
  url.pathname = `/${database}`
  return url.toString()
}

async function withAdmin<T>(adminUrl: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    return await run(client)
  } finally {
    await client.end()
  }
}

/** Creates and migrates the template every test database of this run is copied from. */
export async function createTemplate(adminUrl: string): Promise<string> {
  const name = `leash_tpl_${randomBytes(5).toString('hex')}`
  await withAdmin(adminUrl, (client) => client.query(`create database ${name}`))
  const handle = connectDatabase(databaseUrl(adminUrl, name), { max: 2 })
  try {
    await migrateToLatest(handle.db)
  } finally {
    await handle.close()
  }
  return name
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await withAdmin(adminUrl, (client) => client.query(`drop database if exists ${name} with (force)`))
}

export interface TestDatabase extends DatabaseHandle {
  name: string
  /** Closes the pool and drops the database. */
  drop(): Promise<void>
}

/** A new database with no tables at all, for tests of the migrations themselves. */
export async function createEmptyDatabase(adminUrl: string, options: { max?: number } = {}): Promise<TestDatabase> {
  const name = `leash_empty_${randomBytes(6).toString('hex')}`
  await withAdmin(adminUrl, (client) => client.query(`create database ${name}`))
  return connectTestDatabase(adminUrl, name, options.max ?? 2)
}

export async function createDatabaseFromTemplate(adminUrl: string, template: string, options: { max?: number } = {}): Promise<TestDatabase> {
  const name = `leash_test_${randomBytes(6).toString('hex')}`
  await withAdmin(adminUrl, (client) => client.query(`create database ${name} template ${template}`))
  return connectTestDatabase(adminUrl, name, options.max ?? 5)
}

function connectTestDatabase(adminUrl: string, name: string, max: number): TestDatabase {
  const handle = connectDatabase(databaseUrl(adminUrl, name), { max })
  return {
    ...handle,
    name,
    async drop() {
      await handle.close()
      await dropDatabase(adminUrl, name)
    },
  }
}
