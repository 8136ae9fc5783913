/**
 * The first-run experience (issue 8): `leash start` on a fresh, empty database with no cloud
 * account shows a populated Posture page, with findings from every demo source, within 60
 * seconds of its first log line. This spec starts a server of its own (the shared one runs with
 * LEASH_DEMO=0) on a database it creates empty, so migrations are part of the measured time.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { PROVIDER_NAMES } from '../../connectors/contract.js'
import { connectDatabase } from '../../db/connection.js'
import { rulesById } from '../../scoring/rules/index.js'
import { databaseUrl, dropDatabase } from '../database.js'
import { expect, test as base } from './fixtures.js'

const ROOT = path.resolve(import.meta.dirname, '..', '..')
const BUDGET_MS = 60_000

interface DemoServer {
  url: string
  databaseUrl: string
  /** When the server printed its first log line (ms since the epoch). */
  firstLogAt: number
  output(): string
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
const test = base.extend<{}, { demoServer: DemoServer }>({
  demoServer: [
    // Playwright requires an object pattern for a fixture's first argument, even when it uses none.
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const shared = process.env.LEASH_E2E_DATABASE_URL
      if (!shared)
        throw new Error('LEASH_E2E_DATABASE_URL is not set: run the browser tests through playwright.config.ts (npm run test:e2e).')
      const adminUrl = databaseUrl(shared, 'postgres')
      const name = `leash_demo_e2e_${randomBytes(5).toString('hex')}`
      const admin = new pg.Client({ connectionString: adminUrl })
      await admin.connect()
      await admin.query(`create database ${name}`)
      await admin.end()
      const dir = await mkdtemp(path.join(tmpdir(), 'leash-demo-e2e-'))
      const url = databaseUrl(adminUrl, name)
      const app: ChildProcess = spawn(
        process.execPath,
        [path.join(ROOT, 'bin', 'leash.js'), 'start', '--port', '0', '--host', '127.0.0.1'],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            DATABASE_URL: url,
            LEASH_E2E: '1',
            LEASH_DEMO: '1',
            LEASH_DEMO_STATE_FILE: path.join(dir, 'demo.json'),
            LEASH_CONFIG: '',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      )
      let output = ''
      let firstLogAt = 0
      const ready = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`The demo server was not ready within 120 s:\n${output}`)), 120_000)
        const onData = (chunk: Buffer) => {
          if (!firstLogAt && /leash: /.test(chunk.toString())) firstLogAt = Date.now()
          // Each chunk stamped with the seconds since the first log line, for the failure report.
          output = (output + `[+${firstLogAt ? ((Date.now() - firstLogAt) / 1000).toFixed(1) : '0.0'} s] ${chunk.toString()}`).slice(
            -50_000,
          )
          const match = /ready: (http:\/\/\S+)/.exec(output)
          if (match?.[1]) {
            clearTimeout(timer)
            resolve(match[1].replace('localhost', '127.0.0.1'))
          }
        }
        app.stdout!.on('data', onData)
        app.stderr!.on('data', onData)
        app.once('exit', (code) => {
          clearTimeout(timer)
          reject(new Error(`The demo server exited with code ${code}:\n${output}`))
        })
      })
      app.removeAllListeners('exit')
      await use({ url: ready, databaseUrl: url, firstLogAt, output: () => output })
      app.kill('SIGTERM')
      await new Promise((resolve) => (app.exitCode !== null ? resolve(null) : app.once('exit', resolve)))
      await dropDatabase(adminUrl, name)
      await rm(dir, { recursive: true, force: true })
    },
    { scope: 'worker', timeout: 180_000 },
  ],
  baseURL: async ({ demoServer }, use) => {
    await use(demoServer.url)
  },
  // The fixtures' users (login) go into the demo server's database.
  database: async ({ demoServer }, use) => {
    const handle = connectDatabase(demoServer.databaseUrl, { max: 2, applicationName: 'leash-e2e-demo' })
    await use(handle)
    await handle.close()
  },
})

