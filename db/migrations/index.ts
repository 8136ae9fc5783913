/**
 * Every migration, by sortable name. A static list rather than a folder scan, so the same
 * set runs from the CLI (tsx) and from the bundled server alike.
 */
import type { Migration } from 'kysely'
import * as initial from './2026-11-21T0000_initial.js'

export const migrations: Record<string, Migration> = {
  '2026-11-21T0000_initial': initial,
}
