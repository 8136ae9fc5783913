/**
 * Whether the demo estate may run, and where its small state file lives. LEASH_DEMO=0 (or
 * false/off/no) turns the demo off; anything unrecognised fails at start with what to set.
 */
import path from 'node:path'
import { LeashError } from '../../cli/errors.js'

const OFF = new Set(['0', 'false', 'off', 'no'])
const ON = new Set(['', '1', 'true', 'on', 'yes'])

/** true unless LEASH_DEMO turns the demo off. */
export function demoAllowed(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const raw = (env.LEASH_DEMO ?? '').trim().toLowerCase()
  if (OFF.has(raw)) return false
  if (ON.has(raw)) return true
  throw new LeashError(
    `LEASH_DEMO is "${env.LEASH_DEMO}", which is neither on nor off.`,
    'Set LEASH_DEMO=0 to turn the demo estate off, or unset it (the demo then runs while no real source is configured).',
  )
}

/**
 * `.leash/demo.json` in the working directory (beside the embedded database), or
 * LEASH_DEMO_STATE_FILE. It holds the stand-ins' ports so endpoints and identity ids stay the
 * same across restarts.
 */
export function demoStateFile(env: Readonly<Record<string, string | undefined>> = process.env, cwd = process.cwd()): string {
  const configured = env.LEASH_DEMO_STATE_FILE?.trim()
  return configured ? path.resolve(cwd, configured) : path.join(cwd, '.leash', 'demo.json')
}
