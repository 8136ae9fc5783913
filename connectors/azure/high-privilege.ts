/**
 * High-risk Microsoft Graph application permissions and Entra directory roles, with why each
 * is dangerous and where that is documented. Maintained by hand: when Microsoft adds a
 * permission or role that can reach Global Administrator, add it here with its source.
 *
 * accessLevel: 'admin' = can take over the tenant directly or through one documented step;
 * 'permissions_management' = can grant rights (to itself or others); 'write' = broad data
 * write access worth flagging but not a path to tenant control on its own.
 */
import type { AccessLevel, EscalationPath } from '../contract.js'

export interface HighPrivilegeEntry {
  /** Permission value (e.g. RoleManagement.ReadWrite.Directory) or role display name. */
  name: string
  kind: 'graph_application_permission' | 'directory_role'
  /** App role id (permissions) or role template id (roles), as Microsoft publishes them. */
  id: string | null
  accessLevel: AccessLevel
  risk: string
  escalation: EscalationPath | null
  sources: string[]
}

const PERMISSIONS_REF = 'https://learn.microsoft.com/en-us/graph/permissions-reference'
const ROLES_REF = 'https://learn.microsoft.com/en-us/entra/identity/role-based-access-control/permissions-reference'
const PRIVILEGED_ROLES = 'https://learn.microsoft.com/en-us/entra/identity/role-based-access-control/privileged-roles-permissions'
const SPECTEROPS = 'https://posts.specterops.io/azure-privilege-escalation-via-azure-api-permissions-abuse-74aee1006f48'
const SPECTEROPS_SP = 'https://posts.specterops.io/azure-privilege-escalation-via-service-principal-abuse-210ae2be2a5'
const TIERING = 'https://github.com/emiliensocchi/azure-tiering (Tier-0 Microsoft Graph application permissions)'

function path(id: string, title: string, permissions: string[]): EscalationPath {
  return { id, title, permissions }
}

