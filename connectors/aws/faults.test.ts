import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { awsProvider } from './index.js'
import { awsSettingsSchema } from './settings.js'
import { startAwsStandIn, type AwsStandIn } from './stand-in/index.js'
import { TEST_ACCOUNTS } from './stand-in/seeds/test.js'
import { callCounter, collectScan, useEnv } from './test-support.js'

let standIn: AwsStandIn
let restoreEnv: () => void
let baseline: Awaited<ReturnType<typeof collectScan>>

beforeAll(async () => {
  standIn = await startAwsStandIn({ seed: 'test' })
  restoreEnv = useEnv(standIn.env)
  baseline = await collectScan(standIn.settings)
})

afterEach(() => standIn.server.clearFaults())

afterAll(async () => {
  restoreEnv?.()
  await standIn?.stop()
})

const ids = (scan: Awaited<ReturnType<typeof collectScan>>, accountId?: string) =>
  scan.identities
    .filter((i) => !accountId || i.scope.accountId === accountId)
    .map((i) => i.externalId)
    .sort()

describe('AWS scan under faults', () => {
  it('retries Throttling (with the real error shape) and 500s, and still reads everything', async () => {
    // A clean scan in the same state first (the credential report is cached once generated).
    const clean = await collectScan(standIn.settings)
    standIn.server.setFaults(TEST_ACCOUNTS.prod, {
      throttle: { 'iam:GetAccountAuthorizationDetails': 1, 'secretsmanager:ListSecrets': 1 },
      serverError: { 'iam:GetCredentialReport': 1 },
    })
    const scan = await collectScan(standIn.settings)
    expect(scan.problems).toEqual([])
    expect([...scan.finished.values()]).toEqual([true, true, true])
    expect(ids(scan)).toEqual(ids(baseline))
    // The failed attempts were made and counted: 1 + 1 + 1 more calls than a clean scan.
    expect(scan.apiCalls.total).toBe(clean.apiCalls.total + 3)
    expect(scan.apiCalls.byOperation['iam:GetAccountAuthorizationDetails']).toBe((clean.apiCalls.byOperation['iam:GetAccountAuthorizationDetails'] ?? 0) + 1)
  })

  it('gives up on a throttling storm with a clear problem for that account only', async () => {
    standIn.server.setFaults(TEST_ACCOUNTS.prod, { throttle: { 'secretsmanager:ListSecrets': 100 } })
    const scan = await collectScan(awsSettingsSchema.parse({ ...standIn.settings, retryMode: 'standard', maxAttempts: 2 }))
    expect(scan.problems).toHaveLength(1)
    expect(scan.problems[0]).toMatchObject({ operation: 'secretsmanager:ListSecrets', fatalForScope: true, scope: { accountId: TEST_ACCOUNTS.prod } })
    expect(scan.problems[0]?.message).toMatch(/kept throttling/)
    expect(scan.finished.get(TEST_ACCOUNTS.prod)).toBe(false)
    expect(scan.finished.get(TEST_ACCOUNTS.management)).toBe(true)
    // The IAM inventory of the throttled account was still read.
    expect(ids(scan, TEST_ACCOUNTS.prod).filter((id) => id.includes(':iam::'))).toEqual(ids(baseline, TEST_ACCOUNTS.prod).filter((id) => id.includes(':iam::')))
  })

  it('isolates an account whose role cannot be assumed; the others are scanned completely', async () => {
    standIn.server.setFaults(TEST_ACCOUNTS.prod, { assumeRoleDenied: true })
    const scan = await collectScan(standIn.settings)
    expect(scan.problems).toHaveLength(1)
    expect(scan.problems[0]).toMatchObject({
      operation: 'sts:AssumeRole',
      permission: 'sts:AssumeRole',
      fatalForScope: true,
      scope: { accountId: TEST_ACCOUNTS.prod },
    })
    expect(scan.problems[0]?.remedy).toMatch(/Create the role in account 222222222222/)
    expect(scan.finished.get(TEST_ACCOUNTS.prod)).toBe(false)
    expect(scan.finished.get(TEST_ACCOUNTS.management)).toBe(true)
    expect(scan.finished.get(TEST_ACCOUNTS.sandbox)).toBe(true)
    expect(ids(scan, TEST_ACCOUNTS.prod)).toEqual([])
    expect(ids(scan, TEST_ACCOUNTS.management)).toEqual(ids(baseline, TEST_ACCOUNTS.management))
    expect(ids(scan, TEST_ACCOUNTS.sandbox)).toEqual(ids(baseline, TEST_ACCOUNTS.sandbox))
  })

  it('turns AccessDenied on the credential report into unreadable parts and a problem, never into findings', async () => {
    standIn.server.setFaults(TEST_ACCOUNTS.management, { accessDenied: ['iam:GetCredentialReport'] })
    const scan = await collectScan(standIn.settings)
    expect(scan.problems).toHaveLength(1)
    expect(scan.problems[0]).toMatchObject({ operation: 'iam:GetCredentialReport', permission: 'iam:GetCredentialReport', fatalForScope: false })
    expect(scan.problems[0]?.remedy).toMatch(/Allow iam:GetCredentialReport/)
    expect(scan.finished.get(TEST_ACCOUNTS.management)).toBe(false)
    expect(scan.finished.get(TEST_ACCOUNTS.prod)).toBe(true)
    const bot = scan.byName('support-agent-bot')
    // Keys unknown, not "no keys"; usage unknown, not "never used".
    expect(bot.credentials).toEqual([])
    expect(bot.lastUsedKnown).toBe(false)
    expect(bot.monitoring.usageData).toBe('unknown')
    expect(bot.federationPossible).toBe(false)
    expect(bot.unreadable).toEqual([
      { field: 'credentials', operation: 'iam:GetCredentialReport', permission: 'iam:GetCredentialReport' },
      { field: 'usage', operation: 'iam:GetCredentialReport', permission: 'iam:GetCredentialReport' },
    ])
    // Roles and entitlements, read by other calls, are unaffected.
    expect(bot.entitlements).toEqual(baseline.byName('support-agent-bot').entitlements)
    expect(ids(scan)).toEqual(ids(baseline))
  })

  it('reports a malformed page as a problem and marks the account incomplete, keeping what was read', async () => {
    // Call 3 of GetAccountAuthorizationDetails is the first users-and-roles page.
    standIn.server.setFaults(TEST_ACCOUNTS.prod, { malformed: { operation: 'iam:GetAccountAuthorizationDetails', call: standIn.server.callCount(TEST_ACCOUNTS.prod, 'iam:GetAccountAuthorizationDetails') + 3 } })
    const scan = await collectScan(standIn.settings)
    expect(scan.problems).toHaveLength(1)
    expect(scan.problems[0]).toMatchObject({ operation: 'iam:GetAccountAuthorizationDetails', fatalForScope: true, scope: { accountId: TEST_ACCOUNTS.prod } })
    expect(scan.problems[0]?.message).toMatch(/could not be parsed/)
    expect(scan.finished.get(TEST_ACCOUNTS.prod)).toBe(false)
    expect(scan.finished.get(TEST_ACCOUNTS.management)).toBe(true)
    // The secrets of that account were still read; its users and roles were not.
    expect(ids(scan, TEST_ACCOUNTS.prod)).toEqual(ids(baseline, TEST_ACCOUNTS.prod).filter((id) => id.includes(':secretsmanager:')))
  })

  it('reports a truncated page the same way', async () => {
    standIn.server.setFaults(TEST_ACCOUNTS.sandbox, { truncated: { operation: 'iam:GetAccountAuthorizationDetails', call: standIn.server.callCount(TEST_ACCOUNTS.sandbox, 'iam:GetAccountAuthorizationDetails') + 1 } })
    const scan = await collectScan(standIn.settings)
    expect(scan.problems.map((p) => [p.operation, p.fatalForScope, p.scope?.accountId])).toEqual([['iam:GetAccountAuthorizationDetails', false, TEST_ACCOUNTS.sandbox]])
    expect(scan.finished.get(TEST_ACCOUNTS.sandbox)).toBe(false)
    // The managed-policy page was lost: entitlements from managed policies are unreadable, not empty.
    const lambda = scan.byName('sandbox-lambda')
    expect(lambda.entitlements).toEqual([])
    expect(lambda.unreadable).toEqual([{ field: 'entitlements', operation: 'iam:GetAccountAuthorizationDetails', permission: 'iam:GetAccountAuthorizationDetails' }])
  })

  it('survives slow responses', async () => {
    standIn.server.setFaults(TEST_ACCOUNTS.sandbox, { slowMs: 100 })
    const scan = await collectScan(standIn.settings)
    expect(scan.problems).toEqual([])
    expect(ids(scan)).toEqual(ids(baseline))
  })

  it('says plainly when the credentials are missing or invalid, and scans nothing', async () => {
    const restore = useEnv({ AWS_ACCESS_KEY_ID: 'AKIAUNKNOWNKEY000001' })
    try {
      const scan = await collectScan(standIn.settings)
      expect(scan.identities).toEqual([])
      expect(scan.problems).toHaveLength(1)
      expect(scan.problems[0]).toMatchObject({ operation: 'organizations:ListAccounts', scope: null, fatalForScope: true, permission: null })
      expect(scan.problems[0]?.message).toMatch(/credentials were missing, expired or rejected \(UnrecognizedClientException\)/)
    } finally {
      restore()
    }
  })

  it('stops when cancelled and never reports a cancelled scope as complete', async () => {
    const controller = new AbortController()
    const events: string[] = []
    const settings = awsSettingsSchema.parse({ ...standIn.settings, batchSize: 1 })
    for await (const event of awsProvider.scan({ sourceName: 't', settings, signal: controller.signal, apiCalls: callCounter(), now: new Date() })) {
      events.push(event.type === 'scope_finished' ? `finished:${event.complete}` : event.type)
      if (event.type === 'batch') controller.abort()
    }
    expect(events).toEqual(['scope_started', 'batch', 'finished:false'])
  })

  it('the stand-in refuses unsigned requests and unknown keys like AWS', async () => {
    const unsigned = await fetch(standIn.url, { method: 'POST', body: 'Action=GetAccountAuthorizationDetails&Version=2010-05-08', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(unsigned.status).toBe(403)
    expect(await unsigned.text()).toContain('<Code>MissingAuthenticationToken</Code>')
    const json = await fetch(standIn.url, { method: 'POST', body: '{}', headers: { 'x-amz-target': 'secretsmanager.ListSecrets', 'content-type': 'application/x-amz-json-1.1' } })
    expect(json.status).toBe(403)
    expect(((await json.json()) as { __type: string }).__type).toBe('MissingAuthenticationTokenException')
  })

  it('testConnection names each permission as present or missing', async () => {
    standIn.server.setFaults(TEST_ACCOUNTS.sandbox, { accessDenied: ['iam:GenerateCredentialReport', 'secretsmanager:ListSecrets'] })
    standIn.server.setFaults(TEST_ACCOUNTS.prod, { assumeRoleDenied: true })
    const checks = await awsProvider.testConnection({ sourceName: 't', settings: standIn.settings, signal: new AbortController().signal, apiCalls: callCounter(), now: new Date() })
    const status = Object.fromEntries(checks.map((c) => [c.permission, c.status]))
    expect(status).toMatchObject({
      'sts:GetCallerIdentity': 'present',
      'organizations:ListAccounts': 'present',
      'sts:AssumeRole (111111111111)': 'present',
      'iam:GetAccountAuthorizationDetails (111111111111)': 'present',
      'iam:GenerateCredentialReport (111111111111)': 'present',
      'secretsmanager:ListSecrets (111111111111)': 'present',
      'sts:AssumeRole (222222222222)': 'missing',
      'iam:GenerateCredentialReport (333333333333)': 'missing',
      'secretsmanager:ListSecrets (333333333333)': 'missing',
      'iam:GetAccountAuthorizationDetails (333333333333)': 'present',
    })
    expect(status['iam:GetAccountAuthorizationDetails (222222222222)']).toBeUndefined()
  })
})
