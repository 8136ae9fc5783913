/**
 * The Microsoft Graph objects the connector reads, parsed leniently: Graph returns only the
 * properties asked for, documentation examples carry placeholders ("Boolean", "String
 * (timestamp)") and odd offsets ("-8:00"), so a field of the wrong type becomes null rather
 * than failing the page. Only an object without its id is rejected (it cannot be stored).
 * Unknown properties are dropped, which is also how `secretText` never travels further.
 */
import { z } from 'zod'

/** Parses Graph DateTimeOffset strings, including the docs' non-ISO "-8:00" offsets. */
export function parseGraphDate(value: unknown): Date | null {
  if (typeof value !== 'string' || value.trim() === '') return null
  let s = value.trim()
  // Offsets like -8:00 or +530 → -08:00 / +05:30.
  s = s.replace(/([+-])(\d{1,2}):?(\d{2})$/, (_m, sign: string, h: string, m: string) => `${sign}${h.padStart(2, '0')}:${m}`)
  // More than millisecond precision ("35.2742618Z") is cut to milliseconds.
  s = s.replace(/(\.\d{3})\d+/, '$1')
  const t = Date.parse(s)
  if (Number.isNaN(t)) return null
  const d = new Date(t)
  // 9999-12-31 is Graph's "never expires" and stays a real date; years before 1900 are junk.
  return d.getUTCFullYear() < 1900 ? null : d
}

const str = z.string().nullish().catch(null).transform((v) => v ?? null)
const bool = z.boolean().nullish().catch(null).transform((v) => v ?? null)
const strArray = z
  .array(z.unknown())
  .nullish()
  .catch(null)
  .transform((v) => (v ?? []).filter((x): x is string => typeof x === 'string'))
const id = z.string().min(1)
function list<T extends z.ZodTypeAny>(item: T) {
  // Items that do not parse (no id) are dropped; the rest of the list survives.
  return z
    .array(z.unknown())
    .nullish()
    .catch(null)
    .transform((v) => (v ?? []).flatMap((x) => {
      const r = item.safeParse(x)
      return r.success ? [r.data as z.output<T>] : []
    }))
}

export const passwordCredentialSchema = z.object({
  keyId: id,
  displayName: str,
  hint: str,
  startDateTime: str,
  endDateTime: str,
})
export type PasswordCredential = z.output<typeof passwordCredentialSchema>

export const keyCredentialSchema = z.object({
  keyId: id,
  displayName: str,
  type: str,
  usage: str,
  startDateTime: str,
  endDateTime: str,
})
export type KeyCredential = z.output<typeof keyCredentialSchema>

export const federatedCredentialSchema = z.object({ id, name: str, issuer: str, subject: str })

const odataType = z
  .string()
  .nullish()
  .catch(null)
  .transform((v) => (v ?? null))

export const applicationSchema = z.object({
  '@odata.type': odataType,
  id,
  appId: str,
  displayName: str,
  description: str,
  createdDateTime: str,
  signInAudience: str,
  publisherDomain: str,
  notes: str,
  serviceManagementReference: str,
  tags: strArray,
  identifierUris: strArray,
  passwordCredentials: list(passwordCredentialSchema),
  keyCredentials: list(keyCredentialSchema),
})
export type GraphApplication = z.output<typeof applicationSchema>

export const appRoleSchema = z.object({
  id,
  value: str,
  displayName: str,
  isEnabled: bool,
  allowedMemberTypes: strArray,
})

export const servicePrincipalSchema = z.object({
  '@odata.type': odataType,
  id,
  appId: str,
  displayName: str,
  appDisplayName: str,
  accountEnabled: bool,
  servicePrincipalType: str,
  appOwnerOrganizationId: str,
  alternativeNames: strArray,
  servicePrincipalNames: strArray,
  tags: strArray,
  createdDateTime: str,
  createdByAppId: str,
  /** Agent identities: the appId of the blueprint they were created from. */
  agentIdentityBlueprintId: str,
  appRoles: list(appRoleSchema),
  passwordCredentials: list(passwordCredentialSchema),
  keyCredentials: list(keyCredentialSchema),
})
export type GraphServicePrincipal = z.output<typeof servicePrincipalSchema>

