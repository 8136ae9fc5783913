/**
 * The identity inventory at a million rows: filtered keyset pages, capped counts, facets
 * (exact when the filtered set is small, estimated from a table sample when it is not), and
 * a keyset stream for exports. Every function takes the Kysely instance first.
 */
import { expressionBuilder, sql, type Expression, type ExpressionBuilder, type Kysely, type RawBuilder, type SqlBool } from 'kysely'
import type { Database } from '../schema.js'
import {
  DEFAULT_DIRECTION,
  FilterError,
  RISK_BAND_RANGES,
  type IdentityFilter,
  type IdentitySort,
  type IdentityView,
} from './identity-filter.js'

type Db = Kysely<Database>
type IdentityEb = ExpressionBuilder<Database, 'identities'>

/** A filter with its search resolved to identity ids where that is cheap (see prepareIdentityFilter). */
export interface PreparedFilter extends IdentityFilter {
  /** Identities whose credential has the searched key id (credentials.external_id). */
  credentialMatches?: number[]
  /**
   * Every identity the search matches (name, external id or key id), when they are at most
   * SEARCH_ID_LIMIT; null when the term matches more, and is then checked row by row.
   */
  searchMatches?: number[] | null
}

/**
 * Up to this many search matches are looked up by id. A term that matches more is common
 * enough (1 % of a million) that checking each row the main query reads usually fills a page
 * within a few thousand rows.
 */
export const SEARCH_ID_LIMIT = 10_000

/**
 * Resolves the search of a filter before the main query, so that query stays index-friendly:
 * key ids (credentials.external_id) and, through the trigram index of identity_search_text,
 * names and external ids become identity ids. Search text lives in that table of its own so
 * that no update of other identity columns touches the trigram index (docs/decisions/039).
 */
export async function prepareIdentityFilter(db: Db, filter: IdentityFilter): Promise<PreparedFilter> {
  if (!filter.q) return filter
  const [keys, names] = await Promise.all([
    db.selectFrom('credentials').select('identity_id').where(sql`lower(external_id)`, '=', filter.q.toLowerCase()).limit(100).execute(),
    db
      .selectFrom('identity_search_text')
      .select('identity_id')
      .where('search_text', 'like', searchPattern(filter.q))
      .limit(SEARCH_ID_LIMIT + 1)
      .execute(),
  ])
  const credentialMatches = [...new Set(keys.map((row) => row.identity_id))]
  const searchMatches = names.length > SEARCH_ID_LIMIT ? null : [...new Set([...names.map((row) => row.identity_id), ...credentialMatches])]
  return { ...filter, credentialMatches, searchMatches }
}

/** What identity_search_text.search_text (leash_identity_search_text(name, external id)) is matched with. */
function searchPattern(q: string): string {
  return `%${escapeLike(q.toLowerCase())}%`
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (match) => `\\${match}`)
}

/** No credential sorts after every dated one (index identities_oldest_credential_keyset_idx). */
const OLDEST_CREDENTIAL_KEY = sql<Date>`coalesce(identities.oldest_credential_at, 'infinity'::timestamptz)`

