/**
 * The dashboard in a real browser, on a seeded estate (test/seed/dashboard-seed.ts): what a
 * security lead sees on Posture, Identities (filters in the URL, back button, search, CSV
 * export), an identity's page (agent confirm), Orphans and Sources, and what a viewer may not
 * do. Screenshots at 1440 px go to test-results/screenshots/<page>.png for review.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { Page } from '@playwright/test'
import { sql } from 'kysely'
import { connectDatabase, type DatabaseHandle } from '../../db/connection.js'
import { removeDashboardSeed, seedDashboard, type DashboardSeed } from '../seed/dashboard-seed.js'
import { expect, test } from './fixtures.js'

test.describe.configure({ mode: 'serial' })

const SCREENSHOTS = path.resolve(import.meta.dirname, '..', '..', 'test-results', 'screenshots')
let handle: DatabaseHandle
let seed: DashboardSeed

test.beforeAll(async () => {
  handle = connectDatabase(process.env.LEASH_E2E_DATABASE_URL!, { max: 2, applicationName: 'leash-e2e-dashboard' })
  seed = await seedDashboard(handle.db, { identities: 300 })
})

test.afterAll(async () => {
  if (seed) await removeDashboardSeed(handle.db, seed)
  await handle?.close()
})

async function screenshot(page: Page, name: string) {
  await page.setViewportSize({ width: 1440, height: 900 })
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true })
}

const count = (value: number) => value.toLocaleString('en')

async function activeIdentities(where = sql`true`): Promise<number> {
  const result = await sql<{ n: number }>`select count(*)::int as n from identities where status <> 'gone' and ${where}`.execute(handle.db)
  return result.rows[0]!.n
}

test('Posture shows the estate, its trend and breakdowns, and every number opens its inventory', async ({ page, login }) => {
  await login(page, 'security_lead')
  await page.goto('/posture')
  await expect(page.getByRole('heading', { level: 1, name: 'Posture' })).toBeVisible()
  const snapshot = await handle.db.selectFrom('posture_snapshots').selectAll().where('source_id', 'is', null).orderBy('taken_at', 'desc').executeTakeFirstOrThrow()
  await expect(page.getByRole('link', { name: new RegExp(`^${count(snapshot.identities)} non-human identities`) })).toBeVisible()
  await expect(page.getByRole('link', { name: new RegExp(`^${count(snapshot.orphans)} orphaned agent identities`) })).toBeVisible()

  // The trend chart is drawn (an SVG with a line per series), and has a table alternative.
  const trend = page.getByRole('img', { name: /Posture over time/ })
  await expect(trend.locator('svg.recharts-surface').first()).toBeVisible()
  await expect(trend.locator('.recharts-line')).toHaveCount(2)

  // One point per day (the day's last snapshot), over a range the lead switches in the URL.
  const ranges = page.getByRole('group', { name: 'Trend range' })
  await expect(ranges.getByRole('link', { name: '90 days' })).toHaveAttribute('aria-current', 'true')
  await ranges.getByRole('link', { name: '1 year' }).click()
  await expect(page).toHaveURL(/\/posture\?range=1y$/)
  await expect(ranges.getByRole('link', { name: '1 year' })).toHaveAttribute('aria-current', 'true')
  const days = await sql<{ n: number }>`
    select count(distinct date_trunc('day', taken_at at time zone 'UTC'))::int as n from posture_snapshots
     where source_id is null and taken_at > (select max(taken_at) from posture_snapshots where source_id is null) - interval '365 days'`.execute(handle.db)
  const trendCard = page.getByRole('region', { name: 'Posture over time' })
  await trendCard.getByRole('button', { name: 'Show as table' }).click()
  await expect(trendCard.getByRole('row')).toHaveCount(days.rows[0]!.n + 1)
  const badRange = await page.goto('/posture?range=2w')
  expect(badRange?.status()).toBe(400)
  await expect(page.getByText('The trend range "2w" is not one Leash offers.', { exact: false })).toBeVisible()
  await page.goto('/posture')

  const platforms = page.getByRole('region', { name: 'AI agents by platform' })
  await platforms.getByRole('button', { name: 'Show as table' }).click()
  await expect(platforms.getByRole('cell', { name: 'Amazon Bedrock' })).toBeVisible()
  await expect(platforms.getByRole('button', { name: 'Show as chart' })).toHaveAttribute('aria-pressed', 'true')
  await platforms.getByRole('button', { name: 'Show as chart' }).click()
  await expect(page.getByRole('link', { name: 'bedrock-support-agent' }).first()).toBeVisible()
  await screenshot(page, 'posture')

  // A cell of the findings matrix opens the identities behind it.
  const critical = await activeIdentities(sql`exists (select 1 from findings f where f.identity_id = identities.id and f.status = 'open' and f.dimension = 'privilege' and f.severity = 'critical')`)
  await page.getByRole('link', { name: /open critical Over-privilege findings: show identities/ }).click()
  await expect(page).toHaveURL(/\/identities\?dimension=privilege&severity=critical/)
  await expect(page.getByRole('heading', { name: new RegExp(`^${count(critical)} identities`) })).toBeVisible()

  // Filtering Posture to one account computes it live and says so.
  await page.goto('/posture?account=123456789012')
  await expect(page.getByText('Computed now from the current inventory.')).toBeVisible()
  await expect(page.getByRole('link', { name: /^2 non-human identities/ })).toBeVisible()
})

test('Identities filters in the URL, goes back, searches by key id and exports CSV', async ({ page, login }) => {
  await login(page, 'security_lead')
  await page.goto('/identities')
  const all = await activeIdentities()
  await expect(page.getByRole('heading', { name: new RegExp(`^${count(all)} identities`) })).toBeVisible()
  await expect(page.getByRole('table')).toBeVisible()
  await expect(page.getByRole('columnheader', { name: /Risk/ })).toHaveAttribute('aria-sort', 'descending')

  const form = page.getByRole('search', { name: 'Filter identities' })
  await form.getByLabel('Provider').selectOption('aws')
  await form.getByLabel('Agent').selectOption('yes')
  await form.getByRole('button', { name: 'Apply' }).click()
  await expect(page).toHaveURL(/provider=aws/)
  await expect(page).toHaveURL(/agent=yes/)
  const awsAgents = await activeIdentities(sql`provider = 'aws' and is_agent`)
  await expect(page.getByRole('heading', { name: new RegExp(`^${count(awsAgents)} identities`) })).toBeVisible()
  // Risk, the order of the list, is in view without scrolling the table sideways.
  const riskHeader = (await page.getByRole('columnheader', { name: /^Risk/ }).boundingBox())!
  const tableView = (await page.locator('.table-scroll').first().boundingBox())!
  expect(riskHeader.x + riskHeader.width).toBeLessThanOrEqual(tableView.x + tableView.width)
  // Columns: name, risk (the sort that matters most, kept in view), provider, …
  const providers = await page.getByRole('table').locator('tbody tr td:nth-child(3)').allInnerTexts()
  expect(providers.length).toBeGreaterThan(0)
  expect(providers.every((text) => text.startsWith('AWS'))).toBe(true)
  await expect(page.getByRole('link', { name: 'Remove filter Provider: AWS' })).toBeVisible()
  await screenshot(page, 'identities')

  // The CSV of the current filter downloads with one row per identity.
  const downloadPromise = page.waitForEvent('download')
  await page.getByRole('link', { name: 'Export CSV' }).click()
  const download = await downloadPromise
  expect(download.suggestedFilename()).toMatch(/^leash-identities-\d{4}-\d{2}-\d{2}\.csv$/)
  const csv = await readFile((await download.path())!, 'utf8')
  const lines = csv.trim().split('\n')
  expect(lines[0]).toMatch(/^id,name,external_id,provider,kind,account/)
  expect(lines).toHaveLength(awsAgents + 1)

  // Sorting by name is a link; the next page keeps the filter; back returns to where we were.
  await page.getByRole('link', { name: /^Name/ }).click()
  await expect(page).toHaveURL(/sort=name/)
  await expect(page.getByRole('columnheader', { name: /Name/ })).toHaveAttribute('aria-sort', 'ascending')
  await page.goBack()
  await expect(page).not.toHaveURL(/sort=name/)
  await page.goBack()
  await expect(page).toHaveURL(/\/identities$/)
  await expect(page.getByRole('heading', { name: new RegExp(`^${count(all)} identities`) })).toBeVisible()

  // Search by an access key id finds the identity that holds it.
  await page.getByRole('searchbox', { name: 'Search' }).fill('AKIAEXAMPLESHOWCASE1')
  await page.getByRole('searchbox', { name: 'Search' }).press('Enter')
  await expect(page.getByRole('heading', { name: /^1 identity/ })).toBeVisible()
  await expect(page.getByRole('link', { name: 'bedrock-support-agent' })).toBeVisible()

  // A filter value the app does not understand explains itself.
  await page.goto('/identities?risk=extreme')
  await expect(page.getByRole('heading', { name: 'That link is not valid' })).toBeVisible()
  await expect(page.getByText(/"risk"/)).toBeVisible()
})

test('An identity page explains the agent, owner, credentials, entitlements and findings; a lead confirms the classification', async ({ page, login }) => {
  await login(page, 'security_lead')
  await page.goto(`/identities/${seed.showcase.orphanAgent}`)
  await expect(page.getByRole('heading', { level: 1, name: 'bedrock-support-agent' })).toBeVisible()
  await expect(page.getByRole('link', { name: /Open in the AWS console/ })).toHaveAttribute('href', /console\.aws\.amazon\.com/)
  await expect(page.getByText('Trust policy admits bedrock.amazonaws.com')).toBeVisible()
  await expect(page.getByRole('region', { name: /Findings/ }).getByText('Identity has full administrator rights', { exact: true })).toBeVisible()
  await expect(page.getByRole('list', { name: 'Where the points come from' }).getByText('Identity has full administrator rights')).toBeVisible()
  // Evidence keeps dates; the page gives their age as it is read (412 days: "14 months ago").
  const tooOld = page.getByRole('region', { name: /Findings/ }).locator('details', { hasText: 'Key or secret older than the limit' })
  await tooOld.locator('summary').click()
  await expect(tooOld.locator('time').first()).toHaveAttribute('dateTime', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
  await expect(tooOld.getByText('(14 months ago)')).toBeVisible()
  await expect(page.getByRole('cell', { name: 'AKIAEXAMPLESHOWCASE1' })).toBeVisible()
  await expect(page.getByText('Dana Kim')).toBeVisible()
  const entitlements = page.getByRole('region', { name: /Entitlements/ })
  // The admin group comes first and is open: one admin grant (header row + 1).
  await expect(entitlements.getByRole('table', { name: 'Admin entitlements' }).getByRole('row')).toHaveCount(2)
  await expect(page.getByRole('heading', { name: 'Actions' })).toBeVisible()
  await screenshot(page, 'identity-detail')

  // An empty reason is refused with a message; a reason confirms and survives as a human decision.
  const form = page.getByRole('form', { name: 'Confirm or reject the agent classification' })
  await form.getByLabel('Reason').fill('It is the support team Bedrock agent')
  await form.getByRole('button', { name: 'Confirm agent' }).click()
  await expect(page.getByText(/A person confirmed this classification/)).toBeVisible()
  const stored = await handle.db.selectFrom('identities').select(['agent_override', 'agent_override_reason']).where('id', '=', seed.showcase.orphanAgent).executeTakeFirstOrThrow()
  expect(stored).toEqual({ agent_override: 'agent', agent_override_reason: 'It is the support team Bedrock agent' })

  // A lead accepts the old key as a risk until a date, with a reason, and ends it again.
  const findings = page.getByRole('region', { name: /Findings/ })
  // The rescore after the classification found the seeded key too old again: that open finding.
  await findings.locator('li.finding-open', { hasText: 'Key or secret older than the limit' }).locator('summary').click()
  const accept = page.getByRole('form', { name: 'Accept the risk: Key or secret older than the limit' })
  await accept.getByLabel(/Why the risk is acceptable/).fill('Rotation is booked for the next release')
  await accept.getByRole('button', { name: 'Accept the risk' }).click()
  await expect(findings.getByText(/Accepted by e2e-security-lead-\w+ until .*: Rotation is booked for the next release/)).toBeVisible()
  await page.getByRole('form', { name: 'End the acceptance: Key or secret older than the limit' }).getByRole('button').click()
  await expect(findings.getByText(/Rotation is booked for the next release/)).toHaveCount(0)

  await page.goto('/identities/999999999')
  await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible()
})

test('Orphans lists agent identities without a valid owner, riskiest first, with owner hints', async ({ page, login }) => {
  await login(page, 'owner')
  await page.goto('/orphans')
  const orphans = await activeIdentities(sql`is_agent and owner_status in ('none','invalid') and status = 'active'`)
  await expect(page.getByText(new RegExp(`^${count(orphans)} orphaned agent identities`))).toBeVisible()
  const card = page.getByRole('listitem').filter({ has: page.getByRole('link', { name: 'bedrock-support-agent' }) })
  await expect(card.getByText('Dana Kim')).toBeVisible()
  await expect(card.getByText('Sam Patel')).toBeVisible()
  const risks = await page.locator('.orphan .risk-score').allInnerTexts()
  expect(risks.map(Number)).toEqual([...risks.map(Number)].sort((a, b) => b - a))
  await screenshot(page, 'orphans')
})

test('Sources show schedule, progress and failures in plain words; scan now queues a scan', async ({ page, login }) => {
  await login(page, 'security_lead')
  await page.goto('/sources')
  const github = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'github-acme' }) })
  await expect(github.getByText('Unknown — last scan failed')).toBeVisible()
  await expect(github.getByText(/GitHub refused the token/)).toBeVisible()
  await expect(github.getByText(/What to do:/)).toBeVisible()
  const gcp = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'gcp-analytics' }) })
  await expect(gcp.getByText('Incomplete')).toBeVisible()
  const vault = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'vault-core' }) })
  await expect(vault.getByText(/1,200 identities so far/)).toBeVisible()
  const aws = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'aws-production' }) })
  await expect(aws.getByText('Healthy')).toBeVisible()
  await screenshot(page, 'sources')
  await aws.getByRole('button', { name: 'Scan aws-production now' }).click()
  await expect(page.getByRole('status').filter({ hasText: /aws-production/ }).first()).toBeVisible()
  const runs = await handle.db.selectFrom('scan_runs').select('status').where('source_id', '=', seed.sources['aws-production']!.id).where('trigger', '=', 'manual').execute()
  expect(runs.length).toBeGreaterThan(1)
})

test('A viewer sees the dashboard but no controls their role cannot use', async ({ page, login }) => {
  await login(page, 'viewer')
  await page.goto(`/identities/${seed.showcase.copilotBot}`)
  await expect(page.getByRole('heading', { level: 1, name: 'copilot-deploy-bot' })).toBeVisible()
  await expect(page.getByRole('button', { name: 'Confirm agent' })).toHaveCount(0)
  await page.goto('/sources')
  await expect(page.getByRole('heading', { name: 'github-acme' })).toBeVisible()
  await expect(page.getByRole('button', { name: /Scan .* now/ })).toHaveCount(0)
})
