/**
 * get → transform for AWS, as a stream of ScanEvents.
 *
 * Per account (one ScanScope):
 *   1. managed policies  GetAccountAuthorizationDetails Filter=LocalManagedPolicy,AWSManagedPolicy
 *   2. groups            GetAccountAuthorizationDetails Filter=Group
 *   3. credential report GenerateCredentialReport (poll) + GetCredentialReport
 *   4. users and roles   GetAccountAuthorizationDetails Filter=User,Role, transformed page by page
 *   5. secrets           secretsmanager:ListSecrets (+ GetResourcePolicy per secret when enabled)
 *
 * Why this order: a user's or role's entitlements need the documents of the managed policies and
 * groups it references, and an unfiltered GetAccountAuthorizationDetails may return those on a
 * later page than the identity. Fetching policies and groups first (their count is bounded by
 * IAM quotas and does not grow with identities) means identities can be transformed and yielded
 * as their pages arrive, so memory holds one page of identities, the policy documents, and the
 * account's credential report index — never the whole estate. Every call here scales with pages,
 * not identities (Access Advisor and secret resource policies are the opt-in exceptions).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import {
  GenerateCredentialReportCommand,
  GenerateServiceLastAccessedDetailsCommand,
  GetAccountAuthorizationDetailsCommand,
  GetCredentialReportCommand,
  GetServiceLastAccessedDetailsCommand,
  type EntityType,
  type GetAccountAuthorizationDetailsCommandOutput,
} from '@aws-sdk/client-iam'
import { ListAccountsCommand } from '@aws-sdk/client-organizations'
import { GetResourcePolicyCommand, ListSecretsCommand } from '@aws-sdk/client-secrets-manager'
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts'
import type { NormalizedIdentity, ScanContext, ScanEvent, ScanProblem, ScanScope, UnreadablePart } from '../contract.js'
import { assumedRoleCredentials, createClients, defaultCredentials, roleArnFor, type AwsClients } from './clients.js'
import { parseCredentialReport, type ReportUser } from './credential-report.js'
import { awsErrorInfo, MalformedResponseError, problemFor } from './errors.js'
import type { AwsSettings } from './settings.js'
import { MissingFieldError, storeGroup, storeManagedPolicy, transformRole, transformSecret, transformUser, type AccountContext } from './transform.js'

export interface ScanTarget {
  accountId: string
  displayName?: string
  roleArn: string | null
  externalId?: string
}

const isAbort = (error: unknown, signal: AbortSignal) => signal.aborted || awsErrorInfo(error).kind === 'aborted'

/** The accounts to scan: listed in settings, from the Organization, or the caller's own. */
export async function resolveTargets(settings: AwsSettings, clients: AwsClients, signal: AbortSignal): Promise<ScanTarget[]> {
  if (settings.organization) {
    const org = settings.organization
    const excluded = new Set(org.excludeAccountIds ?? [])
    const targets: ScanTarget[] = []
    let token: string | undefined
    do {
      const page = await clients.organizations.send(new ListAccountsCommand({ NextToken: token }), { abortSignal: signal })
      for (const account of page.Accounts ?? []) {
        if (!account.Id || excluded.has(account.Id)) continue
        if (account.Status && account.Status !== 'ACTIVE') continue
        targets.push({
          accountId: account.Id,
          displayName: account.Name,
          roleArn: roleArnFor({ accountId: account.Id, roleName: org.roleName }),
          externalId: org.externalId,
        })
      }
      token = page.NextToken
    } while (token)
    return targets
  }
  if (settings.accounts?.length) {
    return settings.accounts.map((a) => ({ accountId: a.accountId, displayName: a.displayName, roleArn: roleArnFor(a), externalId: a.externalId }))
  }
  const me = await clients.sts.send(new GetCallerIdentityCommand({}), { abortSignal: signal })
  if (!me.Account) throw new MalformedResponseError('sts:GetCallerIdentity returned no account id.')
  return [{ accountId: me.Account, roleArn: null }]
}

/** GetAccountAuthorizationDetails pages for the given entity filter, guarding against pagination that does not advance. */
async function* authorizationDetails(
  clients: AwsClients,
  filter: EntityType[],
  signal: AbortSignal,
): AsyncGenerator<GetAccountAuthorizationDetailsCommandOutput> {
  let marker: string | undefined
  const seen = new Set<string>()
  for (;;) {
    const page = await clients.iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: filter, MaxItems: 1000, Marker: marker }), {
      abortSignal: signal,
    })
    yield page
    if (!page.IsTruncated) return
    const next = page.Marker?.trim()
    if (!next) throw new MalformedResponseError('GetAccountAuthorizationDetails said IsTruncated=true but returned no Marker.')
    if (seen.has(next)) throw new MalformedResponseError('GetAccountAuthorizationDetails returned a Marker it had already returned (pagination loop).')
    seen.add(next)
    marker = next
  }
}

