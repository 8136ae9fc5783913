/**
 * A local AWS: one loopback HTTP server answering the official SDK clients for exactly the
 * calls Leash makes. IAM and STS speak the AWS Query protocol (form-encoded POST, XML
 * responses in the 2010-05-08 / 2011-06-15 namespaces, <ErrorResponse> errors); Secrets Manager
 * and Organizations speak AWS JSON 1.1 (X-Amz-Target, `__type` errors).
 *
 * Which account a request acts in follows from the access key in its SigV4 Authorization
 * header: the base key belongs to the management account; AssumeRole hands out session keys
 * bound to the target account. Signatures are not verified, but a request without an
 * Authorization header is rejected like AWS does, and an unknown key is an invalid token.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { awsManagedByArn, AWS_MANAGED_POLICIES, awsManagedArn } from './aws-managed.js'
import { AccountState, awsId, type EstateGroup, type EstatePolicy, type EstateRole, type EstateSource, type EstateUser, type InlinePolicy } from './estate.js'

// ---------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------

export interface AccountFaults {
  /** The next N calls of an operation (e.g. `iam:GetAccountAuthorizationDetails`) answer Throttling. */
  throttle?: Record<string, number>
  /** The next N calls of an operation answer HTTP 500. */
  serverError?: Record<string, number>
  /** Every response of this account is delayed by this many milliseconds. */
  slowMs?: number
  /** The Nth call (1-based) of an operation returns a body that is not valid XML/JSON. */
  malformed?: { operation: string; call: number }
  /** The Nth call (1-based) of an operation returns only the first half of its body. */
  truncated?: { operation: string; call: number }
  /** Operations answered with AccessDenied every time. */
  accessDenied?: string[]
  /** sts:AssumeRole into this account is denied. */
  assumeRoleDenied?: boolean
}

export const BASE_ACCESS_KEY_ID = 'AKIALEASHSTANDIN0001'
export const BASE_SECRET_ACCESS_KEY = 'leash-stand-in-secret-not-a-real-key'

interface Session {
  accountId: string
  arn: string
  userId: string
}

class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message)
  }
}

// ---------------------------------------------------------------------------------------
// XML helpers
// ---------------------------------------------------------------------------------------

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' }
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c] as string)
const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z')
const el = (name: string, value: string | number | boolean | null | undefined) => (value === null || value === undefined ? '' : `<${name}>${esc(String(value))}</${name}>`)
const list = (name: string, members: string[]) => `<${name}>${members.map((m) => `<member>${m}</member>`).join('')}</${name}>`
/** IAM returns policy documents URL-encoded (RFC 3986). */
const policyText = (doc: unknown) => encodeURIComponent(JSON.stringify(doc))
const tagsXml = (tags: Record<string, string> | undefined) =>
  tags && Object.keys(tags).length ? list('Tags', Object.entries(tags).map(([k, v]) => `${el('Key', k)}${el('Value', v)}`)) : ''

const NS = { iam: 'https://iam.amazonaws.com/doc/2010-05-08/', sts: 'https://sts.amazonaws.com/doc/2011-06-15/' }

function queryResponse(service: 'iam' | 'sts', action: string, result: string | null): string {
  const body = result === null ? '' : `<${action}Result>${result}</${action}Result>`
  return `<${action}Response xmlns="${NS[service]}">${body}<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`
}

// ---------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------

interface PolicyRecord extends EstatePolicy {
  arn: string
}

export class StandInServer {
  readonly accounts = new Map<string, AccountState>()
  readonly faults = new Map<string, AccountFaults>()
  /** Calls per `<accountId>/<operation>`, for tests and the benchmark. */
  readonly calls = new Map<string, number>()
  private readonly sessions = new Map<string, Session>()
  private readonly reports = new Map<string, { state: 'none' | 'started' | 'complete'; csv: string | null; generatedAt: Date | null; version: number }>()
  private readonly versions = new Map<string, number>()
  private server: Server | null = null
  url = ''

  constructor(
    readonly estate: EstateSource,
    private readonly now: () => Date = () => new Date(),
  ) {
    for (const account of estate.accounts) this.accounts.set(account.id, new AccountState(account))
    this.sessions.set(BASE_ACCESS_KEY_ID, {
      accountId: estate.managementAccountId,
      arn: `arn:aws:iam::${estate.managementAccountId}:user/leash-scanner`,
      userId: awsId('AIDA', `${estate.managementAccountId}/leash-scanner`),
    })
  }

  setFaults(accountId: string, faults: AccountFaults): void {
    this.faults.set(accountId, structuredClone(faults))
  }

