/**
 * The 'demo' seed: a realistic, deterministic AWS estate for `leash scan --demo` and the demo
 * dashboard (issue 8). Three accounts, about 150 identities, about a third of them AI agents,
 * with the flaws real estates have:
 *
 * - orphaned agent roles (no owner tag): `AmazonBedrockExecutionRoleForAgents_X7K2P9QM`, `agentcore-pricing-runtime`
 * - 400-day-old access keys: `invoice-agent`, `legacy-summarizer-bot`
 * - agents with AdministratorAccess: `ops-copilot-agent-role`, `autonomous-ops-agent`
 * - secrets without rotation: `prod/agents/openai-api-key`, `prod/agents/anthropic-api-key`
 * - credentials never used: `rag-indexer-agent` (key created 200 days ago, never used)
 * - two agents sharing one role: `shared-agent-runtime` (workloads: support-agent, billing-agent)
 * - an owner who has left: tag owner=`jordan.blake@acme.example` (see DEMO_DEPARTED_OWNERS) on
 *   `claims-triage-agent-role` and `legacy-summarizer-bot`. AWS cannot know who left; the demo's
 *   user directory must list this address as departed.
 * - prod and non-prod on one identity: `eval-harness-agent` (env=prod,staging)
 * - a privilege-escalation path: `agent-tooling-role` (iam:PassRole + lambda:CreateFunction + lambda:InvokeFunction)
 *
 * Structure and names are fixed (a seeded PRNG fills in the rest); dates are relative to the
 * stand-in's start, so "400 days old" stays 400 days old whenever the demo runs.
 */
import { awsManagedArn } from '../aws-managed.js'
import { prng, type EstateAccountDescription, type EstateDescription, type EstateRole, type EstateSecret, type EstateUser, type PolicyDocumentJson } from '../estate.js'

export const DEMO_EXTERNAL_ID = 'leash-demo-external-id'
export const DEMO_ACCOUNTS = { management: '210987654321', prod: '345678901234', dev: '456789012345' } as const
/** Owner addresses the demo directory must treat as people who have left the company. */
export const DEMO_DEPARTED_OWNERS = ['jordan.blake@acme.example'] as const
export const DEMO_OWNERS = ['maria.garcia@acme.example', 'sam.okafor@acme.example', 'li.wei@acme.example', 'priya.nair@acme.example', 'tom.becker@acme.example'] as const

