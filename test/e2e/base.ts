/**
 * The base Playwright `test` for Leash: baseURL points at the app the global setup started.
 * Fixture modules (e.g. fixtures.ts with login) extend this one.
 */
import { test as base } from '@playwright/test'

export const test = base.extend({
  // Playwright reads a fixture's dependencies from the destructuring pattern, so `{}` is required.
  // eslint-disable-next-line no-empty-pattern
  baseURL: async ({}, use) => {
    const url = process.env.LEASH_E2E_BASE_URL
    if (!url) throw new Error('LEASH_E2E_BASE_URL is not set: run the browser tests through playwright.config.ts (npm run test:e2e).')
    await use(url)
  },
})

export { expect } from '@playwright/test'
