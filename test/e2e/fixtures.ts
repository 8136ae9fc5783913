/**
 * Playwright fixtures for pages behind sign-in. `login(page, role)` creates a user of that
 * role directly in the app's database (LEASH_E2E_DATABASE_URL, set by the global setup) and
 * signs in through the real login form; the users it made are removed afterwards.
 */
import { randomBytes } from 'node:crypto'
import type { Page } from '@playwright/test'
import { hashPassword } from '../../app/utils/local-auth.server.js'
import { connectDatabase, type DatabaseHandle } from '../../db/connection.js'
import type { Role } from '../../db/schema.js'
import { expect, test as base } from './base.js'

export interface E2EUser {
  id: string
  username: string
  password: string
  role: Role
}

export interface AuthFixtures {
  /** Direct database access for arranging test data (the app's own database). */
  database: DatabaseHandle
  /** Creates a user of `role` (no password change pending) and signs in as them through the login form. */
  login: (page: Page, role: Role, options?: { username?: string }) => Promise<E2EUser>
  /** Creates a user without signing in (e.g. a second person for an approval). */
  createUser: (role: Role, options?: { username?: string }) => Promise<E2EUser>
}

let passwordHash: Promise<string> | undefined
const PASSWORD = 'e2e passphrase for tests'

export const test = base.extend<AuthFixtures>({
  // Playwright requires an object pattern for a fixture's first argument, even when it uses none.
  // eslint-disable-next-line no-empty-pattern
  database: async ({}, use) => {
    const url = process.env.LEASH_E2E_DATABASE_URL
    if (!url) throw new Error('LEASH_E2E_DATABASE_URL is not set: run the browser tests through playwright.config.ts (npm run test:e2e).')
    const handle = connectDatabase(url, { max: 2, applicationName: 'leash-e2e' })
    await use(handle)
    await handle.close()
  },
  createUser: async ({ database }, use) => {
    const created: string[] = []
    await use(async (role, options = {}) => {
      passwordHash ??= hashPassword(PASSWORD)
      const username = options.username ?? `e2e-${role.replace('_', '-')}-${randomBytes(3).toString('hex')}`
      const row = await database.db
        .insertInto('users')
        .values({ username, display_name: `${username} (${role})`, email: `${username}@example.test`, role, password_hash: await passwordHash, must_change_password: false })
        .returning('id')
        .executeTakeFirstOrThrow()
      created.push(row.id)
      return { id: row.id, username, password: PASSWORD, role }
    })
    // Remove what the test made; users referenced by claims or revocations stay (foreign keys), which is harmless in a per-run database.
    for (const id of created) {
      await database.db.deleteFrom('sessions').where('user_id', '=', id).execute()
      await database.db
        .deleteFrom('users')
        .where('id', '=', id)
        .execute()
        .catch(() => {})
    }
  },
  login: async ({ createUser }, use) => {
    await use(async (page, role, options) => {
      const user = await createUser(role, options)
      await page.goto('/login')
      await page.getByLabel('Username').fill(user.username)
      await page.getByLabel('Password', { exact: true }).fill(user.password)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await expect(page).not.toHaveURL(/\/login/)
      return user
    })
  },
})

export { expect }
