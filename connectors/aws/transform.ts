/**
 * transform: raw IAM / Secrets Manager records → NormalizedIdentity. Pure apart from the
 * cached policy expansion; `get` (scan.ts) decides what was readable and passes it in.
 */
import type { GroupDetail, ManagedPolicyDetail, RoleDetail, UserDetail } from '@aws-sdk/client-iam'
import type { SecretListEntry } from '@aws-sdk/client-secrets-manager'
import type { NormalizedCredential, NormalizedIdentity, ScanScope, UnreadablePart } from '../contract.js'
import { reportCredentials, type ReportUser } from './credential-report.js'
import { computeEntitlements, parsePolicyDocument, type PolicySource, type PolicyStatement } from './policy.js'
import { agentSignals, environments, ownerHints, summarizeTrust, workloads } from './signals.js'

export interface StoredPolicy {
  name: string
  statements: PolicyStatement[]
  /** The default version's document could not be parsed. */
  unreadable: boolean
}

export interface StoredGroup {
  arn: string
  name: string
  inline: PolicySource[]
  attachedArns: string[]
  unreadable: boolean
}

/**
 * What the transform needs besides the record itself. Sizes grow with policies and groups,
 * never with users or roles.
 */
export interface AccountContext {
  scope: ScanScope
  region: string
  policies: Map<string, StoredPolicy>
  /** Whether the managed-policy pass completed; if not, missing policies are "unreadable", not "absent". */
  policiesComplete: boolean
  groups: Map<string, StoredGroup>
  groupsComplete: boolean
  /** Credential report by user ARN; null when it could not be read (see reportUnreadable). */
  report: Map<string, ReportUser> | null
  /** When AWS generated the report (it is rebuilt at most every 4 hours). */
  reportGeneratedAt: Date | null
  reportUnreadable: UnreadablePart[]
}

export function tagMap(tags: { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const t of tags ?? []) if (t.Key) out[t.Key] = t.Value ?? ''
  return out
}

export function storeManagedPolicy(policy: ManagedPolicyDetail): [string, StoredPolicy] | null {
  const arn = policy.Arn?.trim()
  if (!arn) return null
  const version = policy.PolicyVersionList?.find((v) => v.IsDefaultVersion) ?? policy.PolicyVersionList?.find((v) => v.VersionId === policy.DefaultVersionId)
  try {
    return [arn, { name: policy.PolicyName ?? arn, statements: parsePolicyDocument(version?.Document).statements, unreadable: !version }]
  } catch {
    return [arn, { name: policy.PolicyName ?? arn, statements: [], unreadable: true }]
  }
}

function inlineSources(ownerArn: string, list: { PolicyName?: string; PolicyDocument?: string }[] | undefined, kind: PolicySource['kind']) {
  const sources: PolicySource[] = []
  let unreadable = false
  for (const p of list ?? []) {
    try {
      sources.push({ kind, ref: `${ownerArn}#${p.PolicyName ?? 'inline'}`, statements: parsePolicyDocument(p.PolicyDocument).statements })
    } catch {
      unreadable = true
    }
  }
  return { sources, unreadable }
}

export function storeGroup(group: GroupDetail): StoredGroup | null {
  if (!group.GroupName || !group.Arn) return null
  const inline = inlineSources(group.Arn, group.GroupPolicyList, 'group_policy')
  return {
    arn: group.Arn,
    name: group.GroupName,
    inline: inline.sources,
    attachedArns: (group.AttachedManagedPolicies ?? []).map((p) => p.PolicyArn?.trim()).filter((a): a is string => !!a),
    unreadable: inline.unreadable,
  }
}

function managedSources(ctx: AccountContext, arns: string[], kind: PolicySource['kind'], refPrefix = ''): { sources: PolicySource[]; missing: string[] } {
  const sources: PolicySource[] = []
  const missing: string[] = []
  for (const arn of arns) {
    const policy = ctx.policies.get(arn)
    if (!policy || policy.unreadable) missing.push(arn)
    else sources.push({ kind, ref: `${refPrefix}${arn}`, statements: policy.statements })
  }
  return { sources, missing }
}

async function entitlementsFor(
  ctx: AccountContext,
  ownerArn: string,
  inlineList: { PolicyName?: string; PolicyDocument?: string }[] | undefined,
  attached: { PolicyArn?: string }[] | undefined,
  groupNames: string[],
  boundaryArn: string | undefined,
) {
  const unreadable: UnreadablePart[] = []
  const inline = inlineSources(ownerArn, inlineList, 'inline_policy')
  const managed = managedSources(
    ctx,
    (attached ?? []).map((p) => p.PolicyArn?.trim()).filter((a): a is string => !!a),
    'managed_policy',
  )
  const sources = [...inline.sources, ...managed.sources]
  let missingGroups = false
  const missingPolicies = [...managed.missing]
  for (const name of groupNames) {
    const group = ctx.groups.get(name)
    if (!group) {
      missingGroups = true
      continue
    }
    sources.push(...group.inline)
    // Managed policies reach the user through the group: the ref names both so the fix is clear.
    const viaGroup = managedSources(ctx, group.attachedArns, 'group_policy', `${group.arn}#`)
    sources.push(...viaGroup.sources)
    missingPolicies.push(...viaGroup.missing)
    if (group.unreadable) missingGroups = true
  }
  let boundary: PolicyStatement[] | null = null
  if (boundaryArn) {
    const policy = ctx.policies.get(boundaryArn)
    if (policy && !policy.unreadable) boundary = policy.statements
    else missingPolicies.push(boundaryArn)
  }
  if (inline.unreadable || missingGroups || missingPolicies.length > 0) {
    unreadable.push({ field: 'entitlements', operation: 'iam:GetAccountAuthorizationDetails', permission: 'iam:GetAccountAuthorizationDetails' })
  }
  const result = await computeEntitlements(sources, boundary)
  return { ...result, unreadable, missingPolicies }
}

