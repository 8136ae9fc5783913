/**
 * `useTestDatabase()` in a test file: a fresh, migrated PostgreSQL database for that file,
 * dropped when the file's tests end.
 */
import { afterAll, beforeAll, inject } from 'vitest'
import { createDatabaseFromTemplate, type TestDatabase } from './database.js'

export function useTestDatabase(options: { max?: number } = {}): { readonly current: TestDatabase } {
  let database: TestDatabase | undefined
  beforeAll(async () => {
    database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'), options)
  })
  afterAll(async () => {
    await database?.drop()
  })
  return {
    get current() {
      if (!database) throw new Error('useTestDatabase(): the database exists only inside tests and hooks')
      return database
    },
  }
}
