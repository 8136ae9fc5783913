/**
 * AWS revocation actions. Each: plan (the exact calls and parameters, read from AWS now) →
 * execute (idempotent: re-reads first and only changes what is not yet changed) → verify
 * (re-reads AWS). They run with the revocation role (settings.revocationRole) when one is
 * configured, so the scan role can stay read-only.
 */
import {
  DeleteAccessKeyCommand,
  DeleteLoginProfileCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetLoginProfileCommand,
  GetRolePolicyCommand,
  ListAccessKeysCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
  UpdateAccessKeyCommand,
  type AccessKeyMetadata,
  type ListAttachedRolePoliciesCommandOutput,
  type ListRolePoliciesCommandOutput,
} from '@aws-sdk/client-iam'
import type {
  ActionContext,
  ExecutedCall,
  ExecutionResult,
  PlannedCall,
  RevocationAction,
  RevocationPlan,
  RevocationTarget,
  VerificationResult,
} from '../contract.js'
import { assumedRoleCredentials, createClients, defaultCredentials, roleArnFor, type AwsClients } from './clients.js'
import { parseAccessKeyExternalId } from './credential-report.js'
import { awsErrorInfo } from './errors.js'
import type { AwsSettings } from './settings.js'

type Ctx = ActionContext<AwsSettings>

/** Clients acting in the target's account: the revocation role if configured, else the scan role, else the base credentials. */
async function withClients<T>(ctx: Ctx, accountId: string, fn: (clients: AwsClients) => Promise<T>): Promise<T> {
  const base = createClients({ settings: ctx.settings, credentials: defaultCredentials(), apiCalls: ctx.apiCalls })
  let scoped: AwsClients | null = null
  try {
    const s = ctx.settings
    const configured = s.accounts?.find((a) => a.accountId === accountId)
    let roleArn: string | null = null
    let externalId: string | undefined
    if (s.revocationRole) {
      roleArn = roleArnFor({ accountId, roleName: s.revocationRole.roleName })
      externalId = s.revocationRole.externalId
    } else if (configured) {
      roleArn = roleArnFor(configured)
      externalId = configured.externalId
    } else if (s.organization) {
      roleArn = roleArnFor({ accountId, roleName: s.organization.roleName })
      externalId = s.organization.externalId
    }
    if (roleArn) {
      const credentials = assumedRoleCredentials(base.sts, roleArn, externalId, ctx.signal)
      scoped = createClients({ settings: s, credentials, apiCalls: ctx.apiCalls })
    }
    return await fn(scoped ?? base)
  } finally {
    scoped?.destroy()
    base.destroy()
  }
}

const nameFromArn = (arn: string) => arn.split('/').pop() ?? arn
const userNameOf = (t: RevocationTarget) => String(t.identity.attributes.userName ?? nameFromArn(t.identity.externalId))
const roleNameOf = (t: RevocationTarget) => String(t.identity.attributes.roleName ?? nameFromArn(t.identity.externalId))

function describe(error: unknown): string {
  const info = awsErrorInfo(error)
  if (info.kind === 'access_denied') return `AWS denied the call (${info.code}): ${info.message} Grant the revocation policy in docs/providers/aws.md.`
  return `${info.code}: ${info.message}`
}

/** Records one call made during execute. */
async function call(
  calls: ExecutedCall[],
  operation: string,
  parameters: Record<string, unknown>,
  run: () => Promise<Record<string, unknown> | null>,
): Promise<boolean> {
  const at = new Date().toISOString()
  try {
    const response = await run()
    calls.push({ operation, parameters, ok: true, response, error: null, at })
    return true
  } catch (error) {
    calls.push({ operation, parameters, ok: false, response: null, error: describe(error), at })
    return false
  }
}

const result = (calls: ExecutedCall[]): ExecutionResult => {
  const failed = calls.find((c) => !c.ok)
  return { calls, ok: !failed, error: failed?.error ?? null }
}

// ---------------------------------------------------------------------------------------
// Access keys
// ---------------------------------------------------------------------------------------

/**
 * The report identifies a key by user, slot and creation time; IAM by AccessKeyId. Match by
 * creation time (to the second), falling back to the slot (keys ordered by creation).
 */