const iamConsole = (kind: 'users' | 'roles', name: string) => `https://console.aws.amazon.com/iam/home#/${kind}/details/${encodeURIComponent(name)}`

const maxDate = (dates: (Date | null | undefined)[]): Date | null => {
  let best: Date | null = null
  for (const d of dates) if (d && (!best || d > best)) best = d
  return best
}

export async function transformUser(ctx: AccountContext, user: UserDetail): Promise<NormalizedIdentity> {
  const arn = required(user.Arn, 'UserDetail.Arn')
  const name = required(user.UserName, 'UserDetail.UserName')
  const tags = tagMap(user.Tags)
  const groupNames = user.GroupList ?? []
  const ent = await entitlementsFor(ctx, arn, user.UserPolicyList, user.AttachedManagedPolicies, groupNames, user.PermissionsBoundary?.PermissionsBoundaryArn)
  const unreadable = [...ent.unreadable]
  let credentials: NormalizedCredential[] = []
  let lastUsedAt: Date | null = null
  let lastUsedKnown = false
  let row: ReportUser | undefined
  if (ctx.report) {
    row = ctx.report.get(arn)
    // A user created after the report was generated is simply not in it yet: its credentials are unknown.
    if (row) {
      credentials = reportCredentials(row).map((c) => ({ ...c, attributes: { ...c.attributes, reportGeneratedAt: ctx.reportGeneratedAt?.toISOString() ?? null } }))
      lastUsedAt = maxDate([row.passwordLastUsed, ...row.keys.map((k) => k.lastUsed)])
      lastUsedKnown = row.keys.every((k) => k.lastUsedKnown)
    } else {
      unreadable.push({ field: 'credentials', operation: 'iam:GetCredentialReport', permission: null })
      unreadable.push({ field: 'usage', operation: 'iam:GetCredentialReport', permission: null })
    }
  } else {
    unreadable.push(...ctx.reportUnreadable)
  }
  const keys = row?.keys ?? []
  const hasActiveKey = keys.some((k) => k.active)
  return {
    externalId: arn,
    kind: 'user',
    displayName: name,
    scope: ctx.scope,
    status: 'active',
    createdAt: user.CreateDate ?? row?.createdAt ?? null,
    lastUsedAt,
    lastUsedKnown,
    tags,
    attributes: {
      accountId: ctx.scope.accountId,
      userName: name,
      userId: user.UserId ?? null,
      path: user.Path ?? '/',
      groups: groupNames,
      permissionsBoundaryArn: user.PermissionsBoundary?.PermissionsBoundaryArn ?? null,
      mfaActive: row?.mfaActive ?? null,
      passwordEnabled: row?.passwordEnabled ?? null,
      privilege: ent.privilege,
      missingPolicies: ent.missingPolicies.length ? ent.missingPolicies : undefined,
    },
    consoleUrl: iamConsole('users', name),
    credentials,
    entitlements: ent.entitlements,
    owners: ownerHints(tags),
    agentSignals: agentSignals({ kind: 'user', name, path: user.Path ?? '/', tags, trust: null, keys }),
    escalationPaths: ent.escalationPaths,
    unusedGrants: null,
    environments: environments(tags),
    workloads: workloads(tags),
    monitoring: { usageData: row ? 'available' : 'unknown', runtimeLogging: null },
    // A long-lived key where a role (IAM Roles Anywhere, OIDC federation, an instance or task role) would do.
    federationPossible: hasActiveKey,
    unreadable,
  }
}