export const appRoleAssignmentSchema = z.object({
  id,
  appRoleId: str,
  principalId: str,
  principalType: str,
  principalDisplayName: str,
  resourceId: str,
  resourceDisplayName: str,
  createdDateTime: str,
})
export type GraphAppRoleAssignment = z.output<typeof appRoleAssignmentSchema>

export const oauth2PermissionGrantSchema = z.object({
  id,
  clientId: str,
  consentType: str,
  principalId: str,
  resourceId: str,
  scope: str,
})
export type GraphOAuth2PermissionGrant = z.output<typeof oauth2PermissionGrantSchema>

export const roleAssignmentSchema = z.object({
  id,
  principalId: str,
  roleDefinitionId: str,
  directoryScopeId: str,
  roleDefinition: z
    .object({ id: str, displayName: str, templateId: str, isBuiltIn: bool })
    .nullish()
    .catch(null)
    .transform((v) => v ?? null),
})
export type GraphRoleAssignment = z.output<typeof roleAssignmentSchema>

export const directoryObjectSchema = z.object({
  '@odata.type': odataType,
  id,
  displayName: str,
  userPrincipalName: str,
  mail: str,
  accountEnabled: bool,
  deletedDateTime: str,
})
export type GraphDirectoryObject = z.output<typeof directoryObjectSchema>

const signInActivity = z
  .object({ lastSignInDateTime: str, lastSignInRequestId: str })
  .nullish()
  .catch(null)
  .transform((v) => v ?? null)

export const servicePrincipalSignInActivitySchema = z.object({
  id,
  appId: z.string().min(1),
  lastSignInActivity: signInActivity,
  applicationAuthenticationClientSignInActivity: signInActivity,
  delegatedClientSignInActivity: signInActivity,
})
export type GraphServicePrincipalSignInActivity = z.output<typeof servicePrincipalSignInActivitySchema>

export const appCredentialSignInActivitySchema = z.object({
  id,
  keyId: z.string().min(1),
  appId: str,
  appObjectId: str,
  servicePrincipalObjectId: str,
  credentialOrigin: str,
  keyType: str,
  expirationDate: str,
  signInActivity,
})
export type GraphAppCredentialSignInActivity = z.output<typeof appCredentialSignInActivitySchema>

export const agentUserSchema = z.object({
  '@odata.type': odataType,
  id,
  displayName: str,
  userPrincipalName: str,
  accountEnabled: bool,
  identityParentId: str,
  createdDateTime: str,
})
export type GraphAgentUser = z.output<typeof agentUserSchema>

/** Parses a page's `value` array; returns the parsed items and how many were unusable. */
export function parseCollection<T extends z.ZodTypeAny>(schema: T, body: unknown): { items: z.output<T>[]; rejected: number } {
  const value = (body as { value?: unknown } | null)?.value
  if (!Array.isArray(value)) throw new Error('The Graph response has no "value" array.')
  const items: z.output<T>[] = []
  let rejected = 0
  for (const raw of value) {
    const r = schema.safeParse(raw)
    if (r.success) items.push(r.data as z.output<T>)
    else rejected += 1
  }
  return { items, rejected }
}

export const ODATA = {
  agentIdentity: '#microsoft.graph.agentIdentity',
  agentIdentityBlueprint: '#microsoft.graph.agentIdentityBlueprint',
  agentIdentityBlueprintPrincipal: '#microsoft.graph.agentIdentityBlueprintPrincipal',
  agentUser: '#microsoft.graph.agentUser',
  user: '#microsoft.graph.user',
  servicePrincipal: '#microsoft.graph.servicePrincipal',
  group: '#microsoft.graph.group',
} as const

/** Graph sometimes capitalises the namespace (#Microsoft.Graph.AgentIdentity). */
export function isOdataType(value: string | null, expected: string): boolean {
  return value !== null && value.toLowerCase() === expected.toLowerCase()
}

/** Tenants whose service principals are Microsoft's own first-party apps. */
export const MICROSOFT_TENANT_IDS = new Set([
  'f8cdef31-a31e-4b4a-93e4-5f571e91255a', // Microsoft Services
  '72f988bf-86f1-41af-91ab-2d7cd011db47', // Microsoft corporate
])

export const MICROSOFT_GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000'
