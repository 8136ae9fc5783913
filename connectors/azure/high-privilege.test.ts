import { describe, expect, it } from 'vitest'
import { HIGH_PRIVILEGE, highPrivilegePermission, highPrivilegeRole, permissionAccessLevel, roleAccessLevel } from './high-privilege.js'

describe('high-privilege table', () => {
  it('has a source and a risk for every entry, and unique names', () => {
    for (const e of HIGH_PRIVILEGE) {
      expect(e.sources.length, e.name).toBeGreaterThan(0)
      for (const s of e.sources) expect(s, e.name).toMatch(/^https:\/\//)
      expect(e.risk.length, e.name).toBeGreaterThan(20)
    }
    expect(new Set(HIGH_PRIVILEGE.map((e) => `${e.kind}:${e.name}`)).size).toBe(HIGH_PRIVILEGE.length)
  })

  it('maps the tenant-takeover permissions and roles to admin or permissions_management', () => {
    for (const name of ['RoleManagement.ReadWrite.Directory', 'AppRoleAssignment.ReadWrite.All', 'Application.ReadWrite.All', 'Directory.ReadWrite.All']) {
      expect(['admin', 'permissions_management'], name).toContain(highPrivilegePermission(name)?.accessLevel)
    }
    expect(highPrivilegeRole('Global Administrator')?.accessLevel).toBe('admin')
    expect(highPrivilegeRole('62e90394-69f5-4237-9190-012177145e10')?.name).toBe('Global Administrator')
    expect(highPrivilegeRole('Privileged Role Administrator')?.accessLevel).toBe('permissions_management')
    expect(highPrivilegePermission('rolemanagement.readwrite.directory')?.escalation?.id).toBe('azure.graph.role_management_to_global_admin')
  })

  it('derives an access level for permissions and roles not in the table', () => {
    expect(permissionAccessLevel('Sites.Read.All')).toBe('read')
    expect(permissionAccessLevel('Calendars.ReadWrite')).toBe('write')
    expect(permissionAccessLevel('Mail.Send')).toBe('write')
    expect(permissionAccessLevel('openid')).toBe('list')
    expect(permissionAccessLevel('Contoso.DoSomething')).toBe('write')
    expect(roleAccessLevel('Global Reader', 'f2ef992c-3afb-46b9-b7cf-a126ee74c451')).toBe('read')
    expect(roleAccessLevel('Helpdesk Administrator', null)).toBe('write')
  })
})
