/**
 * `leash scan --demo --json` against every registered provider's real stand-in: one summary
 * per source on stdout whose counts match what each seed declares, and the flaws the demo
 * promises show up as open findings.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { providers } from '../../connectors/registry.js'
import { useTestDatabase } from '../../test/db.js'
import { runDemoScan } from './scan-command.js'

const database = useTestDatabase({ max: 8 })
let dir: string
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'leash-demo-scan-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

interface Summary {
  source: string
  provider: string
  status: string
  durationMs: number
  apiCalls: { total: number }
  totals: { identities: number; agents: number; credentials: number; findingsByDimension: Record<string, number> }
}

describe('leash scan --demo --json', () => {
  it(
    'scans every registered provider’s demo stand-in and prints summaries whose counts match the seeds',
    { timeout: 120_000 },
    async () => {
      const handle = { ...database.current, embedded: null }
      const stdout = vi.spyOn(console, 'log').mockImplementation(() => {})
      const logs: string[] = []
      let result: Awaited<ReturnType<typeof runDemoScan>>
      let printed: string[]
      try {
        result = await runDemoScan(handle, { json: true }, { stateFile: path.join(dir, 'demo.json'), log: (l) => logs.push(l) })
      } finally {
        printed = stdout.mock.calls.map((call) => String(call[0]))
        stdout.mockRestore()
      }
      const summaries = printed.map((line) => JSON.parse(line) as Summary)
      expect(summaries.map((s) => s.provider).sort()).toEqual(Object.keys(providers).sort())
      for (const summary of summaries) {
        expect(summary.status, `${summary.source}: ${logs.join('\n')}`).toBe('succeeded')
        expect(summary.apiCalls.total).toBeGreaterThan(0)
        expect(summary.durationMs).toBeGreaterThan(0)
        expect(Object.values(summary.totals.findingsByDimension).reduce((a, b) => a + b, 0)).toBeGreaterThan(0)
      }
      // Every source's counts against its seed, compared all at once so a failure lists every mismatch.
      const counts = (t: { identities: number; agents: number; credentials: number }) => ({
        identities: t.identities,
        agents: t.agents,
        credentials: t.credentials,
      })
      expect(Object.fromEntries(summaries.map((s) => [s.source, counts(s.totals)]))).toEqual(
        Object.fromEntries(summaries.map((s) => [s.source, counts(result.checks.find((c) => c.source === s.source)!.declared)])),
      )
      expect(result.code).toBe(0)

      // Several hundred identities, a good share of them agents.
      const total = summaries.reduce((n, s) => n + s.totals.identities, 0)
      const agents = summaries.reduce((n, s) => n + s.totals.agents, 0)
      expect(total).toBeGreaterThanOrEqual(300)
      expect(agents / total).toBeGreaterThan(0.25)

      // The flaws the demo promises, each as an open finding on an AI agent's identity.
      const { db } = database.current
      const rules = await db
        .selectFrom('findings')
        .innerJoin('identities', 'identities.id', 'findings.identity_id')
        .select('findings.rule_id')
        .distinct()
        .where('findings.status', '=', 'open')
        .where('identities.is_agent', '=', true)
        .execute()
      const open = new Set(rules.map((r) => r.rule_id))
      for (const rule of [
        'ownership_identity_no_owner', // orphaned agent roles
        'credential_age_secret_too_old', // 400-day-old keys
        'privilege_identity_full_admin', // agents with admin rights
        'credential_age_secret_expiry_too_far', // secrets without expiry
        'monitoring_credential_unused', // credentials never used
        'privilege_identity_shared_workloads', // agents sharing one identity
        'ownership_owner_inactive', // an owner who left
      ]) {
        expect(open, rule).toContain(rule)
      }
      // The departed owner comes from the demo directory, not from the provider.
      const departed = await db
        .selectFrom('findings')
        .innerJoin('identities', 'identities.id', 'findings.identity_id')
        .select('identities.owner_ref')
        .where('findings.rule_id', '=', 'ownership_owner_inactive')
        .where('identities.provider', '=', 'aws')
        .execute()
      expect(departed.map((d) => d.owner_ref)).toContain('jordan.blake@acme.example')

      // History: weeks of demo snapshots before the real one, clearly marked.
      const history = await db
        .selectFrom('posture_snapshots')
        .select((eb) => [eb.fn.countAll<string>().as('n'), eb.fn.min('taken_at').as('oldest')])
        .where((eb) => eb.ref('aggregates', '->>').key('demoBackfill' as never), '=', 'true')
        .executeTakeFirstOrThrow()
      expect(Number(history.n)).toBeGreaterThan(0)
      expect(Date.now() - new Date(history.oldest as Date).getTime()).toBeGreaterThan(40 * 86_400_000)
    },
  )
})
