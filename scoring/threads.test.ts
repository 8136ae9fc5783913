import { sql, type Kysely } from 'kysely'
import { describe, expect, it } from 'vitest'
import type { Database } from '../db/schema.js'
import { describeError, LeashError } from '../cli/errors.js'
import { useTestDatabase } from '../test/db.js'
import { scorePendingIdentities } from './pass.js'
import { storeIdentity, storeSource } from './testing-db.js'
import { configuredThreads, reviveError, serializeError, splitIdRange } from './threads.js'

const database = useTestDatabase()
const NOW = new Date('2026-06-01T00:00:00Z')

/** `count` AWS users, every fifth an admin, every third without an owner, keys of growing age. */
async function seedEstate(db: Kysely<Database>, name: string, count: number): Promise<{ sourceId: string; ids: number[] }> {
  const sourceId = await storeSource(db, name)
  const ids: number[] = []
  for (let n = 0; n < count; n += 1)
    ids.push(
      await storeIdentity(db, sourceId, {
        name: `${name}-${n}`,
        keyAgeDays: 30 + n * 10,
        admin: n % 5 === 0,
        owner: n % 3 === 0 ? null : undefined,
      }),
    )
  return { sourceId, ids }
}

async function postureOf(db: Kysely<Database>, ids: number[]) {
  const rows = await db
    .selectFrom('identities')
    .select(['id', 'risk_score', 'owner_status', 'is_agent', 'needs_scoring', 'oldest_credential_at'])
    .where('id', 'in', ids)
    .orderBy('id')
    .execute()
  const findings = await db
    .selectFrom('findings')
    .select(['identity_id', 'rule_id', 'subject_key', 'status', 'severity', 'evidence'])
    .where('identity_id', 'in', ids)
    .orderBy('identity_id')
    .orderBy('rule_id')
    .orderBy('subject_key')
    .execute()
  const scores = await db
    .selectFrom('identity_scores')
    .select(['identity_id', 'risk_score', 'breakdown'])
    .where('identity_id', 'in', ids)
    .orderBy('identity_id')
    .execute()
  return { rows, findings, scores }
}

/** Records which connection (by application name) wrote each score row. */
async function recordScoreWriters(db: Kysely<Database>): Promise<() => Promise<Map<string, number>>> {
  await sql`drop table if exists score_writers`.execute(db)
  await sql`drop trigger if exists record_score_writer on identity_scores`.execute(db)
  await sql`create table score_writers (identity_id bigint, application_name text)`.execute(db)
  await sql`create or replace function record_score_writer() returns trigger language plpgsql as $$
    begin insert into score_writers values (new.identity_id, current_setting('application_name')); return new; end $$`.execute(db)
  await sql`create trigger record_score_writer after insert on identity_scores for each row execute function record_score_writer()`.execute(
    db,
  )
  return async () => {
    const rows = await sql<{ application_name: string; n: number }>`
      select application_name, count(*)::int as n from score_writers group by application_name`.execute(db)
    return new Map(rows.rows.map((row) => [row.application_name, row.n]))
  }
}

