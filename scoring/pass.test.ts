import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { json, poolOf } from '../db/connection.js'
import type { Database } from '../db/schema.js'
import { useTestDatabase } from '../test/db.js'
import type { Kysely } from 'kysely'
import { acceptFinding, revokeAcceptance, setAgentOverride } from './decisions.js'
import { planAndEncode, planBatch, scoreIdentities, scorePendingIdentities } from './pass.js'
import { readStoredBreakdown } from './breakdown.js'
import { fetchIdentitiesById, loadPassContext } from './load.js'
import { encodeBatch, writeBatch, type EncodedBatch } from './write.js'
import { markRecordedScopeChanges } from './scope-changes.js'
import { pruneSnapshots, takePostureSnapshot } from './snapshots.js'
import { getIdentityDetail } from '../db/queries/identity-detail.js'
import { storeIdentity, storeSource } from './testing-db.js'

const database = useTestDatabase()
const NOW = new Date('2026-06-01T00:00:00Z')
const daysAgo = (days: number, now = NOW) => new Date(now.getTime() - days * 86_400_000)

const findings = (db: Kysely<Database>, identityId: number) =>
  db.selectFrom('findings').selectAll().where('identity_id', '=', identityId).orderBy('rule_id').orderBy('subject_key').execute()
const row = (db: Kysely<Database>, identityId: number) =>
  db.selectFrom('identities').selectAll().where('id', '=', identityId).executeTakeFirstOrThrow()

