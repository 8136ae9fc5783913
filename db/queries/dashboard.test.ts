/**
 * The dashboard's queries against real PostgreSQL with a seeded estate: keyset pages walk the
 * whole set without gaps or repeats in every sort, filters return only what they promise, search
 * finds by name, ARN and key id, facets and posture numbers agree with direct SQL, and the
 * sources page never calls a failed source healthy.
 */
import { sql } from 'kysely'
import { json } from '../connection.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestDatabase } from '../../test/db.js'
import { seedDashboard, type DashboardSeed } from '../../test/seed/dashboard-seed.js'
import {
  clearIdentitySummaryCache,
  countIdentities,
  decodeCursor,
  identityFacets,
  identitySource,
  identitySummary,
  listIdentities,
  prepareIdentityFilter,
  streamIdentities,
} from './identities.js'
import { getIdentityDetail, ownerHints } from './identity-detail.js'
import { FilterError, identitySearch, parseIdentityFilter, SORTS, type IdentityFilter } from './identity-filter.js'
import { computeBreakdown, getPostureOverview, postureTrend } from './posture.js'
import { listSourceStatuses, nextCronRun } from './sources.js'

const database = useTestDatabase()
let seed: DashboardSeed
const N = 600

beforeAll(async () => {
  seed = await seedDashboard(database.current.db, { identities: N, now: new Date('2026-11-21T12:00:00Z') })
})

async function walk(filter: IdentityFilter, sort: (typeof SORTS)[number], dir?: 'asc' | 'desc', limit = 37) {
  const db = database.current.db
  const ids: number[] = []
  let after: string | undefined
  for (let guard = 0; guard < 1000; guard++) {
    const page = await listIdentities(db, await prepareIdentityFilter(db, filter), { sort, dir, after }, limit)
    ids.push(...page.rows.map((row) => row.id))
    if (!page.next) break
    after = page.next
  }
  return ids
}

describe('listIdentities (keyset pages)', () => {
  const ORDER: Record<(typeof SORTS)[number], string> = {
    risk: 'risk_score desc, id desc',
    name: 'lower(display_name) asc, id asc',
    last_used: "coalesce(last_used_at, '-infinity'::timestamptz) asc, id asc",
    oldest_credential: "coalesce(oldest_credential_at, 'infinity'::timestamptz) asc, id asc",
  }
  for (const sort of SORTS) {
    it(`walks every identity once, in ${sort} order`, async () => {
      const ids = await walk({}, sort)
      const expected = await sql<{ id: number }>`select id from identities where status <> 'gone' order by ${sql.raw(ORDER[sort])}`.execute(database.current.db)
      expect(ids).toEqual(expected.rows.map((row) => row.id))
    })
  }

  it('walks backwards with the previous-page cursor to the same rows', async () => {
    const db = database.current.db
    const first = await listIdentities(db, {}, { sort: 'name' }, 20)
    const second = await listIdentities(db, {}, { sort: 'name', after: first.next! }, 20)
    expect(second.prev).not.toBeNull()
    const back = await listIdentities(db, {}, { sort: 'name', before: second.prev! }, 20)
    expect(back.rows.map((row) => row.id)).toEqual(first.rows.map((row) => row.id))
    expect(back.prev).toBeNull()
    expect(first.prev).toBeNull()
  })

  it('supports the reverse direction of a sort', async () => {
    const ids = await walk({}, 'risk', 'asc', 100)
    const expected = await sql<{ id: number }>`select id from identities where status <> 'gone' order by risk_score asc, id asc`.execute(database.current.db)
    expect(ids).toEqual(expected.rows.map((row) => row.id))
  })

  it('refuses a cursor from another sort or a forged one with a FilterError', async () => {
    const page = await listIdentities(database.current.db, {}, { sort: 'risk' }, 5)
    expect(() => decodeCursor(page.next!, 'name', 'asc')).toThrow(FilterError)
    expect(() => decodeCursor('not-a-cursor', 'risk', 'desc')).toThrow(FilterError)
  })
})