async function resolveKey(clients: AwsClients, ctx: Ctx, target: RevocationTarget): Promise<{ userName: string; key: AccessKeyMetadata | null }> {
  const userName = userNameOf(target)
  const out = await clients.iam.send(new ListAccessKeysCommand({ UserName: userName }), { abortSignal: ctx.signal })
  const keys = [...(out.AccessKeyMetadata ?? [])].sort((a, b) => (a.CreateDate?.getTime() ?? 0) - (b.CreateDate?.getTime() ?? 0))
  const externalId = target.credential?.externalId ?? ''
  if (/^AKIA|^ASIA/.test(externalId)) return { userName, key: keys.find((k) => k.AccessKeyId === externalId) ?? null }
  const parsed = parseAccessKeyExternalId(externalId)
  if (!parsed) return { userName, key: null }
  const second = (d: Date | undefined | null) => (d ? Math.floor(d.getTime() / 1000) : null)
  const byDate = parsed.createdAt ? keys.find((k) => second(k.CreateDate) === second(parsed.createdAt)) : undefined
  return { userName, key: byDate ?? (parsed.createdAt ? null : (keys[parsed.slot - 1] ?? null)) }
}

const isAccessKey = (t: RevocationTarget) => t.identity.kind === 'user' && t.credential?.type === 'access_key'
const keyMissing = (t: RevocationTarget) =>
  `No access key of ${userNameOf(t)} matches ${t.credential?.externalId}: it was deleted or rotated since the scan. Scan again.`

function keyStatusAction(id: string, title: string, status: 'Active' | 'Inactive', undo: string, appliesTo: (t: RevocationTarget) => boolean): RevocationAction<AwsSettings> {
  const verb = status === 'Inactive' ? 'deactivate' : 'reactivate'
  return {
    id,
    title,
    reversible: true,
    destructive: false,
    appliesTo,
    async plan(ctx, target): Promise<RevocationPlan> {
      return withClients(ctx, target.identity.accountId, async (clients) => {
        const { userName, key } = await resolveKey(clients, ctx, target)
        const calls: PlannedCall[] = [
          {
            operation: 'iam:ListAccessKeys',
            parameters: { UserName: userName },
            effect: 'Reads the user’s access keys to confirm the key’s current status (no change).',
          },
        ]
        const caveats: string[] = []
        if (!key?.AccessKeyId) caveats.push(keyMissing(target))
        else if (key.Status === status) caveats.push(`Access key ${key.AccessKeyId} is already ${status}; executing changes nothing.`)
        else {
          calls.push({
            operation: 'iam:UpdateAccessKey',
            parameters: { UserName: userName, AccessKeyId: key.AccessKeyId, Status: status },
            effect:
              status === 'Inactive'
                ? `Access key ${key.AccessKeyId} stops working immediately; every request signed with it is refused. Reactivating restores it.`
                : `Access key ${key.AccessKeyId} works again.`,
          })
        }
        if (status === 'Inactive') caveats.push('Workloads using this key fail until they get another credential. Prefer a role (instance/task role, OIDC federation) over a new key.')
        return {
          actionId: id,
          summary: `${verb === 'deactivate' ? 'Deactivate' : 'Reactivate'} access key ${key?.AccessKeyId ?? target.credential?.externalId} of IAM user ${userName} in account ${target.identity.accountId}.`,
          calls,
          reversible: true,
          undoActionId: undo,
          caveats,
        }
      })
    },
    async execute(ctx, target) {
      return withClients(ctx, target.identity.accountId, async (clients) => {
        const calls: ExecutedCall[] = []
        let resolved: Awaited<ReturnType<typeof resolveKey>> | null = null
        const read = await call(calls, 'iam:ListAccessKeys', { UserName: userNameOf(target) }, async () => {
          resolved = await resolveKey(clients, ctx, target)
          return { accessKeyId: resolved.key?.AccessKeyId ?? null, status: resolved.key?.Status ?? null }
        })
        const found = resolved as Awaited<ReturnType<typeof resolveKey>> | null
        if (!read || !found) return result(calls)
        if (!found.key?.AccessKeyId) return { calls, ok: false, error: keyMissing(target) }
        if (found.key.Status === status) return result(calls) // already done: idempotent no-op
        const parameters = { UserName: found.userName, AccessKeyId: found.key.AccessKeyId, Status: status }
        await call(calls, 'iam:UpdateAccessKey', parameters, async () => {
          await clients.iam.send(new UpdateAccessKeyCommand(parameters), { abortSignal: ctx.signal })
          return { status }
        })
        return result(calls)
      })
    },
    async verify(ctx, target): Promise<VerificationResult> {
      return withClients(ctx, target.identity.accountId, async (clients) => {
        const { key } = await resolveKey(clients, ctx, target)
        if (!key?.AccessKeyId) return { verified: false, observed: keyMissing(target) }
        return { verified: key.Status === status, observed: `AWS reports access key ${key.AccessKeyId} as ${key.Status}.` }
      })
    },
  }
}

