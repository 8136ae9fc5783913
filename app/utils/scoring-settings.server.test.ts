import { describe, expect, it } from 'vitest'
import { json } from '../../db/connection.js'
import { scorePendingIdentities } from '../../scoring/index.js'
import { createTestUser } from '../../test/auth.js'
import { useTestDatabase } from '../../test/db.js'
import { loadScoringSettings, removeThresholdOverride, saveDepartedOwners, setThresholdOverride } from './scoring-settings.server.js'

const database = useTestDatabase()
const DAY = 86_400_000

async function setUp() {
  const db = database.current.db
  const admin = await createTestUser(db, { role: 'admin' })
  const actor = { type: 'user' as const, id: admin.id, display: admin.username }
  const source = await db.insertInto('sources').values({ provider: 'aws', name: `settings-${Math.random().toString(36).slice(2, 8)}` }).returning(['id', 'name']).executeTakeFirstOrThrow()
  const identity = async (name: string, tags: Record<string, string>, owner: string) => {
    const row = await db
      .insertInto('identities')
      .values({ source_id: source.id, provider: 'aws', kind: 'user', external_id: `arn:${source.name}:${name}`, display_name: name, account_id: '1', tags: json(tags), posture_inputs: json({}) })
      .returning('id')
      .executeTakeFirstOrThrow()
    await db
      .insertInto('credentials')
      .values({ identity_id: row.id, external_id: `AKIA${name.toUpperCase()}`, type: 'access_key', status: 'active', created_at: new Date(Date.now() - 60 * DAY), is_static: true })
      .execute()
    await db.insertInto('identity_owners').values({ identity_id: row.id, owner_ref: owner, role: 'owner', kind: 'person', source: 'tag', display_name: null, active: null }).execute()
    return row.id
  }
  const production = await identity('prod', { env: 'production' }, 'Gina@example.com')
  const staging = await identity('staging', { env: 'staging' }, 'hal@example.com')
  await scorePendingIdentities(db)
  const flagged = async () => (await db.selectFrom('identities').select('id').where('needs_scoring', '=', true).where('source_id', '=', source.id).orderBy('id').execute()).map((r) => r.id)
  const open = async (id: number, rule: string) =>
    (await db.selectFrom('findings').select('status').where('identity_id', '=', id).where('rule_id', '=', rule).executeTakeFirst())?.status ?? null
  const audit = async () => (await db.selectFrom('audit_events').select(['action', 'before', 'after']).where('action', 'like', 'setting.%').orderBy('seq').execute())
  return { db, actor, source, production, staging, flagged, open, audit }
}