describe('filters and search', () => {
  it('returns only rows that match each filter', async () => {
    const db = database.current.db
    const checks: [IdentityFilter, string][] = [
      [{ provider: 'aws', agent: 'yes' }, "provider = 'aws' and is_agent"],
      [{ orphan: 'yes' }, "is_agent and owner_status in ('none','invalid') and status = 'active'"],
      [{ risk: 'critical' }, 'risk_score >= 80'],
      [{ dimension: 'privilege' }, "exists (select 1 from findings f where f.identity_id = identities.id and f.status = 'open' and f.dimension = 'privilege')"],
      [{ severity: 'critical', ownerStatus: 'none' }, "owner_status = 'none' and exists (select 1 from findings f where f.identity_id = identities.id and f.status = 'open' and f.severity = 'critical')"],
      [{ credAgeMin: 365 }, "oldest_credential_at <= now() - interval '365 days'"],
      [{ credAgeMin: 30, credAgeMax: 90 }, "oldest_credential_at <= now() - interval '30 days' and oldest_credential_at > now() - interval '90 days'"],
      [{ source: seed.sources['github-acme']!.id, platform: 'github_copilot' }, `source_id = '${seed.sources['github-acme']!.id}' and agent_platform = 'github_copilot'`],
    ]
    for (const [filter, where] of checks) {
      const ids = (await walk(filter, 'risk', undefined, 200)).sort((a, b) => a - b)
      const expected = await sql<{ id: number }>`select id from identities where status <> 'gone' and ${sql.raw(where)} order by id`.execute(db)
      expect(ids, JSON.stringify(filter)).toEqual(expected.rows.map((row) => row.id))
      expect(ids.length, JSON.stringify(filter)).toBeGreaterThan(0)
    }
  })

  it('finds identities by name, by ARN and by a credential key id', async () => {
    const db = database.current.db
    const byName = await listIdentities(db, await prepareIdentityFilter(db, { q: 'Support-Agent' }), {})
    expect(byName.rows.map((row) => row.display_name)).toContain('bedrock-support-agent')
    const byArn = await listIdentities(db, await prepareIdentityFilter(db, { q: 'arn:aws:iam::123456789012:role/ci-deploy' }), {})
    expect(byArn.rows.map((row) => row.id)).toEqual([seed.showcase.ownedRole])
    const byKey = await listIdentities(db, await prepareIdentityFilter(db, { q: 'akiaexampleshowcase1' }), {})
    expect(byKey.rows.map((row) => row.id)).toEqual([seed.showcase.orphanAgent])
    const literal = await listIdentities(db, await prepareIdentityFilter(db, { q: '%' }), {})
    expect(literal.rows).toEqual([])
  })

  it('parses the URL filter and names the parameter it cannot read', () => {
    expect(parseIdentityFilter(new URLSearchParams('provider=aws&agent=yes&risk=&q=%20x%20'))).toEqual({ provider: 'aws', agent: 'yes', q: 'x' })
    expect(() => parseIdentityFilter(new URLSearchParams('risk=extreme'))).toThrow(/"risk"/)
    expect(() => parseIdentityFilter(new URLSearchParams('source=not-a-uuid'))).toThrow(/"source"/)
    expect(identitySearch({ agent: 'yes', provider: 'aws' }, { sort: 'name' })).toBe('?provider=aws&agent=yes&sort=name')
  })
})