const trust = (service: string): PolicyDocumentJson => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
})
const oidcTrust = (account: string): PolicyDocumentJson => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Federated: `arn:aws:iam::${account}:oidc-provider/token.actions.githubusercontent.com` },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:acme/*' } },
    },
  ],
})
const allow = (action: string | string[], resource: string | string[] = '*'): PolicyDocumentJson => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: action, Resource: resource }],
})

const APPS = ['orders', 'payments', 'catalog', 'search', 'inventory', 'notifications', 'shipping', 'reporting', 'auth', 'billing', 'pricing', 'reviews', 'media', 'exports', 'audit']
const AGENT_NAMES = ['support', 'billing', 'research', 'triage', 'sales-assist', 'code-review', 'onboarding', 'forecast', 'qa', 'docs', 'compliance', 'translation', 'procurement', 'hr-helpdesk', 'incident']

export function demoEstate(now: Date): EstateDescription {
  const day = 86_400_000
  const today = new Date(Math.floor(now.getTime() / day) * day + 9 * 3_600_000)
  const ago = (days: number) => new Date(today.getTime() - Math.round(days) * day)
  const r = prng(20261121)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(r() * items.length)] as T
  const scannerRole = { name: 'LeashScanner', externalId: DEMO_EXTERNAL_ID }
  const owner = () => pick(DEMO_OWNERS)

  // ------------------------------------------------------------------ management account
  const management: EstateAccountDescription = {
    id: DEMO_ACCOUNTS.management,
    name: 'acme-management',
    scannerRole,
    groups: [
      { name: 'platform-admins', createdAt: ago(1400), managedPolicies: [awsManagedArn('AdministratorAccess')] },
      { name: 'read-only', createdAt: ago(1400), managedPolicies: [awsManagedArn('ReadOnlyAccess')] },
    ],
    users: [
      {
        name: 'terraform-cloud',
        createdAt: ago(1100),
        tags: { team: 'platform', owner: 'tom.becker@acme.example', env: 'prod' },
        groups: ['platform-admins'],
        accessKeys: [{ id: 'AKIADEMOTFCLOUD00001', status: 'Active', createdAt: ago(95), lastUsedAt: ago(0), lastUsedService: 'iam', lastUsedRegion: 'us-east-1' }],
      },
      {
        name: 'break-glass-admin',
        createdAt: ago(1300),
        tags: { owner: 'tom.becker@acme.example', purpose: 'emergency' },
        groups: ['platform-admins'],
        password: { createdAt: ago(1300), lastUsedAt: ago(210), lastChangedAt: ago(380) },
        mfa: true,
      },
      {
        name: 'billing-export',
        createdAt: ago(900),
        tags: { team: 'finance' },
        inlinePolicies: [{ name: 'cur-read', document: allow(['cur:DescribeReportDefinitions', 's3:GetObject'], '*') }],
        accessKeys: [{ id: 'AKIADEMOBILLINGEXP01', status: 'Active', createdAt: ago(700), lastUsedAt: ago(1), lastUsedService: 's3', lastUsedRegion: 'us-east-1' }],
      },
    ],
    roles: [
      {
        name: 'OrganizationAccountAccessRole',
        createdAt: ago(1500),
        trust: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${DEMO_ACCOUNTS.management}:root` }, Action: 'sts:AssumeRole' }] },
        managedPolicies: [awsManagedArn('AdministratorAccess')],
        lastUsed: { date: ago(12), region: 'us-east-1' },
      },
      {
        name: 'github-actions-org-deploy',
        createdAt: ago(600),
        trust: oidcTrust(DEMO_ACCOUNTS.management),
        tags: { team: 'platform', owner: 'tom.becker@acme.example' },
        managedPolicies: [awsManagedArn('PowerUserAccess')],
        lastUsed: { date: ago(0), region: 'us-east-1' },
      },
      {
        name: 'ops-copilot-agent-role',
        createdAt: ago(150),
        trust: trust('bedrock-agentcore.amazonaws.com'),
        tags: { owner: 'sam.okafor@acme.example', 'leash:agent': 'true', 'agent-name': 'ops-copilot', env: 'prod' },
        managedPolicies: [awsManagedArn('AdministratorAccess')],
        lastUsed: { date: ago(0), region: 'us-east-1' },
        declaredAgent: true,
      },
    ],
    secrets: [
      { name: 'org/terraform/cloud-token', createdAt: ago(800), rotationEnabled: false, lastAccessedAt: ago(0), tags: { team: 'platform' } },
      { name: 'org/slack/webhook', createdAt: ago(500), rotationEnabled: false, lastAccessedAt: ago(40), tags: { owner: 'tom.becker@acme.example' } },
    ],
  }

  // ------------------------------------------------------------------ prod account
  const prodUsers: EstateUser[] = [
    {
      name: 'invoice-agent',
      path: '/agents/',
      createdAt: ago(430),
      tags: { 'leash:agent': 'true', 'agent-name': 'invoice-agent', owner: 'priya.nair@acme.example', env: 'prod' },
      inlinePolicies: [{ name: 'invoices', document: allow(['bedrock:InvokeModel', 's3:GetObject', 's3:PutObject', 'dynamodb:PutItem', 'dynamodb:Query']) }],
      accessKeys: [{ id: 'AKIADEMOINVOICEAGT01', status: 'Active', createdAt: ago(400), lastUsedAt: ago(1), lastUsedService: 'bedrock', lastUsedRegion: 'us-east-1' }],
      declaredAgent: true,
    },
    {
      name: 'autonomous-ops-agent',
      path: '/agents/',
      createdAt: ago(240),
      tags: { 'leash:agent': 'true', owner: 'sam.okafor@acme.example', env: 'prod' },
      managedPolicies: [awsManagedArn('AdministratorAccess')],
      accessKeys: [{ id: 'AKIADEMOAUTOOPSAGT01', status: 'Active', createdAt: ago(230), lastUsedAt: ago(0), lastUsedService: 'ec2', lastUsedRegion: 'eu-west-1' }],
      declaredAgent: true,
    },
    {
      name: 'rag-indexer-agent',
      path: '/agents/',
      createdAt: ago(205),
      tags: { 'ai-agent': 'true', owner: 'li.wei@acme.example', env: 'prod' },
      inlinePolicies: [{ name: 'index', document: allow(['s3:GetObject', 's3:ListBucket', 'aoss:APIAccessAll', 'bedrock:InvokeModel']) }],
      accessKeys: [{ id: 'AKIADEMORAGINDEXR001', status: 'Active', createdAt: ago(200), lastUsedAt: null }],
      declaredAgent: true,
    },
    {
      name: 'legacy-summarizer-bot',
      createdAt: ago(700),
      tags: { 'leash:agent': 'true', owner: DEMO_DEPARTED_OWNERS[0], env: 'prod' },
      inlinePolicies: [{ name: 'summarize', document: allow(['bedrock:InvokeModel', 's3:GetObject', 'secretsmanager:GetSecretValue']) }],
      accessKeys: [
        { id: 'AKIADEMOLEGACYSUMM01', status: 'Active', createdAt: ago(410), lastUsedAt: ago(6), lastUsedService: 'bedrock', lastUsedRegion: 'us-east-1' },
        { id: 'AKIADEMOLEGACYSUMM02', status: 'Active', createdAt: ago(690), lastUsedAt: ago(300), lastUsedService: 's3', lastUsedRegion: 'us-east-1' },
      ],
      declaredAgent: true,
    },
    {
      name: 'datadog-integration',
      createdAt: ago(800),
      tags: { team: 'sre', owner: 'tom.becker@acme.example' },
      managedPolicies: [awsManagedArn('ReadOnlyAccess')],
      accessKeys: [{ id: 'AKIADEMODATADOG00001', status: 'Active', createdAt: ago(380), lastUsedAt: ago(0), lastUsedService: 'cloudwatch', lastUsedRegion: 'us-east-1' }],
    },
  ]
  const prodRoles: EstateRole[] = [
    {
      name: 'AmazonBedrockExecutionRoleForAgents_X7K2P9QM',
      path: '/service-role/',
      createdAt: ago(310),
      trust: trust('bedrock.amazonaws.com'),
      managedPolicies: [awsManagedArn('AmazonBedrockFullAccess')],
      lastUsed: { date: ago(2), region: 'us-east-1' },
      declaredAgent: true,
    },
    {
      name: 'shared-agent-runtime',
      createdAt: ago(180),
      trust: trust('bedrock-agentcore.amazonaws.com'),
      tags: { owner: 'maria.garcia@acme.example', workloads: 'support-agent,billing-agent', env: 'prod' },
      inlinePolicies: [{ name: 'runtime', document: allow(['bedrock:InvokeModel', 'dynamodb:GetItem', 'dynamodb:PutItem', 'secretsmanager:GetSecretValue']) }],
      lastUsed: { date: ago(0), region: 'us-east-1' },
      declaredAgent: true,
    },
    {
      name: 'claims-triage-agent-role',
      createdAt: ago(260),
      trust: trust('bedrock.amazonaws.com'),
      tags: { owner: DEMO_DEPARTED_OWNERS[0], 'agent-name': 'claims-triage', env: 'prod' },
      inlinePolicies: [{ name: 'claims', document: allow(['bedrock:InvokeModel', 's3:GetObject', 'textract:AnalyzeDocument']) }],
      lastUsed: { date: ago(4), region: 'us-east-1' },
      declaredAgent: true,
    },
    {
      name: 'eval-harness-agent',
      createdAt: ago(90),
      trust: trust('bedrock-agentcore.amazonaws.com'),
      tags: { owner: 'li.wei@acme.example', env: 'prod,staging', 'leash:agent': 'true' },
      inlinePolicies: [{ name: 'eval', document: allow(['bedrock:InvokeModel', 's3:GetObject', 's3:PutObject']) }],
      lastUsed: { date: ago(1), region: 'us-west-2' },
      declaredAgent: true,
    },
    {
      name: 'agent-tooling-role',
      createdAt: ago(75),
      trust: trust('bedrock-agentcore.amazonaws.com'),
      tags: { owner: 'sam.okafor@acme.example', 'agent-name': 'tool-builder' },
      inlinePolicies: [{ name: 'build-tools', document: allow(['iam:PassRole', 'lambda:CreateFunction', 'lambda:InvokeFunction', 'lambda:GetFunction']) }],
      lastUsed: { date: ago(3), region: 'us-east-1' },
      declaredAgent: true,
    },
  ]
  const prodSecrets: EstateSecret[] = [
    { name: 'prod/agents/openai-api-key', createdAt: ago(450), rotationEnabled: false, lastAccessedAt: ago(0), tags: { 'leash:agent': 'true', owner: 'maria.garcia@acme.example' }, declaredAgent: true },
    { name: 'prod/agents/anthropic-api-key', createdAt: ago(380), rotationEnabled: false, lastAccessedAt: ago(1), tags: { 'leash:agent': 'true' }, declaredAgent: true },
    { name: 'prod/rds/orders-db', createdAt: ago(900), rotationEnabled: true, rotationDays: 30, lastRotatedAt: ago(12), lastAccessedAt: ago(0), tags: { team: 'orders' } },
    { name: 'prod/stripe/api-key', createdAt: ago(600), rotationEnabled: false, lastAccessedAt: ago(0), tags: { team: 'payments', owner: 'priya.nair@acme.example' } },
  ]

  // Filler: ordinary workloads and more agents, so the estate has realistic proportions.
  const filler = (account: string, env: 'prod' | 'dev', roles: EstateRole[], users: EstateUser[], secrets: EstateSecret[], counts: { app: number; agentRoles: number; agentUsers: number; ci: number; users: number; secrets: number }) => {
    for (let i = 0; i < counts.app; i++) {
      const app = APPS[i % APPS.length] as string
      const kind = i % 3 === 0 ? 'lambda' : i % 3 === 1 ? 'ecs-tasks' : 'ec2'
      const hasOwner = r() < 0.7
      roles.push({
        name: `${app}-${kind === 'ecs-tasks' ? 'task' : kind}-role${i >= APPS.length ? `-${Math.floor(i / APPS.length) + 1}` : ''}`,
        createdAt: ago(30 + r() * 1000),
        trust: trust(`${kind}.amazonaws.com`),
        tags: { env, app, ...(hasOwner ? { owner: owner() } : {}) },
        managedPolicies: kind === 'lambda' ? [awsManagedArn('AWSLambdaBasicExecutionRole')] : [],
        inlinePolicies: [{ name: `${app}-access`, document: allow([`dynamodb:GetItem`, 'dynamodb:PutItem', 'sqs:SendMessage', 's3:GetObject'], `arn:aws:*:*:${account}:*${app}*`) }],
        lastUsed: r() < 0.85 ? { date: ago(r() * 30), region: 'us-east-1' } : null,
      })
    }
    for (let i = 0; i < counts.agentRoles; i++) {
      const agent = AGENT_NAMES[(i + (env === 'dev' ? 7 : 0)) % AGENT_NAMES.length] as string
      const agentcore = r() < 0.4
      const consoleRole = !agentcore && r() < 0.5
      const suffix = Array.from({ length: 8 }, () => 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'[Math.floor(r() * 32)]).join('')
      roles.push({
        name: consoleRole ? `AmazonBedrockExecutionRoleForAgents_${suffix}` : `${agent}-agent-${env}-role`,
        path: consoleRole ? '/service-role/' : '/',
        createdAt: ago(20 + r() * 300),
        trust: trust(agentcore ? 'bedrock-agentcore.amazonaws.com' : 'bedrock.amazonaws.com'),
        tags: { env, 'agent-name': `${agent}-agent`, ...(r() < 0.8 ? { owner: owner() } : {}) },
        managedPolicies: r() < 0.3 ? [awsManagedArn('AmazonBedrockFullAccess')] : [],
        inlinePolicies: [{ name: 'agent-tools', document: allow(['bedrock:InvokeModel', 'bedrock:Retrieve', 's3:GetObject', ...(r() < 0.3 ? ['dynamodb:*'] : [])]) }],
        lastUsed: r() < 0.8 ? { date: ago(r() * 20), region: 'us-east-1' } : null,
        declaredAgent: true,
      })
    }
    for (let i = 0; i < counts.agentUsers; i++) {
      const agent = AGENT_NAMES[(i + 3 + (env === 'dev' ? 5 : 0)) % AGENT_NAMES.length] as string
      const created = 10 + r() * 500
      users.push({
        name: `${agent}-agent-${env}`,
        path: '/agents/',
        createdAt: ago(created + 5),
        tags: { 'leash:agent': 'true', env, ...(r() < 0.75 ? { owner: owner() } : {}) },
        inlinePolicies: [{ name: 'model-access', document: allow(['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream']) }],
        accessKeys: [
          {
            id: `AKIADEMO${env.toUpperCase()}AGT${String(i).padStart(5, '0')}`.padEnd(20, 'Q').slice(0, 20),
            status: 'Active',
            createdAt: ago(created),
            lastUsedAt: r() < 0.8 ? ago(r() * 10) : null,
            lastUsedService: r() < 0.7 ? 'bedrock' : 's3',
            lastUsedRegion: 'us-east-1',
          },
        ],
        declaredAgent: true,
      })
    }
    for (let i = 0; i < counts.ci; i++) {
      const app = APPS[(i * 2) % APPS.length] as string
      roles.push({
        name: `gha-deploy-${app}-${env}`,
        createdAt: ago(100 + r() * 600),
        trust: oidcTrust(account),
        tags: { env, team: 'platform', app },
        inlinePolicies: [{ name: 'deploy', document: allow(['cloudformation:*', 's3:PutObject', 'lambda:UpdateFunctionCode', 'iam:PassRole'], '*') }],
        lastUsed: { date: ago(r() * 7), region: 'us-east-1' },
      })
    }
    for (let i = 0; i < counts.users; i++) {
      const app = APPS[(i * 7 + 1) % APPS.length] as string
      const keyAge = 20 + r() * 800
      users.push({
        name: `svc-${app}-${env}${i >= APPS.length ? `-${i}` : ''}`,
        createdAt: ago(keyAge + 30),
        tags: { env, app, ...(r() < 0.6 ? { owner: owner() } : {}) },
        inlinePolicies: [{ name: 'access', document: allow(['s3:GetObject', 's3:PutObject', 'sqs:SendMessage'], `arn:aws:*:*:*:*${app}*`) }],
        accessKeys: [{ id: `AKIADEMO${env.toUpperCase()}SVC${String(i).padStart(5, '0')}`.padEnd(20, 'Z').slice(0, 20), status: r() < 0.9 ? 'Active' : 'Inactive', createdAt: ago(keyAge), lastUsedAt: r() < 0.75 ? ago(r() * 60) : null, lastUsedService: 's3', lastUsedRegion: 'us-east-1' }],
      })
    }
    for (let i = 0; i < counts.secrets; i++) {
      const app = APPS[(i * 4 + 2) % APPS.length] as string
      const rotation = r() < 0.4
      secrets.push({
        name: `${env}/${app}/${pick(['db-password', 'api-key', 'webhook-secret', 'oauth-client-secret'])}${i >= APPS.length ? `-${i}` : ''}`,
        createdAt: ago(30 + r() * 900),
        rotationEnabled: rotation,
        rotationDays: rotation ? 30 : undefined,
        lastRotatedAt: rotation ? ago(r() * 30) : null,
        lastAccessedAt: r() < 0.8 ? ago(r() * 20) : null,
        tags: { env, app },
      })
    }
  }

  filler(DEMO_ACCOUNTS.prod, 'prod', prodRoles, prodUsers, prodSecrets, { app: 30, agentRoles: 14, agentUsers: 6, ci: 6, users: 8, secrets: 8 })
  const prod: EstateAccountDescription = { id: DEMO_ACCOUNTS.prod, name: 'acme-prod', scannerRole, users: prodUsers, roles: prodRoles, secrets: prodSecrets }

  // ------------------------------------------------------------------ dev account
  const devRoles: EstateRole[] = [
    {
      name: 'agentcore-pricing-runtime',
      createdAt: ago(140),
      trust: trust('bedrock-agentcore.amazonaws.com'),
      tags: { env: 'dev' },
      inlinePolicies: [{ name: 'pricing', document: allow(['bedrock:InvokeModel', 'dynamodb:*', 's3:*']) }],
      lastUsed: { date: ago(45), region: 'us-east-1' },
      declaredAgent: true,
    },
    {
      name: 'sagemaker-experiments-role',
      createdAt: ago(500),
      trust: trust('sagemaker.amazonaws.com'),
      tags: { env: 'dev', team: 'data-science' },
      managedPolicies: [awsManagedArn('AmazonSageMakerFullAccess')],
      lastUsed: { date: ago(9), region: 'us-east-1' },
    },
  ]
  const devUsers: EstateUser[] = [
    {
      name: 'hackathon-agent-2024',
      createdAt: ago(520),
      tags: { 'leash:agent': 'true', env: 'dev' },
      managedPolicies: [awsManagedArn('AmazonBedrockFullAccess'), awsManagedArn('AmazonS3FullAccess')],
      accessKeys: [{ id: 'AKIADEMOHACKATHON001', status: 'Active', createdAt: ago(515), lastUsedAt: ago(480), lastUsedService: 'bedrock', lastUsedRegion: 'us-east-1' }],
      declaredAgent: true,
    },
  ]
  const devSecrets: EstateSecret[] = []
  filler(DEMO_ACCOUNTS.dev, 'dev', devRoles, devUsers, devSecrets, { app: 20, agentRoles: 8, agentUsers: 5, ci: 4, users: 6, secrets: 5 })
  const dev: EstateAccountDescription = { id: DEMO_ACCOUNTS.dev, name: 'acme-dev', scannerRole, users: devUsers, roles: devRoles, secrets: devSecrets }

  return { managementAccountId: DEMO_ACCOUNTS.management, accounts: [management, prod, dev] }
}
