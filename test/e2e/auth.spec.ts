import { expect, test } from './fixtures.js'

test('sign-in, role-aware navigation and sign-out', async ({ page, login }) => {
  await page.goto('/identities')
  // Not signed in: sent to the login form, which returns to the page afterwards.
  await expect(page).toHaveURL(/\/login\?redirectTo=%2Fidentities$/)

  const viewer = await login(page, 'viewer')
  const main = page.getByRole('navigation', { name: 'Main' })
  await expect(main.getByRole('link', { name: 'Identities' })).toBeVisible()
  await expect(main.getByRole('link', { name: 'Audit' })).toHaveCount(0)
  await expect(page.getByRole('link', { name: new RegExp(viewer.username) })).toBeVisible()

  // The server refuses what the navigation hides.
  const refused = await page.goto('/audit')
  expect(refused?.status()).toBe(403)

  await page.goto('/posture')
  await page.getByRole('button', { name: 'Sign out' }).click()
  await expect(page).toHaveURL(/\/login$/)
  await page.goto('/posture')
  await expect(page).toHaveURL(/\/login\?redirectTo=%2Fposture$/)
})

test('a wrong password gets a generic error', async ({ page, createUser }) => {
  const user = await createUser('owner')
  await page.goto('/login')
  await page.getByLabel('Username').fill(user.username)
  await page.getByLabel('Password', { exact: true }).fill('not the password')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page.getByRole('alert')).toHaveText(/username or password is incorrect/i)
  await expect(page).toHaveURL(/\/login/)
})

test('a forged cross-site POST is refused and changes nothing', async ({ page, login, database, baseURL }) => {
  const admin = await login(page, 'admin')
  // An attacker's page on another origin auto-submits a form to Leash with the victim's cookies.
  const attacker = 'http://attacker.localhost:9/'
  await page.route(attacker, (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: `<form id="f" method="post" action="${baseURL}/admin/users">
        <input name="intent" value="create"><input name="username" value="planted-admin"><input name="role" value="admin">
      </form><script>document.getElementById('f').submit()</script>`,
    }),
  )
  const refused = page.waitForResponse((response) => response.url().startsWith(`${baseURL}/admin/users`) && response.request().method() === 'POST')
  await page.goto(attacker)
  expect((await refused).status()).toBe(403)
  await expect(page.getByText(/did not come from Leash itself/)).toBeVisible()
  expect(await database.db.selectFrom('users').select('id').where('username', '=', 'planted-admin').executeTakeFirst()).toBeUndefined()
  const event = await database.db.selectFrom('audit_events').selectAll().where('action', '=', 'csrf.refused').orderBy('seq', 'desc').executeTakeFirst()
  expect(event?.after).toMatchObject({ method: 'POST', path: '/admin/users' })
  expect(admin.role).toBe('admin')
})

test('pages carry a nonce-based Content-Security-Policy and the app still hydrates', async ({ page, login }) => {
  const errors: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) errors.push(message.text())
  })
  await login(page, 'security_lead')
  const response = await page.goto('/audit')
  const csp = response?.headers()['content-security-policy'] ?? ''
  expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+'/)
  expect(csp).toContain("frame-ancestors 'none'")
  // Client-side navigation works only when the hydration scripts ran under the CSP.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Posture' }).click()
  await expect(page.getByRole('heading', { level: 1, name: 'Posture' })).toBeVisible()
  expect(errors).toEqual([])
})

test('the audit page shows sign-ins, filters them, verifies the chain and exports JSON lines', async ({ page, login }) => {
  const lead = await login(page, 'security_lead')
  await page.goto('/audit')
  await expect(page.getByRole('status').filter({ hasText: /Chain verified: \d+ events/ })).toBeVisible()
  await page.getByLabel('Actor').fill(lead.username)
  await page.getByLabel('Action').fill('auth.sign_in')
  await page.getByRole('button', { name: 'Filter' }).click()
  await expect(page).toHaveURL(/action=auth\.sign_in/)
  const rows = page.getByRole('table').getByRole('row')
  await expect(rows.filter({ hasText: 'auth.sign_in.succeeded' })).toHaveCount(1)
  const download = page.waitForEvent('download')
  await page.getByRole('link', { name: 'Export JSON lines' }).click()
  const file = await download
  const text = await (await file.createReadStream()).toArray()
  const lines = Buffer.concat(text).toString('utf8').trim().split('\n').map((line) => JSON.parse(line) as { action: string; actor: { display: string }; hash: string })
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatchObject({ action: 'auth.sign_in.succeeded', actor: { display: lead.username } })
  expect(lines[0]!.hash).toMatch(/^[0-9a-f]{64}$/)
})
