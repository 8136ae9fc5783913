import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assignDemoPorts, BLOCK_SIZE, portIsFree, readDemoState, writeDemoState } from './ports.js'
import { demoAllowed, demoStateFile } from './switch.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'leash-demo-ports-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('demo switch', () => {
  it('runs unless LEASH_DEMO turns it off, and refuses values it does not understand', () => {
    expect(demoAllowed({})).toBe(true)
    expect(demoAllowed({ LEASH_DEMO: '1' })).toBe(true)
    for (const off of ['0', 'false', 'OFF', ' no ']) expect(demoAllowed({ LEASH_DEMO: off })).toBe(false)
    expect(() => demoAllowed({ LEASH_DEMO: 'maybe' })).toThrow(/LEASH_DEMO is "maybe"/)
  })

  it('keeps its state beside the embedded database unless LEASH_DEMO_STATE_FILE says otherwise', () => {
    expect(demoStateFile({}, '/srv/leash')).toBe('/srv/leash/.leash/demo.json')
    expect(demoStateFile({ LEASH_DEMO_STATE_FILE: 'tmp/d.json' }, '/srv/leash')).toBe('/srv/leash/tmp/d.json')
  })
})

describe('demo ports', () => {
  it('gives each provider its own block, keeps remembered ports and skips busy blocks', async () => {
    const busy = new Set([47400, 47425])
    const isFree = async (port: number) => !busy.has(port)
    const first = await assignDemoPorts(['aws', 'azure', 'github'], { version: 1, ports: {} }, { isFree })
    // 47400 is busy (aws cannot have 47400-47409); 47420-47429 holds a busy port too.
    expect(first.ports).toEqual({ aws: 47410, azure: 47430, github: 47440 })
    expect(first.changed).toBe(true)

    const again = await assignDemoPorts(['aws', 'azure', 'github'], { version: 1, ports: first.ports }, { isFree })
    expect(again).toEqual({ ports: first.ports, changed: false })

    // A provider that lands later gets a new block and never takes a remembered one.
    const later = await assignDemoPorts(['aws', 'azure', 'github', 'vault'], { version: 1, ports: first.ports }, { isFree })
    expect(later.ports.vault).toBe(47450)
    expect(later.changed).toBe(true)

    // A remembered block someone else now holds is given up for a free one.
    busy.add(47432)
    const moved = await assignDemoPorts(['aws', 'azure'], { version: 1, ports: first.ports }, { isFree })
    expect(moved.ports.aws).toBe(47410)
    expect(moved.ports.azure).not.toBe(47430)
    expect(Math.abs(moved.ports.azure! - moved.ports.aws!)).toBeGreaterThanOrEqual(BLOCK_SIZE)
  })

  it('sees a port another process listens on as busy', async () => {
    const server = net.createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
    const port = (server.address() as net.AddressInfo).port
    try {
      expect(await portIsFree(port)).toBe(false)
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
    expect(await portIsFree(port)).toBe(true)
  })

  it('reads what it wrote, treats a missing file as empty and names the file when it is broken', async () => {
    const file = path.join(dir, 'sub', 'demo.json')
    expect(await readDemoState(file)).toEqual({ version: 1, ports: {} })
    await writeDemoState(file, { version: 1, ports: { aws: 47400 } })
    expect(await readDemoState(file)).toEqual({ version: 1, ports: { aws: 47400 } })
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ version: 1, ports: { aws: 47400 } })

    await writeFile(file, '{ not json')
    await expect(readDemoState(file)).rejects.toThrow(`The demo state file ${file} is not valid JSON.`)
    await writeFile(file, JSON.stringify({ version: 1, ports: { aws: 80 } }))
    await expect(readDemoState(file)).rejects.toThrow(/ports\.aws/)
  })
})