/** The WHERE clause of a filter, over the `identities` table (or anything aliased `identities`). */
export function identityWhere(filter: PreparedFilter) {
  return (eb: IdentityEb): Expression<SqlBool> => {
    const and: Expression<SqlBool>[] = []
    if (filter.status === undefined) and.push(eb('identities.status', '!=', 'gone'))
    else if (filter.status !== 'all') and.push(eb('identities.status', '=', filter.status))
    if (filter.q) {
      // One array parameter, however many ids (up to SEARCH_ID_LIMIT).
      if (filter.searchMatches) and.push(sql<SqlBool>`identities.id = any(${filter.searchMatches}::bigint[])`)
      else {
        // A broad term (or a filter not prepared): the text identity_search_text holds, made by
        // the same SQL function (inlined by the planner) and checked on each row read; no index,
        // and none needed to fill a page of common matches.
        const or: Expression<SqlBool>[] = [
          eb(sql`leash_identity_search_text(identities.display_name, identities.external_id)`, 'like', searchPattern(filter.q)),
        ]
        if (filter.credentialMatches && filter.credentialMatches.length > 0) or.push(eb('identities.id', 'in', filter.credentialMatches))
        and.push(eb.or(or))
      }
    }
    if (filter.source) and.push(eb('identities.source_id', '=', filter.source))
    if (filter.provider) and.push(eb('identities.provider', '=', filter.provider))
    if (filter.kind) and.push(eb('identities.kind', '=', filter.kind))
    if (filter.account) and.push(eb('identities.account_id', '=', filter.account))
    if (filter.agent) and.push(eb('identities.is_agent', '=', filter.agent === 'yes'))
    if (filter.platform) and.push(eb('identities.agent_platform', '=', filter.platform))
    if (filter.owner) and.push(eb('identities.owner_ref', '=', filter.owner))
    if (filter.ownerStatus) and.push(eb('identities.owner_status', '=', filter.ownerStatus))
    if (filter.orphan === 'yes') {
      // Same predicate as the partial index identities_orphans_idx and the Orphans page.
      and.push(eb('identities.is_agent', '=', true))
      and.push(eb('identities.owner_status', 'in', ['none', 'invalid']))
      and.push(eb('identities.status', '=', 'active'))
    }
    if (filter.risk) {
      const [min, max] = RISK_BAND_RANGES[filter.risk]
      and.push(eb('identities.risk_score', '>=', min))
      and.push(eb('identities.risk_score', '<=', max))
    }
    if (filter.access) and.push(eb('identities.max_access_level', '=', filter.access))
    // On the sort's key expression, so identities_oldest_credential_keyset_idx serves these too;
    // the upper bound keeps identities without a credential (key 'infinity') out, as before.
    if (filter.credAgeMin !== undefined) {
      and.push(eb(OLDEST_CREDENTIAL_KEY, '<=', sql<Date>`now() - make_interval(days => ${filter.credAgeMin})`))
    }
    if (filter.credAgeMax !== undefined) {
      and.push(eb(OLDEST_CREDENTIAL_KEY, '>', sql<Date>`now() - make_interval(days => ${filter.credAgeMax})`))
      and.push(eb(OLDEST_CREDENTIAL_KEY, '<', sql<Date>`'infinity'::timestamptz`))
    }
    if (filter.dimension || filter.severity || filter.findings === 'open') {
      and.push(
        eb.exists(
          eb
            .selectFrom('findings')
            .select(sql`1`.as('one'))
            .whereRef('findings.identity_id', '=', 'identities.id')
            .where('findings.status', '=', 'open')
            .$if(filter.dimension !== undefined, (qb) => qb.where('findings.dimension', '=', filter.dimension!))
            .$if(filter.severity !== undefined, (qb) => qb.where('findings.severity', '=', filter.severity!)),
        ),
      )
    }
    return eb.and(and)
  }
}

// ---------------------------------------------------------------------------------------------
// Sorting and keyset cursors

interface SortSpec {
  /** The key expression, matching an index (see the migrations) so keyset pages are index scans. */
  key: RawBuilder<unknown>
  /**
   * The tie-breaking id, from the table whose index serves the sort: a keyset condition
   * `(key, id) < (…)` uses an index only when both columns are that index's own. Posture sorts
   * (risk, credential age) take the posture row's copy of the id, record sorts the record's
   * (docs/decisions/043).
   */
  id: RawBuilder<number>
  /** How the cursor's text value is cast back for comparison. */
  cast: 'int' | 'text' | 'timestamptz'
}

const POSTURE_ID = sql<number>`identities.posture_identity_id`
const RECORD_ID = sql<number>`identities.id`

