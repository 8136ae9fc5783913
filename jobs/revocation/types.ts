/**
 * Shared types of the claims and revocation workflows: who acts, how errors reach the user,
 * and the dependencies a caller may replace (the provider registry, the clock, the rescan hook).
 */
import type { Kysely, Transaction } from 'kysely'
import type { Provider } from '../../connectors/contract.js'
import { getProvider } from '../../connectors/registry.js'
import { LeashError } from '../../cli/errors.js'
import type { AuditActor } from '../../db/audit.js'
import type { Database, Role } from '../../db/schema.js'
import type { Permission } from '../../app/utils/permissions.js'

export type Db = Kysely<Database> | Transaction<Database>

/**
 * Who is acting. Structurally the `AuthenticatedActor` of app/utils/auth.server.ts, so route
 * modules pass `user` through unchanged; kept narrow here so jobs and tests need no HTTP.
 */
export interface WorkflowActor {
  kind: 'user' | 'token'
  /** User id for a person, token id for an API token. */
  id: string
  /** The person: the user, or the user who created the token. */
  userId: string
  username: string
  displayName: string
  role: Role
  tokenId: string | null
  can(permission: Permission): boolean
}

/** A refusal or bad input the user can act on: HTTP status, what went wrong, what to do. */
export class WorkflowError extends LeashError {
  constructor(
    readonly status: 400 | 403 | 404 | 409,
    message: string,
    remedy: string,
  ) {
    super(message, remedy)
    this.name = 'WorkflowError'
  }
}

/** The part of a provider the revocation workflow uses. */
export type RevocationProvider = Pick<Provider<any>, 'settingsSchema' | 'revocationActions'>

export interface WorkflowDeps {
  /** Defaults to the registry's getProvider. Tests pass a provider of their own. */
  resolveProvider?: (name: string) => RevocationProvider
  /** Defaults to the wall clock. */
  now?: () => Date
  /** Asks for a rescan of a source after a revocation, so the next scan shows the result. */
  requestScan?: (request: { sourceId: string; requestedBy: string; trigger: 'manual' }) => Promise<unknown>
  /** Client address recorded in the audit trail. */
  ip?: string | null
}

export function resolveProviderWith(deps: WorkflowDeps): (name: string) => RevocationProvider {
  return deps.resolveProvider ?? ((name) => getProvider(name))
}

export function clock(deps: WorkflowDeps): Date {
  return deps.now ? deps.now() : new Date()
}

export function auditActor(actor: WorkflowActor | null): AuditActor {
  if (!actor) return { type: 'system', id: null, display: 'Leash' }
  // Same shape as app/utils/auth.server.ts auditActor, so the trail reads alike everywhere.
  if (actor.kind === 'token') return { type: 'token', id: actor.tokenId ?? actor.id, display: `token ${actor.displayName} (by ${actor.username})` }
  return { type: 'user', id: actor.userId, display: actor.username }
}

export function requireReason(reason: string | null | undefined, what: string): string {
  const trimmed = (reason ?? '').trim()
  if (trimmed.length < 3) throw new WorkflowError(400, `A reason is required to ${what}.`, 'Write a short reason (at least 3 characters); it is kept in the audit trail.')
  if (trimmed.length > 2000) throw new WorkflowError(400, `The reason to ${what} is too long (${trimmed.length} characters).`, 'Keep the reason under 2,000 characters.')
  return trimmed
}