const REPORT_POLLS = 20

/** Generates (if needed) and downloads the credential report; throws with `operation` set on the error. */
async function readCredentialReport(clients: AwsClients, signal: AbortSignal): Promise<{ rows: ReportUser[]; generatedAt: Date | null }> {
  let state: string | undefined
  for (let attempt = 0; attempt < REPORT_POLLS; attempt++) {
    try {
      state = (await clients.iam.send(new GenerateCredentialReportCommand({}), { abortSignal: signal })).State
    } catch (error) {
      throw Object.assign(error as object, { leashOperation: 'iam:GenerateCredentialReport' })
    }
    if (state === 'COMPLETE') break
    await sleep(Math.min(250 * 2 ** attempt, 4000), undefined, { signal })
  }
  if (state !== 'COMPLETE') {
    throw Object.assign(new Error(`The credential report was still ${state ?? 'not started'} after ${REPORT_POLLS} checks.`), {
      name: 'ReportInProgress',
      leashOperation: 'iam:GenerateCredentialReport',
    })
  }
  try {
    const out = await clients.iam.send(new GetCredentialReportCommand({}), { abortSignal: signal })
    if (!out.Content) throw new MalformedResponseError('GetCredentialReport returned no content.')
    return { rows: parseCredentialReport(out.Content), generatedAt: out.GeneratedTime ?? null }
  } catch (error) {
    throw Object.assign(error as object, { leashOperation: 'iam:GetCredentialReport' })
  }
}

/** Collects identities into batches of `size`. */
class Batcher {
  private items: NormalizedIdentity[] = []
  constructor(
    private readonly scope: ScanScope,
    private readonly size: number,
  ) {}
  push(identity: NormalizedIdentity): ScanEvent | null {
    this.items.push(identity)
    return this.items.length >= this.size ? this.flush() : null
  }
  flush(): ScanEvent | null {
    if (this.items.length === 0) return null
    const identities = this.items
    this.items = []
    return { type: 'batch', scope: this.scope, identities }
  }
}

/** Access Advisor: granted services not used within the window. Per-identity calls, so opt-in and paced. */
const ADVISOR_WINDOW_DAYS = 90
const ADVISOR_MIN_INTERVAL_MS = 100
async function accessAdvisor(clients: AwsClients, arn: string, now: Date, signal: AbortSignal): Promise<NormalizedIdentity['unusedGrants']> {
  const job = await clients.iam.send(new GenerateServiceLastAccessedDetailsCommand({ Arn: arn, Granularity: 'SERVICE_LEVEL' }), { abortSignal: signal })
  if (!job.JobId) throw new MalformedResponseError('GenerateServiceLastAccessedDetails returned no JobId.')
  for (let attempt = 0; attempt < 10; attempt++) {
    await sleep(Math.min(ADVISOR_MIN_INTERVAL_MS * 2 ** attempt, 3000), undefined, { signal })
    const out = await clients.iam.send(new GetServiceLastAccessedDetailsCommand({ JobId: job.JobId }), { abortSignal: signal })
    if (out.JobStatus === 'IN_PROGRESS') continue
    if (out.JobStatus !== 'COMPLETED') throw new Error(`Access Advisor job ${out.JobStatus}: ${out.Error?.Message ?? 'no detail'}`)
    const cutoff = now.getTime() - ADVISOR_WINDOW_DAYS * 86_400_000
    return (out.ServicesLastAccessed ?? [])
      .filter((s) => !s.LastAuthenticated || s.LastAuthenticated.getTime() < cutoff)
      .map((s) => ({ name: s.ServiceNamespace ?? s.ServiceName ?? 'unknown', lastUsedAt: s.LastAuthenticated ?? null }))
  }
  throw new Error('Access Advisor job did not finish in time.')
}

function principalsOf(policyJson: string | undefined): string[] {
  if (!policyJson) return []
  const doc = JSON.parse(policyJson) as { Statement?: unknown }
  const list = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : []
  const out = new Set<string>()
  for (const s of list as { Principal?: unknown }[]) {
    const p = s.Principal
    if (p === '*') out.add('*')
    else if (p && typeof p === 'object') {
      for (const v of Object.values(p)) for (const x of Array.isArray(v) ? v : [v]) out.add(String(x))
    }
  }
  return [...out].sort()
}

