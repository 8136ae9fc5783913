/**
 * Scoring settings in the browser: a security lead reads the limits, an admin changes them.
 * Other specs share this database, so the override names a tag no identity carries, and the
 * departed-owners list (which the demo writes) is only read here; its saving is tested in
 * app/utils/scoring-settings.server.test.ts.
 */
import path from 'node:path'
import { expect, test } from './fixtures.js'

test('a security lead reads the limits and their sources; an admin sets and removes an override, and a bad value is refused', async ({ page, login }) => {
  await login(page, 'security_lead')
  await page.goto('/posture')
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Scoring', exact: true }).click()
  await expect(page.getByRole('heading', { level: 1, name: 'Scoring settings' })).toBeVisible()
  const defaults = page.getByRole('table', { name: /Thresholds with their defaults/ })
  await expect(defaults.getByRole('row', { name: /maxCredentialAgeDays 90 days/ })).toContainText('CIS AWS Foundations Benchmark')
  await expect(page.getByRole('button', { name: 'Save override' })).toHaveCount(0)
  await expect(page.getByRole('button', { name: 'Save departed owners' })).toHaveCount(0)

  // The admin signs in on a fresh session.
  await page.context().clearCookies()
  await login(page, 'admin')
  await page.goto('/admin/scoring')
  const form = page.getByRole('form', { name: 'Set an override' })
  await form.getByLabel('Applies to', { exact: true }).selectOption('tag')
  await form.getByLabel('Tag (key=value) or source name').fill('leash-e2e=settings')
  await form.getByLabel('Threshold', { exact: true }).selectOption('maxCredentialAgeDays')
  await form.getByLabel('Value', { exact: true }).fill('0')
  await form.getByRole('button', { name: 'Save override' }).click()
  await expect(page.getByRole('alert')).toContainText('not a whole number of days between 1 and 3650')
  await expect(page.getByRole('table', { name: 'Threshold overrides' })).toHaveCount(0)

  await form.getByLabel('Tag (key=value) or source name').fill('leash-e2e=settings')
  await form.getByLabel('Value', { exact: true }).fill('30')
  await form.getByRole('button', { name: 'Save override' }).click()
  await expect(page.getByRole('status')).toContainText('maxCredentialAgeDays is 30 for tag leash-e2e=settings')
  const overrides = page.getByRole('table', { name: 'Threshold overrides' })
  await expect(overrides.getByRole('row', { name: /leash-e2e=settings maxCredentialAgeDays 30/ })).toBeVisible()
  // The change is listed, newest first. (Whether it still waits for a pass depends on the
  // scans other specs start: the counts are checked in app/utils/scoring-settings.server.test.ts.)
  const history = page.getByRole('table', { name: 'Recent changes to scoring settings' })
  await expect(history.getByRole('row').nth(1)).toContainText('Override added: maxCredentialAgeDays 30 for tag leash-e2e=settings')
  await expect(page.getByRole('link', { name: 'all setting changes in the audit trail' })).toHaveAttribute('href', '/audit?action=setting.')
  await page.screenshot({ path: path.resolve(import.meta.dirname, '..', '..', 'test-results', 'screenshots', 'scoring-settings.png'), fullPage: true })

  await overrides.getByRole('button', { name: 'Remove maxCredentialAgeDays for leash-e2e=settings' }).click()
  await expect(page.getByRole('status')).toContainText('Override removed')
  await expect(page.getByRole('table', { name: 'Threshold overrides' })).toHaveCount(0)
})
