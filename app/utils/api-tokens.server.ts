/**
 * API tokens for automation (SOAR, scripts): `Authorization: Bearer leash_<prefix>_<secret>`.
 * The prefix is a public random identifier shown in lists and logs; the secret is 256 random
 * bits. Only the SHA-256 of the whole token is stored, so it is shown once, at creation.
 * Every token is scoped and expires; its effective permissions are its scopes intersected
 * with its creator's current role, and never include an approval.
 */
import { randomBytes } from 'node:crypto'
import type { Kysely, Transaction } from 'kysely'
import { json } from '../../db/connection.js'
import type { Database, Role } from '../../db/schema.js'
import { MAX_TOKEN_DAYS } from './auth-constants.js'
import { isPermission, tokenMayHold, type Permission } from './permissions.js'
import { sha256Hex } from './session.server.js'

type Db = Kysely<Database> | Transaction<Database>

export const TOKEN_PATTERN = /^leash_([A-Za-z0-9]{8})_([A-Za-z0-9_-]{43})$/
export { MAX_TOKEN_DAYS } from './auth-constants.js'

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

function randomAlphanumeric(length: number): string {
  // Rejection sampling keeps every character equally likely.
  let out = ''
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHANUMERIC[byte % 62]
    }
  }
  return out
}

export class TokenInputError extends Error {}

export async function createApiToken(
  db: Db,
  input: { name: string; scopes: readonly string[]; expiresAt: Date; createdBy: string },
): Promise<{ id: string; token: string; prefix: string }> {
  const name = input.name.trim()
  if (name === '' || name.length > 100) throw new TokenInputError('Give the token a name of 1 to 100 characters, e.g. "SOAR playbook".')
  if (input.scopes.length === 0) throw new TokenInputError('Choose at least one scope.')
  for (const scope of input.scopes) {
    if (!isPermission(scope)) throw new TokenInputError(`"${scope}" is not a Leash permission.`)
    if (!tokenMayHold(scope)) throw new TokenInputError(`A token cannot hold "${scope}": approvals and confirmations need a person.`)
  }
  const now = Date.now()
  if (!(input.expiresAt.getTime() > now)) throw new TokenInputError('The expiry must be in the future.')
  if (input.expiresAt.getTime() > now + MAX_TOKEN_DAYS * 86_400_000) throw new TokenInputError(`A token may live at most ${MAX_TOKEN_DAYS} days.`)
  const prefix = randomAlphanumeric(8)
  const token = `leash_${prefix}_${randomBytes(32).toString('base64url')}`
  const row = await db
    .insertInto('api_tokens')
    .values({
      name,
      token_hash: sha256Hex(token),
      token_prefix: `leash_${prefix}`,
      scopes: json([...new Set(input.scopes)].sort()),
      created_by: input.createdBy,
      expires_at: input.expiresAt,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  return { id: row.id, token, prefix: `leash_${prefix}` }
}

export interface ActiveToken {
  id: string
  name: string
  prefix: string
  scopes: Permission[]
  creator: { id: string; username: string; display_name: string; role: Role }
}

/** The token's record when it is well-formed, known, unexpired, unrevoked and its creator is enabled. */
export async function findActiveToken(db: Kysely<Database>, token: string): Promise<ActiveToken | null> {
  if (!TOKEN_PATTERN.test(token)) return null
  const row = await db
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.id', 'api_tokens.created_by')
    .select([
      'api_tokens.id',
      'api_tokens.name',
      'api_tokens.token_prefix',
      'api_tokens.scopes',
      'api_tokens.expires_at',
      'api_tokens.revoked_at',
      'api_tokens.last_used_at',
      'users.id as user_id',
      'users.username',
      'users.display_name',
      'users.role',
      'users.disabled_at',
    ])
    .where('api_tokens.token_hash', '=', sha256Hex(token))
    .executeTakeFirst()
  if (!row || row.revoked_at !== null || row.disabled_at !== null || new Date(row.expires_at).getTime() <= Date.now()) return null
  if (!row.last_used_at || Date.now() - new Date(row.last_used_at).getTime() > 60_000) {
    await db.updateTable('api_tokens').set({ last_used_at: new Date() }).where('id', '=', row.id).execute()
  }
  return {
    id: row.id,
    name: row.name,
    prefix: row.token_prefix,
    scopes: (row.scopes as string[]).filter(isPermission),
    creator: { id: row.user_id, username: row.username, display_name: row.display_name, role: row.role },
  }
}

export async function revokeApiToken(db: Db, id: string): Promise<boolean> {
  const result = await db.updateTable('api_tokens').set({ revoked_at: new Date() }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

export async function listApiTokens(db: Db) {
  return db
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.id', 'api_tokens.created_by')
    .select([
      'api_tokens.id',
      'api_tokens.name',
      'api_tokens.token_prefix',
      'api_tokens.scopes',
      'api_tokens.created_at',
      'api_tokens.expires_at',
      'api_tokens.last_used_at',
      'api_tokens.revoked_at',
      'users.username as created_by_username',
    ])
    .orderBy('api_tokens.created_at', 'desc')
    .execute()
}
