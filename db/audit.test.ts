import { sql } from 'kysely'
import { beforeEach, describe, expect, it } from 'vitest'
import { useTestDatabase } from '../test/db.js'
import { appendAuditEvent, canonicalJson, GENESIS_HASH, hashAuditEvent, REDACTED, verifyAuditChain } from './audit.js'

const database = useTestDatabase({ max: 12 })

const actor = { type: 'user' as const, id: 'u-1', display: 'alice' }

/** Tampering needs the append-only trigger off, which only a superuser or the table owner can do. */
async function asSuperuser(run: () => Promise<unknown>) {
  const db = database.current.db
  await sql`alter table audit_events disable trigger user`.execute(db)
  try {
    await run()
  } finally {
    await sql`alter table audit_events enable trigger user`.execute(db)
  }
}

async function freshChain(count: number): Promise<number[]> {
  await asSuperuser(() => sql`delete from audit_events`.execute(database.current.db))
  const seqs: number[] = []
  for (let i = 0; i < count; i++) {
    const { seq } = await appendAuditEvent(database.current.db, { actor, action: 'test.event', object: { type: 'thing', id: String(i) }, after: { n: i, nested: { b: 1, a: [1, 'x'] } }, reason: `step ${i}` })
    seqs.push(seq)
  }
  return seqs
}

describe('audit chain', () => {
  beforeEach(async () => {
    await asSuperuser(() => sql`delete from audit_events`.execute(database.current.db))
  })

  it('links each event to the previous one and verifies', async () => {
    const first = await appendAuditEvent(database.current.db, { actor, action: 'auth.sign_in.succeeded', ip: '10.0.0.1' })
    const second = await appendAuditEvent(database.current.db, { actor, action: 'claim.created', object: { type: 'identity', id: '42' }, before: null, after: { status: 'pending' }, reason: 'mine' })
    const rows = await database.current.db.selectFrom('audit_events').selectAll().orderBy('seq').execute()
    expect(rows).toHaveLength(2)
    expect(rows[0]!.prev_hash).toBe(GENESIS_HASH)
    expect(rows[0]!.hash).toBe(first.hash)
    expect(rows[1]!.prev_hash).toBe(first.hash)
    expect(rows[1]!.hash).toBe(second.hash)
    expect(second.seq).toBeGreaterThan(first.seq)
    expect(await verifyAuditChain(database.current.db)).toMatchObject({ ok: true, events: 2, headSeq: second.seq, headHash: second.hash })
  })

  it('hashes a documented canonical form (keys sorted, ISO time, seq and prev_hash included)', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: null }], c: 'é' } })).toBe('{"a":{"c":"é","d":[2,{"y":null,"z":1}]},"b":1}')
    const base = { seq: 7, occurred_at: new Date('2026-11-21T10:00:00.123Z'), actor_type: 'user', actor_id: 'u', actor_display: 'alice', action: 'x.y', object_type: null, object_id: null, before: null, after: { k: 1 }, reason: null, ip: null, prev_hash: GENESIS_HASH }
    const hash = hashAuditEvent(base)
    expect(hash).toMatch(/^[0-9a-f]{64}$/)
    expect(hashAuditEvent({ ...base, seq: 8 })).not.toBe(hash)
    expect(hashAuditEvent({ ...base, after: { k: 2 } })).not.toBe(hash)
    expect(hashAuditEvent({ ...base, prev_hash: 'f'.repeat(64) })).not.toBe(hash)
  })

  it('stays linear when many transactions append at once', async () => {
    await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        database.current.db.transaction().execute(async (trx) => {
          await appendAuditEvent(trx, { actor, action: 'test.concurrent', after: { i } })
        }),
      ),
    )
    const result = await verifyAuditChain(database.current.db)
    expect(result).toMatchObject({ ok: true, events: 24 })
  })

  it('never records a secret or session token', async () => {
    const token = 'leash_AbCdEf12_' + 'x'.repeat(43)
    await appendAuditEvent(database.current.db, {
      actor,
      action: 'test.secrets',
      before: { password: 'hunter2-hunter2', nested: { session_token: 'sess-abc', clientSecret: 'cs-123', api_key: 'ak-1' } },
      after: { note: `created ${token}`, header: 'Bearer abc.def.ghi', list: [{ Authorization: 'Basic Zm9v' }, { 'Set-Cookie': '__Host-leash_session=zzz' }], keep: 'visible' },
      reason: `rotated ${token}`,
    })
    const row = await database.current.db.selectFrom('audit_events').selectAll().executeTakeFirstOrThrow()
    const stored = JSON.stringify(row)
    for (const secret of ['hunter2', 'sess-abc', 'cs-123', 'ak-1', token, 'abc.def.ghi', 'Zm9v', 'zzz']) expect(stored).not.toContain(secret)
    expect(stored).toContain(REDACTED)
    expect(stored).toContain('visible')
    expect(await verifyAuditChain(database.current.db)).toMatchObject({ ok: true })
  })

  it('cannot be updated, deleted or truncated by the application (enforced in PostgreSQL)', async () => {
    await appendAuditEvent(database.current.db, { actor, action: 'test.event' })
    await expect(sql`update audit_events set reason = 'changed'`.execute(database.current.db)).rejects.toThrow(/append-only/)
    await expect(sql`delete from audit_events`.execute(database.current.db)).rejects.toThrow(/append-only/)
    await expect(sql`truncate audit_events`.execute(database.current.db)).rejects.toThrow(/append-only/)
    expect(await database.current.db.selectFrom('audit_events').select('seq').execute()).toHaveLength(1)
  })

  it('rolls the action back when the audit write fails', async () => {
    await expect(
      database.current.db.transaction().execute(async (trx) => {
        await trx.insertInto('settings').values({ key: 'test.rollback', value: '1' }).execute()
        await appendAuditEvent(trx, { actor, action: 'not a valid action!' })
      }),
    ).rejects.toThrow(/dotted identifier/)
    expect(await database.current.db.selectFrom('settings').select('key').where('key', '=', 'test.rollback').executeTakeFirst()).toBeUndefined()
  })
})