describe('a scoring pass over threads', () => {
  it('writes what a pass on one thread writes, each identity once, from more than one thread', async () => {
    const db = database.current.db
    const { sourceId, ids } = await seedEstate(db, 'threads', 30)
    const writers = await recordScoreWriters(db)
    let lastProgress = 0
    const result = await scorePendingIdentities(db, {
      now: NOW,
      batchSize: 2,
      threads: 3,
      minIdentitiesPerThread: 1,
      onProgress: (scored) => (lastProgress = scored),
    })
    expect(result).toEqual({ scored: 30 })
    expect(lastProgress).toBe(30)
    const written = await writers()
    // Three connections wrote: this thread's pool and one per scoring thread.
    expect([...written.keys()].filter((name) => name.endsWith('-scoring-thread'))).toHaveLength(1)
    expect([...written.values()].reduce((sum, n) => sum + n, 0)).toBe(30)
    const threadRows = [...written.entries()].find(([name]) => name.endsWith('-scoring-thread'))![1]
    expect(threadRows).toBeGreaterThanOrEqual(2 * 9)
    const threaded = await postureOf(db, ids)
    expect(threaded.rows.every((row) => !row.needs_scoring)).toBe(true)
    expect(threaded.findings.length).toBeGreaterThan(30)

    // The same estate scored again on one thread: every posture column, finding and breakdown is the same.
    await sql`truncate findings, identity_scores`.execute(db)
    await db.updateTable('identities').set({ needs_scoring: true }).where('source_id', '=', sourceId).execute()
    expect(await scorePendingIdentities(db, { now: NOW, batchSize: 1000, threads: 1 })).toEqual({ scored: 30 })
    expect(await postureOf(db, ids)).toEqual(threaded)
    await sql`drop trigger record_score_writer on identity_scores`.execute(db)
  })

  it("fails the pass with the error of the thread that failed, and leaves that thread's identities flagged", async () => {
    const db = database.current.db
    const { ids } = await seedEstate(db, 'failing', 12)
    const ranges = await splitIdRange(db, 2)
    const secondRangeStart = ranges[1]!.afterId
    // A constraint the second range's first batch breaks, raised by the server in that thread.
    await sql
      .raw(
        `create function refuse_score() returns trigger language plpgsql as $$
      begin raise exception 'refused by the test' using errcode = 'P0042', hint = 'a test trigger'; end $$`,
      )
      .execute(db)
    await sql
      .raw(
        `create trigger refuse_score before insert on identity_scores for each row when (new.identity_id > ${secondRangeStart}) execute function refuse_score()`,
      )
      .execute(db)
    const failure = await scorePendingIdentities(db, { now: NOW, batchSize: 2, threads: 2, minIdentitiesPerThread: 1 }).then(
      () => null,
      (error: unknown) => error as Error & { code?: string; hint?: string },
    )
    await sql`drop trigger refuse_score on identity_scores`.execute(db)
    expect(failure?.message).toBe('refused by the test')
    expect(failure?.code).toBe('P0042')
    expect(failure?.hint).toBe('a test trigger')
    expect(failure?.stack).toContain('(in a scoring thread)')
    const stillFlagged = await db.selectFrom('identities').select('id').where('needs_scoring', '=', true).where('id', 'in', ids).execute()
    expect(stillFlagged.map((row) => row.id)).toEqual(expect.arrayContaining(ids.filter((id) => id > secondRangeStart)))
    // Nothing is lost: the next pass scores what the failed one left.
    await scorePendingIdentities(db, { now: NOW, batchSize: 2, threads: 2, minIdentitiesPerThread: 1 })
    const scored = await db.selectFrom('identity_scores').select('identity_id').where('identity_id', 'in', ids).execute()
    expect(scored).toHaveLength(ids.length)
  })

  it('stops every thread when the pass is cancelled', async () => {
    const db = database.current.db
    const { ids } = await seedEstate(db, 'cancelled', 40)
    const controller = new AbortController()
    const cancelled = scorePendingIdentities(db, {
      now: NOW,
      batchSize: 1,
      threads: 2,
      minIdentitiesPerThread: 1,
      signal: controller.signal,
      onProgress: (scored) => {
        if (scored >= 2) controller.abort(new Error('cancelled by the test'))
      },
    })
    await expect(cancelled).rejects.toThrow('cancelled by the test')
    const scored = await db.selectFrom('identity_scores').select('identity_id').where('identity_id', 'in', ids).execute()
    expect(scored.length).toBeLessThan(ids.length)
    // Every thread has stopped: nothing more is written after the pass returned.
    await new Promise((resolve) => setTimeout(resolve, 300))
    const later = await db.selectFrom('identity_scores').select('identity_id').where('identity_id', 'in', ids).execute()
    expect(later).toHaveLength(scored.length)
    // What the cancelled pass left is still flagged, and the next pass scores it.
    expect(await scorePendingIdentities(db, { now: NOW, threads: 1 })).toEqual({ scored: ids.length - scored.length })
  })

  it('uses one thread for a pass too small to share', async () => {
    const db = database.current.db
    const { ids } = await seedEstate(db, 'small', 6)
    const writers = await recordScoreWriters(db)
    expect(await scorePendingIdentities(db, { now: NOW, threads: 4, minIdentitiesPerThread: 4 })).toEqual({ scored: ids.length })
    const written = await writers()
    expect([...written.values()].reduce((sum, n) => sum + n, 0)).toBe(ids.length)
    expect([...written.keys()].some((name) => name.endsWith('-scoring-thread'))).toBe(false)
  })
})

describe('splitting the id space', () => {
  it('covers every identity exactly once, the last range without an upper bound', async () => {
    const db = database.current.db
    const ranges = await splitIdRange(db, 3)
    expect(ranges).toHaveLength(3)
    expect(ranges[0]!.afterId).toBe(0)
    for (let index = 1; index < ranges.length; index += 1) expect(ranges[index]!.afterId).toBe(ranges[index - 1]!.throughId)
    expect(ranges.at(-1)!.throughId).toBeUndefined()
    const all = (await db.selectFrom('identities').select('id').execute()).map((row) => row.id)
    const inRange = (id: number) =>
      ranges.filter((range) => id > range.afterId && (range.throughId === undefined || id <= range.throughId)).length
    expect(all.map(inRange).every((count) => count === 1)).toBe(true)
  })
})

describe('LEASH_SCORING_THREADS', () => {
  it('accepts a whole number from 1 to 16, defaults to the cores (at most 4), and names a bad value', () => {
    expect(configuredThreads('3')).toBe(3)
    expect(configuredThreads(' 1 ')).toBe(1)
    expect(configuredThreads('')).toBeGreaterThanOrEqual(1)
    expect(configuredThreads('')).toBeLessThanOrEqual(4)
    for (const bad of ['0', '17', '2.5', 'two', '-1'])
      expect(() => configuredThreads(bad)).toThrow(`LEASH_SCORING_THREADS is "${bad}", not a whole number of threads from 1 to 16.`)
  })
})

describe('an error crossing from a thread', () => {
  it('keeps a LeashError with its remedy, and a server error with its code and hint', () => {
    // A message between threads is a structured clone: only plain data crosses.
    const cross = (error: unknown) => reviveError(structuredClone(serializeError(error)))
    const leash = cross(new LeashError('The departed owners setting is not a list.', 'Save it again on the Scoring page.'))
    expect(leash).toBeInstanceOf(LeashError)
    expect(describeError(leash)).toBe('The departed owners setting is not a list.\n  → Save it again on the Scoring page.')
    const server = cross(
      Object.assign(new Error('deadlock detected'), { code: '40P01', hint: 'See server log for query details.', severity: 'ERROR' }),
    )
    expect(server).toMatchObject({
      message: 'deadlock detected',
      code: '40P01',
      hint: 'See server log for query details.',
      severity: 'ERROR',
    })
    expect(server.stack).toContain('(in a scoring thread)')
    expect(cross('not an Error').message).toBe('not an Error')
  })
})
