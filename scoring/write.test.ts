import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { json, poolOf } from '../db/connection.js'
import { useTestDatabase } from '../test/db.js'
import { writeBatch, type BatchPlan, type FindingRow } from './write.js'

const database = useTestDatabase()
const NOW = new Date('2026-06-01T00:00:00Z')

async function seedIdentity(name: string): Promise<{ id: number; xmin: string }> {
  const db = database.current.db
  const source = await db.insertInto('sources').values({ provider: 'aws', name }).returning('id').executeTakeFirstOrThrow()
  const row = await db
    .insertInto('identities')
    .values({ source_id: source.id, provider: 'aws', kind: 'role', external_id: `arn:${name}`, display_name: name, account_id: '1' })
    .returning(['id'])
    .executeTakeFirstOrThrow()
  const version = await sql<{ xmin: string }>`select xmin::text as xmin from identity_posture where identity_id = ${row.id}`.execute(db)
  return { id: row.id, xmin: version.rows[0]!.xmin }
}

function planFor(identity: { id: number; xmin: string }, finding: FindingRow, risk: number): BatchPlan {
  return {
    newFindings: [finding],
    seenFindings: [],
    resolved: [],
    scores: [{ identityId: identity.id, risk, breakdown: { risk, findings: [{ rule: finding.ruleId, points: risk }] } }],
    rescoredIds: [],
    touchedScoreIds: [],
    identities: [
      {
        id: identity.id,
        xmin: identity.xmin,
        classifiedIsAgent: false,
        agentConfidence: 0,
        agentPlatform: null,
        ownerRef: null,
        ownerKind: null,
        ownerSource: null,
        ownerStatus: 'none',
        risk,
        ownership: risk,
        privilege: 0,
        credentialAge: 0,
        monitoring: 0,
        maxAccessLevel: null,
        credentialCount: 0,
        oldestCredentialAt: null,
      },
    ],
    changes: [],
  }
}

const finding = (identityId: number, overrides: Partial<FindingRow> = {}): FindingRow => ({
  identityId,
  credentialId: null,
  subjectKey: '',
  ruleId: 'ownership_identity_no_owner',
  dimension: 'ownership',
  severity: 'high',
  nhi: 'NHI1',
  status: 'open',
  evidence: { owners: 0, note: 'tab\there, backslash \\ and newline\n' },
  ...overrides,
})

