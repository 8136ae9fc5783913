/**
 * A deterministic generator for large estates (benchmarks, scale tests). Nothing is held:
 * record i of an account is computed from (account, i) whenever it is asked for.
 *
 * An estate of N identities is split into accounts of at most 10,000 (4,000 users, 5,000
 * roles, 1,000 secrets) — IAM's own quotas cap an account at 5,000 users and (by default)
 * 1,000-5,000 roles, so a 100,000-identity estate is realistically many accounts.
 */
import { awsManagedArn } from '../aws-managed.js'
import { prng, type AccountSource, type EstateGroup, type EstatePolicy, type EstateRole, type EstateSecret, type EstateSource, type EstateUser, type RecordSource } from '../estate.js'

export const GENERATED_SCANNER = { name: 'LeashScanner', externalId: 'leash-bench' }
const PER_ACCOUNT = 10_000
const SERVICES = ['lambda.amazonaws.com', 'ec2.amazonaws.com', 'ecs-tasks.amazonaws.com', 'states.amazonaws.com', 'glue.amazonaws.com']
const KEY_SERVICES = ['s3', 'sts', 'dynamodb', 'sqs', 'ec2', 'cloudformation', 'bedrock']
const AWS_POOL = ['ReadOnlyAccess', 'AmazonS3ReadOnlyAccess', 'AmazonS3FullAccess', 'AWSLambda_FullAccess', 'AmazonBedrockReadOnly', 'SecretsManagerReadWrite']
const ACTIONS = ['s3:GetObject', 's3:PutObject', 'dynamodb:Query', 'dynamodb:PutItem', 'sqs:SendMessage', 'sqs:ReceiveMessage', 'kms:Decrypt', 'logs:PutLogEvents', 'bedrock:InvokeModel', 'ec2:Describe*']

const pad = (i: number) => i.toString().padStart(6, '0')

function generatedSource<T extends { name: string }>(count: number, make: (i: number) => T, parse: (name: string) => number | null): RecordSource<T> {
  return {
    count,
    at: make,
    byName: (name) => {
      const i = parse(name)
      return i !== null && i >= 0 && i < count ? make(i) : undefined
    },
  }
}

