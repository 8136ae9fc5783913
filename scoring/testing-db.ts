/**
 * Builders for scoring tests on PostgreSQL: a source, and an AWS user with one access key, one
 * grant and (unless `owner` is null) an owner tag, changed per test through its seed.
 */
import type { Kysely } from 'kysely'
import { json } from '../db/connection.js'
import type { Database } from '../db/schema.js'
import { daysAgo } from './testing.js'

export async function storeSource(db: Kysely<Database>, name: string, thresholds: Record<string, unknown> = {}): Promise<string> {
  const row = await db
    .insertInto('sources')
    .values({ provider: 'aws', name, thresholds: json(thresholds) })
    .returning('id')
    .executeTakeFirstOrThrow()
  return row.id
}

export interface StoredSeed {
  name: string
  tags?: Record<string, string>
  keyAgeDays?: number
  admin?: boolean
  owner?: string | null
  signals?: unknown[]
  unreadable?: unknown[]
}

export async function storeIdentity(db: Kysely<Database>, sourceId: string, seed: StoredSeed): Promise<number> {
  const row = await db
    .insertInto('identities')
    .values({
      source_id: sourceId,
      provider: 'aws',
      kind: 'user',
      external_id: `arn:aws:iam::123456789012:user/${seed.name}`,
      display_name: seed.name,
      account_id: '123456789012',
      tags: json(seed.tags ?? {}),
      created_at: daysAgo(400),
      last_used_at: daysAgo(1),
      last_used_known: true,
      agent_reasons: json(seed.signals ?? []),
      posture_inputs: json({
        escalationPaths: [],
        unusedGrants: [],
        environments: ['production'],
        workloads: ['billing'],
        monitoring: { usageData: 'available', runtimeLogging: null },
        federationPossible: false,
        unreadable: seed.unreadable ?? [],
      }),
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  await db
    .insertInto('credentials')
    .values({
      identity_id: row.id,
      external_id: `AKIA${seed.name.toUpperCase()}`,
      type: 'access_key',
      status: 'active',
      created_at: daysAgo(seed.keyAgeDays ?? 10),
      expires_at: daysAgo(-100),
      last_used_at: daysAgo(1),
      last_used_known: true,
      is_static: true,
    })
    .execute()
  await db
    .insertInto('entitlements')
    .values({
      identity_id: row.id,
      action: seed.admin ? '*' : 's3:GetObject',
      resource: seed.admin ? '*' : 'arn:aws:s3:::reports/*',
      access_level: seed.admin ? 'admin' : 'read',
      source_kind: 'managed_policy',
      source_ref: seed.admin ? 'arn:aws:iam::aws:policy/AdministratorAccess' : 'arn:aws:iam::123456789012:policy/reports',
    })
    .execute()
  if (seed.owner !== null) {
    await db
      .insertInto('identity_owners')
      .values({
        identity_id: row.id,
        owner_ref: seed.owner ?? 'alice@example.com',
        role: 'owner',
        kind: 'person',
        source: 'tag',
        display_name: null,
        active: null,
      })
      .execute()
  }
  return row.id
}
