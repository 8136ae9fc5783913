/**
 * User administration (admin only): create local users with a one-time password, change
 * roles, disable (ending every session at once) and re-enable, reset passwords. Each change
 * and its audit event are one transaction. The last enabled admin cannot be disabled or demoted.
 */
import type { Kysely, Transaction } from 'kysely'
import { appendAuditEvent, type AuditActor } from '../../db/audit.js'
import type { Database, Role } from '../../db/schema.js'
import { generateOneTimePassword, hashPassword, normalizeUsername } from './local-auth.server.js'
import { destroyUserSessions } from './session.server.js'

export { ROLES } from './auth-constants.js'

export class UserAdminError extends Error {}

export async function listUsers(db: Kysely<Database>) {
  return db
    .selectFrom('users')
    .leftJoin('sessions', 'sessions.user_id', 'users.id')
    .select((eb) => [
      'users.id',
      'users.username',
      'users.display_name',
      'users.email',
      'users.role',
      'users.oidc_issuer',
      'users.disabled_at',
      'users.must_change_password',
      'users.last_sign_in_at',
      'users.created_at',
      eb.fn.count<number>('sessions.id_hash').as('sessions'),
    ])
    .groupBy('users.id')
    .orderBy('users.username')
    .execute()
}

async function enabledAdmins(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('role', '=', 'admin').where('disabled_at', 'is', null).executeTakeFirstOrThrow()
  return Number(row.n)
}

export async function createLocalUser(
  db: Kysely<Database>,
  actor: AuditActor,
  input: { username: string; displayName: string; role: Role; email?: string | null },
  ip: string | null,
): Promise<{ id: string; username: string; oneTimePassword: string }> {
  const username = normalizeUsername(input.username)
  if (!/^[a-z0-9][a-z0-9._@-]{1,63}$/.test(username)) throw new UserAdminError('Usernames are 2 to 64 characters: letters, digits, and . _ @ -, starting with a letter or digit.')
  const exists = await db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirst()
  if (exists) throw new UserAdminError(`The username "${username}" is taken.`)
  const oneTimePassword = generateOneTimePassword()
  const passwordHash = await hashPassword(oneTimePassword)
  const id = await db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('users')
      .values({ username, display_name: input.displayName.trim() || username, email: input.email ?? null, role: input.role, password_hash: passwordHash, must_change_password: true })
      .returning('id')
      .executeTakeFirstOrThrow()
    await appendAuditEvent(trx, { actor, action: 'user.created', object: { type: 'user', id: row.id }, after: { username, role: input.role, must_change_password: true }, ip })
    return row.id
  })
  return { id, username, oneTimePassword }
}

async function loadUser(db: Kysely<Database>, userId: string) {
  const user = await db.selectFrom('users').select(['id', 'username', 'email', 'role', 'disabled_at', 'password_hash']).where('id', '=', userId).executeTakeFirst()
  if (!user) throw new UserAdminError('No such user; it may have been removed. Reload the page.')
  return user
}

export async function setUserRole(db: Kysely<Database>, actor: AuditActor, userId: string, role: Role, ip: string | null): Promise<void> {
  const user = await loadUser(db, userId)
  if (user.role === role) return
  if (user.role === 'admin' && user.disabled_at === null && (await enabledAdmins(db)) <= 1) throw new UserAdminError('This is the last enabled admin; make someone else admin first.')
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('users').set({ role }).where('id', '=', userId).execute()
    await appendAuditEvent(trx, { actor, action: 'user.role_changed', object: { type: 'user', id: userId }, before: { role: user.role }, after: { role }, ip })
  })
}

/** Disables a user and ends all their sessions at once; their API tokens stop working too. */
export async function disableUser(db: Kysely<Database>, actor: AuditActor, userId: string, ip: string | null): Promise<{ sessionsEnded: number }> {
  const user = await loadUser(db, userId)
  if (actor.id === userId) throw new UserAdminError('You cannot disable your own account.')
  if (user.disabled_at !== null) return { sessionsEnded: 0 }
  if (user.role === 'admin' && (await enabledAdmins(db)) <= 1) throw new UserAdminError('This is the last enabled admin; make someone else admin first.')
  return db.transaction().execute(async (trx) => {
    await trx.updateTable('users').set({ disabled_at: new Date() }).where('id', '=', userId).execute()
    await markIdentitiesOwnedBy(trx, user)
    const sessionsEnded = await destroyUserSessions(trx, userId)
    await appendAuditEvent(trx, { actor, action: 'user.disabled', object: { type: 'user', id: userId }, before: { disabled: false }, after: { disabled: true, sessions_ended: sessionsEnded }, ip })
    return { sessionsEnded }
  })
}

/**
 * Records that the identities this person answers for are to be assessed again: an owner hint
 * that names them, or a claim or handover they hold. "Owner disabled" then opens (or closes) at
 * the next scoring pass, not only at the next daily re-evaluation (docs/decisions/035). The pass
 * marks them (scoring/scope-changes.ts), so the request does not wait on the person's identities,
 * however many (docs/decisions/037).
 */
async function markIdentitiesOwnedBy(trx: Transaction<Database>, user: { id: string; username: string; email: string | null }): Promise<void> {
  const refs = [...new Set([user.username, user.email].flatMap((ref) => (ref ? [ref.trim().toLowerCase()] : [])))]
  await trx
    .insertInto('scoring_scope_changes')
    .values([...refs.map((ref) => ({ scope_type: 'owner' as const, scope_value: ref })), { scope_type: 'claim_holder' as const, scope_value: user.id }])
    .execute()
}

export async function enableUser(db: Kysely<Database>, actor: AuditActor, userId: string, ip: string | null): Promise<void> {
  const user = await loadUser(db, userId)
  if (user.disabled_at === null) return
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('users').set({ disabled_at: null }).where('id', '=', userId).execute()
    await markIdentitiesOwnedBy(trx, user)
    await appendAuditEvent(trx, { actor, action: 'user.enabled', object: { type: 'user', id: userId }, before: { disabled: true }, after: { disabled: false }, ip })
  })
}

export async function resetUserPassword(db: Kysely<Database>, actor: AuditActor, userId: string, ip: string | null): Promise<{ oneTimePassword: string; username: string }> {
  const user = await loadUser(db, userId)
  if (user.password_hash === null) throw new UserAdminError('This user signs in through single sign-on and has no Leash password.')
  const oneTimePassword = generateOneTimePassword()
  const passwordHash = await hashPassword(oneTimePassword)
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('users').set({ password_hash: passwordHash, must_change_password: true }).where('id', '=', userId).execute()
    await destroyUserSessions(trx, userId)
    await appendAuditEvent(trx, { actor, action: 'user.password_reset', object: { type: 'user', id: userId }, after: { must_change_password: true }, ip })
  })
  return { oneTimePassword, username: user.username }
}
