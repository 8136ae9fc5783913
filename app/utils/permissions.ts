/**
 * Typed permissions, `action:entity:access` (Epic Stack style), and what each role holds.
 * The server checks these in every loader and action; the client only uses them to hide
 * controls a user cannot use.
 */
import type { Role } from '../../db/schema.js'

export type PermissionAction = 'read' | 'create' | 'update' | 'delete' | 'approve' | 'execute' | 'claim' | 'confirm' | 'export' | 'scan'
export type PermissionEntity =
  | 'posture'
  | 'identity'
  | 'finding'
  | 'classification'
  | 'claim'
  | 'revocation'
  | 'source'
  | 'audit'
  | 'user'
  | 'api_token'
  | 'setting'
export type PermissionAccess = 'own' | 'any'
export type Permission = `${PermissionAction}:${PermissionEntity}:${PermissionAccess}`

const VIEWER: Permission[] = ['read:posture:any', 'read:identity:any', 'read:finding:any', 'read:source:any', 'export:identity:any']
const OWNER: Permission[] = [...VIEWER, 'claim:identity:any', 'update:claim:own', 'read:claim:own', 'update:finding:own', 'create:revocation:own', 'read:revocation:own']
const SECURITY_LEAD: Permission[] = [
  ...OWNER,
  'read:claim:any',
  'confirm:claim:any',
  'update:finding:any',
  'update:classification:any',
  'read:revocation:any',
  'create:revocation:any',
  'approve:revocation:any',
  'read:audit:any',
  'export:audit:any',
  'scan:source:any',
  'read:setting:any',
]
const OPERATOR: Permission[] = [
  ...VIEWER,
  'read:claim:any',
  'read:revocation:any',
  'create:revocation:any',
  'approve:revocation:any',
  'execute:revocation:any',
  'scan:source:any',
  'read:audit:any',
]
const ADMIN: Permission[] = [
  ...new Set<Permission>([
    ...SECURITY_LEAD,
    ...OPERATOR,
    'create:source:any',
    'update:source:any',
    'delete:source:any',
    'read:user:any',
    'create:user:any',
    'update:user:any',
    'create:api_token:any',
    'read:api_token:any',
    'delete:api_token:any',
    'update:setting:any',
  ]),
]

export const ROLE_PERMISSIONS: Record<Role, ReadonlySet<Permission>> = {
  viewer: new Set(VIEWER),
  owner: new Set(OWNER),
  security_lead: new Set(SECURITY_LEAD),
  operator: new Set(OPERATOR),
  admin: new Set(ADMIN),
}

export function roleHas(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].has(permission)
}

/** Every permission some role holds, in a stable order (for forms and validation). */
export const ALL_PERMISSIONS: readonly Permission[] = [...new Set(Object.values(ROLE_PERMISSIONS).flatMap((set) => [...set]))].sort()

export function isPermission(value: string): value is Permission {
  return (ALL_PERMISSIONS as readonly string[]).includes(value)
}

/**
 * Whether an API token may ever hold a permission. Approvals need a person: a token can
 * request a revocation but never approve one (nor confirm a claim), whatever its creator holds.
 */
export function tokenMayHold(permission: Permission): boolean {
  return !permission.startsWith('approve:') && !permission.startsWith('confirm:')
}

/** The permissions a token may be given: everything except approvals and confirmations. */
export const TOKEN_GRANTABLE_PERMISSIONS: readonly Permission[] = ALL_PERMISSIONS.filter(tokenMayHold)

/**
 * What an actor can do: a user's role, or for an API token its scopes intersected with its
 * creator's current role (so demoting the creator shrinks the token), never an approval.
 */
export function effectivePermissions(role: Role, tokenScopes: readonly string[] | null): ReadonlySet<Permission> {
  const rolePermissions = ROLE_PERMISSIONS[role]
  if (tokenScopes === null) return rolePermissions
  return new Set(tokenScopes.filter((scope): scope is Permission => isPermission(scope) && tokenMayHold(scope) && rolePermissions.has(scope)))
}