const deactivateKey = keyStatusAction(
  'aws.access_key.deactivate',
  'Deactivate access key',
  'Inactive',
  'aws.access_key.reactivate',
  (t) => isAccessKey(t) && t.credential?.status === 'active',
)
const reactivateKey = keyStatusAction(
  'aws.access_key.reactivate',
  'Reactivate access key',
  'Active',
  'aws.access_key.deactivate',
  (t) => isAccessKey(t) && t.credential?.status === 'inactive',
)

const deleteKey: RevocationAction<AwsSettings> = {
  id: 'aws.access_key.delete',
  title: 'Delete access key',
  reversible: false,
  destructive: true,
  appliesTo: (t) => isAccessKey(t) && t.credential?.status === 'inactive',
  async plan(ctx, target) {
    return withClients(ctx, target.identity.accountId, async (clients) => {
      const { userName, key } = await resolveKey(clients, ctx, target)
      const calls: PlannedCall[] = [{ operation: 'iam:ListAccessKeys', parameters: { UserName: userName }, effect: 'Reads the user’s access keys (no change).' }]
      const caveats = ['Deleting cannot be undone: a workload that still needs access must be given a new credential.']
      if (!key?.AccessKeyId) caveats.push(`No matching key exists any more; executing changes nothing.`)
      else {
        if (key.Status === 'Active') caveats.push('The key is still Active: deactivate it first and wait out the grace period.')
        calls.push({ operation: 'iam:DeleteAccessKey', parameters: { UserName: userName, AccessKeyId: key.AccessKeyId }, effect: `Access key ${key.AccessKeyId} is deleted permanently.` })
      }
      return { actionId: 'aws.access_key.delete', summary: `Delete access key ${key?.AccessKeyId ?? '(already gone)'} of IAM user ${userName}.`, calls, reversible: false, undoActionId: null, caveats }
    })
  },
  async execute(ctx, target) {
    return withClients(ctx, target.identity.accountId, async (clients) => {
      const calls: ExecutedCall[] = []
      let found: Awaited<ReturnType<typeof resolveKey>> | null = null
      const read = await call(calls, 'iam:ListAccessKeys', { UserName: userNameOf(target) }, async () => {
        found = await resolveKey(clients, ctx, target)
        return { accessKeyId: found.key?.AccessKeyId ?? null, status: found.key?.Status ?? null }
      })
      const resolved = found as Awaited<ReturnType<typeof resolveKey>> | null
      if (!read || !resolved) return result(calls)
      if (!resolved.key?.AccessKeyId) return result(calls) // already deleted
      if (resolved.key.Status === 'Active') return { calls, ok: false, error: 'The key is Active: deactivate it first (Leash deletes only deactivated keys).' }
      const parameters = { UserName: resolved.userName, AccessKeyId: resolved.key.AccessKeyId }
      await call(calls, 'iam:DeleteAccessKey', parameters, async () => {
        await clients.iam.send(new DeleteAccessKeyCommand(parameters), { abortSignal: ctx.signal })
        return { deleted: true }
      })
      return result(calls)
    })
  },
  async verify(ctx, target) {
    return withClients(ctx, target.identity.accountId, async (clients) => {
      const { key } = await resolveKey(clients, ctx, target)
      return key ? { verified: false, observed: `Access key ${key.AccessKeyId} still exists (${key.Status}).` } : { verified: true, observed: 'The access key no longer exists.' }
    })
  },
}

