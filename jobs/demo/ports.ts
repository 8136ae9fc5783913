/**
 * Fixed loopback ports for the demo stand-ins, kept in `.leash/demo.json`. A stand-in that
 * comes back on the same port serves the same endpoints and the same identity ids (Key Vault
 * item ids contain the vault's host:port), so a restart does not look like a new estate.
 *
 * Each provider gets a block of BLOCK_SIZE ports (a stand-in may serve several hosts, e.g. one
 * per Key Vault on the ports after its main one). A block someone else holds is skipped and the
 * new choice remembered.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { z } from 'zod'
import { LeashError } from '../../cli/errors.js'

export const DEMO_BASE_PORT = 47400
export const BLOCK_SIZE = 10
const MAX_BLOCKS = 300

const stateSchema = z.object({
  version: z.literal(1),
  ports: z.record(
    z.string(),
    z
      .number()
      .int()
      .min(1024)
      .max(65535 - BLOCK_SIZE),
  ),
})

export type DemoState = z.infer<typeof stateSchema>

export async function readDemoState(file: string): Promise<DemoState> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, ports: {} }
    throw new LeashError(
      `Cannot read the demo state file ${file}: ${(error as Error).message}`,
      'Check its permissions, or delete it (the demo picks new ports).',
    )
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new LeashError(`The demo state file ${file} is not valid JSON.`, 'Delete it; the demo picks new ports and writes it again.')
  }
  const result = stateSchema.safeParse(parsed)
  if (!result.success) {
    throw new LeashError(
      `The demo state file ${file} is not valid: ${result.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}.`,
      'Delete it; the demo picks new ports and writes it again.',
    )
  }
  return result.data
}

/** Written to a temporary file and renamed, so a crash never leaves half a file. */
export async function writeDemoState(file: string, state: DemoState): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true })
  const temporary = `${file}.${process.pid}.tmp`
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 })
  await rename(temporary, file)
}

export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)))
  })
}

async function blockIsFree(start: number, isFree: (port: number) => Promise<boolean>): Promise<boolean> {
  for (let port = start; port < start + BLOCK_SIZE; port++) if (!(await isFree(port))) return false
  return true
}

/**
 * The port of each provider: the remembered one when its block is free, else the first free
 * block from DEMO_BASE_PORT that no other provider uses. Returns the ports and whether they
 * differ from the state (so the caller writes it back).
 */
export async function assignDemoPorts(
  providers: readonly string[],
  state: DemoState,
  options: { base?: number; isFree?: (port: number) => Promise<boolean> } = {},
): Promise<{ ports: Record<string, number>; changed: boolean }> {
  const base = options.base ?? DEMO_BASE_PORT
  const isFree = options.isFree ?? portIsFree
  const ports: Record<string, number> = {}
  const taken = new Set<number>()
  const overlaps = (start: number) => [...taken].some((other) => Math.abs(other - start) < BLOCK_SIZE)
  let changed = false
  // Remembered ports first, so a provider added later never takes an existing provider's block.
  for (const provider of providers) {
    const remembered = state.ports[provider]
    if (remembered !== undefined && !overlaps(remembered) && (await blockIsFree(remembered, isFree))) {
      ports[provider] = remembered
      taken.add(remembered)
    }
  }
  const remembered = new Set(Object.values(state.ports))
  for (const provider of providers) {
    if (ports[provider] !== undefined) continue
    let found: number | null = null
    for (let block = 0; block < MAX_BLOCKS && found === null; block++) {
      const start = base + block * BLOCK_SIZE
      if (start + BLOCK_SIZE > 65535) break
      // Leave blocks remembered for other providers alone, in case they are only busy right now.
      if (overlaps(start) || [...remembered].some((p) => p !== state.ports[provider] && Math.abs(p - start) < BLOCK_SIZE)) continue
      if (await blockIsFree(start, isFree)) found = start
    }
    if (found === null) {
      throw new LeashError(
        `No free block of ${BLOCK_SIZE} loopback ports from ${base} for the ${provider} demo stand-in.`,
        'Free some ports in that range, set LEASH_DEMO_STATE_FILE to a new file, or turn the demo off with LEASH_DEMO=0.',
      )
    }
    ports[provider] = found
    taken.add(found)
    changed = true
  }
  return { ports, changed }
}