  clearFaults(): void {
    this.faults.clear()
  }

  callCount(accountId: string, operation: string): number {
    return this.calls.get(`${accountId}/${operation}`) ?? 0
  }

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
        res.end(String(error))
      })
    })
    // Keep-alive sockets from the SDK must not keep a stopped stand-in alive.
    this.server.keepAliveTimeout = 2_000
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject)
      this.server?.listen(port, '127.0.0.1', () => resolve())
    })
    const address = this.server.address() as AddressInfo
    this.url = `http://127.0.0.1:${address.port}`
    return this.url
  }

  async stop(): Promise<void> {
    const server = this.server
    this.server = null
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  private bump(accountId: string) {
    this.versions.set(accountId, (this.versions.get(accountId) ?? 0) + 1)
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
    const target = req.headers['x-amz-target']
    const json = typeof target === 'string'
    const auth = req.headers.authorization

    let service: 'iam' | 'sts' | 'secretsmanager' | 'organizations'
    let action: string
    let params: URLSearchParams | null = null
    let input: Record<string, unknown> = {}
    if (json) {
      const [prefix, name] = (target as string).split('.')
      service = prefix === 'secretsmanager' ? 'secretsmanager' : 'organizations'
      action = name ?? ''
      try {
        input = body ? (JSON.parse(body) as Record<string, unknown>) : {}
      } catch {
        return this.sendJsonError(res, new AwsError('SerializationException', 'Could not parse the request body.'))
      }
    } else {
      params = new URLSearchParams(body)
      action = params.get('Action') ?? ''
      service = action === 'AssumeRole' || action === 'GetCallerIdentity' ? 'sts' : 'iam'
    }
    const reply = (error: AwsError) => (json ? this.sendJsonError(res, error) : this.sendQueryError(res, service as 'iam' | 'sts', error))

    if (!auth) return reply(new AwsError(json ? 'MissingAuthenticationTokenException' : 'MissingAuthenticationToken', 'Request is missing Authentication Token', 403))
    const keyId = /Credential=([^/]+)\//.exec(auth)?.[1]
    const session = keyId ? this.sessions.get(keyId) : undefined
    if (!session) {
      return reply(
        new AwsError(
          json ? 'UnrecognizedClientException' : 'InvalidClientTokenId',
          'The security token included in the request is invalid.',
          json ? 400 : 403,
        ),
      )
    }
    const operation = `${service}:${action}`
    const accountId = session.accountId
    const key = `${accountId}/${operation}`
    const callNumber = (this.calls.get(key) ?? 0) + 1
    this.calls.set(key, callNumber)

    const faults = this.faults.get(accountId)
    if (faults?.slowMs) await new Promise((r) => setTimeout(r, faults.slowMs))
    if (faults?.throttle?.[operation]) {
      faults.throttle[operation]--
      return reply(new AwsError(json ? 'ThrottlingException' : 'Throttling', 'Rate exceeded', 400))
    }
    if (faults?.serverError?.[operation]) {
      faults.serverError[operation]--
      return reply(new AwsError(json ? 'InternalServiceError' : 'ServiceFailure', 'An internal error occurred.', 500, 'Receiver'))
    }
    if (faults?.accessDenied?.includes(operation)) {
      return reply(
        new AwsError(
          json ? 'AccessDeniedException' : 'AccessDenied',
          `User: ${session.arn} is not authorized to perform: ${operation} on resource: * because no identity-based policy allows the ${operation} action`,
          json ? 400 : 403,
        ),
      )
    }

    let payload: string
    try {
      if (json) payload = JSON.stringify(service === 'secretsmanager' ? this.secretsManager(accountId, action, input) : this.organizations(session, action, input))
      else payload = service === 'sts' ? this.sts(session, action, params as URLSearchParams) : this.iam(accountId, action, params as URLSearchParams)
    } catch (error) {
      if (error instanceof AwsError) return reply(error)
      throw error
    }
    if (faults?.malformed && faults.malformed.operation === operation && faults.malformed.call === callNumber) {
      payload = json ? '{"SecretList": [{"ARN": ' : payload.replace(/<\/Arn>/, '</Ar n>').replace(/<IsTruncated>/, '<IsTruncated><')
    }
    if (faults?.truncated && faults.truncated.operation === operation && faults.truncated.call === callNumber) {
      payload = payload.slice(0, Math.floor(payload.length / 2))
    }
    res.writeHead(200, {
      'content-type': json ? 'application/x-amz-json-1.1' : 'text/xml',
      'x-amzn-requestid': randomUUID(),
      'content-length': Buffer.byteLength(payload),
    })
    res.end(payload)
  }

  private sendQueryError(res: ServerResponse, service: 'iam' | 'sts', error: AwsError) {
    const body = `<ErrorResponse xmlns="${NS[service]}"><Error><Type>${error.type}</Type><Code>${esc(error.code)}</Code><Message>${esc(
      error.message,
    )}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`
    res.writeHead(error.status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  }

  private sendJsonError(res: ServerResponse, error: AwsError) {
    const body = JSON.stringify({ __type: error.code, message: error.message })
    res.writeHead(error.status, {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-errortype': error.code,
      'x-amzn-requestid': randomUUID(),
      'content-length': Buffer.byteLength(body),
    })
    res.end(body)
  }

  private account(accountId: string): AccountState {
    const account = this.accounts.get(accountId)
    if (!account) throw new AwsError('AccessDenied', `Account ${accountId} is not part of this stand-in.`, 403)
    return account
  }

  // -------------------------------------------------------------------------------------
  // STS
  // -------------------------------------------------------------------------------------

  private sts(session: Session, action: string, p: URLSearchParams): string {
    if (action === 'GetCallerIdentity') {
      return queryResponse('sts', action, `${el('Arn', session.arn)}${el('UserId', session.userId)}${el('Account', session.accountId)}`)
    }
    if (action !== 'AssumeRole') throw new AwsError('InvalidAction', `Could not find operation ${action}`)
    const roleArn = p.get('RoleArn') ?? ''
    const m = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn)
    const denied = () =>
      new AwsError('AccessDenied', `User: ${session.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403)
    if (!m) throw new AwsError('ValidationError', `${roleArn} is not a valid role ARN.`)
    const [, accountId, roleName] = m as unknown as [string, string, string]
    const account = this.accounts.get(accountId)
    if (!account || this.faults.get(accountId)?.assumeRoleDenied) throw denied()
    const scanner = account.source.scannerRole
    const known = scanner?.name === roleName || account.role(roleName)
    if (!known) throw denied()
    if (scanner?.name === roleName && scanner.externalId && scanner.externalId !== p.get('ExternalId')) throw denied()
    const accessKeyId = awsId('ASIA', randomUUID(), 16)
    const sessionName = p.get('RoleSessionName') ?? 'session'
    const arn = `arn:aws:sts::${accountId}:assumed-role/${roleName}/${sessionName}`
    const roleId = awsId('AROA', `${accountId}/${roleName}`)
    this.sessions.set(accessKeyId, { accountId, arn, userId: `${roleId}:${sessionName}` })
    const expiration = new Date(this.now().getTime() + Number(p.get('DurationSeconds') ?? 3600) * 1000)
    return queryResponse(
      'sts',
      action,
      `<Credentials>${el('AccessKeyId', accessKeyId)}${el('SecretAccessKey', randomUUID())}${el('SessionToken', Buffer.from(randomUUID()).toString('base64'))}${el(
        'Expiration',
        iso(expiration),
      )}</Credentials><AssumedRoleUser>${el('AssumedRoleId', `${roleId}:${sessionName}`)}${el('Arn', arn)}</AssumedRoleUser>`,
    )
  }

  // -------------------------------------------------------------------------------------
  // IAM
  // -------------------------------------------------------------------------------------

  private policyRecords(account: AccountState): PolicyRecord[] {
    return account.source.policies.map((p) => ({ ...p, arn: `arn:aws:iam::${account.id}:policy${p.path ?? '/'}${p.name}` }))
  }

  /** Resolve a policy reference (ARN or the account's own policy name) to an ARN. */
  private policyArn(account: AccountState, ref: string): string {
    if (ref.startsWith('arn:')) return ref
    if (AWS_MANAGED_POLICIES[ref] && !account.source.policies.some((p) => p.name === ref)) return awsManagedArn(ref)
    const own = account.source.policies.find((p) => p.name === ref)
    return `arn:aws:iam::${account.id}:policy${own?.path ?? '/'}${ref}`
  }

  private attachedXml(account: AccountState, refs: string[] | undefined) {
    return list(
      'AttachedManagedPolicies',
      (refs ?? []).map((ref) => {
        const arn = this.policyArn(account, ref)
        return `${el('PolicyName', arn.split('/').pop())}${el('PolicyArn', arn)}`
      }),
    )
  }

  private inlineXml(name: string, policies: InlinePolicy[] | undefined) {
    return list(
      name,
      (policies ?? []).map((p) => `${el('PolicyName', p.name)}${el('PolicyDocument', policyText(p.document))}`),
    )
  }

  private boundaryXml(account: AccountState, ref: string | undefined) {
    return ref ? `<PermissionsBoundary>${el('PermissionsBoundaryType', 'Policy')}${el('PermissionsBoundaryArn', this.policyArn(account, ref))}</PermissionsBoundary>` : ''
  }

  private userXml(account: AccountState, u: EstateUser): string {
    const path = u.path ?? '/'
    return (
      `${el('Path', path)}${el('UserName', u.name)}${el('UserId', awsId('AIDA', `${account.id}/user/${u.name}`))}` +
      `${el('Arn', `arn:aws:iam::${account.id}:user${path}${u.name}`)}${el('CreateDate', iso(u.createdAt))}` +
      `${this.inlineXml('UserPolicyList', u.inlinePolicies)}${list('GroupList', (u.groups ?? []).map((g) => esc(g)))}` +
      `${this.attachedXml(account, u.managedPolicies)}${this.boundaryXml(account, u.permissionsBoundary)}${tagsXml(u.tags)}`
    )
  }

  private roleXml(account: AccountState, r: EstateRole): string {
    const path = r.path ?? '/'
    const lastUsed = r.lastUsed ? `<RoleLastUsed>${el('LastUsedDate', iso(r.lastUsed.date))}${el('Region', r.lastUsed.region)}</RoleLastUsed>` : '<RoleLastUsed/>'
    return (
      `${el('Path', path)}${el('RoleName', r.name)}${el('RoleId', awsId('AROA', `${account.id}/${r.name}`))}` +
      `${el('Arn', `arn:aws:iam::${account.id}:role${path}${r.name}`)}${el('CreateDate', iso(r.createdAt))}` +
      `${el('AssumeRolePolicyDocument', policyText(r.trust))}<InstanceProfileList/>${this.inlineXml('RolePolicyList', r.inlinePolicies)}` +
      `${this.attachedXml(account, r.managedPolicies)}${this.boundaryXml(account, r.permissionsBoundary)}${tagsXml(r.tags)}${lastUsed}`
    )
  }

  private groupXml(account: AccountState, g: EstateGroup) {
    const path = g.path ?? '/'
    return (
      `${el('Path', path)}${el('GroupName', g.name)}${el('GroupId', awsId('AGPA', `${account.id}/${g.name}`))}` +
      `${el('Arn', `arn:aws:iam::${account.id}:group${path}${g.name}`)}${el('CreateDate', iso(g.createdAt))}` +
      `${this.inlineXml('GroupPolicyList', g.inlinePolicies)}${this.attachedXml(account, g.managedPolicies)}`
    )
  }

  private policyXml(p: PolicyRecord): string {
    return (
      `${el('PolicyName', p.name)}${el('PolicyId', awsId('ANPA', p.arn))}${el('Arn', p.arn)}${el('Path', p.path ?? '/')}` +
      `${el('DefaultVersionId', 'v1')}${el('AttachmentCount', 1)}${el('PermissionsBoundaryUsageCount', 0)}${el('IsAttachable', true)}` +
      `${el('CreateDate', iso(p.createdAt))}${el('UpdateDate', iso(p.createdAt))}` +
      list('PolicyVersionList', [`${el('Document', policyText(p.document))}${el('VersionId', 'v1')}${el('IsDefaultVersion', true)}${el('CreateDate', iso(p.createdAt))}`])
    )
  }

  private authorizationDetails(account: AccountState, p: URLSearchParams): string {
    const filters = new Set<string>()
    for (const [k, v] of p) if (/^Filter\.member\.\d+$/.test(k)) filters.add(v)
    const all = filters.size === 0
    const awsManaged = Object.keys(AWS_MANAGED_POLICIES).map((name) => ({ ...(AWS_MANAGED_POLICIES[name] as EstatePolicy), arn: awsManagedArn(name) }))
    // One sequence over the kinds requested; the Marker is an offset into it.
    const segments: { kind: 'user' | 'role' | 'group' | 'policy'; count: number; at: (i: number) => string }[] = []
    if (all || filters.has('User')) segments.push({ kind: 'user', count: account.source.users.count, at: (i) => this.userXml(account, account.userAt(i)) })
    if (all || filters.has('Group')) segments.push({ kind: 'group', count: account.source.groups.length, at: (i) => this.groupXml(account, account.source.groups[i] as EstateGroup) })
    if (all || filters.has('Role')) segments.push({ kind: 'role', count: account.source.roles.count, at: (i) => this.roleXml(account, account.roleAt(i)) })
    if (all || filters.has('LocalManagedPolicy')) {
      const own = this.policyRecords(account)
      segments.push({ kind: 'policy', count: own.length, at: (i) => this.policyXml(own[i] as PolicyRecord) })
    }
    if (all || filters.has('AWSManagedPolicy')) segments.push({ kind: 'policy', count: awsManaged.length, at: (i) => this.policyXml(awsManaged[i] as PolicyRecord) })
    const total = segments.reduce((n, s) => n + s.count, 0)
    const maxItems = Math.min(Number(p.get('MaxItems') ?? 100) || 100, 1000)
    let offset = 0
    const marker = p.get('Marker')
    if (marker) {
      const decoded = Number(Buffer.from(marker, 'base64').toString('utf8').replace(/^offset:/, ''))
      if (!Number.isInteger(decoded) || decoded < 0 || decoded > total) throw new AwsError('InvalidInput', 'Invalid Marker.')
      offset = decoded
    }
    const end = Math.min(total, offset + maxItems)
    const parts: Record<'user' | 'role' | 'group' | 'policy', string[]> = { user: [], role: [], group: [], policy: [] }
    let base = 0
    for (const s of segments) {
      for (let i = Math.max(offset, base); i < Math.min(end, base + s.count); i++) parts[s.kind].push(s.at(i - base))
      base += s.count
    }
    const truncated = end < total
    return queryResponse(
      'iam',
      'GetAccountAuthorizationDetails',
      `${list('UserDetailList', parts.user)}${list('GroupDetailList', parts.group)}${list('RoleDetailList', parts.role)}${list('Policies', parts.policy)}` +
        `${el('IsTruncated', truncated)}${truncated ? el('Marker', Buffer.from(`offset:${end}`).toString('base64')) : ''}`,
    )
  }

  private credentialReportCsv(account: AccountState): string {
    const header =
      'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,' +
      'access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,' +
      'access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,' +
      'cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated'
    const rootCreated = '2019-01-01T00:00:00+00:00'
    const lines = [
      header,
      `<root_account>,arn:aws:iam::${account.id}:root,${rootCreated},not_supported,no_information,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`,
    ]
    const ts = (d: Date | null | undefined) => (d ? d.toISOString().replace(/\.\d{3}Z$/, '+00:00') : 'N/A')
    for (let i = 0; i < account.source.users.count; i++) {
      const u = account.userAt(i)
      const keys = [...(u.accessKeys ?? [])].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      const keyCols = [0, 1].map((slot) => {
        const k = keys[slot]
        if (!k) return 'false,N/A,N/A,N/A,N/A'
        const used = k.lastUsedAt ?? null
        return [k.status === 'Active', ts(k.createdAt), ts(used), used ? (k.lastUsedRegion ?? 'us-east-1') : 'N/A', used ? (k.lastUsedService ?? 'sts') : 'N/A'].join(',')
      })
      const pw = u.password
      lines.push(
        [
          u.name,
          `arn:aws:iam::${account.id}:user${u.path ?? '/'}${u.name}`,
          ts(u.createdAt),
          pw ? 'true' : 'false',
          pw ? (pw.lastUsedAt ? ts(pw.lastUsedAt) : 'no_information') : 'N/A',
          pw ? ts(pw.lastChangedAt ?? pw.createdAt) : 'N/A',
          'N/A',
          u.mfa ? 'true' : 'false',
          ...keyCols,
          'false,N/A,false,N/A',
        ].join(','),
      )
    }
    return `${lines.join('\n')}\n`
  }

  private requireUser(account: AccountState, name: string | null, mutable = false): EstateUser {
    const user = name ? (mutable ? account.mutableUser(name) : account.user(name)) : undefined
    if (!user) throw new AwsError('NoSuchEntity', `The user with name ${name} cannot be found.`, 404)
    return user
  }

  private requireRole(account: AccountState, name: string | null, mutable = false): EstateRole {
    const role = name ? (mutable ? account.mutableRole(name) : account.role(name)) : undefined
    if (!role) throw new AwsError('NoSuchEntity', `The role with name ${name} cannot be found.`, 404)
    return role
  }

  private iam(accountId: string, action: string, p: URLSearchParams): string {
    const account = this.account(accountId)
    switch (action) {
      case 'GetAccountAuthorizationDetails':
        return this.authorizationDetails(account, p)
      case 'GenerateCredentialReport': {
        const version = this.versions.get(accountId) ?? 0
        const report = this.reports.get(accountId)
        if (report && report.state === 'complete' && report.version === version) {
          return queryResponse('iam', action, `${el('State', 'COMPLETE')}`)
        }
        if (!report || report.state !== 'started' || report.version !== version) {
          this.reports.set(accountId, { state: 'started', csv: null, generatedAt: null, version })
          return queryResponse('iam', action, `${el('State', 'STARTED')}${el('Description', 'No report exists. Starting a new report generation task')}`)
        }
        report.state = 'complete'
        report.csv = this.credentialReportCsv(account)
        report.generatedAt = this.now()
        return queryResponse('iam', action, `${el('State', 'COMPLETE')}`)
      }
      case 'GetCredentialReport': {
        const report = this.reports.get(accountId)
        if (!report || report.state === 'none') throw new AwsError('ReportNotPresent', 'Credential report not present.', 410)
        if (report.state !== 'complete' || !report.csv || !report.generatedAt) throw new AwsError('ReportInProgress', 'Credential report is being generated.', 404)
        return queryResponse(
          'iam',
          action,
          `${el('Content', Buffer.from(report.csv).toString('base64'))}${el('ReportFormat', 'text/csv')}${el('GeneratedTime', iso(report.generatedAt))}`,
        )
      }
      case 'ListAccessKeys': {
        const user = this.requireUser(account, p.get('UserName'))
        return queryResponse(
          'iam',
          action,
          `${list(
            'AccessKeyMetadata',
            (user.accessKeys ?? []).map((k) => `${el('UserName', user.name)}${el('AccessKeyId', k.id)}${el('Status', k.status)}${el('CreateDate', iso(k.createdAt))}`),
          )}${el('IsTruncated', false)}`,
        )
      }
      case 'UpdateAccessKey': {
        const user = this.requireUser(account, p.get('UserName'), true)
        const key = user.accessKeys?.find((k) => k.id === p.get('AccessKeyId'))
        if (!key) throw new AwsError('NoSuchEntity', `The Access Key with id ${p.get('AccessKeyId')} cannot be found.`, 404)
        const status = p.get('Status')
        if (status !== 'Active' && status !== 'Inactive') throw new AwsError('ValidationError', 'Status must be Active or Inactive.')
        if (key.status !== status) {
          key.status = status
          this.bump(accountId)
        }
        return queryResponse('iam', action, null)
      }
      case 'DeleteAccessKey': {
        const user = this.requireUser(account, p.get('UserName'), true)
        const before = user.accessKeys?.length ?? 0
        user.accessKeys = (user.accessKeys ?? []).filter((k) => k.id !== p.get('AccessKeyId'))
        if (user.accessKeys.length === before) throw new AwsError('NoSuchEntity', `The Access Key with id ${p.get('AccessKeyId')} cannot be found.`, 404)
        this.bump(accountId)
        return queryResponse('iam', action, null)
      }
      case 'GetLoginProfile': {
        const user = this.requireUser(account, p.get('UserName'))
        if (!user.password) throw new AwsError('NoSuchEntity', `Login Profile for User ${user.name} cannot be found.`, 404)
        return queryResponse('iam', action, `<LoginProfile>${el('UserName', user.name)}${el('CreateDate', iso(user.password.createdAt))}${el('PasswordResetRequired', false)}</LoginProfile>`)
      }
      case 'DeleteLoginProfile': {
        const user = this.requireUser(account, p.get('UserName'), true)
        if (!user.password) throw new AwsError('NoSuchEntity', `Login Profile for User ${user.name} cannot be found.`, 404)
        delete user.password
        this.bump(accountId)
        return queryResponse('iam', action, null)
      }
      case 'ListRolePolicies': {
        const role = this.requireRole(account, p.get('RoleName'))
        return queryResponse('iam', action, `${list('PolicyNames', (role.inlinePolicies ?? []).map((x) => esc(x.name)))}${el('IsTruncated', false)}`)
      }
      case 'GetRolePolicy': {
        const role = this.requireRole(account, p.get('RoleName'))
        const policy = role.inlinePolicies?.find((x) => x.name === p.get('PolicyName'))
        if (!policy) throw new AwsError('NoSuchEntity', `The role policy with name ${p.get('PolicyName')} cannot be found.`, 404)
        return queryResponse('iam', action, `${el('RoleName', role.name)}${el('PolicyName', policy.name)}${el('PolicyDocument', policyText(policy.document))}`)
      }
      case 'PutRolePolicy': {
        const role = this.requireRole(account, p.get('RoleName'), true)
        const name = p.get('PolicyName') ?? ''
        let document: InlinePolicy['document']
        try {
          document = JSON.parse(p.get('PolicyDocument') ?? '') as InlinePolicy['document']
        } catch {
          throw new AwsError('MalformedPolicyDocument', 'The policy document is not valid JSON.')
        }
        role.inlinePolicies = [...(role.inlinePolicies ?? []).filter((x) => x.name !== name), { name, document }]
        this.bump(accountId)
        return queryResponse('iam', action, null)
      }
      case 'DeleteRolePolicy': {
        const role = this.requireRole(account, p.get('RoleName'), true)
        const before = role.inlinePolicies?.length ?? 0
        role.inlinePolicies = (role.inlinePolicies ?? []).filter((x) => x.name !== p.get('PolicyName'))
        if (role.inlinePolicies.length === before) throw new AwsError('NoSuchEntity', `The role policy with name ${p.get('PolicyName')} cannot be found.`, 404)
        this.bump(accountId)
        return queryResponse('iam', action, null)
      }
      case 'ListAttachedRolePolicies': {
        const role = this.requireRole(account, p.get('RoleName'))
        return queryResponse(
          'iam',
          action,
          `${list(
            'AttachedPolicies',
            (role.managedPolicies ?? []).map((ref) => {
              const arn = this.policyArn(account, ref)
              return `${el('PolicyName', arn.split('/').pop())}${el('PolicyArn', arn)}`
            }),
          )}${el('IsTruncated', false)}`,
        )
      }
      case 'DetachRolePolicy': {
        const role = this.requireRole(account, p.get('RoleName'), true)
        const arn = p.get('PolicyArn')
        const before = role.managedPolicies?.length ?? 0
        role.managedPolicies = (role.managedPolicies ?? []).filter((ref) => this.policyArn(account, ref) !== arn)
        if (role.managedPolicies.length === before) throw new AwsError('NoSuchEntity', `Policy ${arn} was not found or is not attached.`, 404)
        this.bump(accountId)
        return queryResponse('iam', action, null)
      }
      case 'GenerateServiceLastAccessedDetails': {
        const arn = p.get('Arn') ?? ''
        return queryResponse('iam', action, el('JobId', Buffer.from(arn).toString('base64url')))
      }
      case 'GetServiceLastAccessedDetails':
        return this.serviceLastAccessed(account, Buffer.from(p.get('JobId') ?? '', 'base64url').toString('utf8'))
      default:
        throw new AwsError('InvalidAction', `The stand-in does not implement iam:${action}.`)
    }
  }

  /** Access Advisor: the services an identity's policies grant, with the last use the seed declares. */
  private serviceLastAccessed(account: AccountState, arn: string): string {
    const m = /:(user|role)\/(?:.*\/)?([^/]+)$/.exec(arn)
    const identity = m ? (m[1] === 'user' ? account.user(m[2] as string) : account.role(m[2] as string)) : undefined
    if (!identity) throw new AwsError('NoSuchEntity', `${arn} cannot be found.`, 404)
    const documents: unknown[] = [...(identity.inlinePolicies ?? []).map((x) => x.document)]
    const refs = [...(identity.managedPolicies ?? [])]
    if ('groups' in identity) for (const g of account.source.groups.filter((x) => identity.groups?.includes(x.name))) {
      documents.push(...(g.inlinePolicies ?? []).map((x) => x.document))
      refs.push(...(g.managedPolicies ?? []))
    }
    for (const ref of refs) {
      const arnRef = this.policyArn(account, ref)
      const policy = awsManagedByArn(arnRef) ?? account.source.policies.find((x) => arnRef.endsWith(`/${x.name}`))
      if (policy) documents.push(policy.document)
    }
    const services = new Set<string>()
    for (const doc of documents) {
      const st = (doc as { Statement?: unknown }).Statement
      for (const s of (Array.isArray(st) ? st : [st]) as { Effect?: string; Action?: unknown }[]) {
        if (s?.Effect !== 'Allow') continue
        for (const a of Array.isArray(s.Action) ? s.Action : [s.Action]) {
          if (typeof a !== 'string') continue
          if (a === '*') ['s3', 'ec2', 'iam', 'lambda', 'bedrock', 'secretsmanager', 'sts'].forEach((x) => services.add(x))
          else services.add(a.split(':')[0] as string)
        }
      }
    }
    const use = identity.serviceUse ?? {}
    const now = iso(this.now())
    return queryResponse(
      'iam',
      'GetServiceLastAccessedDetails',
      `${el('JobStatus', 'COMPLETED')}${el('JobType', 'SERVICE_LEVEL')}${el('JobCreationDate', now)}${el('JobCompletionDate', now)}` +
        list(
          'ServicesLastAccessed',
          [...services].sort().map((ns) => {
            const last = use[ns]
            return `${el('ServiceName', ns)}${el('ServiceNamespace', ns)}${last ? el('LastAuthenticated', iso(last)) : ''}${el('TotalAuthenticatedEntities', last ? 1 : 0)}`
          }),
        ) +
        el('IsTruncated', false),
    )
  }

  // -------------------------------------------------------------------------------------
  // Secrets Manager and Organizations (AWS JSON 1.1)
  // -------------------------------------------------------------------------------------

  private secretArn(accountId: string, name: string) {
    return `arn:aws:secretsmanager:us-east-1:${accountId}:secret:${name}-${awsId('', `${accountId}/${name}`, 6)}`
  }

  private secretsManager(accountId: string, action: string, input: Record<string, unknown>): unknown {
    const account = this.account(accountId)
    const epoch = (d: Date | null | undefined) => (d ? d.getTime() / 1000 : undefined)
    if (action === 'ListSecrets') {
      const max = Math.min(Number(input.MaxResults ?? 100) || 100, 100)
      const token = typeof input.NextToken === 'string' ? Number(Buffer.from(input.NextToken, 'base64').toString('utf8')) : 0
      if (!Number.isInteger(token) || token < 0) throw new AwsError('InvalidNextTokenException', 'Invalid NextToken.')
      const end = Math.min(account.source.secrets.count, token + max)
      const SecretList = []
      for (let i = token; i < end; i++) {
        const s = account.source.secrets.at(i)
        SecretList.push({
          ARN: this.secretArn(accountId, s.name),
          Name: s.name,
          Description: s.description,
          RotationEnabled: s.rotationEnabled ?? false,
          RotationRules: s.rotationDays ? { AutomaticallyAfterDays: s.rotationDays } : undefined,
          LastRotatedDate: epoch(s.lastRotatedAt),
          LastChangedDate: epoch(s.lastChangedAt ?? s.createdAt),
          LastAccessedDate: epoch(s.lastAccessedAt),
          CreatedDate: epoch(s.createdAt),
          Tags: s.tags ? Object.entries(s.tags).map(([Key, Value]) => ({ Key, Value })) : undefined,
          SecretVersionsToStages: { [awsId('', s.name, 32).toLowerCase()]: ['AWSCURRENT'] },
        })
      }
      return { SecretList, NextToken: end < account.source.secrets.count ? Buffer.from(String(end)).toString('base64') : undefined }
    }
    if (action === 'GetResourcePolicy') {
      const id = String(input.SecretId ?? '')
      const name = id.startsWith('arn:') ? id.split(':secret:')[1]?.replace(/-[A-Za-z0-9]{6}$/, '') : id
      const secret = name ? account.source.secrets.byName(name) : undefined
      if (!secret) throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.")
      return { ARN: this.secretArn(accountId, secret.name), Name: secret.name, ResourcePolicy: secret.resourcePolicy ? JSON.stringify(secret.resourcePolicy) : undefined }
    }
    throw new AwsError('UnknownOperationException', `The stand-in does not implement secretsmanager:${action}.`)
  }

  private organizations(session: Session, action: string, input: Record<string, unknown>): unknown {
    if (action !== 'ListAccounts') throw new AwsError('UnknownOperationException', `The stand-in does not implement organizations:${action}.`)
    if (session.accountId !== this.estate.managementAccountId) {
      throw new AwsError('AccessDeniedException', 'You don’t have permissions to access this resource: only the management account can list accounts.')
    }
    const all = this.estate.accounts
    const start = typeof input.NextToken === 'string' ? Number(Buffer.from(input.NextToken, 'base64').toString('utf8')) : 0
    const max = Math.min(Number(input.MaxResults ?? 20) || 20, 20)
    const end = Math.min(all.length, start + max)
    return {
      Accounts: all.slice(start, end).map((a) => ({
        Id: a.id,
        Arn: `arn:aws:organizations::${this.estate.managementAccountId}:account/o-leashstandin/${a.id}`,
        Email: `aws+${a.id}@example.com`,
        Name: a.name,
        Status: 'ACTIVE',
        State: 'ACTIVE',
        JoinedMethod: a.id === this.estate.managementAccountId ? 'INVITED' : 'CREATED',
        JoinedTimestamp: new Date('2020-01-01T00:00:00Z').getTime() / 1000,
      })),
      NextToken: end < all.length ? Buffer.from(String(end)).toString('base64') : undefined,
    }
  }
}
