/**
 * Marks for assessment the identities whose threshold overrides changed. The change itself only
 * recorded its scope in `scoring_scope_changes` (migration 2026-12-03T0200): an override can
 * name a source of half a million identities, which no web request or SQL edit should wait for.
 * The scoring pass runs this before it reads its settings, in keyset chunks, each its own
 * statement, so no chunk holds many row locks for long. Matching follows ThresholdResolver
 * (scoring/thresholds.ts): a source by id or by name, a tag by exact `key=value`.
 *
 * A scored identity is marked in `identity_scores.reassess_after`, not by flagging its row: the
 * pass then assesses it like a daily re-evaluation, and an identity whose outcome the change
 * does not alter keeps its row, instead of a new version in every index of `identities`
 * (docs/decisions/037). The mark holds the time it was made, after the change was committed;
 * a writer clears it only if it read the settings later than that (scoring/write.ts), so a pass
 * that was already running with the old limits leaves the mark for the next one. An identity
 * never scored has no score row and is flagged instead.
 */
import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/schema.js'
import { parseTagScope } from './thresholds.js'

const CHUNK = 5000

export async function markChangedThresholdScopes(
  db: Kysely<Database>,
  options: { chunkSize?: number } = {},
): Promise<{ scopes: number; marked: number }> {
  const chunk = options.chunkSize ?? CHUNK
  const changes = await db.selectFrom('scoring_scope_changes').select(['id', 'scope_type', 'scope_value']).orderBy('id').execute()
  let marked = 0
  // The same scope changed twice is marked once.
  const done = new Set<string>()
  for (const change of changes) {
    const key = `${change.scope_type}\u0000${change.scope_value}`
    if (!done.has(key)) {
      done.add(key)
      marked += await markScope(db, change.scope_type, change.scope_value, chunk)
    }
    // Deleted only once its identities are marked: a pass that fails midway leaves it queued.
    await db.deleteFrom('scoring_scope_changes').where('id', '=', change.id).execute()
  }
  return { scopes: done.size, marked }
}

async function markScope(db: Kysely<Database>, scopeType: 'source' | 'tag', scopeValue: string, chunk: number): Promise<number> {
  const matches =
    scopeType === 'source'
      ? sql`i.source_id in (select s.id from sources s where s.id::text = ${scopeValue} or s.name = ${scopeValue})`
      : tagMatch(scopeValue)
  if (matches === null) return 0
  let marked = 0
  let after = 0
  for (;;) {
    const result = await sql<{ id: number | string | null; n: number }>`
      with next as (select i.id, i.needs_scoring from identities i where i.id > ${after} and ${matches} order by i.id limit ${chunk}),
      reassessed as (
        update identity_scores s set reassess_after = statement_timestamp()
        from next where s.identity_id = next.id
        returning s.identity_id),
      flagged as (
        update identities set needs_scoring = true
        where id in (select id from next where not needs_scoring
                     and not exists (select 1 from identity_scores s where s.identity_id = next.id))
        returning id)
      select (select max(id) from next) as id, ((select count(*) from reassessed) + (select count(*) from flagged))::int as n`.execute(db)
    const row = result.rows[0]
    if (!row || row.id === null) return marked
    marked += row.n
    after = Number(row.id)
  }
}

/** `key=value` as ThresholdResolver matches it; a scope not of that form matches nothing. */
function tagMatch(scope: string) {
  const tag = parseTagScope(scope)
  return tag ? sql`i.tags ->> ${tag.key} = ${tag.value}` : null
}
