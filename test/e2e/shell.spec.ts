import { expect, test } from './fixtures.js'

const PAGES = [
  { path: '/posture', heading: 'Posture' },
  { path: '/identities', heading: 'Identities' },
  { path: '/orphans', heading: 'Orphans' },
  { path: '/revocations', heading: 'Revocations' },
  { path: '/sources', heading: 'Sources' },
  { path: '/audit', heading: 'Audit' },
]

test('every page of the shell is reachable from the navigation', async ({ page, login }) => {
  // An admin sees every page; role-aware navigation hides the rest from other roles.
  await login(page, 'admin')
  await page.goto('/')
  await expect(page).toHaveURL(/\/posture$/)
  for (const { path, heading } of PAGES) {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: heading, exact: true }).click()
    await expect(page).toHaveURL(new RegExp(`${path}$`))
    await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible()
  }
})

test('an empty result says so and what to do next instead of showing a blank page', async ({ page, login }) => {
  // Other specs share this database, so the empty state is reached through a filter nothing matches.
  await login(page, 'viewer')
  await page.goto('/identities?q=no-identity-is-called-this-7f3a9c')
  await expect(page.getByRole('heading', { name: 'No identities match these filters' })).toBeVisible()
})

test('an unknown page answers with a readable error, not a stack trace', async ({ page, login }) => {
  await login(page, 'viewer')
  const response = await page.goto('/no-such-page')
  expect(response?.status()).toBe(404)
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible()
  await expect(page.locator('body')).not.toContainText(/at .+\.(js|ts):\d+/)
})