describe('tamper detection', () => {
  it('catches an edited event and names it', async () => {
    const seqs = await freshChain(5)
    await asSuperuser(() => sql`update audit_events set reason = 'nothing to see' where seq = ${seqs[2]}`.execute(database.current.db))
    expect(await verifyAuditChain(database.current.db)).toMatchObject({ ok: false, brokenAtSeq: seqs[2], reason: expect.stringMatching(/edited/) })
  })

  it('catches an edit inside the before/after JSON', async () => {
    const seqs = await freshChain(4)
    await asSuperuser(() => sql`update audit_events set after = jsonb_set(after, '{nested,b}', '2') where seq = ${seqs[1]}`.execute(database.current.db))
    expect(await verifyAuditChain(database.current.db)).toMatchObject({ ok: false, brokenAtSeq: seqs[1] })
  })

  it('catches an edit that also recomputes the edited event hash (the next link breaks)', async () => {
    const seqs = await freshChain(4)
    const row = await database.current.db.selectFrom('audit_events').selectAll().where('seq', '=', seqs[1]!).executeTakeFirstOrThrow()
    const forgedHash = hashAuditEvent({ ...row, occurred_at: new Date(row.occurred_at), actor_display: 'mallory' })
    await asSuperuser(() => sql`update audit_events set actor_display = 'mallory', hash = ${forgedHash} where seq = ${seqs[1]}`.execute(database.current.db))
    expect(await verifyAuditChain(database.current.db)).toMatchObject({ ok: false, brokenAtSeq: seqs[2], reason: expect.stringMatching(/previous hash/) })
  })

  it('catches a deleted event and names the event after the gap', async () => {
    const seqs = await freshChain(5)
    await asSuperuser(() => sql`delete from audit_events where seq = ${seqs[2]}`.execute(database.current.db))
    expect(await verifyAuditChain(database.current.db)).toMatchObject({ ok: false, brokenAtSeq: seqs[3], reason: expect.stringMatching(/deleted/) })
  })

  it('catches deletion of the first event', async () => {
    const seqs = await freshChain(3)
    await asSuperuser(() => sql`delete from audit_events where seq = ${seqs[0]}`.execute(database.current.db))
    expect(await verifyAuditChain(database.current.db)).toMatchObject({ ok: false, brokenAtSeq: seqs[1] })
  })

  it('catches reordered events', async () => {
    const seqs = await freshChain(5)
    // Swap events 2 and 3: each seq position now holds the other event, hashes and links included
    // (seq is an identity column, so the rows' contents move rather than their seq values).
    await asSuperuser(() =>
      sql`update audit_events a set occurred_at = b.occurred_at, actor_type = b.actor_type, actor_id = b.actor_id, actor_display = b.actor_display,
            action = b.action, object_type = b.object_type, object_id = b.object_id, before = b.before, after = b.after, reason = b.reason, ip = b.ip,
            prev_hash = b.prev_hash, hash = b.hash || '-swap'
          from audit_events b where (a.seq, b.seq) in ((${seqs[1]}, ${seqs[2]}), (${seqs[2]}, ${seqs[1]}))`.execute(database.current.db),
    )
    await asSuperuser(() => sql`update audit_events set hash = replace(hash, '-swap', '')`.execute(database.current.db))
    const result = await verifyAuditChain(database.current.db)
    expect(result).toMatchObject({ ok: false, brokenAtSeq: seqs[1] })
  })

  it('catches deletion of the newest events when the head was recorded', async () => {
    const seqs = await freshChain(4)
    const head = await verifyAuditChain(database.current.db)
    if (!head.ok || head.headSeq === null) throw new Error('expected an intact chain')
    await asSuperuser(() => sql`delete from audit_events where seq = ${seqs[3]}`.execute(database.current.db))
    // Without a recorded head, a truncated tail still forms a valid chain: that is why exports record the head.
    expect(await verifyAuditChain(database.current.db)).toMatchObject({ ok: true, events: 3 })
    expect(await verifyAuditChain(database.current.db, { expectHead: { seq: head.headSeq, hash: head.headHash } })).toMatchObject({ ok: false, brokenAtSeq: seqs[3], reason: expect.stringMatching(/missing/) })
  })

  it('verifies across page boundaries', async () => {
    await freshChain(7)
    expect(await verifyAuditChain(database.current.db, { pageSize: 3 })).toMatchObject({ ok: true, events: 7 })
  })
})
