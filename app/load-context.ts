/**
 * What the server hands every loader and action (Remix's AppLoadContext). The HTTP server
 * builds it once at start; tests build their own. Loaders never open connections themselves.
 */
import type { Kysely } from 'kysely'
import type { Database } from '../db/schema.js'

export interface LeashServices {
  db: Kysely<Database>
  /**
   * "Scan now": queues a scan of the source (jobs/queue.ts). A source already queued or
   * running returns that run with alreadyActive=true. Tests can use `scanServices(db)`.
   */
  requestScan(input: { sourceId: string; requestedBy: string | null; trigger: 'manual' | 'schedule' | 'cli' | 'demo' }): Promise<{ scanRunId: string; alreadyActive: boolean }>
  /** Per request, set by the HTTP server: the client's address (for audit and rate limits). */
  clientIp?: string | null
  /** Per request, set by the HTTP server: the Content-Security-Policy nonce for inline scripts. */
  cspNonce?: string
}

declare module '@remix-run/node' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface AppLoadContext extends LeashServices {}
}