// ---------------------------------------------------------------------------------------
// Console password
// ---------------------------------------------------------------------------------------

async function hasLoginProfile(clients: AwsClients, ctx: Ctx, userName: string): Promise<boolean> {
  try {
    await clients.iam.send(new GetLoginProfileCommand({ UserName: userName }), { abortSignal: ctx.signal })
    return true
  } catch (error) {
    if (awsErrorInfo(error).kind === 'not_found') return false
    throw error
  }
}

const disableConsole: RevocationAction<AwsSettings> = {
  id: 'aws.user.disable_console_password',
  title: 'Disable console password',
  reversible: false,
  destructive: false,
  appliesTo: (t) => t.identity.kind === 'user' && t.credential?.type === 'console_password' && t.credential.status === 'active',
  async plan(ctx, target) {
    const userName = userNameOf(target)
    return withClients(ctx, target.identity.accountId, async (clients) => {
      const present = await hasLoginProfile(clients, ctx, userName)
      const calls: PlannedCall[] = [{ operation: 'iam:GetLoginProfile', parameters: { UserName: userName }, effect: 'Checks the user has a console password (no change).' }]
      if (present) calls.push({ operation: 'iam:DeleteLoginProfile', parameters: { UserName: userName }, effect: `IAM user ${userName} can no longer sign in to the AWS console; access keys are not affected.` })
      return {
        actionId: 'aws.user.disable_console_password',
        summary: `Remove the console password of IAM user ${userName} in account ${target.identity.accountId}.`,
        calls,
        reversible: false,
        undoActionId: null,
        caveats: present
          ? ['Restoring console access needs a new password set by an IAM administrator (iam:CreateLoginProfile); Leash does not set passwords.']
          : ['The user has no console password; executing changes nothing.'],
      }
    })
  },
  async execute(ctx, target) {
    const userName = userNameOf(target)
    return withClients(ctx, target.identity.accountId, async (clients) => {
      const calls: ExecutedCall[] = []
      let present = false
      const read = await call(calls, 'iam:GetLoginProfile', { UserName: userName }, async () => {
        present = await hasLoginProfile(clients, ctx, userName)
        return { present }
      })
      if (!read || !present) return result(calls)
      await call(calls, 'iam:DeleteLoginProfile', { UserName: userName }, async () => {
        try {
          await clients.iam.send(new DeleteLoginProfileCommand({ UserName: userName }), { abortSignal: ctx.signal })
        } catch (error) {
          if (awsErrorInfo(error).kind !== 'not_found') throw error
        }
        return { deleted: true }
      })
      return result(calls)
    })
  },
  async verify(ctx, target) {
    const userName = userNameOf(target)
    return withClients(ctx, target.identity.accountId, async (clients) =>
      (await hasLoginProfile(clients, ctx, userName))
        ? { verified: false, observed: `IAM user ${userName} still has a console password.` }
        : { verified: true, observed: `IAM user ${userName} has no console password.` },
    )
  },
}

// ---------------------------------------------------------------------------------------
// Roles: revoke active sessions, detach policies
// ---------------------------------------------------------------------------------------

/** The policy name and shape the IAM console uses for "Revoke active sessions". */
export const REVOKE_POLICY_NAME = 'AWSRevokeOlderSessions'
const REVOKE_IDEMPOTENCE_MS = 15 * 60_000

export function revokeSessionsDocument(cutoff: Date) {
  return {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Deny', Action: ['*'], Resource: ['*'], Condition: { DateLessThan: { 'aws:TokenIssueTime': cutoff.toISOString() } } }],
  }
}

async function revokeCutoff(clients: AwsClients, ctx: Ctx, roleName: string): Promise<Date | null> {
  try {
    const out = await clients.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: REVOKE_POLICY_NAME }), { abortSignal: ctx.signal })
    const raw = out.PolicyDocument ?? ''
    const doc = JSON.parse(raw.trim().startsWith('{') ? raw : decodeURIComponent(raw)) as { Statement?: { Condition?: { DateLessThan?: Record<string, string> } }[] }
    const value = doc.Statement?.[0]?.Condition?.DateLessThan?.['aws:TokenIssueTime']
    const d = value ? new Date(value) : null
    return d && !Number.isNaN(d.getTime()) ? d : null
  } catch (error) {
    if (awsErrorInfo(error).kind === 'not_found') return null
    throw error
  }
}

