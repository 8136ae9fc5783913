import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { applyConfigFile } from '../../cli/config-file.js'
import type { Provider, ProviderName } from '../../connectors/contract.js'
import { useTestDatabase } from '../../test/db.js'
import { listDemoSources } from './sources.js'
import { startDemoEstate } from './start.js'

const database = useTestDatabase()
let dir: string
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'leash-demo-start-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** A provider whose stand-in is a bare HTTP server: enough to check ports, settings and env. */
function fakeProvider(name: ProviderName, displayName: string): Provider<{ endpoint: string }> {
  return {
    name,
    displayName,
    settingsSchema: z.object({ endpoint: z.string().url() }),
    // eslint-disable-next-line require-yield
    async *scan() {
      throw new Error('not scanned in this test')
    },
    testConnection: async () => [],
    revocationActions: [],
    async startStandIn(options) {
      const server = http.createServer((_req, res) => res.end('ok'))
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
      })
      const port = (server.address() as AddressInfo).port
      return {
        settings: { endpoint: `http://127.0.0.1:${port}` },
        env: { [`LEASH_TEST_DEMO_${name.toUpperCase()}_KEY`]: 'fake-key' },
        declared: { identities: 1, agents: 0, credentials: 0 },
        departedOwners: name === 'aws' ? ['Left.Person@example.test'] : [],
        stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
      }
    },
  }
}

const providers = { aws: fakeProvider('aws', 'Fake Cloud'), github: fakeProvider('github', 'Fake Code Host') }

describe('demo estate on start', () => {
  it('registers one labelled demo source per provider, queues their first scans, and is idempotent across restarts', async () => {
    const { db } = database.current
    const stateFile = path.join(dir, 'demo.json')
    const logs: string[] = []
    const first = await startDemoEstate({ db, queue: null, providers, stateFile, env: {}, log: (l) => logs.push(l) })
    expect(first).not.toBeNull()
    const sources = await listDemoSources(db)
    expect(sources.map((s) => [s.name, s.provider, s.is_demo, s.origin, s.enabled])).toEqual([
      ['Demo · Fake Cloud', 'aws', true, 'demo', true],
      ['Demo · Fake Code Host', 'github', true, 'demo', true],
    ])
    const endpoints = sources.map((s) => (s.settings as { endpoint: string }).endpoint)
    // The stand-in really answers on the endpoint registered for it.
    expect(await (await fetch(endpoints[0]!)).text()).toBe('ok')
    expect(process.env.LEASH_TEST_DEMO_AWS_KEY).toBe('fake-key')
    expect(sources[0]!.credential_ref).toEqual({ kind: 'env', variables: ['LEASH_TEST_DEMO_AWS_KEY'] })
    const runs = await db.selectFrom('scan_runs').select(['source_id', 'status', 'trigger']).execute()
    expect(runs).toHaveLength(2)
    expect(runs.every((r) => r.status === 'queued' && r.trigger === 'demo')).toBe(true)
    const departed = await db.selectFrom('settings').select('value').where('key', '=', 'departed_owners').executeTakeFirstOrThrow()
    expect(departed.value).toEqual([{ ref: 'Left.Person@example.test', source: 'demo', note: 'Left the company (demo estate).' }])
    expect(logs.join('\n')).toMatch(/demo estate: Demo · Fake Cloud, Demo · Fake Code Host/)
    await first!.stop()

    // A restart: same sources (same ids), same remembered ports, no duplicate departed owner, no second queued run.
    const second = await startDemoEstate({ db, queue: null, providers, stateFile, env: {}, log: () => {} })
    const again = await listDemoSources(db)
    expect(again.map((s) => s.id)).toEqual(sources.map((s) => s.id))
    expect(again.map((s) => (s.settings as { endpoint: string }).endpoint)).toEqual(endpoints)
    expect(await db.selectFrom('scan_runs').select('id').execute()).toHaveLength(2)
    const departedAgain = await db.selectFrom('settings').select('value').where('key', '=', 'departed_owners').executeTakeFirstOrThrow()
    expect(departedAgain.value).toHaveLength(1)
    const audit = await db.selectFrom('audit_events').select(['action', 'actor_display']).where('action', '=', 'demo.registered').execute()
    expect(audit).toEqual([{ action: 'demo.registered', actor_display: 'demo estate' }])
    await second!.stop()
  })

  it('stays off with LEASH_DEMO=0 and stops scanning the demo sources it made before', async () => {
    const { db } = database.current
    const logs: string[] = []
    const runtime = await startDemoEstate({
      db,
      queue: null,
      providers,
      stateFile: path.join(dir, 'off.json'),
      env: { LEASH_DEMO: '0' },
      log: (l) => logs.push(l),
    })
    expect(runtime).toBeNull()
    expect((await listDemoSources(db)).map((s) => s.enabled)).toEqual([false, false])
    expect(logs.join('\n')).toMatch(/demo: off \(LEASH_DEMO=0\); 2 demo source\(s\) kept/)

    // Back on: the demo sources are enabled again.
    const on = await startDemoEstate({ db, queue: null, providers, stateFile: path.join(dir, 'demo.json'), env: {}, log: () => {} })
    expect((await listDemoSources(db)).map((s) => s.enabled)).toEqual([true, true])
    await on!.stop()
  })

  it('does not run when leash.config.yaml configures a real source', async () => {
    const { db } = database.current
    const config = path.join(dir, 'leash.config.yaml')
    await writeFile(
      config,
      [
        'sources:',
        '  - name: prod-aws',
        '    provider: aws',
        '    settings:',
        '      organization:',
        '        roleName: LeashScanner',
        '',
      ].join('\n'),
    )
    const applied = await applyConfigFile(db, { config, cwd: dir })
    expect(applied?.created).toBe(1)
    const runtime = await startDemoEstate({ db, queue: null, providers, stateFile: path.join(dir, 'demo.json'), env: {}, log: () => {} })
    expect(runtime).toBeNull()
    expect((await listDemoSources(db)).every((s) => !s.enabled)).toBe(true)
    const real = await db.selectFrom('sources').select(['name', 'origin', 'is_demo']).where('is_demo', '=', false).execute()
    expect(real).toEqual([{ name: 'prod-aws', origin: 'config', is_demo: false }])
  })

  it('refuses a config file named explicitly that does not exist', async () => {
    const { db } = database.current
    await expect(applyConfigFile(db, { config: 'missing.yaml', cwd: dir })).rejects.toThrow(/missing\.yaml does not exist/)
    expect(await applyConfigFile(db, { cwd: path.join(dir, 'nowhere'), env: {} })).toBeNull()
  })
})