const SORT_SPECS: Record<IdentitySort, SortSpec> = {
  risk: { key: sql`identities.risk_score`, id: POSTURE_ID, cast: 'int' },
  name: { key: sql`lower(identities.display_name)`, id: RECORD_ID, cast: 'text' },
  // Never used counts as the stalest: coalesce to -infinity (index identities_last_used_keyset_idx).
  last_used: { key: sql`coalesce(identities.last_used_at, '-infinity'::timestamptz)`, id: RECORD_ID, cast: 'timestamptz' },
  oldest_credential: { key: OLDEST_CREDENTIAL_KEY, id: POSTURE_ID, cast: 'timestamptz' },
}

interface Cursor {
  sort: IdentitySort
  dir: 'asc' | 'desc'
  value: string
  id: number
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.sort, cursor.dir, cursor.value, cursor.id]), 'utf8').toString('base64url')
}

export function decodeCursor(token: string, sort: IdentitySort, dir: 'asc' | 'desc'): Cursor {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))
  } catch {
    parsed = null
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 4 ||
    typeof parsed[2] !== 'string' ||
    typeof parsed[3] !== 'number' ||
    !Number.isSafeInteger(parsed[3])
  ) {
    throw new FilterError('The page link is not valid (its cursor could not be read). Go back to the first page.', 'after')
  }
  if (parsed[0] !== sort || parsed[1] !== dir) {
    throw new FilterError('The page link belongs to a different sort order. Go back to the first page.', 'after')
  }
  return { sort, dir, value: parsed[2], id: parsed[3] }
}

function castValue(spec: SortSpec, value: string): RawBuilder<unknown> {
  switch (spec.cast) {
    case 'int':
      return sql`${Number(value)}::int`
    case 'timestamptz':
      return sql`${value}::timestamptz`
    default:
      return sql`${value}::text`
  }
}

export interface IdentityListRow {
  id: number
  display_name: string
  external_id: string
  provider: string
  kind: string
  account_id: string
  source_id: string
  status: string
  is_agent: boolean
  agent_platform: string | null
  agent_confidence: number
  owner_ref: string | null
  owner_kind: string | null
  owner_status: string
  risk_score: number
  last_used_at: Date | null
  last_used_known: boolean
  oldest_credential_at: Date | null
  credential_count: number
  max_access_level: string | null
}

export interface IdentityPage {
  rows: IdentityListRow[]
  sort: IdentitySort
  dir: 'asc' | 'desc'
  /** Cursor for the page after this one, or null at the end. */
  next: string | null
  /** Cursor for the page before this one, or null on the first page. */
  prev: string | null
}

const LIST_COLUMNS = [
  'identities.id',
  'identities.display_name',
  'identities.external_id',
  'identities.provider',
  'identities.kind',
  'identities.account_id',
  'identities.source_id',
  'identities.status',
  'identities.is_agent',
  'identities.agent_platform',
  'identities.agent_confidence',
  'identities.owner_ref',
  'identities.owner_kind',
  'identities.owner_status',
  'identities.risk_score',
  'identities.last_used_at',
  'identities.last_used_known',
  'identities.oldest_credential_at',
  'identities.credential_count',
  'identities.max_access_level',
] as const

