/**
 * What the server hands every loader and action (Remix's AppLoadContext). The HTTP server
 * builds it once at start; tests build their own. Loaders never open connections themselves.
 */
import type { Kysely } from 'kysely'
import type { Database } from '../db/schema.js'

export interface LeashServices {
  db: Kysely<Database>
}

declare module '@remix-run/node' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface AppLoadContext extends LeashServices {}
}
