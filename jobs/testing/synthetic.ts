/**
 * Deterministic synthetic identities for ingest tests and the ingest benchmark. Identity i of an
 * account always looks the same, unless a mutation is applied, so a "rescan" is just the same
 * generator with a few mutations.
 */
import { ACCESS_LEVELS, type NormalizedIdentity, type ScanScope } from '../../connectors/contract.js'

export type Mutation =
  | 'touched' // used since the last scan: last-used dates move
  | 'credential_added'
  | 'credential_removed'
  | 'credential_disabled'
  | 'privilege_gained'
  | 'privilege_lost'
  | 'owner_changed'
  | 'disabled'

const ACTIONS = ['s3:GetObject', 's3:PutObject', 's3:ListBucket', 'iam:PassRole', 'bedrock:InvokeModel', 'sqs:SendMessage', 'logs:PutLogEvents', 'kms:Decrypt', 'dynamodb:Query', 'sts:AssumeRole', 'iam:CreateAccessKey', 'ec2:DescribeInstances']
const BASE = Date.UTC(2025, 0, 1)
const DAY = 86_400_000

export function syntheticScope(accountId: string): ScanScope {
  return { accountId, kind: 'account', displayName: `Account ${accountId}` }
}

export function syntheticExternalId(accountId: string, index: number): string {
  return `arn:aws:iam::${accountId}:role/agent-${index}`
}

export function syntheticIdentity(
  accountId: string,
  index: number,
  options: { mutation?: Mutation | null; credentials?: number; entitlements?: number } = {},
): NormalizedIdentity {
  const mutation = options.mutation ?? null
  const credentialCount = (options.credentials ?? 3) + (mutation === 'credential_added' ? 1 : 0) - (mutation === 'credential_removed' ? 1 : 0)
  const entitlementCount = (options.entitlements ?? 10) + (mutation === 'privilege_gained' ? 1 : 0) - (mutation === 'privilege_lost' ? 1 : 0)
  const touched = mutation === 'touched'
  const agent = index % 3 === 0
  const credentials: NormalizedIdentity['credentials'] = []
  for (let k = 0; k < credentialCount; k++) {
    credentials.push({
      externalId: `AKIA${accountId}${String(index).padStart(8, '0')}${k}`,
      type: 'access_key',
      displayName: null,
      status: mutation === 'credential_disabled' && k === 0 ? 'inactive' : 'active',
      createdAt: new Date(BASE + ((index + k) % 700) * DAY),
      expiresAt: null,
      lastUsedAt: new Date(BASE + (((index + k) % 700) + (touched ? 400 : 30)) * DAY),
      lastUsedKnown: true,
      lastRotatedAt: null,
      rotationEnabled: null,
      isStatic: true,
      attributes: { region: 'us-east-1' },
    })
  }
  const entitlements: NormalizedIdentity['entitlements'] = []
  for (let k = 0; k < entitlementCount; k++) {
    const action = k < ACTIONS.length ? ACTIONS[(index + k) % ACTIONS.length]! : `svc${k}:Action${k}`
    entitlements.push({
      action,
      resource: k === 10 ? '*' : `arn:aws:s3:::bucket-${index % 50}/${k}/*`,
      accessLevel: k === 10 ? 'admin' : ACCESS_LEVELS[(index + k) % 4]!,
      sourceKind: 'managed_policy',
      sourceRef: `arn:aws:iam::${accountId}:policy/p-${index % 20}`,
      conditional: false,
    })
  }
  const owner = mutation === 'owner_changed' ? `new-owner-${index % 7}@example.com` : `team-${index % 40}@example.com`
  return {
    externalId: syntheticExternalId(accountId, index),
    kind: 'role',
    displayName: `agent-${index}`,
    scope: syntheticScope(accountId),
    status: mutation === 'disabled' ? 'disabled' : 'active',
    createdAt: new Date(BASE + (index % 500) * DAY),
    lastUsedAt: new Date(BASE + ((index % 500) + (touched ? 450 : 60)) * DAY),
    lastUsedKnown: true,
    tags: { owner, env: index % 2 ? 'prod' : 'dev' },
    attributes: { path: '/agents/', arn: syntheticExternalId(accountId, index) },
    consoleUrl: `https://console.aws.amazon.com/iam/home#/roles/agent-${index}`,
    credentials,
    entitlements,
    owners: [{ ref: owner, kind: 'team', role: 'owner', source: 'tag', displayName: null, active: null, canAddCredentials: false }],
    agentSignals: agent
      ? [{ id: 'aws.trust.bedrock', platform: 'bedrock', weight: 0.9, reason: 'Trusted by bedrock.amazonaws.com', evidence: { principal: 'bedrock.amazonaws.com' } }]
      : [],
    escalationPaths: [],
    unusedGrants: null,
    environments: [index % 2 ? 'production' : 'non_production'],
    workloads: [],
    monitoring: { usageData: 'available', runtimeLogging: agent ? false : null },
    federationPossible: false,
    unreadable: [],
  }
}
