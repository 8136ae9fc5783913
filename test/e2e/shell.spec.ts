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
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: heading }).click()
    await expect(page).toHaveURL(new RegExp(`${path}$`))
    await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible()
  }
})

test('an empty database shows what to do next instead of a blank page', async ({ page, login }) => {
  await login(page, 'viewer')
  await page.goto('/sources')
  await expect(page.getByText(/No sources configured/i)).toBeVisible()
})
