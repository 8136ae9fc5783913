/**
 * The claims and revocation journeys in a real browser, against the AWS stand-in the global
 * setup started (test/e2e/stand-ins.ts): an owner claims an orphan and a lead confirms; an
 * operator requests a high-impact revocation, cannot approve it themselves, a second person
 * approves, the key is deactivated at the stand-in, the next scan shows it inactive, and the
 * audit trail shows every step with the chain verified.
 */
import type { Browser, Page } from '@playwright/test'
import { connectDatabase, json } from '../../db/connection.js'
import { expect, test } from './fixtures.js'
import { e2eAwsSettings } from './stand-ins.js'

test.describe.configure({ mode: 'serial' })

const SOURCE = 'aws-e2e-journeys'

async function secondPage(browser: Browser, baseURL: string | undefined): Promise<Page> {
  const context = await browser.newContext({ baseURL })
  return context.newPage()
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

test.beforeAll(async () => {
  // Registered once per run; the first test scans it through the Sources page.
  const handle = connectDatabase(process.env.LEASH_E2E_DATABASE_URL!, { max: 1 })
  try {
    await handle.db
      .insertInto('sources')
      .values({ provider: 'aws', name: SOURCE, settings: json(e2eAwsSettings()), schedule: '0 0 1 1 *' })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute()
  } finally {
    await handle.close()
  }
})

test('an owner claims an orphan and a security lead confirms it', async ({ page, login, database, browser, baseURL }) => {
  // A lead scans the source from the Sources page.
  const leadPage = await secondPage(browser, baseURL)
  const lead = await login(leadPage, 'security_lead')
  await leadPage.goto('/sources')
  await leadPage.getByRole('button', { name: `Scan ${SOURCE} now` }).click()
  const source = await database.db.selectFrom('sources').select('id').where('name', '=', SOURCE).executeTakeFirstOrThrow()
  await expect
    .poll(async () => (await database.db.selectFrom('scan_runs').select('status').where('source_id', '=', source.id).orderBy('queued_at', 'desc').executeTakeFirst())?.status, {
      timeout: 45_000,
    })
    .toBe('succeeded')

  const orphan = await database.db
    .selectFrom('identities')
    .select(['id', 'display_name'])
    .where('source_id', '=', source.id)
    .where('is_agent', '=', true)
    .where('status', '=', 'active')
    .where('owner_status', 'in', ['none', 'invalid'])
    .orderBy('risk_score', 'desc')
    .orderBy('id', 'desc')
    .executeTakeFirstOrThrow()

  const owner = await login(page, 'owner')
  await page.goto('/orphans')
  await page.getByRole('listitem').filter({ hasText: orphan.display_name }).getByRole('link', { name: /claim/i }).first().click()
  await expect(page.getByRole('heading', { level: 1, name: `Claim ${orphan.display_name}` })).toBeVisible()
  await page.getByLabel('Reason').fill('My team runs this agent for support triage')
  await page.getByRole('button', { name: 'Claim ownership' }).click()
  await expect(page).toHaveURL(/\/my-identities$/)
  await expect(page.getByRole('listitem').filter({ hasText: orphan.display_name })).toContainText('Pending')

  await leadPage.goto('/claims')
  const item = leadPage.getByRole('listitem', { name: `Claim of ${orphan.display_name} by ${owner.username} (owner)` })
  await expect(item).toContainText('My team runs this agent')
  await item.getByRole('button', { name: 'Confirm claim' }).click()
  await expect(leadPage.getByText('No claim is waiting')).toBeVisible()

  await page.goto('/my-identities')
  const owned = page.getByRole('table', { name: 'Identities you own' })
  await expect(owned.getByRole('row', { name: new RegExp(escapeRegExp(orphan.display_name)) })).toContainText('Confirmed claim')
  const identity = await database.db.selectFrom('identities').select(['owner_status', 'owner_source']).where('id', '=', orphan.id).executeTakeFirstOrThrow()
  expect(identity).toEqual({ owner_status: 'valid', owner_source: 'claim' })
  const audit = await database.db.selectFrom('audit_events').select(['action', 'actor_id']).where('object_type', '=', 'claim').orderBy('seq').execute()
  expect(audit).toEqual(expect.arrayContaining([{ action: 'claim.requested', actor_id: owner.id }, { action: 'claim.confirmed', actor_id: lead.id }]))
  await leadPage.context().close()
})

test('an operator requests a high-impact revocation that a second person approves; the next scan shows it and the audit trail proves it', async ({
  page,
  login,
  database,
  browser,
  baseURL,
}) => {
  const source = await database.db.selectFrom('sources').select('id').where('name', '=', SOURCE).executeTakeFirstOrThrow()
  const key = await database.db
    .selectFrom('credentials')
    .innerJoin('identities', 'identities.id', 'credentials.identity_id')
    .select(['credentials.id', 'credentials.external_id', 'credentials.identity_id'])
    .where('identities.source_id', '=', source.id)
    .where('identities.display_name', '=', 'support-agent-bot')
    .where('credentials.type', '=', 'access_key')
    .where('credentials.status', '=', 'active')
    .executeTakeFirstOrThrow()

  // The operator picks the key on the identity page and reads the plan.
  await login(page, 'operator')
  await page.goto(`/identities/${key.identity_id}`)
  await page.getByRole('link', { name: `Revoke access key ${key.external_id}` }).click()
  await expect(page.getByText('High impact')).toBeVisible()
  await expect(page.getByText('The identity is tagged as production (environment=prod).')).toBeVisible()
  await expect(page.getByRole('list', { name: /Provider calls for/ })).toContainText('iam:UpdateAccessKey')
  await page.getByLabel('Reason').fill('Key pasted into a support ticket')
  await page.getByRole('button', { name: 'Request approval' }).click()
  await expect(page).toHaveURL(/\/revocations\/[0-9a-f-]{36}$/)
  const revocationUrl = page.url()
  const revocationId = revocationUrl.split('/').pop()!
  await expect(page.getByRole('status')).toContainText('Waiting for approval')

  // No approve button for the requester, and the server refuses a self-approval anyway.
  await expect(page.getByText('You requested this revocation, so a different security lead or operator must approve it.')).toBeVisible()
  await expect(page.getByRole('button', { name: 'Approve and run' })).toHaveCount(0)
  const refused = await page.evaluate(async (url) => {
    const body = new URLSearchParams({ intent: 'approve' })
    const response = await fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } })
    return { status: response.status, text: await response.text() }
  }, revocationUrl)
  expect(refused.status).toBe(403)
  expect(refused.text).toContain('You requested this revocation, so you cannot approve it.')
  expect((await database.db.selectFrom('revocations').select('status').where('id', '=', revocationId).executeTakeFirstOrThrow()).status).toBe('pending_approval')

  // A security lead approves: the action runs against the stand-in and is verified.
  const leadPage = await secondPage(browser, baseURL)
  await login(leadPage, 'security_lead')
  await leadPage.goto('/revocations')
  await leadPage.getByRole('table', { name: 'Waiting for approval' }).getByRole('link', { name: /Deactivate access key/ }).first().click()
  await expect(leadPage).toHaveURL(revocationUrl)
  const approvedAt = new Date()
  await leadPage.getByRole('button', { name: 'Approve and run' }).click()
  await expect(leadPage.getByRole('status')).toContainText('Verified')
  await expect(leadPage.getByRole('status')).toContainText(/AWS reports access key \S+ as Inactive/)
  await expect(leadPage.getByRole('list', { name: 'Provider calls made' })).toContainText('iam:UpdateAccessKey succeeded')

  // The revocation asked for a rescan; once it has run, the identity page shows the key inactive.
  await expect
    .poll(
      async () =>
        (
          await database.db
            .selectFrom('scan_runs')
            .select('status')
            .where('source_id', '=', source.id)
            .where('queued_at', '>=', new Date(approvedAt.getTime() - 2000))
            .orderBy('queued_at', 'desc')
            .executeTakeFirst()
        )?.status,
      { timeout: 45_000 },
    )
    .toBe('succeeded')
  await page.goto(`/identities/${key.identity_id}`)
  await expect(page.getByRole('row', { name: new RegExp(escapeRegExp(key.external_id)) })).toContainText('inactive')

  // The audit page shows every step, and the chain verifies.
  await leadPage.goto(`/audit?objectType=revocation&objectId=${revocationId}`)
  for (const step of ['revocation.requested', 'revocation.approved', 'revocation.executing', 'revocation.provider_call', 'revocation.verified']) {
    await expect(leadPage.getByRole('cell', { name: step, exact: true }).first()).toBeVisible()
  }
  await expect(leadPage.getByText(/Chain verified/)).toBeVisible()
  await leadPage.context().close()
})
