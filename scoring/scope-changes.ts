/**
 * Marks for assessment the identities a change to what the rules read applies to. The change
 * itself only recorded its scope in `scoring_scope_changes` (migrations 2026-12-03T0200 and
 * 2026-12-04T0200): an override can name a source of half a million identities, which no web
 * request or SQL edit should wait for. The scoring pass runs this before it reads its settings,
 * in keyset chunks, each its own statement, so no chunk holds many row locks for long.
 * Matching follows what the pass reads:
 * - 'source' and 'tag' (threshold overrides) as ThresholdResolver (scoring/thresholds.ts)
 *   matches them: a source by id or by name, a tag by exact `key=value`;
 * - 'owner' (departed owners, a disabled or enabled user): an owner hint whose reference,
 *   trimmed and in lower case, is the value, as the owner directory compares them;
 * - 'claim_holder' (a disabled or enabled user): the claim or handover the user with this id
 *   holds, as scoring/load.ts reads the current claim.
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

export async function markRecordedScopeChanges(db: Kysely<Database>, options: { chunkSize?: number } = {}): Promise<{ scopes: number; marked: number }> {
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

type ScopeType = Database['scoring_scope_changes']['scope_type']

async function markScope(db: Kysely<Database>, scopeType: ScopeType, scopeValue: string, chunk: number): Promise<number> {
  const matches = scopeMatch(scopeType, scopeValue)
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
        update identity_posture set needs_scoring = true
        where identity_id in (select id from next where not needs_scoring
                     and not exists (select 1 from identity_scores s where s.identity_id = next.id))
        returning identity_id)
      select (select max(id) from next) as id, ((select count(*) from reassessed) + (select count(*) from flagged))::int as n`.execute(db)
    const row = result.rows[0]
    if (!row || row.id === null) return marked
    marked += row.n
    after = Number(row.id)
  }
}

/** The identities `i` a scope names; null for a scope that names none (a malformed tag). */
function scopeMatch(scopeType: ScopeType, value: string) {
  switch (scopeType) {
    case 'source':
      return sql`i.source_id in (select s.id from sources s where s.id::text = ${value} or s.name = ${value})`
    case 'tag': {
      const tag = parseTagScope(value)
      return tag ? sql`i.tags ->> ${tag.key} = ${tag.value}` : null
    }
    case 'owner':
      return sql`i.id in (select o.identity_id from identity_owners o where lower(btrim(o.owner_ref)) = ${value})`
    case 'claim_holder':
      return sql`i.id in (select c.identity_id from claims c
        where c.status in ('confirmed', 'accepted') and c.ended_at is null
          and (case when c.kind = 'handover' then c.to_user_id else c.requested_by end)::text = ${value})`
  }
}
