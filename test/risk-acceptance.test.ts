/**
 * Accepting a finding as a risk from the identity page (issue 4, findings lifecycle): the page's
 * action, called as the browser calls it, by a security lead and by an owner. What was decided
 * is on the finding, in the score and in the audit trail; bad input is refused next to its field.
 */
import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { action } from '../app/routes/identities.$id.js'
import { scorePendingIdentities } from '../scoring/pass.js'
import { storeIdentity, storeSource } from '../scoring/testing-db.js'
import { contextFor, createTestUser, outcome, request, signIn } from './auth.js'
import { useTestDatabase } from './db.js'

const database = useTestDatabase()
const DAY_MS = 86_400_000
const dayFromNow = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString().slice(0, 10)

async function post(identityId: number, cookie: string, form: Record<string, string>) {
  const req = request(`/identities/${identityId}`, {
    method: 'POST',
    cookie,
    body: new URLSearchParams(form),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  })
  const answer = await outcome(async () => action({ request: req, context: contextFor(database.current.db), params: { id: String(identityId) } }))
  const body = answer.value instanceof Response && !answer.thrown ? ((await answer.value.json()) as Record<string, unknown>) : null
  return { status: answer.thrown ? answer.status : (answer.status ?? 200), body }
}

/** An identity with an open "key too old" finding, scored; its owner hint names `owner`. */
async function scoredIdentity(name: string, owner?: string) {
  const db = database.current.db
  const sourceId = await storeSource(db, `risk-${name}`)
  const id = await storeIdentity(db, sourceId, { name, owner })
  // The builders date things from a fixed day; the page acts today, so its key is dated from today.
  await sql`update credentials set created_at = now() - interval '200 days', expires_at = now() + interval '100 days',
              last_used_at = now() - interval '1 day' where identity_id = ${id}`.execute(db)
  await scorePendingIdentities(db)
  const finding = await db
    .selectFrom('findings')
    .selectAll()
    .where('identity_id', '=', id)
    .where('rule_id', '=', 'credential_age_secret_too_old')
    .executeTakeFirstOrThrow()
  return { id, finding }
}

const riskOf = async (id: number) =>
  (await database.current.db.selectFrom('identities').select('risk_score').where('id', '=', id).executeTakeFirstOrThrow()).risk_score

describe('accepting a finding as a risk on the identity page', () => {
  it('a security lead accepts until a date with a reason, the score drops, the audit trail records it, and ending it counts the finding again', async () => {
    const db = database.current.db
    const lead = await createTestUser(db, { role: 'security_lead' })
    const cookie = await signIn(db, lead)
    const { id, finding } = await scoredIdentity('lead-accepts')
    const before = await riskOf(id)
    const until = dayFromNow(30)

    const accepted = await post(id, cookie, { intent: 'accept-risk', findingId: String(finding.id), until, reason: 'Rotation is booked for the next release' })
    expect(accepted.status).toBe(200)
    const stored = await db.selectFrom('findings').selectAll().where('id', '=', finding.id).executeTakeFirstOrThrow()
    expect(stored).toMatchObject({ status: 'accepted', accepted_by: lead.username, accepted_reason: 'Rotation is booked for the next release' })
    // The date on the page is the last day the acceptance holds.
    expect(stored.accepted_until?.toISOString()).toBe(`${until}T23:59:59.999Z`)
    expect(await riskOf(id)).toBeLessThan(before)
    const event = await db.selectFrom('audit_events').selectAll().where('action', '=', 'finding.risk_accepted').executeTakeFirstOrThrow()
    expect(event).toMatchObject({ object_type: 'finding', object_id: String(finding.id), reason: 'Rotation is booked for the next release', actor_display: lead.username })
    expect(event.after).toMatchObject({ status: 'accepted' })

    const ended = await post(id, cookie, { intent: 'end-acceptance', findingId: String(finding.id) })
    expect(ended.status).toBe(200)
    expect((await db.selectFrom('findings').select('status').where('id', '=', finding.id).executeTakeFirstOrThrow()).status).toBe('open')
    expect(await riskOf(id)).toBe(before)
    expect(await db.selectFrom('audit_events').select('action').where('action', '=', 'finding.acceptance_ended').execute()).toHaveLength(1)
  })

  it('refuses a date beyond a year, a missing reason and another identity’s finding, and changes nothing', async () => {
    const db = database.current.db
    const lead = await createTestUser(db, { role: 'security_lead' })
    const cookie = await signIn(db, lead)
    const { id, finding } = await scoredIdentity('lead-mistypes')
    const other = await scoredIdentity('someone-else')

    const tooFar = await post(id, cookie, { intent: 'accept-risk', findingId: String(finding.id), until: dayFromNow(400), reason: 'Long story' })
    expect(tooFar.status).toBe(400)
    expect(JSON.stringify(tooFar.body)).toMatch(/at most 365 days/)
    const noReason = await post(id, cookie, { intent: 'accept-risk', findingId: String(finding.id), until: dayFromNow(10), reason: ' ' })
    expect(noReason.status).toBe(400)
    expect(JSON.stringify(noReason.body)).toMatch(/Say why/)
    const notADate = await post(id, cookie, { intent: 'accept-risk', findingId: String(finding.id), until: '2026-02-30', reason: 'Looks fine' })
    expect(notADate.status).toBe(400)
    const wrongIdentity = await post(id, cookie, { intent: 'accept-risk', findingId: String(other.finding.id), until: dayFromNow(10), reason: 'Looks fine' })
    expect(wrongIdentity.status).toBe(404)
    const notAccepted = await post(id, cookie, { intent: 'end-acceptance', findingId: String(finding.id) })
    expect(notAccepted.status).toBe(400)
    expect(JSON.stringify(notAccepted.body)).toMatch(/not an accepted risk/)

    const statuses = await db.selectFrom('findings').select('status').where('id', 'in', [finding.id, other.finding.id]).execute()
    expect(statuses.map((row) => row.status)).toEqual(['open', 'open'])
    const events = await db
      .selectFrom('audit_events')
      .select('action')
      .where('object_type', '=', 'finding')
      .where('object_id', 'in', [String(finding.id), String(other.finding.id)])
      .execute()
    expect(events).toHaveLength(0)
  })

  it('an owner decides on the findings of the identities they answer for, and only those', async () => {
    const db = database.current.db
    const owner = await createTestUser(db, { role: 'owner', username: 'risk-owner' })
    const cookie = await signIn(db, owner)
    const mine = await scoredIdentity('owned-by-me', 'risk-owner')
    const theirs = await scoredIdentity('owned-by-them', 'someone@example.com')

    const own = await post(mine.id, cookie, { intent: 'accept-risk', findingId: String(mine.finding.id), until: dayFromNow(20), reason: 'Replaced by a role next week' })
    expect(own.status).toBe(200)
    const foreign = await post(theirs.id, cookie, { intent: 'accept-risk', findingId: String(theirs.finding.id), until: dayFromNow(20), reason: 'Not mine to accept' })
    expect(foreign.status).toBe(403)
    expect((await db.selectFrom('findings').select('status').where('id', '=', theirs.finding.id).executeTakeFirstOrThrow()).status).toBe('open')
  })
})