/** One keyset page of the inventory. `view.after`/`view.before` are cursors from a previous page. */
export async function listIdentities(db: Db, filter: PreparedFilter, view: IdentityView = {}, limit = 50): Promise<IdentityPage> {
  const sort = view.sort ?? 'risk'
  const dir = view.dir ?? DEFAULT_DIRECTION[sort]
  const spec = SORT_SPECS[sort]
  const backwards = Boolean(view.before) && !view.after
  const cursorToken = view.after ?? view.before
  const cursor = cursorToken ? decodeCursor(cursorToken, sort, dir) : null
  // Walking backwards flips the order; the rows are flipped back below.
  const scanDir = backwards ? (dir === 'asc' ? 'desc' : 'asc') : dir

  let query = db
    .selectFrom('identities')
    .select(LIST_COLUMNS)
    .select(sql<string>`(${spec.key})::text`.as('sort_key'))
    .where(identityWhere(filter))
  if (cursor) {
    const op = scanDir === 'asc' ? sql`>` : sql`<`
    query = query.where(sql<SqlBool>`(${spec.key}, ${spec.id}) ${op} (${castValue(spec, cursor.value)}, ${cursor.id}::bigint)`)
  }
  const order = scanDir === 'asc' ? sql`asc` : sql`desc`
  const rows = await query
    .orderBy(sql`${spec.key} ${order}`)
    .orderBy(sql`${spec.id} ${order}`)
    .limit(limit + 1)
    .execute()

  const hasMore = rows.length > limit
  const page = rows.slice(0, limit)
  if (backwards) page.reverse()
  const first = page[0]
  const last = page[page.length - 1]
  const cursorOf = (row: (typeof page)[number]) => encodeCursor({ sort, dir, value: row.sort_key, id: row.id })
  let next: string | null
  let prev: string | null
  if (backwards) {
    next = last ? cursorOf(last) : null
    prev = hasMore && first ? cursorOf(first) : null
  } else {
    next = hasMore && last ? cursorOf(last) : null
    prev = cursor && first ? cursorOf(first) : null
  }
  return {
    rows: page.map(({ sort_key: _key, ...row }) => row as IdentityListRow),
    sort,
    dir,
    next,
    prev,
  }
}

/**
 * Streams every identity matching the filter in keyset chunks, so an export of a million rows
 * holds one chunk in memory at a time and never an OFFSET scan.
 */
export async function* streamIdentities(
  db: Db,
  filter: PreparedFilter,
  view: Pick<IdentityView, 'sort' | 'dir'> = {},
  chunkSize = 2000,
): AsyncGenerator<IdentityListRow[]> {
  let after: string | undefined
  for (;;) {
    const page = await listIdentities(db, filter, { sort: view.sort, dir: view.dir, after }, chunkSize)
    if (page.rows.length > 0) yield page.rows
    if (!page.next) return
    after = page.next
  }
}

// ---------------------------------------------------------------------------------------------
// Counts and facets

export interface CappedCount {
  /** Exact when `exact`, otherwise the cap (there are at least this many). */
  count: number
  exact: boolean
  /** When not exact: an estimate of the true count from a table sample. */
  estimate?: number
  /** When exact: the matching ids, so facets need not evaluate the filter again. */
  ids?: number[]
}

/**
 * At most this many matches are counted exactly per request; above it the page says "1,000+"
 * with an estimate from a table sample. Keeps a broad filter at a million rows cheap.
 */
export const COUNT_CAP = 1_000

/** Counts matching identities up to `cap`: cheap at any size, honest ("1,000+") above it. */
export async function countIdentities(db: Db, filter: PreparedFilter, cap = COUNT_CAP): Promise<CappedCount> {
  const rows = await db
    .selectFrom('identities')
    .select('identities.id')
    .where(identityWhere(filter))
    .limit(cap + 1)
    .execute()
  return rows.length > cap ? { count: cap, exact: false } : { count: rows.length, exact: true, ids: rows.map((row) => row.id) }
}

/** The planner's row estimate for the whole table (pg_class.reltuples of identity_records): instant at any size. */
export async function estimatedIdentityRows(db: Db): Promise<number> {
  const result = await sql<{ rows: number }>`select greatest(reltuples, 0)::float8 as rows from pg_class where oid = 'identity_records'::regclass`.execute(
    db,
  )
  return Number(result.rows[0]?.rows ?? 0)
}

/**
 * A FROM item over identities: the view itself, or a repeatable SYSTEM sample of about
 * `targetRows` rows aliased `identities`, with the factor that scales its counts up. A view
 * cannot be sampled: the sample is of the records, joined to the view by id.
 */
