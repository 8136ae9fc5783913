import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningStandIn } from '../../connectors/contract.js'
import { providers } from '../../connectors/registry.js'
import { useTestDatabase } from '../../test/db.js'
import { createSource, NewSourceSchema, providerChoices, testSourceConnection, validateNewSource } from './sources.server.js'

const database = useTestDatabase()
const actor = { type: 'user' as const, id: null, display: 'tester' }
let standIn: RunningStandIn<Record<string, unknown>>

beforeAll(async () => {
  standIn = await providers.openai.startStandIn({ seed: 'test' })
  Object.assign(process.env, standIn.env)
})
afterAll(async () => {
  await standIn?.stop()
})

const input = (values: Record<string, string>) => NewSourceSchema.parse({ provider: 'openai', name: 'prod openai', ...values })

describe('adding a source from the Sources page', () => {
  it('offers every registered provider with its settings fields', () => {
    const choices = providerChoices()
    expect(choices.map((c) => c.name).sort()).toEqual(Object.keys(providers).sort())
    expect(choices.find((c) => c.name === 'openai')!.fields.map((f) => f.key)).toEqual([
      'apiKeyEnv',
      'organizationId',
      'baseUrl',
      'projects',
    ])
  })

  it('validates settings with the provider’s schema and puts each error next to its field and line', () => {
    const result = validateNewSource(
      input({ settings: 'organizationId: org-1\nprojects:\n  - not-a-project\nbogus: 1', schedule: 'every day' }),
    )
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.errors.schedule?.[0]).toMatch(/cron expression/)
    expect(result.errors.settings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^line 3: projects\.\[0\]|^line 3: projects\[0\]/),
        expect.stringMatching(/unknown field "bogus"/),
      ]),
    )
    expect(result.errors.name).toBeUndefined()
  })

  it('refuses a secret pasted into the settings, and YAML it cannot read', () => {
    const secret = validateNewSource(input({ settings: 'apiKeyEnv: OPENAI_ADMIN_KEY\nadminApiKey: sk-admin-abc123' }))
    expect(secret.ok).toBe(false)
    if (!secret.ok) expect(secret.errors.settings?.join(' ')).toMatch(/line 2: adminApiKey: looks like a secret value/)
    const broken = validateNewSource(input({ settings: 'projects: [unclosed' }))
    expect(broken.ok).toBe(false)
    if (!broken.ok) expect(broken.errors.settings?.join(' ')).toMatch(/YAML syntax/)
    const unknownProvider = validateNewSource(input({ provider: 'nope' }))
    expect(unknownProvider.ok).toBe(false)
    if (!unknownProvider.ok) expect(unknownProvider.errors.provider?.[0]).toMatch(/unknown provider "nope"/)
  })

  it('creates the source with an audit event, refuses a duplicate name, and tests the connection for real', async () => {
    const { db } = database.current
    const checked = validateNewSource(
      input({
        settings: Object.entries(standIn.settings)
          .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
          .join('\n'),
      }),
    )
    expect(checked.ok).toBe(true)
    if (!checked.ok) return
    const created = await createSource(
      db,
      actor,
      { provider: 'openai', name: 'prod openai', schedule: checked.schedule, settings: checked.settings },
      '127.0.0.1',
    )
    expect('id' in created).toBe(true)
    if (!('id' in created)) return
    expect(
      await createSource(db, actor, { provider: 'openai', name: 'prod openai', schedule: checked.schedule, settings: {} }, null),
    ).toEqual({ nameTaken: true })
    const row = await db.selectFrom('sources').selectAll().where('id', '=', created.id).executeTakeFirstOrThrow()
    expect(row).toMatchObject({ origin: 'ui', is_demo: false, enabled: true, provider: 'openai' })

    const ok = await testSourceConnection(db, actor, created.id, null)
    expect(ok?.error).toBeNull()
    expect(ok?.checks.filter((c) => c.status === 'present').length).toBeGreaterThan(0)
    expect(ok?.checks.some((c) => c.status === 'missing')).toBe(false)

    // The key's variable is not set: the missing credential is reported, not thrown.
    await db
      .updateTable('sources')
      .set({ settings: JSON.stringify({ ...checked.settings, apiKeyEnv: 'LEASH_TEST_UNSET_KEY' }) })
      .where('id', '=', created.id)
      .execute()
    const missing = await testSourceConnection(db, actor, created.id, null)
    expect(missing?.ok).toBe(false)
    expect(missing?.checks.some((c) => c.status === 'missing') || missing?.error !== null).toBe(true)

    const audit = await db.selectFrom('audit_events').select(['action', 'object_id', 'after']).orderBy('seq').execute()
    expect(audit.map((a) => a.action)).toEqual(['source.created', 'source.connection_tested', 'source.connection_tested'])
    expect(audit[0]!.after).toMatchObject({ name: 'prod openai', provider: 'openai' })
    expect(await testSourceConnection(db, actor, '00000000-0000-4000-8000-000000000000', null)).toBeNull()
  })
})