const isRevocableRole = (t: RevocationTarget) => t.identity.kind === 'role' && t.credential === null && t.identity.attributes.serviceLinked !== true

const revokeSessions: RevocationAction<AwsSettings> = {
  id: 'aws.role.revoke_sessions',
  title: 'Revoke active role sessions',
  reversible: false,
  destructive: false,
  appliesTo: isRevocableRole,
  async plan(ctx, target) {
    const roleName = roleNameOf(target)
    const cutoff = new Date()
    return {
      actionId: 'aws.role.revoke_sessions',
      summary: `Deny every session of role ${roleName} (account ${target.identity.accountId}) issued before ${cutoff.toISOString()}.`,
      calls: [
        {
          operation: 'iam:PutRolePolicy',
          parameters: { RoleName: roleName, PolicyName: REVOKE_POLICY_NAME, PolicyDocument: revokeSessionsDocument(cutoff) },
          effect: 'Temporary credentials already handed out for this role stop working; new sessions still work (detach the policies to stop those).',
        },
      ],
      reversible: false,
      undoActionId: null,
      caveats: [
        'The cutoff is set to the moment of execution. Running it again within 15 minutes changes nothing.',
        'Service-linked roles cannot be changed and are not offered this action.',
      ],
    }
  },
  async execute(ctx, target) {
    const roleName = roleNameOf(target)
    return withClients(ctx, target.identity.accountId, async (clients) => {
      const calls: ExecutedCall[] = []
      let existing: Date | null = null
      const read = await call(calls, 'iam:GetRolePolicy', { RoleName: roleName, PolicyName: REVOKE_POLICY_NAME }, async () => {
        existing = await revokeCutoff(clients, ctx, roleName)
        return { existingCutoff: (existing as Date | null)?.toISOString() ?? null }
      })
      if (!read) return result(calls)
      const current = existing as Date | null
      if (current && Date.now() - current.getTime() < REVOKE_IDEMPOTENCE_MS) return result(calls)
      const document = revokeSessionsDocument(new Date())
      await call(calls, 'iam:PutRolePolicy', { RoleName: roleName, PolicyName: REVOKE_POLICY_NAME, PolicyDocument: document }, async () => {
        await clients.iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: REVOKE_POLICY_NAME, PolicyDocument: JSON.stringify(document) }), {
          abortSignal: ctx.signal,
        })
        return { cutoff: document.Statement[0]?.Condition.DateLessThan['aws:TokenIssueTime'] }
      })
      return result(calls)
    })
  },
  async verify(ctx, target) {
    const roleName = roleNameOf(target)
    return withClients(ctx, target.identity.accountId, async (clients) => {
      const cutoff = await revokeCutoff(clients, ctx, roleName)
      return cutoff
        ? { verified: true, observed: `Role ${roleName} denies sessions issued before ${cutoff.toISOString()}.` }
        : { verified: false, observed: `Role ${roleName} has no ${REVOKE_POLICY_NAME} policy.` }
    })
  },
}

async function rolePolicies(clients: AwsClients, ctx: Ctx, roleName: string) {
  const attached: { PolicyArn: string; PolicyName: string }[] = []
  let marker: string | undefined
  do {
    const out: ListAttachedRolePoliciesCommandOutput = await clients.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName, Marker: marker }), {
      abortSignal: ctx.signal,
    })
    for (const p of out.AttachedPolicies ?? []) if (p.PolicyArn) attached.push({ PolicyArn: p.PolicyArn, PolicyName: p.PolicyName ?? p.PolicyArn })
    marker = out.IsTruncated ? out.Marker : undefined
  } while (marker)
  const inline: string[] = []
  marker = undefined
  do {
    const out: ListRolePoliciesCommandOutput = await clients.iam.send(new ListRolePoliciesCommand({ RoleName: roleName, Marker: marker }), { abortSignal: ctx.signal })
    for (const name of out.PolicyNames ?? []) if (name !== REVOKE_POLICY_NAME) inline.push(name)
    marker = out.IsTruncated ? out.Marker : undefined
  } while (marker)
  return { attached, inline }
}