describe('counts, facets and export', () => {
  it('caps counts honestly', async () => {
    const db = database.current.db
    expect(await countIdentities(db, {}, 100)).toEqual({ count: 100, exact: false })
    const exact = await countIdentities(db, { provider: 'openai' })
    const direct = await sql<{ n: number }>`select count(*)::int as n from identities where provider = 'openai' and status <> 'gone'`.execute(db)
    expect(exact).toMatchObject({ count: direct.rows[0]!.n, exact: true })
    const ids = await sql<{ id: number }>`select id from identities where provider = 'openai' and status <> 'gone' order by id`.execute(db)
    expect([...exact.ids!].sort((a, b) => a - b)).toEqual(ids.rows.map((row) => row.id))
  })

  it('computes exact facets that add up to the filtered total', async () => {
    const db = database.current.db
    const filter: IdentityFilter = { agent: 'yes' }
    const total = await countIdentities(db, filter)
    const facets = await identityFacets(db, filter, total)
    expect(facets.mode).toBe('exact')
    const sum = (values: { count: number }[]) => values.reduce((s, v) => s + v.count, 0)
    expect(sum(facets.provider)).toBe(total.count)
    expect(sum(facets.risk)).toBe(total.count)
    expect(sum(facets.ownerStatus)).toBe(total.count)
    expect(facets.agent).toEqual([{ value: 'yes', count: total.count }])
    const platforms = await sql<{ value: string; count: number }>`
      select agent_platform as value, count(*)::int as count from identities where is_agent and status <> 'gone' group by 1 order by 2 desc, 1`.execute(db)
    expect(facets.platform).toEqual(platforms.rows)
    const privilege = await sql<{ n: number }>`
      select count(distinct i.id)::int as n from identities i join findings f on f.identity_id = i.id and f.status = 'open' and f.dimension = 'privilege'
       where i.is_agent and i.status <> 'gone'`.execute(db)
    expect(facets.dimension.find((d) => d.value === 'privilege')?.count).toBe(privilege.rows[0]!.n)
  })

  it('estimates facets from a table sample when the set is too large to count', async () => {
    const db = database.current.db
    const facets = await identityFacets(db, {}, { count: 100, exact: false })
    // 600 rows are under the sample size, so the "sample" is the whole table and still exact in value.
    expect(facets.mode).toBe('exact')
    const source = await identitySource(db, 100)
    expect(source.sampled).toBe(true)
    expect(source.scale).toBeGreaterThan(1)
  })

  it('caches counts and facets per filter for a minute, not per page', async () => {
    const db = database.current.db
    clearIdentitySummaryCache()
    const first = await identitySummary(db, { provider: 'gcp' }, 1_000_000)
    const again = await identitySummary(db, { provider: 'gcp' }, 1_030_000)
    expect(again.cachedAt).toEqual(first.cachedAt)
    expect(again.total).toEqual(first.total)
    const later = await identitySummary(db, { provider: 'gcp' }, 1_070_000)
    expect(later.cachedAt.getTime()).toBe(1_070_000)
  })

  it('streams every matching identity in keyset chunks', async () => {
    const db = database.current.db
    let count = 0
    let chunks = 0
    for await (const rows of streamIdentities(db, { provider: 'aws' }, {}, 50)) {
      count += rows.length
      chunks += 1
      expect(rows.every((row) => row.provider === 'aws')).toBe(true)
    }
    const direct = await sql<{ n: number }>`select count(*)::int as n from identities where provider = 'aws' and status <> 'gone'`.execute(db)
    expect(count).toBe(direct.rows[0]!.n)
    expect(chunks).toBeGreaterThan(1)
  })
})