describe('scoring settings', () => {
  it('sets, changes and removes a threshold override, audited, and the next pass applies it', async () => {
    const { db, actor, production, staging, flagged, open, audit } = await setUp()
    expect(await open(production, 'credential_age_secret_too_old')).toBeNull()

    await setThresholdOverride(db, actor, { scopeType: 'tag', scopeValue: ' env=production ', threshold: 'maxCredentialAgeDays', value: '30' }, null)
    // The request only records the change; the next pass marks and scores what it applies to.
    expect(await flagged()).toEqual([])
    expect((await loadScoringSettings(db)).pending).toEqual({ scopes: 1, identities: 0 })
    await scorePendingIdentities(db)
    expect((await loadScoringSettings(db)).pending).toEqual({ scopes: 0, identities: 0 })
    expect(await open(production, 'credential_age_secret_too_old')).toBe('open')
    expect(await open(staging, 'credential_age_secret_too_old')).toBeNull()

    // The same scope and threshold again changes the value; it does not add a second row.
    await setThresholdOverride(db, actor, { scopeType: 'tag', scopeValue: 'env=production', threshold: 'maxCredentialAgeDays', value: '120' }, null)
    const settings = await loadScoringSettings(db)
    expect(settings.overrides).toEqual([expect.objectContaining({ scopeType: 'tag', scopeValue: 'env=production', threshold: 'maxCredentialAgeDays', value: 120 })])
    await scorePendingIdentities(db)
    expect(await open(production, 'credential_age_secret_too_old')).toBe('resolved')

    await removeThresholdOverride(db, actor, settings.overrides[0]!.id, null)
    expect((await loadScoringSettings(db)).overrides).toEqual([])
    await expect(removeThresholdOverride(db, actor, settings.overrides[0]!.id, null)).rejects.toThrow(/no longer exists/)
    expect((await audit()).map((event) => event.action)).toEqual([
      'setting.threshold_override.added',
      'setting.threshold_override.changed',
      'setting.threshold_override.removed',
    ])
    expect((await audit())[1]).toMatchObject({ before: { value: 30 }, after: { value: 120, scope_value: 'env=production' } })
    // The page lists them newest first, in words.
    expect((await loadScoringSettings(db)).recentChanges.map(({ action, summary }) => `${action}: ${summary}`)).toEqual([
      'Override removed: maxCredentialAgeDays 120 for tag env=production (back to the source or default limit)',
      'Override changed: maxCredentialAgeDays 30 → 120 for tag env=production',
      'Override added: maxCredentialAgeDays 30 for tag env=production',
    ])
  })

  it('refuses what the scoring pass could not use, saying what was wrong, and stores nothing', async () => {
    const { db, actor, source } = await setUp()
    const attempt = (input: Partial<Parameters<typeof setThresholdOverride>[2]>) =>
      setThresholdOverride(db, actor, { scopeType: 'tag', scopeValue: 'env=production', threshold: 'maxCredentialAgeDays', value: '30', ...input }, null)
    await expect(attempt({ threshold: 'maxAgeDays' })).rejects.toThrow(/"maxAgeDays" is not a threshold\. Choose one of: maxCredentialAgeDays/)
    await expect(attempt({ value: '0' })).rejects.toThrow(/is "0", not a whole number of days between 1 and 3650/)
    await expect(attempt({ value: 'ninety' })).rejects.toThrow(/"ninety"/)
    await expect(attempt({ scopeValue: 'production' })).rejects.toThrow(/not of the form key=value/)
    await expect(attempt({ scopeType: 'source', scopeValue: 'no-such-source' })).rejects.toThrow(/No source has the name or id "no-such-source"/)
    expect((await loadScoringSettings(db)).overrides).toEqual([])
    // A source is named by its name or its id.
    await attempt({ scopeType: 'source', scopeValue: source.name })
    await attempt({ scopeType: 'source', scopeValue: source.id, threshold: 'unusedCredentialDays' })
    expect((await loadScoringSettings(db)).overrides.map((o) => o.sourceName)).toEqual([source.name, source.name])
    await db.deleteFrom('threshold_overrides').execute()
  })

  it('saves departed owners one per line, marks their identities, and replaces a malformed list', async () => {
    const { db, actor, production, staging, flagged, open, audit } = await setUp()
    await expect(saveDepartedOwners(db, actor, 'gina@example.com\nhal @example.com', null)).rejects.toThrow(/Line 2 \("hal @example.com"\) holds a space/)

    const saved = await saveDepartedOwners(db, actor, '\n  GINA@example.com  \n\ngina@EXAMPLE.com\n', null)
    expect(saved).toEqual({ added: ['GINA@example.com'], removed: [] })
    expect((await loadScoringSettings(db)).departedOwners).toEqual(['GINA@example.com'])
    // Saving records the reference that joined; the next pass marks and assesses its identities.
    expect(await flagged()).toEqual([])
    expect(await db.selectFrom('scoring_scope_changes').select(['scope_type', 'scope_value']).execute()).toEqual([
      { scope_type: 'owner', scope_value: 'gina@example.com' },
    ])
    await scorePendingIdentities(db)
    expect(await open(production, 'ownership_owner_inactive')).toBe('open')

    await db.updateTable('settings').set({ value: json({ not: 'a list' }) }).where('key', '=', 'departed_owners').execute()
    expect((await loadScoringSettings(db)).departedOwnersProblem).toMatch(/is not a list/)
    expect(await saveDepartedOwners(db, actor, 'hal@example.com', null)).toEqual({ added: ['hal@example.com'], removed: [] })
    expect((await loadScoringSettings(db)).departedOwnersProblem).toBeNull()
    await scorePendingIdentities(db)
    expect(await open(production, 'ownership_owner_inactive')).toBe('resolved')
    expect(await open(staging, 'ownership_owner_inactive')).toBe('open')
    expect((await audit()).at(-1)).toMatchObject({ action: 'setting.departed_owners.changed', after: { count: 1, added: ['hal@example.com'] } })
    expect((await loadScoringSettings(db)).recentChanges[0]).toMatchObject({ action: 'Departed owners changed', summary: 'added hal@example.com (1 listed)' })
    // A long list is named by its first five.
    await saveDepartedOwners(db, actor, ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((name) => `${name}@example.com`).join('\n'), null)
    expect((await loadScoringSettings(db)).recentChanges[0]!.summary).toBe(
      'added a@example.com, b@example.com, c@example.com, d@example.com, e@example.com and 2 more; removed hal@example.com (7 listed)',
    )
    await db.deleteFrom('settings').where('key', '=', 'departed_owners').execute()
  })
})
