/** Limits shared by the server checks and the forms that show them (safe for the browser bundle). */
import type { Role } from '../../db/schema.js'

export const PASSWORD_MIN_LENGTH = 12
export const PASSWORD_MAX_LENGTH = 256
/** Longest lifetime an API token may be given. */
export const MAX_TOKEN_DAYS = 366
export const ROLES: readonly Role[] = ['viewer', 'owner', 'security_lead', 'operator', 'admin']
export const ROLE_LABELS: Record<Role, string> = { viewer: 'Viewer', owner: 'Owner', security_lead: 'Security lead', operator: 'Operator', admin: 'Admin' }