const detachPolicies: RevocationAction<AwsSettings> = {
  id: 'aws.role.detach_policies',
  title: 'Detach and delete role policies',
  reversible: false,
  destructive: true,
  appliesTo: isRevocableRole,
  async plan(ctx, target) {
    const roleName = roleNameOf(target)
    return withClients(ctx, target.identity.accountId, async (clients) => {
      const { attached, inline } = await rolePolicies(clients, ctx, roleName)
      const calls: PlannedCall[] = [
        ...attached.map((p) => ({
          operation: 'iam:DetachRolePolicy',
          parameters: { RoleName: roleName, PolicyArn: p.PolicyArn },
          effect: `The role loses the permissions of managed policy ${p.PolicyName} (the policy itself is kept).`,
        })),
        ...inline.map((name) => ({
          operation: 'iam:DeleteRolePolicy',
          parameters: { RoleName: roleName, PolicyName: name },
          effect: `Inline policy ${name} is deleted (its document is kept in Leash's audit log).`,
        })),
      ]
      return {
        actionId: 'aws.role.detach_policies',
        summary: `Remove every permission policy from role ${roleName} in account ${target.identity.accountId}: ${attached.length} managed, ${inline.length} inline.`,
        calls,
        reversible: false,
        undoActionId: null,
        caveats: [
          'Anything running as this role loses its AWS access. Revoke sessions first if the role may be compromised.',
          ...(calls.length === 0 ? ['The role has no policies; executing changes nothing.'] : []),
          `The ${REVOKE_POLICY_NAME} policy, if present, is kept.`,
        ],
      }
    })
  },
  async execute(ctx, target) {
    const roleName = roleNameOf(target)
    return withClients(ctx, target.identity.accountId, async (clients) => {
      const calls: ExecutedCall[] = []
      let listed: Awaited<ReturnType<typeof rolePolicies>> | null = null
      const read = await call(calls, 'iam:ListAttachedRolePolicies', { RoleName: roleName }, async () => {
        listed = await rolePolicies(clients, ctx, roleName)
        return { attached: listed.attached.map((p) => p.PolicyArn), inline: listed.inline }
      })
      const found = listed as Awaited<ReturnType<typeof rolePolicies>> | null
      if (!read || !found) return result(calls)
      for (const p of found.attached) {
        await call(calls, 'iam:DetachRolePolicy', { RoleName: roleName, PolicyArn: p.PolicyArn }, async () => {
          try {
            await clients.iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: p.PolicyArn }), { abortSignal: ctx.signal })
          } catch (error) {
            if (awsErrorInfo(error).kind !== 'not_found') throw error
          }
          return { detached: p.PolicyArn }
        })
      }
      for (const name of found.inline) {
        await call(calls, 'iam:DeleteRolePolicy', { RoleName: roleName, PolicyName: name }, async () => {
          // Keep the document in the execution record so an operator can restore it.
          let document: string | null = null
          try {
            const out = await clients.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }), { abortSignal: ctx.signal })
            document = out.PolicyDocument ? decodeURIComponent(out.PolicyDocument) : null
            await clients.iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: name }), { abortSignal: ctx.signal })
          } catch (error) {
            if (awsErrorInfo(error).kind !== 'not_found') throw error
          }
          return { deleted: name, document }
        })
      }
      return result(calls)
    })
  },
  async verify(ctx, target) {
    const roleName = roleNameOf(target)
    return withClients(ctx, target.identity.accountId, async (clients) => {
      const { attached, inline } = await rolePolicies(clients, ctx, roleName)
      const left = [...attached.map((p) => p.PolicyName), ...inline]
      return left.length === 0
        ? { verified: true, observed: `Role ${roleName} has no permission policies left.` }
        : { verified: false, observed: `Role ${roleName} still has: ${left.join(', ')}.` }
    })
  },
}

export const awsRevocationActions: RevocationAction<AwsSettings>[] = [deactivateKey, reactivateKey, deleteKey, disableConsole, revokeSessions, detachPolicies]