describe('scoring pass on PostgreSQL', () => {
  it('opens findings, then resolves them when a rescan shows the fix', async () => {
    const db = database.current.db
    const sourceId = await storeSource(db, 'lifecycle')
    const id = await storeIdentity(db, sourceId, { name: 'old-key', keyAgeDays: 200, admin: true })

    expect(await scorePendingIdentities(db, { now: NOW })).toEqual({ scored: 1 })
    const scored = await row(db, id)
    expect(scored).toMatchObject({
      needs_scoring: false,
      owner_ref: 'alice@example.com',
      owner_source: 'tag',
      owner_status: 'valid',
      max_access_level: 'admin',
      credential_count: 1,
    })
    expect(scored.risk_score).toBeGreaterThan(80)
    expect(scored.score_privilege).toBe(80)
    expect(scored.oldest_credential_at?.toISOString()).toBe(daysAgo(200).toISOString())
    const open = await findings(db, id)
    const tooOld = open.find((f) => f.rule_id === 'credential_age_secret_too_old')!
    expect(tooOld).toMatchObject({
      status: 'open',
      subject_key: 'AKIAOLD-KEY',
      dimension: 'credential_age',
      severity: 'medium',
      nhi: 'NHI7',
    })
    expect(tooOld.credential_id).not.toBeNull()
    expect(tooOld.evidence).toMatchObject({ createdAt: daysAgo(200).toISOString(), limitDays: 90, limitSource: 'default', overLimitSince: daysAgo(109).toISOString() })
    expect(open.map((f) => f.rule_id)).toContain('privilege_identity_full_admin')
    const breakdown = await db.selectFrom('identity_scores').selectAll().where('identity_id', '=', id).executeTakeFirstOrThrow()
    expect(breakdown.risk_score).toBe(scored.risk_score)
    const points = readStoredBreakdown(breakdown.breakdown)!.findings.reduce((sum, f) => sum + f.points, 0)
    expect(points).toBe(scored.risk_score)

    // Nothing changed: a second pass has nothing to do.
    expect(await scorePendingIdentities(db, { now: NOW })).toEqual({ scored: 0 })

    // The owner rotates the key and drops admin; the next scan stores that and flags the identity.
    await db
      .updateTable('credentials')
      .set({ last_rotated_at: daysAgo(2) })
      .where('identity_id', '=', id)
      .execute()
    await db
      .updateTable('entitlements')
      .set({ action: 's3:GetObject', resource: 'arn:aws:s3:::reports/*', access_level: 'read' })
      .where('identity_id', '=', id)
      .execute()
    await db.updateTable('identities').set({ needs_scoring: true }).where('id', '=', id).execute()
    const later = new Date(NOW.getTime() + 3_600_000)
    await scorePendingIdentities(db, { now: later })
    const after = await findings(db, id)
    expect(after.find((f) => f.rule_id === 'credential_age_secret_too_old')).toMatchObject({ status: 'resolved', resolved_at: later })
    expect(after.find((f) => f.rule_id === 'privilege_identity_full_admin')).toMatchObject({ status: 'resolved' })
    const fixed = await row(db, id)
    expect(fixed.risk_score).toBeLessThan(scored.risk_score)
    expect(fixed.max_access_level).toBe('read')

    // The problem comes back: the same finding reopens, with a new first-seen date.
    await db.updateTable('credentials').set({ last_rotated_at: null }).where('identity_id', '=', id).execute()
    await db.updateTable('identities').set({ needs_scoring: true }).where('id', '=', id).execute()
    const again = new Date(NOW.getTime() + 7_200_000)
    await scorePendingIdentities(db, { now: again })
    const reopened = (await findings(db, id)).find((f) => f.rule_id === 'credential_age_secret_too_old')!
    expect(reopened).toMatchObject({ id: tooOld.id, status: 'open', resolved_at: null, first_seen_at: again })
  })

  it('gives the identity page the breakdown it wrote: each point traced to a finding, what was left out and why, every signal weighed', async () => {
    const db = database.current.db
    const sourceId = await storeSource(db, 'explained')
    const id = await storeIdentity(db, sourceId, {
      name: 'support-agent',
      keyAgeDays: 200,
      admin: true,
      signals: [{ id: 'aws.trust.bedrock', platform: 'bedrock', weight: 0.85, reason: 'Trusted by bedrock.amazonaws.com', evidence: {} }],
      unreadable: [{ field: 'usage', operation: 'iam:GenerateServiceLastAccessedDetails', permission: 'iam:GenerateServiceLastAccessedDetails' }],
    })
    await scorePendingIdentities(db, { now: NOW })
    const tooOld = (await findings(db, id)).find((f) => f.rule_id === 'credential_age_secret_too_old')!
    await acceptFinding(db, { identityId: id, findingId: tooOld.id }, { until: daysAgo(-30), reason: 'Rotation is booked for next sprint', by: 'lead' }, { now: NOW })

    const detail = (await getIdentityDetail(db, id))!
    const breakdown = detail.score?.breakdown
    expect(breakdown).not.toBeNull()
    const keyOf = (rule: string, subject: string) => `${rule}/${subject}`
    const withStatus = (status: string) =>
      detail.findings
        .filter((f) => f.status === status)
        .map((f) => keyOf(f.rule_id, f.subject_key))
        .sort()
    // Every point of the risk belongs to an open finding, and every open finding is listed.
    expect(breakdown!.risk).toBe(detail.identity.risk_score)
    expect(breakdown!.findings.reduce((sum, f) => sum + f.points, 0)).toBe(detail.identity.risk_score)
    expect(breakdown!.findings.map((f) => keyOf(f.rule, f.subject)).sort()).toEqual(withStatus('open'))
    expect(breakdown!.findings.find((f) => f.rule === 'privilege_identity_full_admin')!.points).toBeGreaterThan(0)
    // What was left out: the accepted key and what could not be read, each with its reason.
    expect(withStatus('unknown').length).toBeGreaterThan(0)
    expect(breakdown!.excluded.filter((f) => f.reason === 'unknown').map((f) => keyOf(f.rule, f.subject)).sort()).toEqual(withStatus('unknown'))
    expect(breakdown!.excluded).toContainEqual({ rule: 'credential_age_secret_too_old', subject: 'AKIASUPPORT-AGENT', reason: 'accepted' })
    expect(breakdown!.exposure).toEqual({ maxAccessLevel: 'admin', isAgent: true, exponent: 2.4 })
    // The classifier's signals: the connector's with its reason text, Leash's own from the name.
    expect(detail.agentSignals).toContainEqual({
      signal: 'aws.trust.bedrock',
      detail: 'Trusted by bedrock.amazonaws.com',
      weight: 0.85,
      counted: true,
      source: 'connector',
    })
    expect(detail.agentSignals).toContainEqual(expect.objectContaining({ signal: 'leash.name.ai_term', source: 'leash', detail: expect.any(String) }))
  })

  it('encodes row by row exactly what a collected plan encodes, first pass and later ones', async () => {
    const db = database.current.db
    const sourceId = await storeSource(db, 'streamed')
    const ids: number[] = []
    for (let n = 0; n < 12; n++) {
      ids.push(await storeIdentity(db, sourceId, { name: `streamed-${n}`, keyAgeDays: 20 + n * 30, admin: n % 4 === 0, owner: n % 3 ? undefined : null }))
    }
    const context = await loadPassContext(db)
    const rows = (buffer: EncodedBatch['newFindings']) => ({ rows: buffer.length, bytes: Buffer.concat(buffer.chunks()).toString('hex') })
    const text = (batch: EncodedBatch) => ({
      ...batch,
      newFindings: rows(batch.newFindings),
      seenFindings: rows(batch.seenFindings),
      scores: rows(batch.scores),
      identities: rows(batch.identities),
    })
    const compare = async (now: Date) => {
      const loaded = () => fetchIdentitiesById(db, ids)
      const streamed = text(planAndEncode(await loaded(), context, now))
      expect(streamed).toEqual(text(encodeBatch(planBatch(await loaded(), context, now), now, context.settingsReadAt)))
      return streamed
    }
    const first = await compare(NOW)
    expect(first.newFindings.rows).toBeGreaterThan(12)
    await scorePendingIdentities(db, { now: NOW })
    // Two months on: keys pass their limits, so findings are both new and seen again.
    await db.updateTable('identities').set({ needs_scoring: true }).where('id', 'in', ids.slice(0, 6)).execute()
    await db.updateTable('credentials').set({ last_used_at: daysAgo(80) }).where('identity_id', 'in', ids.slice(6)).execute()
    const later = await compare(daysAgo(-60))
    expect(later.newFindings.rows).toBeGreaterThan(0)
    expect(later.rescoredIds.length + later.touchedScoreIds.length).toBe(12)
    // Leave nothing flagged for the tests after this one.
    await scorePendingIdentities(db, { now: daysAgo(-60) })
  })

  it('writes small batches two at a time with the same result as one batch', async () => {
    const db = database.current.db
    const sourceId = await storeSource(db, 'batches')
    const ids: number[] = []
    for (let n = 0; n < 23; n += 1) {
      ids.push(
        await storeIdentity(db, sourceId, {
          name: `batch-${n}`,
          keyAgeDays: 30 + n * 10,
          admin: n % 5 === 0,
          owner: n % 3 === 0 ? null : undefined,
        }),
      )
    }
    // 23 identities in batches of 3: eight batches, written by two writers at once.
    let lastProgress = 0
    expect(await scorePendingIdentities(db, { now: NOW, batchSize: 3, onProgress: (scored) => (lastProgress = scored) })).toEqual({
      scored: 23,
    })
    expect(lastProgress).toBe(23)
    const snapshot = async () => {
      const rows = await db
        .selectFrom('identities')
        .select(['id', 'risk_score', 'owner_status', 'needs_scoring'])
        .where('source_id', '=', sourceId)
        .orderBy('id')
        .execute()
      const stored = await db
        .selectFrom('findings')
        .select(['id', 'identity_id', 'rule_id', 'subject_key', 'status'])
        .where('identity_id', 'in', ids)
        .orderBy('id')
        .execute()
      const scores = await db
        .selectFrom('identity_scores')
        .select(['identity_id', 'risk_score'])
        .where('identity_id', 'in', ids)
        .orderBy('identity_id')
        .execute()
      return { rows, stored, scores }
    }
    const small = await snapshot()
    expect(small.rows.every((r) => !r.needs_scoring)).toBe(true)
    expect(small.scores.map((s) => s.risk_score)).toEqual(small.rows.map((r) => r.risk_score))
    expect(small.stored.length).toBeGreaterThan(23)

    // The same estate rescored in one batch: every score and finding row is the same.
    await db.updateTable('identities').set({ needs_scoring: true }).where('source_id', '=', sourceId).execute()
    await scorePendingIdentities(db, { now: NOW, batchSize: 1000 })
    expect(await snapshot()).toEqual(small)
  })

  it('keeps an accepted risk out of the score until its date, then reopens it', async () => {
    const db = database.current.db
    const sourceId = await storeSource(db, 'acceptance')
    const id = await storeIdentity(db, sourceId, { name: 'accepted', keyAgeDays: 200 })
    await scorePendingIdentities(db, { now: NOW })
    const before = await row(db, id)
    const finding = (await findings(db, id)).find((f) => f.rule_id === 'credential_age_secret_too_old')!

    await expect(acceptFinding(db, { identityId: id, findingId: finding.id }, { until: daysAgo(1), reason: 'x', by: 'lead' }, { now: NOW })).rejects.toThrow(/future/)
    await expect(acceptFinding(db, { identityId: id, findingId: finding.id }, { until: daysAgo(-10), reason: ' ', by: 'lead' }, { now: NOW })).rejects.toThrow(/reason/)
    await expect(acceptFinding(db, { identityId: id, findingId: finding.id }, { until: daysAgo(-500), reason: 'x', by: 'lead' }, { now: NOW })).rejects.toThrow(/at most/)
    await acceptFinding(db, { identityId: id, findingId: finding.id }, { until: daysAgo(-10), reason: 'Migration to roles planned in Q3', by: 'lead' }, { now: NOW })
    const accepted = await row(db, id)
    expect(accepted.risk_score).toBeLessThan(before.risk_score)
    expect((await findings(db, id)).find((f) => f.id === finding.id)).toMatchObject({ status: 'accepted', accepted_by: 'lead' })

    // A rescan before the date keeps it accepted.
    await db.updateTable('identities').set({ needs_scoring: true }).where('id', '=', id).execute()
    await scorePendingIdentities(db, { now: daysAgo(-5) })
    expect((await findings(db, id)).find((f) => f.id === finding.id)?.status).toBe('accepted')

    // After the date, the next pass reopens it by itself (no rescan needed).
    await scorePendingIdentities(db, { now: daysAgo(-11) })
    expect((await findings(db, id)).find((f) => f.id === finding.id)).toMatchObject({
      status: 'open',
      accepted_reason: 'Migration to roles planned in Q3',
    })
    expect((await row(db, id)).risk_score).toBe(before.risk_score)

    await acceptFinding(db, { identityId: id, findingId: finding.id }, { until: daysAgo(-30), reason: 'again', by: 'lead' }, { now: daysAgo(-11) })
    await revokeAcceptance(db, { identityId: id, findingId: finding.id }, { now: daysAgo(-11) })
    expect((await findings(db, id)).find((f) => f.id === finding.id)?.status).toBe('open')

    // A finding is named with its identity: the same id under another identity names nothing.
    const other = await storeIdentity(db, sourceId, { name: 'other' })
    await expect(
      acceptFinding(db, { identityId: other, findingId: finding.id }, { until: daysAgo(-30), reason: 'x', by: 'lead' }, { now: daysAgo(-11) }),
    ).rejects.toThrow(`Identity ${other} has no finding ${finding.id}.`)
    expect((await findings(db, id)).find((f) => f.id === finding.id)?.status).toBe('open')
  })

  it('records "unknown" with the missing permission instead of a failure', async () => {
    const db = database.current.db
    const sourceId = await storeSource(db, 'unreadable')
    const id = await storeIdentity(db, sourceId, {
      name: 'unreadable',
      keyAgeDays: 200,
      unreadable: [{ field: 'credentials', operation: 'iam:ListAccessKeys', permission: 'iam:ListAccessKeys' }],
    })
    await scorePendingIdentities(db, { now: NOW })
    const rows = await findings(db, id)
    const credentialRules = rows.filter((f) => f.dimension === 'credential_age')
    expect(credentialRules.length).toBeGreaterThan(0)
    for (const finding of credentialRules) {
      expect(finding.status).toBe('unknown')
      expect(finding.evidence).toMatchObject({ missingPermission: 'iam:ListAccessKeys' })
    }
    expect((await row(db, id)).score_credential_age).toBe(0)
  })

  it('lets a person override the classifier, and the decision survives a rescan', async () => {
    const db = database.current.db
    const sourceId = await storeSource(db, 'override')
    const bedrock = { id: 'aws.trust.bedrock', platform: 'bedrock', weight: 0.85, reason: 'Trusted by bedrock.amazonaws.com', evidence: {} }
    const id = await storeIdentity(db, sourceId, { name: 'agent-role', signals: [bedrock], owner: null })
    await scorePendingIdentities(db, { now: NOW })
    expect(await row(db, id)).toMatchObject({ classified_is_agent: true, is_agent: true, agent_platform: 'bedrock' })
    expect((await findings(db, id)).map((f) => f.rule_id)).toContain('ownership_agent_no_sponsor')

    await expect(setAgentOverride(db, id, { decision: 'not_agent', by: 'lead', reason: '' })).rejects.toThrow(/reason/)
    await setAgentOverride(
      db,
      id,
      { decision: 'not_agent', by: 'lead', reason: 'Batch job that summarises logs, not an agent' },
      { now: NOW },
    )
    expect(await row(db, id)).toMatchObject({
      classified_is_agent: true,
      is_agent: false,
      agent_override: 'not_agent',
      agent_override_by: 'lead',
    })
    expect((await findings(db, id)).find((f) => f.rule_id === 'ownership_agent_no_sponsor')?.status).toBe('resolved')

    await db.updateTable('identities').set({ needs_scoring: true }).where('id', '=', id).execute()
    await scorePendingIdentities(db, { now: NOW })
    expect(await row(db, id)).toMatchObject({ is_agent: false, agent_override: 'not_agent' })
    const changes = await db.selectFrom('identity_changes').selectAll().where('identity_id', '=', id).execute()
    expect(changes.map((c) => c.change_type)).toContain('agent_classification_changed')

    await setAgentOverride(db, id, { decision: null, by: 'lead', reason: '' }, { now: NOW })
    expect(await row(db, id)).toMatchObject({ is_agent: true, agent_override: null })
  })

  it('takes ownership from a confirmed claim over tags, and marks departed or disabled owners invalid', async () => {
    const db = database.current.db
    const sourceId = await storeSource(db, 'owners')
    const claimed = await storeIdentity(db, sourceId, { name: 'claimed', owner: 'tagged@example.com' })
    const departed = await storeIdentity(db, sourceId, { name: 'departed', owner: 'leaver@example.com' })
    const disabled = await storeIdentity(db, sourceId, { name: 'disabled-owner', owner: 'dora' })
    const bob = await db
      .insertInto('users')
      .values({ username: 'bob', email: 'bob@example.com', display_name: 'Bob', role: 'owner' })
      .returning('id')
      .executeTakeFirstOrThrow()
    await db
      .insertInto('users')
      .values({ username: 'dora', email: 'dora@example.com', display_name: 'Dora', role: 'owner', disabled_at: daysAgo(3) })
      .execute()
    await db
      .insertInto('claims')
      .values({
        identity_id: claimed,
        kind: 'claim',
        requested_by: bob.id,
        reason: 'My billing job',
        status: 'confirmed',
        decided_at: daysAgo(1),
      })
      .execute()
    await db
      .insertInto('settings')
      .values({ key: 'departed_owners', value: json(['Leaver@example.com']) })
      .execute()

    await scorePendingIdentities(db, { now: NOW })
    expect(await row(db, claimed)).toMatchObject({ owner_ref: 'bob@example.com', owner_source: 'claim', owner_status: 'valid' })
    expect(await row(db, departed)).toMatchObject({ owner_ref: 'leaver@example.com', owner_status: 'invalid' })
    expect(await row(db, disabled)).toMatchObject({ owner_status: 'invalid' })
    const inactive = (await findings(db, departed)).find((f) => f.rule_id === 'ownership_owner_inactive')
    expect(inactive?.evidence).toMatchObject({ owners: [{ ref: 'leaver@example.com', reason: 'listed as having left the organisation' }] })

    // A rescan that rewrites the owner tags does not undo the claim.
    await db.deleteFrom('identity_owners').where('identity_id', '=', claimed).execute()
    await db.updateTable('identities').set({ needs_scoring: true }).where('id', '=', claimed).execute()
    await scorePendingIdentities(db, { now: NOW })
    expect(await row(db, claimed)).toMatchObject({ owner_ref: 'bob@example.com', owner_source: 'claim' })

    await expect(
      db
        .insertInto('settings')
        .values({ key: 'departed_owners', value: json({ not: 'a list' }) })
        .onConflict((c) => c.column('key').doUpdateSet({ value: json({ not: 'a list' }) }))
        .execute(),
    ).resolves.toBeDefined()
    await expect(scoreIdentities(db, [claimed], { now: NOW })).rejects.toThrow(/departed_owners/)
    await db
      .updateTable('settings')
      .set({ value: json([]) })
      .where('key', '=', 'departed_owners')
      .execute()
  })

  it('scores an unchanged identity again once a day, so a key that passes its maximum age gets its finding', async () => {
    const db = database.current.db
    const sourceId = await storeSource(db, 'ageing')
    const id = await storeIdentity(db, sourceId, { name: 'ageing-key', keyAgeDays: 80 })
    const others = await db.selectFrom('identities').select('id').where('id', '<>', id).execute()
    // Only this identity: the others in this file's database are scored now, with this pass's clock.
    if (others.length) await scoreIdentities(db, others.map((o) => o.id), { now: NOW })
    await scorePendingIdentities(db, { now: NOW })
    const tooOld = async () => (await findings(db, id)).find((f) => f.rule_id === 'credential_age_secret_too_old')
    expect(await tooOld()).toBeUndefined()

    // Within the interval nothing is due: the scan changed nothing, so nothing is scored.
    const hourLater = new Date(NOW.getTime() + 3_600_000)
    expect(await scorePendingIdentities(db, { now: hourLater })).toEqual({ scored: 0 })

    // Fifteen days on, with still no change to the identity, the key is 95 days old.
    const later = new Date(NOW.getTime() + 15 * 86_400_000)
    const progress: [number, number][] = []
    const result = await scorePendingIdentities(db, { now: later, onProgress: (done, total) => progress.push([done, total]) })
    expect(result.scored).toBe(others.length + 1)
    expect(progress.at(-1)).toEqual([others.length + 1, others.length + 1])
    // Created 80 days before NOW: over the 90-day limit since its 91st day, 11 days after NOW.
    expect(await tooOld()).toMatchObject({ status: 'open', first_seen_at: later, evidence: { limitDays: 90, overLimitSince: new Date(NOW.getTime() + 11 * 86_400_000).toISOString() } })
    expect(await row(db, id)).toMatchObject({ needs_scoring: false })
    const score = await db.selectFrom('identity_scores').select('computed_at').where('identity_id', '=', id).executeTakeFirstOrThrow()
    expect(score.computed_at).toEqual(later)

    // A shorter interval re-evaluates sooner; the next pass after that has nothing left.
    const twoHoursOn = new Date(later.getTime() + 2 * 3_600_000)
    expect(await scorePendingIdentities(db, { now: twoHoursOn, reevaluateAfterMs: 3_600_000 })).toEqual({ scored: others.length + 1 })
    expect(await scorePendingIdentities(db, { now: twoHoursOn, reevaluateAfterMs: 3_600_000 })).toEqual({ scored: 0 })
  })

  it('leaves what a re-evaluation confirms as it is, and rewrites only what changed', async () => {
    const db = database.current.db
    const sourceId = await storeSource(db, 'quiet')
    const steady = await storeIdentity(db, sourceId, { name: 'steady-admin', keyAgeDays: 10, admin: true })
    const ageing = await storeIdentity(db, sourceId, { name: 'ageing-admin', keyAgeDays: 200, admin: true })
    const drifted = await storeIdentity(db, sourceId, { name: 'drifted', keyAgeDays: 10 })
    const upgraded = await storeIdentity(db, sourceId, { name: 'upgraded', keyAgeDays: 200 })
    const all = (await db.selectFrom('identities').select('id').execute()).map((r) => r.id)
    await scoreIdentities(db, all, { now: NOW })
    // A column that no longer says what the pass would write (edited by hand, say) is put right.
    await db.updateTable('identities').set({ owner_ref: 'someone-else@example.com', risk_score: 1 }).where('id', '=', drifted).execute()
    // Evidence in the shape an earlier rule catalogue wrote (a count of days) is rewritten.
    await sql`update findings set evidence = '{"ageDays": 200, "limitDays": 90}' where identity_id = ${upgraded} and rule_id = 'credential_age_secret_too_old'`.execute(db)
    const version = (table: 'identity_posture' | 'findings' | 'identity_scores', column: string, id: number) =>
      sql<{ xmin: string }>`select xmin::text as xmin from ${sql.table(table)} where ${sql.ref(column)} = ${id} order by xmin::text`.execute(db).then((r) => r.rows.map((row) => row.xmin))
    const before = {
      steadyIdentity: await version('identity_posture', 'identity_id', steady),
      steadyFindings: await version('findings', 'identity_id', steady),
      ageingIdentity: await version('identity_posture', 'identity_id', ageing),
      ageingFindings: await version('findings', 'identity_id', ageing),
      upgradedIdentity: await version('identity_posture', 'identity_id', upgraded),
    }
    const adminFinding = (await findings(db, steady)).find((f) => f.rule_id === 'privilege_identity_full_admin')!

    const later = new Date(NOW.getTime() + 25 * 3_600_000)
    await scorePendingIdentities(db, { now: later })
    // Nothing about the steady identity changed: its row and its findings keep their versions,
    // and only the time of its score says it was evaluated again.
    expect(await version('identity_posture', 'identity_id', steady)).toEqual(before.steadyIdentity)
    expect(await version('findings', 'identity_id', steady)).toEqual(before.steadyFindings)
    expect(await db.selectFrom('identity_scores').select('computed_at').where('identity_id', '=', steady).executeTakeFirstOrThrow()).toEqual({ computed_at: later })
    expect((await findings(db, steady)).find((f) => f.id === adminFinding.id)).toMatchObject({ status: 'open', last_seen_at: NOW })
    // The identity page reports that evaluation as the last sighting of a finding still open.
    const detail = await getIdentityDetail(db, steady)
    expect(detail?.findings.find((f) => f.id === adminFinding.id)?.last_seen_at).toEqual(later)
    // The ageing key is a day older and still over its limit. Its evidence holds dates, not a
    // count of days, so its findings read the same as yesterday and keep their rows.
    expect(await version('findings', 'identity_id', ageing)).toEqual(before.ageingFindings)
    expect(await version('identity_posture', 'identity_id', ageing)).toEqual(before.ageingIdentity)
    const ageingTooOld = (await findings(db, ageing)).find((f) => f.rule_id === 'credential_age_secret_too_old')!
    expect(ageingTooOld).toMatchObject({ status: 'open', last_seen_at: NOW, evidence: { limitDays: 90, overLimitSince: daysAgo(109).toISOString() } })
    // A finding whose stored evidence differs is updated by its id. Its score did not change,
    // so the identity row stays as it is.
    const tooOld = (await findings(db, upgraded)).find((f) => f.rule_id === 'credential_age_secret_too_old')!
    expect(tooOld).toMatchObject({ status: 'open', last_seen_at: later, first_seen_at: NOW, evidence: { limitDays: 90, overLimitSince: daysAgo(109).toISOString() } })
    expect(tooOld.evidence).not.toHaveProperty('ageDays')
    expect(await version('identity_posture', 'identity_id', upgraded)).toEqual(before.upgradedIdentity)
    expect(await row(db, drifted)).toMatchObject({ owner_ref: 'alice@example.com', risk_score: (await db.selectFrom('identity_scores').select('risk_score').where('identity_id', '=', drifted).executeTakeFirstOrThrow()).risk_score })
  })

  it('re-evaluates in batches that cover flagged and due identities exactly once', async () => {
    const db = database.current.db
    const sourceId = await storeSource(db, 'mixed-batches')
    const ids: number[] = []
    for (let index = 0; index < 9; index += 1) ids.push(await storeIdentity(db, sourceId, { name: `mixed-${index}`, keyAgeDays: 85 }))
    const all = (await db.selectFrom('identities').select('id').execute()).map((r) => r.id)
    await scoreIdentities(db, all, { now: NOW })
    // Ten days on, the keys are 95 days old. Some identities were scored an hour ago (not due),
    // some are flagged by a scan, some both; batches of 2 interleave the two kinds.
    const later = new Date(NOW.getTime() + 10 * 86_400_000)
    const notDue = ids.filter((_, index) => index % 2 === 1)
    const flagged = ids.filter((_, index) => index % 3 === 0)
    await db.updateTable('identity_scores').set({ computed_at: new Date(later.getTime() - 3_600_000) }).where('identity_id', 'in', notDue).execute()
    await db.updateTable('identities').set({ needs_scoring: true }).where('id', 'in', flagged).execute()
    const expected = new Set(all.filter((id) => !notDue.includes(id) || flagged.includes(id)))
    expect(await scorePendingIdentities(db, { now: later, batchSize: 2 })).toEqual({ scored: expected.size })
    const scoredNow = await db.selectFrom('identity_scores').select('identity_id').where('computed_at', '=', later).execute()
    expect(new Set(scoredNow.map((r) => r.identity_id))).toEqual(expected)
    const hasTooOld = async (id: number) => (await findings(db, id)).some((f) => f.rule_id === 'credential_age_secret_too_old' && f.status === 'open')
    for (const id of ids) expect(await hasTooOld(id), `identity ${id}`).toBe(expected.has(id))
  })

  it('applies threshold overrides per source and per tag without code changes', async () => {
    const db = database.current.db
    const strict = await storeSource(db, 'strict-source', { maxCredentialAgeDays: 30 })
    const normal = await storeSource(db, 'normal-source')
    const inStrict = await storeIdentity(db, strict, { name: 'in-strict', keyAgeDays: 40 })
    const untagged = await storeIdentity(db, normal, { name: 'untagged', keyAgeDays: 40 })
    const tagged = await storeIdentity(db, normal, { name: 'tagged', keyAgeDays: 40, tags: { env: 'production' } })
    await db
      .insertInto('threshold_overrides')
      .values({ scope_type: 'tag', scope_value: 'env=production', threshold: 'maxCredentialAgeDays', value: json(35) })
      .execute()
    await scorePendingIdentities(db, { now: NOW })
    const tooOld = async (id: number) => (await findings(db, id)).find((f) => f.rule_id === 'credential_age_secret_too_old')
    expect((await tooOld(inStrict))?.evidence).toMatchObject({ limitDays: 30, limitSource: 'source' })
    expect(await tooOld(untagged)).toBeUndefined()
    expect((await tooOld(tagged))?.evidence).toMatchObject({ limitDays: 35, limitSource: 'tag:env=production' })

    await db
      .insertInto('threshold_overrides')
      .values({ scope_type: 'tag', scope_value: 'team=x', threshold: 'maxCredentialAgeDays', value: json('ninety') })
      .execute()
    await expect(scoreIdentities(db, [tagged], { now: NOW })).rejects.toThrow(/maxCredentialAgeDays.*threshold_overrides \(tag "team=x"\)/)
    await db.deleteFrom('threshold_overrides').where('scope_value', '=', 'team=x').execute()
  })

  it('writes a posture snapshot for the estate and each source, and prunes after the retention', async () => {
    const db = database.current.db
    await scorePendingIdentities(db, { now: NOW })
    const sourceId = await storeSource(db, 'snapshot')
    const a = await storeIdentity(db, sourceId, { name: 'snap-a', keyAgeDays: 200, admin: true })
    await storeIdentity(db, sourceId, {
      name: 'snap-b',
      signals: [{ id: 'aws.trust.bedrock', platform: 'bedrock', weight: 0.9, reason: 't', evidence: {} }],
      owner: null,
    })
    await scorePendingIdentities(db, { now: NOW })
    // A finding fixed two days after it was seen, for the mean time to remediate.
    await db
      .updateTable('credentials')
      .set({ last_rotated_at: daysAgo(0) })
      .where('identity_id', '=', a)
      .execute()
    await db.updateTable('identities').set({ needs_scoring: true }).where('id', '=', a).execute()
    await scorePendingIdentities(db, { now: new Date(NOW.getTime() + 2 * 86_400_000) })

    await db
      .insertInto('posture_snapshots')
      .values({
        taken_at: daysAgo(500),
        identities: 1,
        agents: 0,
        open_findings: 0,
        orphans: 0,
        mean_risk: 0,
        posture_score: 100,
        aggregates: json({}),
      })
      .execute()
    await takePostureSnapshot(db, { sourceId, takenAt: new Date(NOW.getTime() + 2 * 86_400_000) })
    const snapshots = await db.selectFrom('posture_snapshots').selectAll().orderBy('source_id').execute()
    expect(snapshots.some((s) => s.taken_at.getTime() === daysAgo(500).getTime())).toBe(false)
    const perSource = snapshots.find((s) => s.source_id === sourceId)!
    const global = snapshots.find((s) => s.source_id === null)!
    expect(snapshots).toHaveLength(2)
    expect(perSource).toMatchObject({ identities: 2, agents: 1, orphans: 1 })
    expect(global.identities).toBeGreaterThan(perSource.identities)
    const openCount = await sql<{
      n: number
    }>`select count(*)::int as n from findings f join identities i on i.id = f.identity_id where f.status = 'open' and i.source_id = ${sourceId}`.execute(
      db,
    )
    expect(perSource.open_findings).toBe(openCount.rows[0]!.n)
    const aggregates = perSource.aggregates as Record<string, any>
    expect(Object.values(aggregates.byDimension as Record<string, number>).reduce((s, n) => s + n, 0)).toBe(perSource.open_findings)
    expect(aggregates.byAgentPlatform).toEqual({ bedrock: 1 })
    expect(aggregates.byProvider.aws).toMatchObject({ identities: 2, agents: 1 })
    expect(aggregates.credentialAge['0-30']).toBe(2)
    expect(aggregates.mttr.resolved).toBeGreaterThan(0)
    expect(aggregates.mttr.meanHours).toBe(48)
    expect(aggregates.topOwners).toContainEqual(expect.objectContaining({ owner: 'alice@example.com', identities: 1 }))
    expect(perSource.posture_score).toBeCloseTo(100 - perSource.mean_risk, 5)
    expect(await pruneSnapshots(db, new Date(NOW.getTime() + 1000 * 86_400_000))).toBe(2)
  })
})

