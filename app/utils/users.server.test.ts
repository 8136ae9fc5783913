import { describe, expect, it } from 'vitest'
import { json } from '../../db/connection.js'
import { scorePendingIdentities } from '../../scoring/index.js'
import { markRecordedScopeChanges } from '../../scoring/scope-changes.js'
import { createTestUser } from '../../test/auth.js'
import { useTestDatabase } from '../../test/db.js'
import { disableUser, enableUser } from './users.server.js'

const database = useTestDatabase()

describe('disabling a user', () => {
  it('marks the identities they answer for, so "owner disabled" opens at the next pass and closes after re-enabling', async () => {
    const db = database.current.db
    const admin = await createTestUser(db, { role: 'admin' })
    const owner = await createTestUser(db, { role: 'operator', username: 'dana' })
    await db.updateTable('users').set({ email: 'Dana@Example.com' }).where('id', '=', owner.id).execute()
    const source = await db.insertInto('sources').values({ provider: 'aws', name: 'owned' }).returning('id').executeTakeFirstOrThrow()
    const identity = async (name: string) =>
      (
        await db
          .insertInto('identities')
          .values({ source_id: source.id, provider: 'aws', kind: 'role', external_id: `arn:${name}`, display_name: name, account_id: '1', posture_inputs: json({}) })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id
    const byTag = await identity('owned-by-tag')
    const byClaim = await identity('owned-by-claim')
    const someoneElses = await identity('someone-elses')
    await db
      .insertInto('identity_owners')
      .values([
        { identity_id: byTag, owner_ref: 'DANA@example.com', role: 'owner', kind: 'person', source: 'tag', display_name: null, active: null },
        { identity_id: someoneElses, owner_ref: 'erin@example.com', role: 'owner', kind: 'person', source: 'tag', display_name: null, active: null },
      ])
      .execute()
    await db.insertInto('claims').values({ identity_id: byClaim, kind: 'claim', requested_by: owner.id, reason: 'mine', status: 'confirmed', decided_at: new Date() }).execute()
    await scorePendingIdentities(db)
    const flagged = async () =>
      (await db.selectFrom('identities').select('id').where('needs_scoring', '=', true).orderBy('id').execute()).map((row) => row.id)
    // The request records what changed; the next pass marks those identities for reassessment first.
    const marked = async () => {
      await markRecordedScopeChanges(db)
      expect(await flagged()).toEqual([])
      return (
        await db
          .selectFrom('identity_scores')
          .select('identity_id')
          .where('reassess_after', 'is not', null)
          .orderBy('identity_id')
          .execute()
      ).map((row) => row.identity_id)
    }
    const ownerInactive = async (id: number) =>
      (await db.selectFrom('findings').select('status').where('identity_id', '=', id).where('rule_id', '=', 'ownership_owner_inactive').executeTakeFirst())?.status
    expect(await flagged()).toEqual([])
    expect(await ownerInactive(byTag)).toBeUndefined()

    const actor = { type: 'user' as const, id: admin.id, display: admin.username }
    await disableUser(db, actor, owner.id, null)
    expect(await marked()).toEqual([byTag, byClaim])
    await scorePendingIdentities(db)
    expect(await ownerInactive(byTag)).toBe('open')
    expect(await ownerInactive(byClaim)).toBe('open')
    expect(await ownerInactive(someoneElses)).toBeUndefined()

    await enableUser(db, actor, owner.id, null)
    expect(await marked()).toEqual([byTag, byClaim])
    await scorePendingIdentities(db)
    expect(await ownerInactive(byTag)).toBe('resolved')
  })
})
