/**
 * The demo sources in the `sources` table: one per running stand-in, named "Demo · <provider>",
 * flagged is_demo with origin 'demo', and pointed at the stand-in's current endpoints on every
 * start (upsert by name). Real sources are never touched here.
 */
import type { Kysely, Transaction } from 'kysely'
import { DEPARTED_OWNERS_SETTING } from '../../scoring/load.js'
import { appendAuditEvent } from '../../db/audit.js'
import { json } from '../../db/connection.js'
import type { Database, Source } from '../../db/schema.js'
import { LeashError } from '../../cli/errors.js'

export const DEMO_SOURCE_PREFIX = 'Demo · '
export const DEMO_ACTOR = { type: 'system' as const, id: null, display: 'demo estate' }

export function demoSourceName(providerDisplayName: string): string {
  return `${DEMO_SOURCE_PREFIX}${providerDisplayName}`
}

export interface DemoSourceInput {
  provider: string
  displayName: string
  settings: unknown
  /** Names (never values) of the environment variables the stand-in's credentials are in. */
  envNames: string[]
}

/** Sources that are not part of the demo (config, Sources page). Their presence turns the demo off. */
export async function countRealSources(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('sources')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('is_demo', '=', false)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

export async function listDemoSources(db: Kysely<Database>): Promise<Source[]> {
  return db.selectFrom('sources').selectAll().where('is_demo', '=', true).orderBy('name').execute()
}

/** Scheduled scans of demo sources stop while their stand-ins are not running (and resume when they are). */
export async function setDemoSourcesEnabled(db: Kysely<Database>, enabled: boolean): Promise<number> {
  const result = await db
    .updateTable('sources')
    .set({ enabled, updated_at: new Date() })
    .where('is_demo', '=', true)
    .where('enabled', '=', !enabled)
    .executeTakeFirst()
  return Number(result.numUpdatedRows)
}

/**
 * Creates or updates one demo source per input, in one transaction, and records the departed
 * owners the seeds declare. Returns the sources in input order.
 */
export async function upsertDemoSources(
  db: Kysely<Database>,
  inputs: readonly DemoSourceInput[],
  options: { departedOwners?: readonly string[] } = {},
): Promise<{ sources: Source[]; created: string[] }> {
  return db.transaction().execute(async (trx) => {
    const sources: Source[] = []
    const created: string[] = []
    for (const input of inputs) {
      const name = demoSourceName(input.displayName)
      const existing = await trx.selectFrom('sources').select(['id', 'is_demo']).where('name', '=', name).executeTakeFirst()
      if (existing && !existing.is_demo) {
        throw new LeashError(
          `A source named "${name}" exists and is not a demo source.`,
          'Rename it; names starting with "Demo · " are kept for the demo estate.',
        )
      }
      const values = {
        provider: input.provider,
        settings: json(input.settings),
        credential_ref: json({ kind: 'env', variables: input.envNames }),
        enabled: true,
        is_demo: true,
        origin: 'demo',
        updated_at: new Date(),
      }
      const row = existing
        ? await trx.updateTable('sources').set(values).where('id', '=', existing.id).returningAll().executeTakeFirstOrThrow()
        : await trx
            .insertInto('sources')
            .values({ name, ...values })
            .returningAll()
            .executeTakeFirstOrThrow()
      if (!existing) created.push(name)
      sources.push(row)
    }
    const addedOwners = await addDepartedOwners(trx, options.departedOwners ?? [])
    if (created.length > 0 || addedOwners.length > 0) {
      await appendAuditEvent(trx, {
        actor: DEMO_ACTOR,
        action: 'demo.registered',
        object: { type: 'source', id: 'demo' },
        after: { sourcesCreated: created, departedOwnersAdded: addedOwners },
        reason: 'No real source is configured: Leash started its demo estate (stand-ins on loopback). Set LEASH_DEMO=0 to turn it off.',
      })
    }
    return { sources, created }
  })
}

/**
 * Adds references to the `departed_owners` setting (a list the scoring engine reads), keeping
 * what is there. Each added entry says it came from the demo estate.
 */
export async function addDepartedOwners(db: Kysely<Database> | Transaction<Database>, refs: readonly string[]): Promise<string[]> {
  if (refs.length === 0) return []
  const row = await db.selectFrom('settings').select('value').where('key', '=', DEPARTED_OWNERS_SETTING).forUpdate().executeTakeFirst()
  if (row && !Array.isArray(row.value)) {
    throw new LeashError(
      `The setting "${DEPARTED_OWNERS_SETTING}" is not a list, so the demo cannot add its departed owner.`,
      'Store a JSON array of owner references there (or delete the setting).',
    )
  }
  const current = (row?.value as unknown[] | undefined) ?? []
  const known = new Set(
    current
      .map((entry) => (typeof entry === 'string' ? entry : (entry as { ref?: unknown })?.ref))
      .filter((ref): ref is string => typeof ref === 'string')
      .map((ref) => ref.trim().toLowerCase()),
  )
  const added = [...new Set(refs)].filter((ref) => !known.has(ref.trim().toLowerCase()))
  if (added.length === 0) return []
  const value = [...current, ...added.map((ref) => ({ ref, source: 'demo', note: 'Left the company (demo estate).' }))]
  await db
    .insertInto('settings')
    .values({ key: DEPARTED_OWNERS_SETTING, value: json(value), updated_by: 'demo' })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: json(value), updated_at: new Date(), updated_by: 'demo' }))
    .execute()
  return added
}