export async function identitySource(db: Db, targetRows: number | null) {
  if (targetRows === null) return { from: sql`identities`, scale: 1, sampled: false }
  const total = await estimatedIdentityRows(db)
  if (total <= targetRows) return { from: sql`identities`, scale: 1, sampled: false }
  const percent = Math.max(0.01, Math.min(100, (targetRows / total) * 100))
  return {
    from: sql`(select i.* from (select id from identity_records tablesample system (${sql.lit(Number(percent.toFixed(4)))}) repeatable (42)) as sampled
                join identities i on i.id = sampled.id)`,
    scale: 100 / percent,
    sampled: true,
  }
}

export interface FacetValue {
  value: string
  count: number
}

export interface IdentityFacets {
  /** Exact counts over the filtered set, or estimates scaled up from a table sample. */
  mode: 'exact' | 'estimated'
  provider: FacetValue[]
  kind: FacetValue[]
  agent: FacetValue[]
  platform: FacetValue[]
  ownerStatus: FacetValue[]
  risk: FacetValue[]
  source: FacetValue[]
  account: FacetValue[]
  dimension: FacetValue[]
}

export const SAMPLE_ROWS = 4_000

/**
 * Facet counts for the current filter. Exact (one grouping-sets pass) when the filtered set is
 * at most COUNT_CAP rows; otherwise estimated from a ~4,000-row sample of the table, so the
 * cost does not grow with the estate.
 */
export async function identityFacets(db: Db, filter: PreparedFilter, total: CappedCount): Promise<IdentityFacets> {
  const source = await identitySource(db, total.exact ? null : SAMPLE_ROWS)
  // An exact count already holds the matching ids: look them up by primary key instead of filtering again.
  const where =
    total.exact && total.ids
      ? total.ids.length === 0
        ? sql<boolean>`false`
        : sql<boolean>`identities.id = any(${total.ids}::bigint[])`
      : identityWhere(filter)(expressionBuilder<Database, 'identities'>())
  // One pass with grouping sets; the risk band is computed once per row in a lateral.
  const grouped = await sql<Record<string, unknown>>`
    select grouping(provider) as g_provider, grouping(kind) as g_kind, grouping(is_agent) as g_agent,
           grouping(agent_platform) as g_platform, grouping(owner_status) as g_owner_status,
           grouping(b.band) as g_band, grouping(source_id) as g_source,
           provider, kind, is_agent, agent_platform, owner_status, b.band, source_id::text as source_id,
           count(*) as count
      from ${source.from} as identities
      cross join lateral (select case when identities.risk_score >= 80 then 'critical'
                                      when identities.risk_score >= 60 then 'high'
                                      when identities.risk_score >= 30 then 'medium' else 'low' end as band) as b
     where ${where}
     group by grouping sets ((provider), (kind), (is_agent), (agent_platform), (owner_status), (b.band), (source_id))`.execute(db)

  const scale = (count: unknown) => Math.round(Number(count) * source.scale)
  const facets: IdentityFacets = {
    mode: source.sampled ? 'estimated' : 'exact',
    provider: [],
    kind: [],
    agent: [],
    platform: [],
    ownerStatus: [],
    risk: [],
    source: [],
    account: [],
    dimension: [],
  }
  for (const row of grouped.rows) {
    const count = scale(row.count)
    if (Number(row.g_provider) === 0) {
      if (row.provider !== null) facets.provider.push({ value: String(row.provider), count })
    } else if (Number(row.g_kind) === 0) {
      if (row.kind !== null) facets.kind.push({ value: String(row.kind), count })
    } else if (Number(row.g_agent) === 0) {
      if (row.is_agent !== null) facets.agent.push({ value: row.is_agent ? 'yes' : 'no', count })
    } else if (Number(row.g_platform) === 0) {
      if (row.agent_platform !== null) facets.platform.push({ value: String(row.agent_platform), count })
    } else if (Number(row.g_owner_status) === 0) {
      if (row.owner_status !== null) facets.ownerStatus.push({ value: String(row.owner_status), count })
    } else if (Number(row.g_band) === 0) {
      if (row.band !== null) facets.risk.push({ value: String(row.band), count })
    } else if (Number(row.g_source) === 0) {
      if (row.source_id !== null) facets.source.push({ value: String(row.source_id), count })
    }
  }

  // Accounts: many values; the top ten by count.
  const accounts = await sql<{ value: string; count: number }>`
    select account_id as value, count(*) as count from ${source.from} as identities
     where ${where} group by account_id order by count(*) desc, account_id limit 10`.execute(db)
  facets.account = accounts.rows.map((row) => ({ value: row.value, count: scale(row.count) }))

  // Identities with open findings per dimension, over the same rows.
  const dimensions = await sql<{ value: string; count: number }>`
    select f.dimension as value, count(distinct f.identity_id) as count
      from ${source.from} as identities
      join findings f on f.identity_id = identities.id and f.status = 'open'
     where ${where} group by f.dimension`.execute(db)
  facets.dimension = dimensions.rows.map((row) => ({ value: row.value, count: scale(row.count) }))

  const byCount = (a: FacetValue, b: FacetValue) => b.count - a.count || a.value.localeCompare(b.value)
  for (const key of ['provider', 'kind', 'agent', 'platform', 'ownerStatus', 'source', 'dimension'] as const) facets[key].sort(byCount)
  const bandOrder = ['critical', 'high', 'medium', 'low']
  facets.risk.sort((a, b) => bandOrder.indexOf(a.value) - bandOrder.indexOf(b.value))
  return facets
}