export async function transformRole(ctx: AccountContext, role: RoleDetail): Promise<NormalizedIdentity> {
  const arn = required(role.Arn, 'RoleDetail.Arn')
  const name = required(role.RoleName, 'RoleDetail.RoleName')
  const tags = tagMap(role.Tags)
  const path = role.Path ?? '/'
  let trustDocument: unknown = null
  let trustUnreadable = false
  try {
    const raw = role.AssumeRolePolicyDocument?.trim()
    trustDocument = raw ? JSON.parse(raw.startsWith('{') ? raw : decodeURIComponent(raw)) : null
  } catch {
    trustUnreadable = true
  }
  const trust = trustDocument ? summarizeTrust(trustDocument, ctx.scope.accountId) : null
  const ent = await entitlementsFor(ctx, arn, role.RolePolicyList, role.AttachedManagedPolicies, [], role.PermissionsBoundary?.PermissionsBoundaryArn)
  const unreadable = [...ent.unreadable]
  if (trustUnreadable) unreadable.push({ field: 'entitlements', operation: 'iam:GetAccountAuthorizationDetails', permission: null })
  const lastUsed = role.RoleLastUsed?.LastUsedDate ?? null
  return {
    externalId: arn,
    kind: 'role',
    displayName: name,
    scope: ctx.scope,
    status: 'active',
    createdAt: role.CreateDate ?? null,
    lastUsedAt: lastUsed,
    // RoleLastUsed is part of every RoleDetail (empty when never used within the tracking window).
    lastUsedKnown: true,
    tags,
    attributes: {
      accountId: ctx.scope.accountId,
      roleName: name,
      roleId: role.RoleId ?? null,
      path,
      serviceLinked: path.startsWith('/aws-service-role/'),
      trustPolicy: trustDocument,
      trust,
      lastUsedRegion: role.RoleLastUsed?.Region ?? null,
      instanceProfiles: (role.InstanceProfileList ?? []).map((p) => p.InstanceProfileName).filter(Boolean),
      permissionsBoundaryArn: role.PermissionsBoundary?.PermissionsBoundaryArn ?? null,
      privilege: ent.privilege,
      inlinePolicyNames: (role.RolePolicyList ?? []).map((p) => p.PolicyName).filter(Boolean),
      attachedPolicyArns: (role.AttachedManagedPolicies ?? []).map((p) => p.PolicyArn).filter(Boolean),
      missingPolicies: ent.missingPolicies.length ? ent.missingPolicies : undefined,
    },
    consoleUrl: iamConsole('roles', name),
    credentials: [],
    entitlements: ent.entitlements,
    owners: ownerHints(tags),
    agentSignals: agentSignals({ kind: 'role', name, path, tags, trust, keys: [] }),
    escalationPaths: ent.escalationPaths,
    unusedGrants: null,
    environments: environments(tags),
    workloads: workloads(tags),
    monitoring: { usageData: 'available', runtimeLogging: null },
    federationPossible: false,
    unreadable,
  }
}

export function transformSecret(ctx: AccountContext, secret: SecretListEntry, resourcePolicy: { principals: string[]; unreadable: UnreadablePart | null } | null): NormalizedIdentity {
  const arn = required(secret.ARN, 'SecretListEntry.ARN')
  const name = secret.Name ?? arn
  const tags = tagMap(secret.Tags)
  const rotationEnabled = secret.RotationEnabled === true
  const lastUsed = secret.LastAccessedDate ?? null
  const unreadable: UnreadablePart[] = []
  if (resourcePolicy?.unreadable) unreadable.push(resourcePolicy.unreadable)
  return {
    externalId: arn,
    kind: 'secret',
    displayName: name,
    scope: ctx.scope,
    status: secret.DeletedDate ? 'disabled' : 'active',
    createdAt: secret.CreatedDate ?? null,
    lastUsedAt: lastUsed,
    lastUsedKnown: true,
    tags,
    attributes: {
      accountId: ctx.scope.accountId,
      secretName: name,
      region: ctx.region,
      description: secret.Description ?? null,
      kmsKeyId: secret.KmsKeyId ?? null,
      owningService: secret.OwningService ?? null,
      rotationLambdaArn: secret.RotationLambdaARN ?? null,
      rotationDays: secret.RotationRules?.AutomaticallyAfterDays ?? null,
      nextRotationDate: secret.NextRotationDate?.toISOString() ?? null,
      deletedDate: secret.DeletedDate?.toISOString() ?? null,
      resourcePolicyPrincipals: resourcePolicy ? resourcePolicy.principals : null,
    },
    consoleUrl: `https://${ctx.region}.console.aws.amazon.com/secretsmanager/secret?name=${encodeURIComponent(name)}&region=${ctx.region}`,
    credentials: [
      {
        externalId: `${arn}#value`,
        type: 'secret_value',
        displayName: 'Secret value',
        status: secret.DeletedDate ? 'inactive' : 'active',
        createdAt: secret.CreatedDate ?? null,
        expiresAt: null,
        lastUsedAt: lastUsed,
        lastUsedKnown: true,
        lastRotatedAt: secret.LastRotatedDate ?? null,
        rotationEnabled,
        isStatic: true,
        attributes: { lastChangedDate: secret.LastChangedDate?.toISOString() ?? null },
      },
    ],
    entitlements: [],
    owners: ownerHints(tags),
    agentSignals: agentSignals({ kind: 'secret', name, path: '/', tags, trust: null, keys: [] }),
    escalationPaths: [],
    unusedGrants: null,
    environments: environments(tags),
    workloads: workloads(tags),
    monitoring: { usageData: 'available', runtimeLogging: null },
    federationPossible: false,
    unreadable,
  }
}

export class MissingFieldError extends Error {
  constructor(field: string) {
    super(`AWS returned a record without ${field}.`)
    this.name = 'MalformedResponse'
  }
}

function required<T>(value: T | undefined | null, field: string): T {
  if (value === undefined || value === null || value === '') throw new MissingFieldError(field)
  return value
}
