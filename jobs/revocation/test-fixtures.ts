/**
 * Test data for the claims and revocation workflows: users with roles, actors acting as
 * them (or as their API tokens), and a source with one identity and its credentials.
 */
import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import { roleHas, type Permission } from '../../app/utils/permissions.js'
import { json } from '../../db/connection.js'
import type { Database, Role } from '../../db/schema.js'
import type { WorkflowActor } from './types.js'

export interface TestUser {
  id: string
  username: string
  email: string
  displayName: string
  role: Role
}

export async function createUser(db: Kysely<Database>, role: Role, name?: string): Promise<TestUser> {
  const username = name ?? `${role}-${randomBytes(3).toString('hex')}`
  const row = await db
    .insertInto('users')
    .values({ username, email: `${username}@example.test`, display_name: `${username} (${role})`, role })
    .returning(['id', 'username', 'email', 'display_name', 'role'])
    .executeTakeFirstOrThrow()
  return { id: row.id, username: row.username, email: row.email!, displayName: row.display_name, role: row.role }
}

export function actorOf(user: TestUser): WorkflowActor {
  return {
    kind: 'user',
    id: user.id,
    userId: user.id,
    username: user.username,
    displayName: user.displayName,
    role: user.role,
    tokenId: null,
    can: (p: Permission) => roleHas(user.role, p),
  }
}

export async function tokenActorOf(db: Kysely<Database>, user: TestUser, scopes: Permission[]): Promise<WorkflowActor> {
  const token = await db
    .insertInto('api_tokens')
    .values({
      name: 'soar',
      token_hash: randomBytes(32).toString('hex'),
      token_prefix: 'leash_test',
      scopes: json(scopes),
      created_by: user.id,
      expires_at: new Date(Date.now() + 86_400_000),
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  return {
    kind: 'token',
    id: token.id,
    userId: user.id,
    username: user.username,
    displayName: user.displayName,
    role: user.role,
    tokenId: token.id,
    can: (p: Permission) => scopes.includes(p) && roleHas(user.role, p),
  }
}

export interface SeededIdentity {
  sourceId: string
  identityId: number
  credentialIds: number[]
}

export async function seedIdentity(
  db: Kysely<Database>,
  options: {
    provider?: string
    settings?: Record<string, unknown>
    kind?: string
    name?: string
    externalId?: string
    keys?: string[]
    tags?: Record<string, string>
    accessLevel?: 'read' | 'write' | 'admin' | 'permissions_management'
    isAgent?: boolean
    ownerStatus?: 'none' | 'valid' | 'invalid' | 'unknown'
    sourceId?: string
  } = {},
): Promise<SeededIdentity> {
  const suffix = randomBytes(3).toString('hex')
  const sourceId =
    options.sourceId ??
    (
      await db
        .insertInto('sources')
        .values({ provider: options.provider ?? 'test', name: `source-${suffix}`, settings: json(options.settings ?? { accountId: '123456789012' }) })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id
  const name = options.name ?? `agent-${suffix}`
  const identity = await db
    .insertInto('identities')
    .values({
      source_id: sourceId,
      provider: options.provider ?? 'test',
      kind: options.kind ?? 'user',
      external_id: options.externalId ?? `arn:aws:iam::123456789012:user/${name}`,
      display_name: name,
      account_id: '123456789012',
      tags: json(options.tags ?? {}),
      is_agent: options.isAgent ?? true,
      owner_status: options.ownerStatus ?? 'none',
      last_used_known: true,
      last_used_at: new Date(Date.now() - 3_600_000),
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  const credentialIds: number[] = []
  for (const key of options.keys ?? []) {
    const credential = await db
      .insertInto('credentials')
      .values({ identity_id: identity.id, external_id: key, type: 'access_key', status: 'active', last_used_known: true, last_used_at: new Date(Date.now() - 2 * 86_400_000) })
      .returning('id')
      .executeTakeFirstOrThrow()
    credentialIds.push(credential.id)
  }
  if (options.accessLevel) {
    await db
      .insertInto('entitlements')
      .values({ identity_id: identity.id, action: options.accessLevel === 'admin' ? '*' : 's3:GetObject', resource: '*', access_level: options.accessLevel, source_kind: 'managed_policy', source_ref: 'arn:aws:iam::aws:policy/Test' })
      .execute()
  }
  return { sourceId, identityId: identity.id, credentialIds }
}