describe('edits to what the rules read outside the identities', () => {
  // Every identity in this file's database is scored, so that only what an edit marks is flagged.
  async function settled(db: Kysely<Database>): Promise<void> {
    const all = await db.selectFrom('identities').select('id').execute()
    await scoreIdentities(db, all.map((r) => r.id), { now: NOW })
  }
  const flagged = async (db: Kysely<Database>, ids: number[]) =>
    (await db.selectFrom('identities').select('id').where('id', 'in', ids).where('needs_scoring', '=', true).orderBy('id').execute()).map((r) => r.id)
  // Scored identities a change to thresholds or owners marked for reassessment (docs/decisions/037).
  const reassessing = async (db: Kysely<Database>, ids: number[]) =>
    (
      await db.selectFrom('identity_scores').select('identity_id').where('identity_id', 'in', ids).where('reassess_after', 'is not', null).orderBy('identity_id').execute()
    ).map((r) => r.identity_id)
  const rules = async (db: Kysely<Database>, id: number) =>
    (await findings(db, id)).filter((f) => f.status === 'open').map((f) => f.rule_id)

  it('marks the identities a threshold override names, when it is added, changed or removed', async () => {
    const db = database.current.db
    const named = await storeSource(db, 'override-by-name')
    const other = await storeSource(db, 'override-elsewhere')
    const inNamed = await storeIdentity(db, named, { name: 'override-named', keyAgeDays: 60 })
    const inOther = await storeIdentity(db, other, { name: 'override-other', keyAgeDays: 60 })
    const tagged = await storeIdentity(db, other, { name: 'override-tagged', keyAgeDays: 60, tags: { team: 'payments' } })
    const taggedElse = await storeIdentity(db, other, { name: 'override-staging', keyAgeDays: 60, tags: { team: 'search' } })
    const ids = [inNamed, inOther, tagged, taggedElse]
    await settled(db)
    expect(await flagged(db, ids)).toEqual([])
    expect(await rules(db, inNamed)).not.toContain('credential_age_secret_too_old')
    // What the next pass marks first; chunks of 2 make the keyset walk several chunks. These
    // identities are scored, so their rows are not flagged: their scores are marked.
    const marked = async () => {
      await markRecordedScopeChanges(db, { chunkSize: 2 })
      expect(await flagged(db, ids)).toEqual([])
      return reassessing(db, ids)
    }

    // By source name: the edit only records the scope; the pass marks that source's
    // identities, and then applies the 30-day limit.
    await sql`insert into threshold_overrides (scope_type, scope_value, threshold, value) values ('source', 'override-by-name', 'maxCredentialAgeDays', '30')`.execute(db)
    expect(await reassessing(db, ids)).toEqual([])
    expect(await db.selectFrom('scoring_scope_changes').select(['scope_type', 'scope_value']).execute()).toEqual([{ scope_type: 'source', scope_value: 'override-by-name' }])
    expect(await marked()).toEqual([inNamed])
    expect(await db.selectFrom('scoring_scope_changes').select('id').execute()).toEqual([])
    await scorePendingIdentities(db, { now: NOW })
    expect(await rules(db, inNamed)).toContain('credential_age_secret_too_old')
    expect(await reassessing(db, ids)).toEqual([])

    // By tag, exact value: the payments identity, not the search one.
    await sql`insert into threshold_overrides (scope_type, scope_value, threshold, value) values ('tag', 'team=payments', 'maxCredentialAgeDays', '45')`.execute(db)
    expect(await marked()).toEqual([tagged])
    await scorePendingIdentities(db, { now: NOW })
    expect(await rules(db, tagged)).toContain('credential_age_secret_too_old')

    // A changed scope marks what it named before and what it names now.
    await sql`update threshold_overrides set scope_value = 'team=search' where scope_value = 'team=payments'`.execute(db)
    expect(await marked()).toEqual([tagged, taggedElse])
    await scorePendingIdentities(db, { now: NOW })
    expect(await rules(db, tagged)).not.toContain('credential_age_secret_too_old')
    expect(await rules(db, taggedElse)).toContain('credential_age_secret_too_old')

    // Removed: the limit is the default again, and the finding resolves.
    await sql`delete from threshold_overrides where scope_value = ${named}::text or scope_value = 'override-by-name'`.execute(db)
    expect(await marked()).toEqual([inNamed])
    await scorePendingIdentities(db, { now: NOW })
    expect(await rules(db, inNamed)).not.toContain('credential_age_secret_too_old')
    // By source id as well as by name.
    await sql`insert into threshold_overrides (scope_type, scope_value, threshold, value) values ('source', ${other}::text, 'maxCredentialAgeDays', '30')`.execute(db)
    expect(await marked()).toEqual([inOther, tagged, taggedElse])
    await sql`delete from threshold_overrides where scope_value in (${other}::text, 'team=search')`.execute(db)
    await scorePendingIdentities(db, { now: NOW })
    expect(await reassessing(db, ids)).toEqual([])
  })

  it('reassesses without rewriting the posture row when a threshold change alters nothing for it', async () => {
    const db = database.current.db
    const sourceId = await storeSource(db, 'quiet-change')
    const unaffected = await storeIdentity(db, sourceId, { name: 'quiet-unaffected', keyAgeDays: 10 })
    const affected = await storeIdentity(db, sourceId, { name: 'quiet-affected', keyAgeDays: 60 })
    const never = await storeIdentity(db, sourceId, { name: 'quiet-never-scored', keyAgeDays: 60 })
    await settled(db)
    // One identity of the source has never been scored: it has no score row to mark.
    await db.deleteFrom('identity_scores').where('identity_id', '=', never).execute()
    await db.deleteFrom('findings').where('identity_id', '=', never).execute()
    const versions = async () =>
      Object.fromEntries(
        (
          await sql<{ id: number; v: string }>`select identity_id as id, xmin::text as v from identity_posture where identity_id in (${unaffected}, ${affected})`.execute(
            db,
          )
        ).rows.map((r) => [r.id, r.v]),
      )
    const before = await versions()

    await sql`insert into threshold_overrides (scope_type, scope_value, threshold, value) values ('source', 'quiet-change', 'maxCredentialAgeDays', '30')`.execute(
      db,
    )
    await markRecordedScopeChanges(db)
    expect(await reassessing(db, [unaffected, affected, never])).toEqual([unaffected, affected])
    expect(await flagged(db, [unaffected, affected, never])).toEqual([never])
    // A day has not passed: only the change makes the pass look at them.
    await scorePendingIdentities(db, { now: new Date(NOW.getTime() + 60_000) })

    expect(await rules(db, affected)).toContain('credential_age_secret_too_old')
    expect(await rules(db, never)).toContain('credential_age_secret_too_old')
    expect(await rules(db, unaffected)).not.toContain('credential_age_secret_too_old')
    const after = await versions()
    // The 10-day-old key is within 30 days as it was within 90: the unaffected row is as it was.
    expect(after[unaffected]).toBe(before[unaffected])
    expect(after[affected]).not.toBe(before[affected])
    expect(await reassessing(db, [unaffected, affected, never])).toEqual([])
    expect(await flagged(db, [unaffected, affected, never])).toEqual([])
    await sql`delete from threshold_overrides where scope_value = 'quiet-change'`.execute(db)
    await scorePendingIdentities(db, { now: new Date(NOW.getTime() + 60_000) })
  })

  it('keeps a reassessment mark that a scorer with older settings would clear', async () => {
    const db = database.current.db
    const sourceId = await storeSource(db, 'late-mark')
    const id = await storeIdentity(db, sourceId, { name: 'late-mark-agent', keyAgeDays: 60 })
    await settled(db)
    // A pass that read the settings before the change writes after the mark: the mark stays, so
    // the next pass applies the new limit.
    const stale = await loadPassContext(db)
    await sql`insert into threshold_overrides (scope_type, scope_value, threshold, value) values ('source', 'late-mark', 'maxCredentialAgeDays', '30')`.execute(
      db,
    )
    await markRecordedScopeChanges(db)
    const pool = poolOf(db)!
    const writeStale = async () => writeBatch(pool, planBatch(await fetchIdentitiesById(db, [id]), stale, NOW), NOW, stale.settingsReadAt)
    // The old limits give the same breakdown: only the score's time moves on.
    await writeStale()
    expect(await rules(db, id)).not.toContain('credential_age_secret_too_old')
    expect(await reassessing(db, [id])).toEqual([id])
    // A breakdown that changed is a new score row: the mark is carried over to it.
    await db
      .updateTable('identity_scores')
      .set({ breakdown: json({ stale: true }) })
      .where('identity_id', '=', id)
      .execute()
    await writeStale()
    expect(await db.selectFrom('identity_scores').select('breakdown').where('identity_id', '=', id).executeTakeFirstOrThrow()).not.toEqual({
      breakdown: { stale: true },
    })
    expect(await reassessing(db, [id])).toEqual([id])

    await scorePendingIdentities(db, { now: new Date(NOW.getTime() + 60_000) })
    expect(await reassessing(db, [id])).toEqual([])
    expect(await rules(db, id)).toContain('credential_age_secret_too_old')
    await sql`delete from threshold_overrides where scope_value = 'late-mark'`.execute(db)
    await scorePendingIdentities(db, { now: new Date(NOW.getTime() + 60_000) })
  })

  it('marks the identities whose owner joins or leaves the departed owners, in any case', async () => {
    const db = database.current.db
    const sourceId = await storeSource(db, 'departures')
    const carol = await storeIdentity(db, sourceId, { name: 'carol-agent', owner: 'Carol@Example.com' })
    const dave = await storeIdentity(db, sourceId, { name: 'dave-agent', owner: 'dave@example.com' })
    const ids = [carol, dave]
    const setDeparted = (value: unknown) =>
      db
        .insertInto('settings')
        .values({ key: 'departed_owners', value: json(value) })
        .onConflict((c) => c.column('key').doUpdateSet({ value: json(value) }))
        .execute()
    await setDeparted([])
    await settled(db)
    expect(await rules(db, carol)).not.toContain('ownership_owner_inactive')
    // The saved setting records the references that changed; the next pass marks their identities.
    const marked = async () => {
      await markRecordedScopeChanges(db, { chunkSize: 1 })
      expect(await flagged(db, ids)).toEqual([])
      return reassessing(db, ids)
    }

    await setDeparted([' carol@example.com'])
    expect(await db.selectFrom('scoring_scope_changes').select(['scope_type', 'scope_value']).execute()).toEqual([
      { scope_type: 'owner', scope_value: 'carol@example.com' },
    ])
    expect(await marked()).toEqual([carol])
    await scorePendingIdentities(db, { now: NOW })
    expect(await rules(db, carol)).toContain('ownership_owner_inactive')

    // Dave joins the list (as an object entry); Carol stays: only Dave's identity is marked.
    await setDeparted(['carol@example.com', { ref: 'DAVE@example.com' }])
    expect(await marked()).toEqual([dave])
    await scorePendingIdentities(db, { now: NOW })
    expect(await rules(db, dave)).toContain('ownership_owner_inactive')

    // Carol came back: only her identity is marked, and "owner has left" resolves for her.
    await setDeparted([{ ref: 'DAVE@example.com' }])
    expect(await marked()).toEqual([carol])
    await scorePendingIdentities(db, { now: NOW })
    expect(await rules(db, carol)).not.toContain('ownership_owner_inactive')

    // A malformed value is kept, and reads as an empty list here: Dave is marked. The pass
    // refuses the value and says what is wrong, so nothing is scored against it.
    await setDeparted({ not: 'a list' })
    await expect(scorePendingIdentities(db, { now: NOW })).rejects.toThrow(/departed_owners/)
    // The refused pass had marked Dave's identity first: it stays marked.
    expect(await reassessing(db, ids)).toEqual([dave])
    // Removing the setting: nothing left to mark, and the pass runs again.
    await db.deleteFrom('settings').where('key', '=', 'departed_owners').execute()
    await scorePendingIdentities(db, { now: NOW })
    expect(await reassessing(db, ids)).toEqual([])
    expect(await flagged(db, ids)).toEqual([])
    expect(await rules(db, dave)).not.toContain('ownership_owner_inactive')
  })
})