/** When the total is capped, an estimate of the true size from the same sample the facets use. */
export function estimateTotal(facets: IdentityFacets, total: CappedCount): CappedCount {
  if (total.exact) return total
  const estimate = facets.agent.reduce((sum, value) => sum + value.count, 0)
  return { ...total, estimate: Math.max(estimate, total.count) }
}

// ---------------------------------------------------------------------------------------------
// A short-lived cache of counts and facets per filter

interface CacheEntry {
  at: number
  value: { total: CappedCount; facets: IdentityFacets }
}

const SUMMARY_TTL_MS = 60_000
const SUMMARY_MAX_ENTRIES = 500
const summaryCache = new Map<string, CacheEntry>()

/** Forgets cached counts (tests; after a scan the TTL does it). */
export function clearIdentitySummaryCache(): void {
  summaryCache.clear()
}

/**
 * Count and facets for a filter, cached for a minute per filter (not per page or sort): paging
 * through a result or changing its order never recounts. What a scan changes shows within a
 * minute; the page says the counts may be that old.
 */
export async function identitySummary(db: Db, filter: PreparedFilter, now: number = Date.now()): Promise<{ total: CappedCount; facets: IdentityFacets; cachedAt: Date }> {
  // Keyed by the filter as the user gave it: the ids its search resolved to follow from `q`, and
  // can be 10,000 of them.
  const { credentialMatches: _keys, searchMatches: _matches, ...given } = filter
  const key = JSON.stringify(Object.entries(given).filter(([, value]) => value !== undefined).sort(([a], [b]) => a.localeCompare(b)))
  const hit = summaryCache.get(key)
  if (hit && now - hit.at < SUMMARY_TTL_MS) {
    // Refresh its place in the LRU order.
    summaryCache.delete(key)
    summaryCache.set(key, hit)
    return { ...hit.value, cachedAt: new Date(hit.at) }
  }
  const count = await countIdentities(db, filter)
  const facets = await identityFacets(db, filter, count)
  const { ids: _ids, ...counted } = count
  const value = { total: estimateTotal(facets, counted), facets }
  summaryCache.set(key, { at: now, value })
  while (summaryCache.size > SUMMARY_MAX_ENTRIES) summaryCache.delete(summaryCache.keys().next().value!)
  return { ...value, cachedAt: new Date(now) }
}
