/**
 * The 'test' seed: three small accounts in one Organization, each feature the connector reads
 * declared once, so tests can check that a scan finds exactly what is declared.
 */
import type { EstateDescription, PolicyDocumentJson } from '../estate.js'

export const TEST_EXTERNAL_ID = 'leash-test-external-id'
export const TEST_ACCOUNTS = { management: '111111111111', prod: '222222222222', sandbox: '333333333333' } as const

const trust = (principal: Record<string, string>): PolicyDocumentJson => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: principal, Action: principal.Federated ? 'sts:AssumeRoleWithWebIdentity' : 'sts:AssumeRole' }],
})
const allow = (action: string | string[], resource: string | string[] = '*'): PolicyDocumentJson => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: action, Resource: resource }],
})

export function testEstate(now: Date): EstateDescription {
  const ago = (days: number) => new Date(now.getTime() - days * 86_400_000)
  const scannerRole = { name: 'LeashScanner', externalId: TEST_EXTERNAL_ID }
  return {
    managementAccountId: TEST_ACCOUNTS.management,
    accounts: [
      {
        id: TEST_ACCOUNTS.management,
        name: 'acme-management',
        scannerRole,
        groups: [
          {
            name: 'agents',
            createdAt: ago(900),
            inlinePolicies: [{ name: 'agent-secrets', document: allow('secretsmanager:GetSecretValue', `arn:aws:secretsmanager:us-east-1:${TEST_ACCOUNTS.management}:secret:prod/support-bot/*`) }],
          },
          { name: 'admins', createdAt: ago(1200), managedPolicies: ['arn:aws:iam::aws:policy/AdministratorAccess'] },
        ],
        policies: [{ name: 'agent-s3-read', createdAt: ago(800), document: allow(['s3:GetObject', 's3:ListBucket'], ['arn:aws:s3:::acme-kb', 'arn:aws:s3:::acme-kb/*']) }],
        users: [
          {
            name: 'ci-deployer',
            createdAt: ago(700),
            tags: { team: 'platform', env: 'prod' },
            managedPolicies: ['arn:aws:iam::aws:policy/PowerUserAccess'],
            accessKeys: [{ id: 'AKIATESTCIDEPLOYER01', status: 'Active', createdAt: ago(30), lastUsedAt: ago(1), lastUsedService: 'cloudformation', lastUsedRegion: 'us-east-1' }],
          },
          {
            name: 'support-agent-bot',
            path: '/agents/',
            createdAt: ago(600),
            tags: { 'leash:agent': 'true', owner: 'maria.garcia@acme.example', 'agent-name': 'support-bot', environment: 'prod' },
            groups: ['agents'],
            managedPolicies: ['agent-s3-read'],
            inlinePolicies: [{ name: 'invoke-models', document: allow(['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream']) }],
            accessKeys: [
              { id: 'AKIATESTSUPPORTBOT01', status: 'Active', createdAt: ago(400), lastUsedAt: ago(2), lastUsedService: 'bedrock', lastUsedRegion: 'us-east-1' },
              { id: 'AKIATESTSUPPORTBOT02', status: 'Inactive', createdAt: ago(300), lastUsedAt: null },
            ],
            serviceUse: { bedrock: ago(1), s3: ago(200) },
            declaredAgent: true,
          },
          {
            name: 'legacy-etl',
            createdAt: ago(1500),
            groups: ['admins'],
            password: { createdAt: ago(1500), lastUsedAt: null, lastChangedAt: ago(1400) },
          },
        ],
        roles: [
          {
            name: 'AmazonBedrockExecutionRoleForAgents_SUPPORT1',
            path: '/service-role/',
            createdAt: ago(200),
            trust: trust({ Service: 'bedrock.amazonaws.com' }),
            tags: { owner: 'maria.garcia@acme.example' },
            managedPolicies: ['arn:aws:iam::aws:policy/AmazonBedrockFullAccess'],
            lastUsed: { date: ago(1), region: 'us-east-1' },
            declaredAgent: true,
          },
          {
            name: 'github-actions-deploy',
            createdAt: ago(500),
            trust: trust({ Federated: `arn:aws:iam::${TEST_ACCOUNTS.management}:oidc-provider/token.actions.githubusercontent.com` }),
            tags: { team: 'platform' },
            inlinePolicies: [{ name: 'deploy-lambdas', document: allow(['iam:PassRole', 'lambda:CreateFunction', 'lambda:InvokeFunction', 'lambda:UpdateFunctionConfiguration']) }],
            lastUsed: { date: ago(3), region: 'eu-west-1' },
          },
        ],
        secrets: [
          {
            name: 'prod/support-bot/openai-api-key',
            createdAt: ago(420),
            tags: { 'leash:agent': 'true', owner: 'maria.garcia@acme.example' },
            rotationEnabled: false,
            lastAccessedAt: ago(3),
            declaredAgent: true,
          },
          { name: 'prod/db/app-password', createdAt: ago(700), rotationEnabled: true, rotationDays: 30, lastRotatedAt: ago(10), lastAccessedAt: ago(1), tags: { team: 'platform' } },
        ],
      },
      {
        id: TEST_ACCOUNTS.prod,
        name: 'acme-prod',
        scannerRole,
        policies: [{ name: 'boundary-s3-only', createdAt: ago(300), document: allow('s3:*') }],
        users: [
          {
            name: 'data-agent-user',
            createdAt: ago(120),
            tags: { 'ai-agent': 'true' },
            inlinePolicies: [{ name: 'read-warehouse', document: allow(['athena:StartQueryExecution', 'athena:GetQueryResults', 's3:GetObject']) }],
            accessKeys: [{ id: 'AKIATESTDATAAGENT001', status: 'Active', createdAt: ago(100), lastUsedAt: null }],
            declaredAgent: true,
          },
        ],
        roles: [
          {
            name: 'agentcore-research-runtime',
            createdAt: ago(60),
            trust: trust({ Service: 'bedrock-agentcore.amazonaws.com' }),
            tags: { env: 'prod,staging', workloads: 'research-agent,summarizer-agent' },
            inlinePolicies: [{ name: 'manage-policies', document: allow(['iam:CreatePolicyVersion', 'bedrock:InvokeModel']) }],
            lastUsed: { date: ago(0), region: 'us-west-2' },
            declaredAgent: true,
          },
          {
            name: 'sagemaker-notebook-role',
            createdAt: ago(400),
            trust: trust({ Service: 'sagemaker.amazonaws.com' }),
            managedPolicies: ['arn:aws:iam::aws:policy/AmazonSageMakerFullAccess'],
            lastUsed: null,
          },
          {
            name: 'bounded-admin-role',
            createdAt: ago(90),
            trust: trust({ Service: 'ec2.amazonaws.com' }),
            managedPolicies: ['arn:aws:iam::aws:policy/AdministratorAccess'],
            permissionsBoundary: 'boundary-s3-only',
            lastUsed: { date: ago(5), region: 'us-east-1' },
          },
          {
            name: 'all-but-iam-role',
            createdAt: ago(90),
            trust: trust({ Service: 'lambda.amazonaws.com' }),
            inlinePolicies: [
              {
                name: 'everything-but-iam',
                document: {
                  Version: '2012-10-17',
                  Statement: [
                    { Effect: 'Allow', Action: '*', Resource: '*' },
                    { Effect: 'Deny', Action: 'iam:*', Resource: '*' },
                  ],
                },
              },
            ],
            lastUsed: { date: ago(20), region: 'us-east-1' },
          },
        ],
        secrets: [{ name: 'research/agentcore/tavily-key', createdAt: ago(50), rotationEnabled: false, lastAccessedAt: null, tags: { workload: 'research-agent' } }],
      },
      {
        id: TEST_ACCOUNTS.sandbox,
        name: 'acme-sandbox',
        scannerRole,
        users: [
          {
            name: 'sandbox-bot',
            createdAt: ago(30),
            tags: { env: 'sandbox' },
            inlinePolicies: [{ name: 'assume-anything', document: allow('sts:AssumeRole') }],
            accessKeys: [{ id: 'AKIATESTSANDBOXBOT01', status: 'Active', createdAt: ago(30), lastUsedAt: ago(29), lastUsedService: 'sts', lastUsedRegion: 'us-east-1' }],
          },
        ],
        roles: [{ name: 'sandbox-lambda', createdAt: ago(30), trust: trust({ Service: 'lambda.amazonaws.com' }), managedPolicies: ['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'] }],
      },
    ],
  }
}
