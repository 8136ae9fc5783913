import { describe, expect, it } from 'vitest'
import { useTestDatabase } from '../test/db.js'
import { ConfigError, parseConfig, syncConfiguredSources } from './source-config.js'
import { markRecordedScopeChanges } from '../scoring/scope-changes.js'

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'

function issuesOf(text: string) {
  try {
    parseConfig(text)
  } catch (error) {
    if (error instanceof ConfigError) return error.issues
    throw error
  }
  throw new Error('expected the config to be rejected')
}

describe('leash.config.yaml', () => {
  it('accepts a valid source and applies defaults', () => {
    const [source] = parseConfig(`sources:\n  - name: corp-entra\n    provider: azure\n    settings:\n      tenantId: ${TENANT}\n`)
    expect(source).toMatchObject({ name: 'corp-entra', provider: 'azure', schedule: '0 */6 * * *', enabled: true })
    expect(source!.settings).toMatchObject({ tenantId: TENANT, credential: { kind: 'default' } })
  })

  it('names the line and the field of a provider setting that is wrong', () => {
    const issues = issuesOf(`sources:\n  - name: corp-entra\n    provider: azure\n    settings:\n      tenantId: not a tenant\n`)
    expect(issues).toEqual([expect.objectContaining({ line: 5, path: 'sources[0].settings.tenantId', message: expect.stringMatching(/tenant/) })])
  })

  it('names unknown providers, unknown fields and bad schedules with their lines', () => {
    const issues = issuesOf(`sources:\n  - name: a\n    provider: nosuch\n  - name: b\n    provider: azure\n    schedule: every hour\n    settings: { tenantId: ${TENANT} }\n    colour: blue\n`)
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'sources[1].schedule', line: 6, message: expect.stringMatching(/cron/) }),
        expect.objectContaining({ path: 'sources[1]', message: expect.stringMatching(/unknown field "colour"/) }),
      ]),
    )
    const provider = issuesOf(`sources:\n  - name: a\n    provider: nosuch\n`)
    expect(provider).toEqual([expect.objectContaining({ line: 3, path: 'sources[0].provider', message: expect.stringMatching(/unknown provider "nosuch"/) })])
  })

  it('refuses a secret value and asks for an environment variable name instead', () => {
    const issues = issuesOf(
      `sources:\n  - name: corp-entra\n    provider: azure\n    settings:\n      tenantId: ${TENANT}\n      credential:\n        kind: client_secret\n        clientSecret: s3cr3t-Value~xyz\n`,
    )
    expect(issues).toEqual(expect.arrayContaining([expect.objectContaining({ line: 8, message: expect.stringMatching(/environment variable/) })]))
  })

  it('refuses a value shaped like a provider key, whatever its field is called', () => {
    const issues = issuesOf(`sources:\n  - name: corp-entra\n    provider: azure\n    settings:\n      tenantId: ${TENANT}\n      adminKey: sk-admin-0123456789abcdefABCDEF\n`)
    expect(issues).toEqual(expect.arrayContaining([expect.objectContaining({ line: 6, path: 'sources[0].settings.adminKey', message: expect.stringMatching(/secret/) })]))
  })

  it('reports YAML syntax errors with their line', () => {
    const issues = issuesOf(`sources:\n  - name: a\n   provider: azure\n`)
    expect(issues[0]).toMatchObject({ line: expect.any(Number), message: expect.stringMatching(/YAML syntax/) })
  })

  it('rejects duplicate names', () => {
    const issues = issuesOf(`sources:\n  - { name: a, provider: azure, settings: { tenantId: ${TENANT} } }\n  - { name: a, provider: azure, settings: { tenantId: ${TENANT} } }\n`)
    expect(issues).toEqual([expect.objectContaining({ path: 'sources[1].name', message: expect.stringMatching(/unique/) })])
  })
})

describe('syncConfiguredSources', () => {
  const database = useTestDatabase()

  it('creates, updates and disables (never deletes) configured sources', async () => {
    const { db } = database.current
    const first = parseConfig(`sources:\n  - { name: a, provider: azure, settings: { tenantId: ${TENANT} } }\n  - { name: b, provider: azure, settings: { tenantId: ${TENANT} } }\n`)
    expect(await syncConfiguredSources(db, first)).toEqual({ created: 2, updated: 0, disabled: 0 })
    const second = parseConfig(`sources:\n  - { name: a, provider: azure, schedule: "0 * * * *", settings: { tenantId: ${TENANT} } }\n`)
    expect(await syncConfiguredSources(db, second)).toEqual({ created: 0, updated: 1, disabled: 1 })
    const rows = await db.selectFrom('sources').select(['name', 'schedule', 'enabled', 'origin']).orderBy('name').execute()
    expect(rows).toEqual([
      { name: 'a', schedule: '0 * * * *', enabled: true, origin: 'config' },
      { name: 'b', schedule: '0 */6 * * *', enabled: false, origin: 'config' },
    ])
  })

  it('marks a source\'s identities for scoring when its thresholds change, and only then', async () => {
    const { db } = database.current
    const config = (thresholds: string) =>
      parseConfig(`sources:\n  - { name: limits, provider: azure, thresholds: ${thresholds}, settings: { tenantId: ${TENANT} } }\n  - { name: other, provider: azure, settings: { tenantId: ${TENANT} } }\n`)
    await syncConfiguredSources(db, config('{ maxCredentialAgeDays: 90 }'))
    const sources = await db.selectFrom('sources').select(['id', 'name']).where('name', 'in', ['limits', 'other']).execute()
    const idOf = (name: string) => sources.find((s) => s.name === name)!.id
    for (const name of ['limits', 'other']) {
      await db
        .insertInto('identities')
        .values({ source_id: idOf(name), provider: 'entra', kind: 'service_principal', external_id: `sp-${name}`, display_name: name, account_id: TENANT, needs_scoring: false })
        .execute()
    }
    const flagged = async () =>
      (await db.selectFrom('identities').select('display_name').where('needs_scoring', '=', true).where('external_id', 'like', 'sp-%').orderBy('display_name').execute()).map((r) => r.display_name)

    // Start-up only records the change; the next scoring pass marks the source's identities.
    const marked = async () => {
      await markRecordedScopeChanges(db)
      return flagged()
    }
    await syncConfiguredSources(db, config('{ maxCredentialAgeDays: 90 }'))
    expect(await marked()).toEqual([])
    await syncConfiguredSources(db, config('{ maxCredentialAgeDays: 30 }'))
    expect(await flagged()).toEqual([])
    expect(await marked()).toEqual(['limits'])
  })

  it('will not take over a source created on the Sources page', async () => {
    const { db } = database.current
    await db.insertInto('sources').values({ name: 'ui-made', provider: 'azure', origin: 'ui' }).execute()
    const config = parseConfig(`sources:\n  - { name: ui-made, provider: azure, settings: { tenantId: ${TENANT} } }\n`)
    await expect(syncConfiguredSources(db, config)).rejects.toThrow(/Sources page/)
  })
})
