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