function generatedAccount(index: number, identities: number, now: Date): AccountSource {
  const id = String(400000000000 + index * 1111).padStart(12, '0')
  const users = Math.floor(identities * 0.4)
  const secrets = Math.floor(identities * 0.1)
  const roles = identities - users - secrets
  const ago = (days: number) => new Date(now.getTime() - Math.floor(days) * 86_400_000)
  const rand = (kind: number, i: number) => prng(index * 7_919 + kind * 104_729 + i * 31)

  const policies: EstatePolicy[] = Array.from({ length: 40 }, (_, p) => {
    const r = prng(index * 1000 + p)
    const actions = ACTIONS.filter(() => r() < 0.3)
    return {
      name: `team-policy-${p.toString().padStart(2, '0')}`,
      createdAt: ago(100 + p * 10),
      document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions.length ? actions : ['s3:GetObject'], Resource: '*' }] },
    }
  })
  const groups: EstateGroup[] = Array.from({ length: 20 }, (_, g) => ({
    name: `group-${g.toString().padStart(2, '0')}`,
    createdAt: ago(1000),
    managedPolicies: [`team-policy-${((g * 3) % 40).toString().padStart(2, '0')}`, ...(g === 0 ? [awsManagedArn('AdministratorAccess')] : [])],
    inlinePolicies: g % 4 === 0 ? [{ name: 'group-inline', document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sqs:*', Resource: '*' }] } }] : [],
  }))

  const user = (i: number): EstateUser => {
    const r = rand(1, i)
    const agent = r() < 0.12
    const keyCount = r() < 0.3 ? 0 : r() < 0.8 ? 1 : 2
    const accessKeys = Array.from({ length: keyCount }, (_, k) => {
      const used = r() < 0.7
      return {
        id: `AKIA${index.toString(36).toUpperCase().padStart(3, '0')}${pad(i)}${k}GEN`.slice(0, 20).padEnd(20, 'X'),
        status: (r() < 0.9 ? 'Active' : 'Inactive') as 'Active' | 'Inactive',
        createdAt: ago(1 + r() * 900 + k),
        lastUsedAt: used ? ago(r() * 60) : null,
        lastUsedService: agent && r() < 0.5 ? 'bedrock' : KEY_SERVICES[Math.floor(r() * (KEY_SERVICES.length - 1))],
        lastUsedRegion: 'us-east-1',
      }
    })
    const tags: Record<string, string> = {}
    if (r() < 0.6) tags.owner = `owner${Math.floor(r() * 500)}@example.com`
    if (r() < 0.5) tags.env = r() < 0.5 ? 'prod' : 'dev'
    if (agent) tags['leash:agent'] = 'true'
    return {
      name: `svc-${pad(i)}`,
      createdAt: ago(10 + r() * 1500),
      tags,
      groups: r() < 0.7 ? [`group-${Math.floor(r() * 20).toString().padStart(2, '0')}`] : [],
      managedPolicies: r() < 0.5 ? [`team-policy-${Math.floor(r() * 40).toString().padStart(2, '0')}`] : [],
      inlinePolicies: r() < 0.2 ? [{ name: 'inline', document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ACTIONS[Math.floor(r() * ACTIONS.length)], Resource: '*' }] } }] : [],
      accessKeys,
      password: r() < 0.1 ? { createdAt: ago(400), lastUsedAt: r() < 0.5 ? ago(r() * 30) : null } : undefined,
      declaredAgent: agent,
    }
  }

  const role = (i: number): EstateRole => {
    const r = rand(2, i)
    const pick = r()
    const service = pick < 0.08 ? 'bedrock.amazonaws.com' : pick < 0.12 ? 'bedrock-agentcore.amazonaws.com' : (SERVICES[Math.floor(r() * SERVICES.length)] as string)
    const agent = service.startsWith('bedrock')
    const tags: Record<string, string> = {}
    if (r() < 0.5) tags.team = `team-${Math.floor(r() * 50)}`
    if (r() < 0.4) tags.environment = r() < 0.6 ? 'production' : 'staging'
    return {
      name: agent && r() < 0.5 ? `AmazonBedrockExecutionRoleForAgents_${pad(i)}` : `app-role-${pad(i)}`,
      createdAt: ago(5 + r() * 1200),
      tags,
      trust: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }] },
      managedPolicies: [r() < 0.5 ? awsManagedArn(AWS_POOL[Math.floor(r() * AWS_POOL.length)] as string) : `team-policy-${Math.floor(r() * 40).toString().padStart(2, '0')}`],
      inlinePolicies: r() < 0.3 ? [{ name: 'inline', document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ACTIONS[Math.floor(r() * ACTIONS.length)], Resource: '*' }] } }] : [],
      lastUsed: r() < 0.8 ? { date: ago(r() * 200), region: 'us-east-1' } : null,
      declaredAgent: agent,
    }
  }
  const parseRole = (name: string) => {
    const m = /(?:^app-role-|^AmazonBedrockExecutionRoleForAgents_)(\d{6})$/.exec(name)
    if (!m) return null
    const i = Number(m[1])
    return role(i).name === name ? i : null
  }

  const secret = (i: number): EstateSecret => {
    const r = rand(3, i)
    const rotation = r() < 0.4
    return {
      name: `app/secret-${pad(i)}`,
      createdAt: ago(10 + r() * 1000),
      rotationEnabled: rotation,
      rotationDays: rotation ? 30 : undefined,
      lastRotatedAt: rotation ? ago(r() * 30) : null,
      lastAccessedAt: r() < 0.7 ? ago(r() * 10) : null,
      tags: r() < 0.5 ? { owner: `owner${Math.floor(r() * 500)}@example.com` } : undefined,
    }
  }

  return {
    id,
    name: `generated-${index}`,
    scannerRole: GENERATED_SCANNER,
    users: generatedSource(users, user, (n) => (/^svc-(\d{6})$/.test(n) ? Number(n.slice(4)) : null)),
    roles: generatedSource(roles, role, parseRole),
    secrets: generatedSource(secrets, secret, (n) => (/^app\/secret-(\d{6})$/.test(n) ? Number(n.slice(11)) : null)),
    groups,
    policies,
  }
}

export function generatedEstate(identities: number, now: Date): EstateSource {
  if (!Number.isInteger(identities) || identities < 1) throw new Error('A generated estate needs a positive whole number of identities.')
  const accounts: AccountSource[] = []
  let left = identities
  for (let index = 0; left > 0; index++) {
    const size = Math.min(PER_ACCOUNT, left)
    accounts.push(generatedAccount(index, size, now))
    left -= size
  }
  return { managementAccountId: (accounts[0] as AccountSource).id, accounts }
}