export const HIGH_PRIVILEGE: readonly HighPrivilegeEntry[] = [
  // ---- Microsoft Graph application permissions ----
  {
    name: 'RoleManagement.ReadWrite.Directory',
    kind: 'graph_application_permission',
    id: '9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8',
    accessLevel: 'admin',
    risk: 'Can assign any Entra directory role, including Global Administrator, to any principal — itself included.',
    escalation: path('azure.graph.role_management_to_global_admin', 'Assign itself Global Administrator', ['RoleManagement.ReadWrite.Directory']),
    sources: [PERMISSIONS_REF, SPECTEROPS, TIERING],
  },
  {
    name: 'AppRoleAssignment.ReadWrite.All',
    kind: 'graph_application_permission',
    id: '06b708a9-e830-4db3-a914-8e69da51d44f',
    accessLevel: 'permissions_management',
    risk: 'Can grant any application permission (e.g. RoleManagement.ReadWrite.Directory) to any service principal without admin consent.',
    escalation: path('azure.graph.app_role_assignment_self_grant', 'Grant itself RoleManagement.ReadWrite.Directory, then Global Administrator', [
      'AppRoleAssignment.ReadWrite.All',
      'RoleManagement.ReadWrite.Directory',
    ]),
    sources: [PERMISSIONS_REF, SPECTEROPS, TIERING],
  },
  {
    name: 'Application.ReadWrite.All',
    kind: 'graph_application_permission',
    id: '1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9',
    accessLevel: 'admin',
    risk: 'Can add a secret to any application or service principal and sign in as it, inheriting its permissions and roles.',
    escalation: path('azure.graph.add_credential_to_privileged_app', 'Add a secret to a more privileged application and act as it', ['Application.ReadWrite.All']),
    sources: [PERMISSIONS_REF, SPECTEROPS_SP, TIERING],
  },
  {
    name: 'Application.ReadWrite.OwnedBy',
    kind: 'graph_application_permission',
    id: '18a4783c-866b-4cc7-a460-3d5e5662c884',
    accessLevel: 'permissions_management',
    risk: 'Can add credentials to, and change, every application it owns; privileged if it owns privileged applications.',
    escalation: null,
    sources: [PERMISSIONS_REF, TIERING],
  },
  {
    name: 'Directory.ReadWrite.All',
    kind: 'graph_application_permission',
    id: '19dbc75e-c2e2-444c-a770-ec69d8559fc7',
    accessLevel: 'admin',
    risk: 'Broad write to users, groups and directory objects (group membership changes can grant access to everything those groups hold).',
    escalation: path('azure.graph.directory_write_group_membership', 'Add itself to privileged (non role-assignable) groups', ['Directory.ReadWrite.All']),
    sources: [PERMISSIONS_REF, TIERING],
  },
  {
    name: 'RoleAssignmentSchedule.ReadWrite.Directory',
    kind: 'graph_application_permission',
    id: 'dd199f4a-f148-40a4-a2ec-f0069cc799ec',
    accessLevel: 'admin',
    risk: 'Can create active or eligible PIM role assignments, including Global Administrator.',
    escalation: path('azure.graph.pim_assignment_to_global_admin', 'Create a PIM assignment to Global Administrator for itself', ['RoleAssignmentSchedule.ReadWrite.Directory']),
    sources: [PERMISSIONS_REF, TIERING],
  },
  {
    name: 'UserAuthenticationMethod.ReadWrite.All',
    kind: 'graph_application_permission',
    id: '50483e42-d915-4231-9639-7fdb7fd190e5',
    accessLevel: 'admin',
    risk: 'Can add a Temporary Access Pass or other sign-in method to any user, including Global Administrators, and sign in as them.',
    escalation: path('azure.graph.tap_on_global_admin', 'Add a Temporary Access Pass to a Global Administrator', ['UserAuthenticationMethod.ReadWrite.All']),
    sources: [PERMISSIONS_REF, TIERING],
  },
  {
    name: 'Domain.ReadWrite.All',
    kind: 'graph_application_permission',
    id: '7e05723c-0bb0-42da-be95-ae9f08a6e53c',
    accessLevel: 'admin',
    risk: 'Can add a federated domain and forge sign-ins for any user of it (federation backdoor).',
    escalation: path('azure.graph.federated_domain_backdoor', 'Federate a domain and sign in as any of its users', ['Domain.ReadWrite.All']),
    sources: [PERMISSIONS_REF, TIERING],
  },
  {
    name: 'Policy.ReadWrite.PermissionGrant',
    kind: 'graph_application_permission',
    id: 'a402ca1c-2696-4531-972d-6e5ee4aa11ea',
    accessLevel: 'permissions_management',
    risk: 'Can change who may consent to which permissions, opening a path to grant itself more.',
    escalation: null,
    sources: [PERMISSIONS_REF, TIERING],
  },
  {
    name: 'Policy.ReadWrite.ConditionalAccess',
    kind: 'graph_application_permission',
    id: '01c0a623-fc9b-48e9-b794-0756f8e8f067',
    accessLevel: 'permissions_management',
    risk: 'Can disable or weaken Conditional Access policies for every user.',
    escalation: null,
    sources: [PERMISSIONS_REF],
  },
  {
    name: 'Group.ReadWrite.All',
    kind: 'graph_application_permission',
    id: '62a82d76-70ea-41e2-9197-370581804d09',
    accessLevel: 'write',
    risk: 'Can change membership and ownership of every (non role-assignable) group.',
    escalation: null,
    sources: [PERMISSIONS_REF],
  },
  {
    name: 'User.ReadWrite.All',
    kind: 'graph_application_permission',
    id: '741f803b-c850-494e-b5df-cde7c675a1ca',
    accessLevel: 'write',
    risk: 'Can change any user profile property (but not passwords or roles of administrators).',
    escalation: null,
    sources: [PERMISSIONS_REF],
  },
  {
    name: 'Mail.ReadWrite',
    kind: 'graph_application_permission',
    id: 'e2a3a72e-5f79-4c64-b1b1-878b674786c9',
    accessLevel: 'write',
    risk: 'Reads and changes every mailbox in the organisation.',
    escalation: null,
    sources: [PERMISSIONS_REF],
  },
  {
    name: 'Files.ReadWrite.All',
    kind: 'graph_application_permission',
    id: '75359482-378d-4052-8f01-80520e7db3cd',
    accessLevel: 'write',
    risk: 'Reads and changes every file in OneDrive and SharePoint.',
    escalation: null,
    sources: [PERMISSIONS_REF],
  },
  {
    name: 'Sites.FullControl.All',
    kind: 'graph_application_permission',
    id: 'a82116e5-55eb-4c41-a434-62fe8a61c773',
    accessLevel: 'permissions_management',
    risk: 'Full control of every SharePoint site, including its permissions.',
    escalation: null,
    sources: [PERMISSIONS_REF],
  },
  // ---- Entra directory roles ----
  {
    name: 'Global Administrator',
    kind: 'directory_role',
    id: '62e90394-69f5-4237-9190-012177145e10',
    accessLevel: 'admin',
    risk: 'Full control of the tenant and, by elevation, of every Azure subscription.',
    escalation: null,
    sources: [ROLES_REF, PRIVILEGED_ROLES],
  },
  {
    name: 'Privileged Role Administrator',
    kind: 'directory_role',
    id: 'e8611ab8-c189-46e8-94e1-60213ab1f814',
    accessLevel: 'permissions_management',
    risk: 'Can assign any directory role, including Global Administrator, and grant any application permission.',
    escalation: path('azure.role.pra_to_global_admin', 'Assign itself Global Administrator', ['Privileged Role Administrator']),
    sources: [ROLES_REF, PRIVILEGED_ROLES],
  },
  {
    name: 'Privileged Authentication Administrator',
    kind: 'directory_role',
    id: '7be44c8a-adaf-4e2a-84d6-ab2649e08a13',
    accessLevel: 'admin',
    risk: 'Can reset passwords and sign-in methods of any user, Global Administrators included.',
    escalation: path('azure.role.pauth_reset_global_admin', 'Reset the credentials of a Global Administrator', ['Privileged Authentication Administrator']),
    sources: [ROLES_REF, PRIVILEGED_ROLES],
  },
  {
    name: 'Application Administrator',
    kind: 'directory_role',
    id: '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3',
    accessLevel: 'admin',
    risk: 'Can add credentials to any application and act as it, inheriting its permissions.',
    escalation: path('azure.role.app_admin_credential_abuse', 'Add a secret to a privileged application and act as it', ['Application Administrator']),
    sources: [ROLES_REF, PRIVILEGED_ROLES, SPECTEROPS_SP],
  },
  {
    name: 'Cloud Application Administrator',
    kind: 'directory_role',
    id: '158c047a-c907-4556-b7ef-446551a6b5f7',
    accessLevel: 'admin',
    risk: 'Can add credentials to any application and act as it, inheriting its permissions.',
    escalation: path('azure.role.cloud_app_admin_credential_abuse', 'Add a secret to a privileged application and act as it', ['Cloud Application Administrator']),
    sources: [ROLES_REF, PRIVILEGED_ROLES, SPECTEROPS_SP],
  },
  {
    name: 'Hybrid Identity Administrator',
    kind: 'directory_role',
    id: '8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2',
    accessLevel: 'admin',
    risk: 'Can change federation settings and so forge sign-ins.',
    escalation: null,
    sources: [ROLES_REF, PRIVILEGED_ROLES],
  },
  {
    name: 'Conditional Access Administrator',
    kind: 'directory_role',
    id: 'b1be1c3e-b65d-4f19-8427-f6fa0d97feb9',
    accessLevel: 'permissions_management',
    risk: 'Can disable Conditional Access for every user.',
    escalation: null,
    sources: [ROLES_REF, PRIVILEGED_ROLES],
  },
  {
    name: 'Security Administrator',
    kind: 'directory_role',
    id: '194ae4cb-b126-40b2-bd5b-6091b380977d',
    accessLevel: 'permissions_management',
    risk: 'Manages security policies and Identity Protection for the tenant.',
    escalation: null,
    sources: [ROLES_REF, PRIVILEGED_ROLES],
  },
  {
    name: 'User Administrator',
    kind: 'directory_role',
    id: 'fe930be7-5e62-47db-91af-98c3a49a38b1',
    accessLevel: 'permissions_management',
    risk: 'Resets passwords of non-administrators and manages groups and users.',
    escalation: null,
    sources: [ROLES_REF, PRIVILEGED_ROLES],
  },
  {
    name: 'Authentication Administrator',
    kind: 'directory_role',
    id: 'c4e39bd9-1100-46d3-8c65-fb160da0071f',
    accessLevel: 'permissions_management',
    risk: 'Resets sign-in methods of non-administrators.',
    escalation: null,
    sources: [ROLES_REF, PRIVILEGED_ROLES],
  },
  {
    name: 'Agent ID Administrator',
    kind: 'directory_role',
    id: null,
    accessLevel: 'permissions_management',
    risk: 'Manages every agent identity blueprint and agent identity, including their credentials.',
    escalation: null,
    sources: ['https://learn.microsoft.com/en-us/entra/identity/role-based-access-control/permissions-reference#agent-id-administrator'],
  },
]

