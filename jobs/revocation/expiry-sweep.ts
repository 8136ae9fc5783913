/**
 * Marks approvals that ran out as expired (and audits it) on a timer, so the Revocations page
 * shows the truth without waiting for someone to try approving or running an old request.
 * Approve and execute check the deadline themselves as well; this sweep is for visibility.
 */
import type { Kysely } from 'kysely'
import type { Database } from '../../db/schema.js'
import { expireStaleRevocations } from './decide.js'

export function startRevocationExpirySweep(options: { db: Kysely<Database>; intervalMs?: number; log?: (line: string) => void }): { stop(): Promise<void> } {
  const intervalMs = options.intervalMs ?? 60_000
  let running: Promise<unknown> = Promise.resolve()
  const sweep = () => {
    running = expireStaleRevocations(options.db)
      .then((expired) => {
        if (expired > 0) options.log?.(`${expired} revocation request(s) expired without approval.`)
      })
      .catch((error: unknown) => options.log?.(`revocation expiry sweep failed: ${error instanceof Error ? error.message : String(error)}`))
  }
  sweep()
  const timer = setInterval(sweep, intervalMs)
  timer.unref()
  return {
    async stop() {
      clearInterval(timer)
      await running
    },
  }
}