describe('writing a scoring batch', () => {
  it('COPYs new findings and scores, and updates the identity under its row version', async () => {
    const db = database.current.db
    const identity = await seedIdentity('copy-path')
    await writeBatch(poolOf(db)!, planFor(identity, finding(identity.id), 40), NOW)
    const stored = await db.selectFrom('findings').selectAll().where('identity_id', '=', identity.id).execute()
    expect(stored).toHaveLength(1)
    expect(stored[0]).toMatchObject({ rule_id: 'ownership_identity_no_owner', status: 'open', first_seen_at: NOW, last_seen_at: NOW })
    expect(stored[0]!.evidence).toEqual({ owners: 0, note: 'tab\there, backslash \\ and newline\n' })
    const score = await db.selectFrom('identity_scores').selectAll().where('identity_id', '=', identity.id).executeTakeFirstOrThrow()
    expect(score).toMatchObject({ risk_score: 40, breakdown: { risk: 40 } })
    expect(
      await db
        .selectFrom('identities')
        .select(['risk_score', 'needs_scoring', 'owner_status'])
        .where('id', '=', identity.id)
        .executeTakeFirst(),
    ).toEqual({
      risk_score: 40,
      needs_scoring: false,
      owner_status: 'none',
    })
  })

  it('leaves an identity flagged that was flagged again after the batch read it, and clears one only stamped as seen', async () => {
    const db = database.current.db
    // Both were flagged when the pass read them (seedIdentity leaves them flagged).
    const changed = await seedIdentity('changed-meanwhile')
    const stamped = await seedIdentity('stamped-meanwhile')
    // Ingest merged a change into one (flagging it again) and only stamped the other as seen.
    await sql`update identity_posture set needs_scoring = true where identity_id = ${changed.id}`.execute(db)
    await sql`update identity_records set last_seen_at = now() where id = ${stamped.id}`.execute(db)
    const plan = planFor(changed, finding(changed.id), 40)
    const other = planFor(stamped, finding(stamped.id), 30)
    plan.newFindings.push(...other.newFindings)
    plan.scores.push(...other.scores)
    plan.identities.push(...other.identities)
    await writeBatch(poolOf(db)!, plan, NOW)
    const rows = await db.selectFrom('identities').select(['id', 'needs_scoring', 'risk_score']).where('id', 'in', [changed.id, stamped.id]).orderBy('id').execute()
    expect(rows).toEqual([
      { id: changed.id, needs_scoring: true, risk_score: 40 },
      { id: stamped.id, needs_scoring: false, risk_score: 30 },
    ])
  })

  it('falls back to upserts when another scorer wrote the same finding and score first', async () => {
    const db = database.current.db
    const identity = await seedIdentity('raced')
    // Another scorer (a claim rescoring this identity) got there between our read and our write.
    await db
      .insertInto('findings')
      .values({
        identity_id: identity.id,
        rule_id: 'ownership_identity_no_owner',
        subject_key: '',
        dimension: 'ownership',
        severity: 'low',
        status: 'open',
        evidence: json({ by: 'other' }),
      })
      .execute()
    await db
      .insertInto('identity_scores')
      .values({ identity_id: identity.id, risk_score: 5, breakdown: json({ risk: 5 }) })
      .execute()

    await writeBatch(poolOf(db)!, planFor(identity, finding(identity.id), 40), NOW)
    const stored = await db.selectFrom('findings').selectAll().where('identity_id', '=', identity.id).execute()
    expect(stored).toHaveLength(1)
    expect(stored[0]).toMatchObject({ severity: 'high', evidence: { owners: 0 }, last_seen_at: NOW })
    expect(await db.selectFrom('identity_scores').select('risk_score').where('identity_id', '=', identity.id).executeTakeFirst()).toEqual({
      risk_score: 40,
    })
  })

  it('writes nothing of a batch that fails, and the identity stays flagged', async () => {
    const db = database.current.db
    const identity = await seedIdentity('broken')
    const bad = planFor(identity, finding(identity.id, { dimension: 'not-a-dimension' }), 40)
    await expect(writeBatch(poolOf(db)!, bad, NOW)).rejects.toThrow(/findings_dimension_check/)
    expect(await db.selectFrom('findings').select('id').where('identity_id', '=', identity.id).execute()).toEqual([])
    expect(await db.selectFrom('identity_scores').select('identity_id').where('identity_id', '=', identity.id).execute()).toEqual([])
    expect(
      await db.selectFrom('identities').select(['needs_scoring', 'risk_score']).where('id', '=', identity.id).executeTakeFirst(),
    ).toEqual({ needs_scoring: true, risk_score: 0 })
    // The pool still works after the failed COPY.
    await writeBatch(poolOf(db)!, planFor(identity, finding(identity.id), 40), NOW)
    expect(await db.selectFrom('identities').select('needs_scoring').where('id', '=', identity.id).executeTakeFirst()).toEqual({
      needs_scoring: false,
    })
  })

  it('deleting an identity, or its source, deletes its findings and score breakdown', async () => {
    const db = database.current.db
    const kept = await seedIdentity('kept')
    const deleted = await seedIdentity('deleted-directly')
    const viaSource = await seedIdentity('deleted-with-source')
    for (const identity of [kept, deleted, viaSource]) await writeBatch(poolOf(db)!, planFor(identity, finding(identity.id), 40), NOW)

    await db.deleteFrom('identities').where('id', '=', deleted.id).execute()
    await db.deleteFrom('sources').where('name', '=', 'deleted-with-source').execute()

    const ids = [kept.id, deleted.id, viaSource.id]
    expect(await db.selectFrom('findings').select('identity_id').where('identity_id', 'in', ids).execute()).toEqual([
      { identity_id: kept.id },
    ])
    expect(await db.selectFrom('identity_scores').select('identity_id').where('identity_id', 'in', ids).execute()).toEqual([
      { identity_id: kept.id },
    ])
  })

  it('updates a changed finding by id and moves an unchanged score on, without the identity row', async () => {
    const db = database.current.db
    const present = await seedIdentity('quiet-present')
    const gone = await seedIdentity('quiet-gone')
    for (const identity of [present, gone]) await writeBatch(poolOf(db)!, planFor(identity, finding(identity.id, { evidence: { ageDays: 1 } }), 40), NOW)
    const stored = await db.selectFrom('findings').select(['id', 'identity_id']).where('identity_id', 'in', [present.id, gone.id]).execute()
    const idOf = (identityId: number) => stored.find((f) => f.identity_id === identityId)!.id
    await db.deleteFrom('identities').where('id', '=', gone.id).execute()

    // What a re-evaluation a day later writes for identities whose score did not change.
    const later = new Date(NOW.getTime() + 86_400_000)
    const quiet: BatchPlan = {
      ...planFor(present, finding(present.id), 40),
      newFindings: [],
      seenFindings: [present, gone].map((identity) => ({ ...finding(identity.id, { evidence: { ageDays: 2 } }), id: idOf(identity.id) })),
      scores: [],
      touchedScoreIds: [present.id, gone.id],
      identities: [],
    }
    const before = await sql<{ xmin: string }>`select xmin::text as xmin from identity_posture where identity_id = ${present.id}`.execute(db)
    await writeBatch(poolOf(db)!, quiet, later)

    expect(await db.selectFrom('findings').select(['id', 'evidence', 'last_seen_at', 'first_seen_at']).where('identity_id', 'in', [present.id, gone.id]).execute()).toEqual([
      { id: idOf(present.id), evidence: { ageDays: 2 }, last_seen_at: later, first_seen_at: NOW },
    ])
    expect(await db.selectFrom('identity_scores').select(['identity_id', 'computed_at', 'risk_score']).where('identity_id', 'in', [present.id, gone.id]).execute()).toEqual([
      { identity_id: present.id, computed_at: later, risk_score: 40 },
    ])
    const after = await sql<{ xmin: string }>`select xmin::text as xmin from identity_posture where identity_id = ${present.id}`.execute(db)
    expect(after.rows).toEqual(before.rows)
  })

  it('leaves no rows behind for an identity deleted between the read and the write', async () => {
    const db = database.current.db
    const gone = await seedIdentity('gone-before-write')
    const present = await seedIdentity('present')
    await db.deleteFrom('identities').where('id', '=', gone.id).execute()

    const plan = planFor(gone, finding(gone.id), 40)
    const other = planFor(present, finding(present.id), 30)
    plan.newFindings.push(...other.newFindings)
    plan.scores.push(...other.scores)
    plan.identities.push(...other.identities)
    plan.changes.push({
      identityId: gone.id,
      sourceId: (await db.selectFrom('sources').select('id').where('name', '=', 'gone-before-write').executeTakeFirstOrThrow()).id,
      details: {},
    })
    await writeBatch(poolOf(db)!, plan, NOW)

    const ids = [gone.id, present.id]
    expect(await db.selectFrom('findings').select('identity_id').where('identity_id', 'in', ids).execute()).toEqual([
      { identity_id: present.id },
    ])
    expect(await db.selectFrom('identity_scores').select('identity_id').where('identity_id', 'in', ids).execute()).toEqual([
      { identity_id: present.id },
    ])
    expect(await db.selectFrom('identity_changes').select('identity_id').where('identity_id', '=', gone.id).execute()).toEqual([])
  })
})