const byPermission = new Map(HIGH_PRIVILEGE.filter((e) => e.kind === 'graph_application_permission').map((e) => [e.name.toLowerCase(), e]))
const byRoleName = new Map(HIGH_PRIVILEGE.filter((e) => e.kind === 'directory_role').map((e) => [e.name.toLowerCase(), e]))
const byRoleTemplate = new Map(HIGH_PRIVILEGE.filter((e) => e.kind === 'directory_role' && e.id).map((e) => [e.id as string, e]))

export function highPrivilegePermission(name: string): HighPrivilegeEntry | null {
  return byPermission.get(name.toLowerCase()) ?? null
}

export function highPrivilegeRole(nameOrTemplateId: string): HighPrivilegeEntry | null {
  return byRoleTemplate.get(nameOrTemplateId.toLowerCase()) ?? byRoleName.get(nameOrTemplateId.toLowerCase()) ?? null
}

/** Access level of a permission value not in the table, from its naming convention. */
export function permissionAccessLevel(value: string): AccessLevel {
  const known = highPrivilegePermission(value)
  if (known) return known.accessLevel
  const v = value.toLowerCase()
  if (/(^|\.)(fullcontrol|manage)(\.|$)/.test(v)) return 'permissions_management'
  if (/readwrite|\.write|\.send|\.create|\.delete|\.update|\.manage/.test(v)) return 'write'
  if (/^(user\.readbasic|openid|profile|email|offline_access)/.test(v)) return 'list'
  if (/\.read(\.|basic|$)|\.read$/.test(v) || v.endsWith('.read.all')) return 'read'
  // An unknown verb is treated as able to change data rather than risk under-reporting.
  return 'write'
}

export function roleAccessLevel(name: string, templateId: string | null): AccessLevel {
  const known = (templateId ? highPrivilegeRole(templateId) : null) ?? highPrivilegeRole(name)
  if (known) return known.accessLevel
  if (/reader$/i.test(name.trim())) return 'read'
  return 'write'
}