export async function* scanAccount(ctx: ScanContext<AwsSettings>, base: AwsClients, target: ScanTarget): AsyncGenerator<ScanEvent> {
  const { settings, signal } = ctx
  const scope: ScanScope = { accountId: target.accountId, kind: 'account', ...(target.displayName ? { displayName: target.displayName } : {}) }
  yield { type: 'scope_started', scope }
  let complete = true
  const problem = (p: ScanProblem): ScanEvent => {
    complete = false
    return { type: 'problem', problem: p }
  }

  let clients = base
  let own = false
  if (target.roleArn) {
    const credentials = assumedRoleCredentials(base.sts, target.roleArn, target.externalId, signal)
    try {
      await credentials()
    } catch (error) {
      if (isAbort(error, signal)) {
        yield { type: 'scope_finished', scope, complete: false }
        return
      }
      yield problem({
        ...problemFor(scope, 'sts:AssumeRole', error, { fatalForScope: true, what: `account ${target.accountId}` }),
        message: `Could not assume ${target.roleArn}${target.externalId ? ' (with the configured external id)' : ''}: ${awsErrorInfo(error).message}`,
        remedy: `Create the role in account ${target.accountId} with a trust policy admitting the scanner's principal${
          target.externalId ? ' and the external id' : ''
        }, and allow sts:AssumeRole on it for the scanner.`,
      })
      yield { type: 'scope_finished', scope, complete: false }
      return
    }
    clients = createClients({ settings, credentials, apiCalls: ctx.apiCalls })
    own = true
  }

  const account: AccountContext = {
    scope,
    region: settings.region,
    policies: new Map(),
    policiesComplete: true,
    groups: new Map(),
    groupsComplete: true,
    report: null,
    reportGeneratedAt: null,
    reportUnreadable: [],
  }
  const batcher = new Batcher(scope, settings.batchSize)
  try {
    // 1. Managed policies (customer-managed and AWS-managed): documents only, no identities.
    try {
      for await (const page of authorizationDetails(clients, ['LocalManagedPolicy', 'AWSManagedPolicy'], signal)) {
        for (const policy of page.Policies ?? []) {
          const stored = storeManagedPolicy(policy)
          if (stored) account.policies.set(stored[0], stored[1])
        }
      }
    } catch (error) {
      if (isAbort(error, signal)) throw error
      account.policiesComplete = false
      yield problem(
        problemFor(scope, 'iam:GetAccountAuthorizationDetails', error, {
          fatalForScope: false,
          what: 'the managed policies (so entitlements from them are unknown)',
        }),
      )
    }

    // 2. Groups: their inline policies and attached managed policies, inherited by members.
    try {
      for await (const page of authorizationDetails(clients, ['Group'], signal)) {
        for (const group of page.GroupDetailList ?? []) {
          const stored = storeGroup(group)
          if (stored) account.groups.set(stored.name, stored)
        }
      }
    } catch (error) {
      if (isAbort(error, signal)) throw error
      account.groupsComplete = false
      yield problem(
        problemFor(scope, 'iam:GetAccountAuthorizationDetails', error, {
          fatalForScope: false,
          what: 'the IAM groups (so entitlements users inherit from groups are unknown)',
        }),
      )
    }

    // 3. Credential report: every user's keys, password and last use in one document.
    try {
      const { rows, generatedAt } = await readCredentialReport(clients, signal)
      account.report = new Map(rows.filter((r) => r.arn.includes(':user/')).map((r) => [r.arn, r]))
      account.reportGeneratedAt = generatedAt
    } catch (error) {
      if (isAbort(error, signal)) throw error
      const operation = (error as { leashOperation?: string }).leashOperation ?? 'iam:GetCredentialReport'
      const denied = awsErrorInfo(error).kind === 'access_denied'
      const part = (field: UnreadablePart['field']): UnreadablePart => ({ field, operation, permission: denied ? operation : null })
      account.reportUnreadable = [part('credentials'), part('usage')]
      yield problem(
        problemFor(scope, operation, error, {
          fatalForScope: false,
          what: "the credential report (users' access keys, passwords and their last use are unknown)",
        }),
      )
    }

    // 4. Users and roles, transformed and yielded page by page.
    let lastAdvisorCall = 0
    try {
      for await (const page of authorizationDetails(clients, ['User', 'Role'], signal)) {
        const identities: NormalizedIdentity[] = []
        // A record AWS returned without its required fields is skipped and reported; the rest of
        // the page is still used, and the account is marked incomplete so nothing is retired.
        const records = [
          ...(page.UserDetailList ?? []).map((user) => () => transformUser(account, user)),
          ...(page.RoleDetailList ?? []).map((role) => () => transformRole(account, role)),
        ]
        for (const transform of records) {
          try {
            identities.push(await transform())
          } catch (error) {
            if (!(error instanceof MissingFieldError)) throw error
            yield problem({
              scope,
              operation: 'iam:GetAccountAuthorizationDetails',
              permission: null,
              message: `${error.message} That user or role was skipped, so the account is only partly inventoried.`,
              remedy: 'Scan again; if it persists, check for a proxy or VPC endpoint that alters responses.',
              fatalForScope: true,
            })
          }
        }
        for (const identity of identities) {
          if (settings.accessAdvisor && !(identity.attributes.serviceLinked === true)) {
            const wait = lastAdvisorCall + ADVISOR_MIN_INTERVAL_MS - Date.now()
            if (wait > 0) await sleep(wait, undefined, { signal })
            lastAdvisorCall = Date.now()
            try {
              identity.unusedGrants = await accessAdvisor(clients, identity.externalId, ctx.now, signal)
            } catch (error) {
              if (isAbort(error, signal)) throw error
              const denied = awsErrorInfo(error).kind === 'access_denied'
              identity.unreadable.push({
                field: 'unused_grants',
                operation: 'iam:GenerateServiceLastAccessedDetails',
                permission: denied ? 'iam:GenerateServiceLastAccessedDetails' : null,
              })
              complete = false
            }
          }
          const event = batcher.push(identity)
          if (event) {
            yield event
            signal.throwIfAborted()
          }
        }
      }
    } catch (error) {
      if (isAbort(error, signal)) throw error
      yield problem(
        problemFor(scope, 'iam:GetAccountAuthorizationDetails', error, {
          fatalForScope: true,
          what: 'the full list of IAM users and roles (the account is only partly inventoried)',
        }),
      )
    }

    // 5. Secrets Manager secrets in the configured region.
    if (settings.secrets) {
      try {
        let token: string | undefined
        const seen = new Set<string>()
        do {
          const page = await clients.secrets.send(new ListSecretsCommand({ MaxResults: 100, NextToken: token }), { abortSignal: signal })
          for (const secret of page.SecretList ?? []) {
            let policy: { principals: string[]; unreadable: UnreadablePart | null } | null = null
            if (settings.secretResourcePolicies && secret.ARN) {
              try {
                const out = await clients.secrets.send(new GetResourcePolicyCommand({ SecretId: secret.ARN }), { abortSignal: signal })
                policy = { principals: principalsOf(out.ResourcePolicy), unreadable: null }
              } catch (error) {
                if (isAbort(error, signal)) throw error
                const denied = awsErrorInfo(error).kind === 'access_denied'
                policy = {
                  principals: [],
                  unreadable: { field: 'entitlements', operation: 'secretsmanager:GetResourcePolicy', permission: denied ? 'secretsmanager:GetResourcePolicy' : null },
                }
                complete = false
              }
            }
            const event = batcher.push(transformSecret(account, secret, policy))
            if (event) {
              yield event
              signal.throwIfAborted()
            }
          }
          token = page.NextToken
          if (token && seen.has(token)) throw new MalformedResponseError('ListSecrets returned a NextToken it had already returned.')
          if (token) seen.add(token)
        } while (token)
      } catch (error) {
        if (isAbort(error, signal)) throw error
        yield problem(
          problemFor(scope, 'secretsmanager:ListSecrets', error, {
            fatalForScope: true,
            what: `the Secrets Manager secrets in ${settings.region}`,
          }),
        )
      }
    }

    const last = batcher.flush()
    if (last) yield last
    yield { type: 'scope_finished', scope, complete }
  } catch (error) {
    if (!isAbort(error, signal)) throw error
    // Cancelled: whatever was yielded stands, nothing in this scope may be retired.
    yield { type: 'scope_finished', scope, complete: false }
  } finally {
    if (own) clients.destroy()
  }
}

export async function* scanAws(ctx: ScanContext<AwsSettings>): AsyncGenerator<ScanEvent> {
  const base = createClients({ settings: ctx.settings, credentials: defaultCredentials(), apiCalls: ctx.apiCalls })
  try {
    let targets: ScanTarget[]
    try {
      targets = await resolveTargets(ctx.settings, base, ctx.signal)
    } catch (error) {
      if (isAbort(error, ctx.signal)) return
      const operation = ctx.settings.organization ? 'organizations:ListAccounts' : 'sts:GetCallerIdentity'
      yield {
        type: 'problem',
        problem: problemFor(null, operation, error, {
          fatalForScope: true,
          what: ctx.settings.organization ? 'the list of accounts in the Organization' : 'which account the credentials belong to',
        }),
      }
      return
    }
    for (const target of targets) {
      if (ctx.signal.aborted) return
      yield* scanAccount(ctx, base, target)
    }
  } finally {
    base.destroy()
  }
}