describe('posture trend', () => {
  it('draws one point per UTC day, the day\'s last snapshot, over the range that ends on the latest one', async () => {
    const db = database.current.db
    // A source of its own, so the estate-wide snapshots the other tests read stay as seeded.
    const source = await db.insertInto('sources').values({ name: 'trend-only', provider: 'aws' }).returning('id').executeTakeFirstOrThrow()
    const snapshot = (takenAt: string, openFindings: number) => ({
      taken_at: new Date(takenAt),
      source_id: source.id,
      identities: 10,
      agents: 4,
      open_findings: openFindings,
      orphans: 1,
      mean_risk: 50,
      posture_score: 50,
      aggregates: json({}),
    })
    await db
      .insertInto('posture_snapshots')
      .values([
        snapshot('2025-08-01T12:00:00Z', 1), // more than a year before the latest: never drawn
        snapshot('2026-05-20T12:00:00Z', 2), // within a year only
        snapshot('2026-09-27T23:59:00Z', 3), // the first day of 90 (2026-12-25 minus 89 days)
        snapshot('2026-09-26T23:59:00Z', 4), // one day before it
        snapshot('2026-12-20T01:00:00Z', 5),
        snapshot('2026-12-20T22:00:00Z', 6), // the last of 20 December
        snapshot('2026-12-20T09:00:00Z', 7),
        // The first run of several sources: partial estates within a minute, then the whole one.
        snapshot('2026-12-25T10:00:00Z', 8),
        snapshot('2026-12-25T10:00:30Z', 9),
        snapshot('2026-12-25T10:01:00Z', 10),
      ])
      .execute()

    const drawn = async (range: '30d' | '90d' | '1y') => (await postureTrend(db, source.id, range)).map((point) => [point.takenAt.toISOString(), point.openFindings])
    expect(await drawn('30d')).toEqual([
      ['2026-12-20T22:00:00.000Z', 6],
      ['2026-12-25T10:01:00.000Z', 10],
    ])
    expect(await drawn('90d')).toEqual([
      ['2026-09-27T23:59:00.000Z', 3],
      ['2026-12-20T22:00:00.000Z', 6],
      ['2026-12-25T10:01:00.000Z', 10],
    ])
    expect((await drawn('1y')).map(([, findings]) => findings)).toEqual([2, 4, 3, 6, 10])
    // Other scopes are not mixed in: the estate-wide trend is the seed's 30 days.
    expect(await postureTrend(db, null, '1y')).toHaveLength(30)
    await db.deleteFrom('posture_snapshots').where('source_id', '=', source.id).execute()
    await db.deleteFrom('sources').where('id', '=', source.id).execute()
  })
})

describe('posture', () => {
  it('reads the estate from the latest snapshot and agrees with a live computation', async () => {
    const db = database.current.db
    const overview = await getPostureOverview(db, {})
    expect(overview.basis.kind).toBe('snapshot')
    const live = await computeBreakdown(db, {}, null)
    expect(overview.totals.identities).toBe(live.totals.identities)
    expect(overview.totals.openFindings).toBe(live.totals.openFindings)
    expect(overview.breakdown.agentsByPlatform).toEqual(live.breakdown.agentsByPlatform)
    expect(overview.trend).toHaveLength(30)
    expect(overview.riskiest[0]?.display_name).toBe('bedrock-support-agent')
    expect(overview.changes.counts.length).toBeGreaterThan(0)
  })

  it('computes a filtered view live, with numbers matching SQL', async () => {
    const db = database.current.db
    const overview = await getPostureOverview(db, { account: '123456789012' })
    expect(overview.basis.kind).toBe('live')
    expect(overview.totals.identities).toBe(2)
    expect(overview.totals.orphans).toBe(1)
    const findings = await sql<{ n: number }>`
      select count(*)::int as n from findings f join identities i on i.id = f.identity_id where i.account_id = '123456789012' and f.status = 'open'`.execute(db)
    expect(overview.totals.openFindings).toBe(findings.rows[0]!.n)
  })

  it('computes the agents-only view live, since snapshots cover all NHIs', async () => {
    const overview = await getPostureOverview(database.current.db, { agent: 'yes' })
    expect(overview.basis.kind).toBe('live')
    const agents = await sql<{ n: number }>`select count(*)::int as n from identities where is_agent and status <> 'gone'`.execute(database.current.db)
    expect(overview.totals.identities).toBe(agents.rows[0]!.n)
    expect(overview.totals.agents).toBe(agents.rows[0]!.n)
  })

  it('reads the findings matrix and credential ages from the snapshot the scoring engine wrote', async () => {
    const db = database.current.db
    const overview = await getPostureOverview(db, {})
    const cells = await sql<{ dimension: string; severity: string; count: number }>`
      select f.dimension, f.severity, count(*)::int as count from findings f join identities i on i.id = f.identity_id
       where f.status = 'open' and i.status in ('active','disabled') group by 1, 2`.execute(db)
    for (const cell of cells.rows) {
      expect(overview.breakdown.findings.find((c) => c.dimension === cell.dimension && c.severity === cell.severity)?.count, `${cell.dimension}/${cell.severity}`).toBe(cell.count)
    }
    const credentials = await sql<{ n: number }>`
      select count(*)::int as n from credentials c join identities i on i.id = c.identity_id where c.status = 'active' and i.status in ('active','disabled')`.execute(db)
    expect(overview.breakdown.credentialAge.reduce((sum, bucket) => sum + bucket.count, 0)).toBe(credentials.rows[0]!.n)
    const live = await computeBreakdown(db, { status: undefined }, null)
    expect(live.breakdown.credentialAge.map((b) => b.key)).toEqual(overview.breakdown.credentialAge.map((b) => b.key))
  })
})

