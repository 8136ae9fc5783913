/**
 * A test double of the Provider contract for scan, queue and fault tests, driven entirely by
 * the source's settings (so worker processes started by a test behave as the test says).
 * Exported as `testProviders` for LEASH_TEST_PROVIDER_MODULE (see jobs/providers.ts). Never
 * registered in connectors/registry.ts.
 */
import { z } from 'zod'
import type { Provider, ScanEvent, ScanContext } from '../../connectors/contract.js'
import { syntheticIdentity, syntheticScope, type Mutation } from './synthetic.js'

const accountSchema = z.object({
  accountId: z.string(),
  identities: z.number().int().min(0),
  /** Identity indexes this scan does not list (deleted upstream). */
  omit: z.array(z.number().int()).default([]),
  mutations: z.record(z.string(), z.string()).default({}),
  /** The scope ends complete=false after a permission problem. */
  incomplete: z.boolean().default(false),
})

export const testSettingsSchema = z.object({
  accounts: z.array(accountSchema).default([]),
  batchSize: z.number().int().min(1).default(50),
  /** Pause before each batch (ms): makes a scan slow enough to kill or overlap. */
  delayMs: z.number().int().min(0).default(0),
  failure: z.enum(['none', 'bad_credentials', 'throttling', 'malformed', 'crash_midway']).default('none'),
  /** File a worker appends "start <source>" / "end <source>" lines to (overlap detection). */
  traceFile: z.string().optional(),
})
export type TestSettings = z.infer<typeof testSettingsSchema>

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })

async function* scan(ctx: ScanContext<TestSettings>): AsyncGenerator<ScanEvent> {
  const { settings } = ctx
  const trace = settings.traceFile ? await import('node:fs/promises') : null
  await trace?.appendFile(settings.traceFile!, `start ${ctx.sourceName} ${process.pid} ${Date.now()}\n`)
  try {
    for (const account of settings.accounts) {
      const scope = syntheticScope(account.accountId)
      yield { type: 'scope_started', scope }
      ctx.apiCalls.record('sts:GetCallerIdentity')
      if (settings.failure === 'bad_credentials') {
        yield {
          type: 'problem',
          problem: {
            scope,
            operation: 'sts:GetCallerIdentity',
            permission: null,
            message: 'The security token included in the request is invalid.',
            remedy: 'Check the access key configured for this source.',
            fatalForScope: true,
          },
        }
        yield { type: 'scope_finished', scope, complete: false }
        continue
      }
      const omit = new Set(account.omit)
      let batch = []
      let sent = 0
      for (let i = 0; i < account.identities; i++) {
        if (omit.has(i)) continue
        const identity = syntheticIdentity(account.accountId, i, { mutation: (account.mutations[String(i)] as Mutation | undefined) ?? null })
        if (settings.failure === 'malformed' && i === 1) {
          batch.push({ ...identity, kind: 'robot' as never, createdAt: 'yesterday' as never })
        } else batch.push(identity)
        if (batch.length >= settings.batchSize) {
          if (settings.delayMs) await sleep(settings.delayMs, ctx.signal)
          ctx.apiCalls.record('iam:GetAccountAuthorizationDetails')
          if (settings.failure === 'throttling' && sent >= settings.batchSize) {
            throw new Error('Rate exceeded (ThrottlingException) after 8 retries on iam:GetAccountAuthorizationDetails.')
          }
          if (settings.failure === 'crash_midway' && sent >= settings.batchSize) {
            throw new Error('socket hang up')
          }
          yield { type: 'batch', scope, identities: batch }
          sent += batch.length
          batch = []
        }
      }
      if (batch.length > 0) {
        if (settings.delayMs) await sleep(settings.delayMs, ctx.signal)
        ctx.apiCalls.record('iam:GetAccountAuthorizationDetails')
        yield { type: 'batch', scope, identities: batch }
      }
      if (account.incomplete) {
        yield {
          type: 'problem',
          problem: {
            scope,
            operation: 'iam:ListAccessKeys',
            permission: 'iam:ListAccessKeys',
            message: 'Access denied listing access keys of some users.',
            remedy: 'Grant iam:ListAccessKeys to the role Leash uses.',
            fatalForScope: true,
          },
        }
      }
      yield { type: 'scope_finished', scope, complete: !account.incomplete }
    }
  } finally {
    await trace?.appendFile(settings.traceFile!, `end ${ctx.sourceName} ${process.pid} ${Date.now()}\n`)
  }
}

export const testProvider: Provider<TestSettings> = {
  name: 'test' as never,
  displayName: 'Test provider (Leash tests only)',
  settingsSchema: testSettingsSchema as unknown as z.ZodType<TestSettings>,
  scan,
  async testConnection() {
    return []
  },
  revocationActions: [],
  async startStandIn() {
    throw new Error('The test provider has no stand-in.')
  },
}

export const testProviders: Record<string, Provider<any>> = { test: testProvider }