test('a fresh start shows the demo estate on the Posture page, with findings from every demo source, within 60 seconds', async ({
  page,
  login,
  database,
  demoServer,
}) => {
  test.setTimeout(150_000)
  await login(page, 'viewer')

  const sources = await database.db.selectFrom('sources').select(['id', 'name', 'provider', 'is_demo']).orderBy('provider').execute()
  // Every registered provider has a demo source, clearly labelled.
  expect(sources.map((s) => s.provider)).toEqual([...PROVIDER_NAMES].sort())
  for (const source of sources) {
    expect(source.is_demo).toBe(true)
    expect(source.name).toMatch(/^Demo · /)
  }

  const deadline = demoServer.firstLogAt + BUDGET_MS
  for (const source of sources) {
    await expect(async () => {
      await page.goto(`/posture?source=${source.id}`)
      await expect(
        page.getByRole('link', { name: /^[1-9][\d,]* open findings: show identities$/ }),
        `${source.name} has open findings`,
      ).toBeVisible({ timeout: 1_000 })
    }).toPass({ timeout: Math.max(1_000, deadline - Date.now()), intervals: [1_000] })
  }
  const elapsed = Date.now() - demoServer.firstLogAt
  test.info().annotations.push({ type: 'demo populated after (ms, from the first log line)', description: String(elapsed) })
  console.log(`demo: Posture populated for every demo source ${(elapsed / 1000).toFixed(1)} s after the server's first log line`)
  if (process.env.LEASH_E2E_DEMO_LOG) console.log(demoServer.output())
  expect(elapsed, demoServer.output()).toBeLessThanOrEqual(BUDGET_MS)

  // The whole estate: identities from every provider, and a trend with weeks of history.
  await page.goto('/posture')
  await expect(page.getByRole('link', { name: /non-human identities: show identities$/ })).toBeVisible()
  await expect(page.getByRole('heading', { name: 'Open findings by dimension and severity' })).toBeVisible()
  await expect(async () => {
    const history = await database.db
      .selectFrom('posture_snapshots')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('source_id', 'is', null)
      .executeTakeFirstOrThrow()
    expect(Number(history.n)).toBeGreaterThan(30)
  }).toPass({ timeout: 30_000 })

  // The Sources page labels them as demo sources.
  await page.goto('/sources')
  for (const source of sources) await expect(page.getByRole('heading', { name: source.name })).toBeVisible()

  // The riskiest agent's page traces its score, as the scoring pass stored it, to its findings.
  const riskiest = await database.db
    .selectFrom('identities')
    .innerJoin('identity_scores', 'identity_scores.identity_id', 'identities.id')
    .select(['identities.id', 'identities.risk_score'])
    .where('identities.is_agent', '=', true)
    .orderBy('identities.risk_score', 'desc')
    .orderBy('identities.id')
    .executeTakeFirstOrThrow()
  await page.goto(`/identities/${riskiest.id}`)
  const points = page.getByRole('list', { name: 'Where the points come from' })
  await expect(points.getByRole('listitem').first()).toBeVisible()
  const shares = (await points.getByRole('listitem').locator('strong').allTextContents()).map(Number)
  expect(shares.reduce((sum, share) => sum + share, 0)).toBe(riskiest.risk_score)
  await expect(page.getByText(`These add up to the risk of ${riskiest.risk_score}`)).toBeVisible()
  await expect(page.getByText(/, found by Leash/).or(page.getByText(/, from the connector/)).first()).toBeVisible()

  // Nested evidence (an escalation path: its id, title and permissions) reads as fields, not JSON.
  // A Google Cloud identity's: its fix is shown with gcloud, never with another provider's CLI.
  const escalation = await database.db
    .selectFrom('findings')
    .innerJoin('identities', 'identities.id', 'findings.identity_id')
    .select(['findings.identity_id', 'findings.evidence'])
    .where('findings.rule_id', '=', 'privilege_identity_escalation_path')
    .where('findings.status', '=', 'open')
    .where('identities.provider', '=', 'gcp')
    .orderBy('findings.identity_id')
    .executeTakeFirstOrThrow()
  const escalationPath = (escalation.evidence as { paths: { title: string; permissions: string[] }[] }).paths[0]!
  await page.goto(`/identities/${escalation.identity_id}`)
  const escalationFinding = page.locator('li.finding').filter({ hasText: 'Identity has a privilege-escalation path' })
  await expect(escalationFinding.getByText(escalationPath.title, { exact: true })).toBeVisible()
  await expect(escalationFinding.getByText(escalationPath.permissions.join(', '), { exact: true })).toBeVisible()
  await expect(escalationFinding.getByText(/\{"/)).toHaveCount(0)
  await expect(escalationFinding.getByLabel('Command line (Google Cloud CLI (gcloud))')).toHaveText(rulesById.get('privilege_identity_escalation_path')!.remediation.cli.gcp!)
  await expect(escalationFinding.getByText(/^aws /)).toHaveCount(0)
})

test('a security team adds a real source on the Sources page: secrets are refused next to the field, and the connection test lists the permissions', async ({
  page,
  login,
  database,
}) => {
  await login(page, 'admin')
  await page.goto('/sources')
  await page.getByRole('link', { name: 'Add source' }).click()
  await expect(page).toHaveURL(/\/sources\/new$/)
  await page.getByLabel('Provider').selectOption('openai')
  await page.getByLabel('Name').fill('e2e OpenAI')
  await page.getByLabel('Settings (YAML)').fill('apiKeyEnv: OPENAI_ADMIN_KEY\napiKey: sk-admin-0123456789')
  await page.getByRole('button', { name: 'Add source' }).click()
  await expect(page.getByRole('alert').filter({ hasText: 'line 2: apiKey: looks like a secret value' })).toBeVisible()
  expect(await database.db.selectFrom('sources').select('id').where('name', '=', 'e2e OpenAI').executeTakeFirst()).toBeUndefined()

  // The demo's OpenAI stand-in plays the real organisation; its key is in the server's environment.
  const demo = await database.db
    .selectFrom('sources')
    .select('settings')
    .where('provider', '=', 'openai')
    .where('is_demo', '=', true)
    .executeTakeFirstOrThrow()
  const settings = demo.settings as { apiKeyEnv: string; baseUrl: string; organizationId: string }
  await page
    .getByLabel('Settings (YAML)')
    .fill(`apiKeyEnv: ${settings.apiKeyEnv}\nbaseUrl: ${settings.baseUrl}\norganizationId: ${settings.organizationId}`)
  await page.getByRole('button', { name: 'Add source' }).click()
  await expect(page).toHaveURL(/\/sources\/[0-9a-f-]{36}\/test-connection\?created=1$/)
  await page.getByRole('button', { name: 'Test connection' }).click()
  await expect(page.getByRole('row', { name: /api\.management\.read .*present/ }).first()).toBeVisible()
  await expect(page.getByRole('row', { name: /api\.management\.write .*could not tell/ })).toBeVisible()

  const audit = await database.db.selectFrom('audit_events').select('action').where('action', 'like', 'source.%').orderBy('seq').execute()
  expect(audit.map((a) => a.action)).toEqual(['source.created', 'source.connection_tested'])
})