describe('identity detail and sources', () => {
  it('gathers everything about one identity', async () => {
    const detail = await getIdentityDetail(database.current.db, seed.showcase.orphanAgent)
    expect(detail?.identity.display_name).toBe('bedrock-support-agent')
    expect(detail?.identity.agent_reasons.map((reason) => reason.detail)).toContain('Trust policy admits bedrock.amazonaws.com')
    expect(detail?.agentSignals.map((reason) => reason.detail)).toContain('Trust policy admits bedrock.amazonaws.com')
    expect(detail?.score?.breakdown?.findings.map((f) => f.rule)).toContain('privilege_identity_full_admin')
    expect(detail?.credentials.map((c) => c.external_id)).toEqual(['AKIAEXAMPLESHOWCASE1'])
    expect(detail?.entitlements[0]?.level).toBe('admin')
    expect(detail?.findings.map((f) => f.rule_id)).toContain('privilege_identity_full_admin')
    expect(detail?.changes[0]?.change_type).toBe('privilege_gained')
    expect(await getIdentityDetail(database.current.db, 987654321)).toBeNull()
    const hints = await ownerHints(database.current.db, [seed.showcase.orphanAgent, seed.showcase.copilotBot])
    expect(hints.get(seed.showcase.orphanAgent)?.people.map((p) => p.role).sort()).toEqual(['creator', 'last_user'])
    expect(hints.get(seed.showcase.orphanAgent)?.tags).toEqual([['created-by', 'dana@acme.example']])
  })

  it('never reports a failed or partial source as healthy', async () => {
    const statuses = await listSourceStatuses(database.current.db, new Date('2026-11-21T12:00:00Z'))
    const by = (name: string) => statuses.find((s) => s.name === name)!
    expect(by('github-acme').health).toBe('unknown')
    expect(by('github-acme').last?.errors[0]?.remedy).toMatch(/GITHUB_TOKEN/)
    expect(by('gcp-analytics').health).toBe('incomplete')
    expect(by('vault-core').health).toBe('scanning')
    expect(by('vault-core').active?.identitiesSeen).toBe(1200)
    expect(by('aws-production').health).toBe('healthy')
    expect(by('aws-production').nextRunAt?.toISOString()).toBe('2026-11-21T18:00:00.000Z')
  })

  it('computes the next run of cron schedules', () => {
    const from = new Date('2026-11-21T12:34:56Z')
    expect(nextCronRun('0 */6 * * *', from)?.toISOString()).toBe('2026-11-21T18:00:00.000Z')
    expect(nextCronRun('*/15 * * * *', from)?.toISOString()).toBe('2026-11-21T12:45:00.000Z')
    expect(nextCronRun('0 3 * * 1', from)?.toISOString()).toBe('2026-11-23T03:00:00.000Z')
    expect(nextCronRun('not cron', from)).toBeNull()
  })
})
