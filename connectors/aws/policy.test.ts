import { describe, expect, it } from 'vitest'
import { computeEntitlements, parsePolicyDocument, type PolicySource } from './policy.js'

const source = (doc: unknown, ref = 'arn:aws:iam::123456789012:policy/p', kind: PolicySource['kind'] = 'managed_policy'): PolicySource => ({
  kind,
  ref,
  statements: parsePolicyDocument(JSON.stringify(doc)).statements,
})
const allow = (Action: unknown, Resource: unknown = '*', extra: Record<string, unknown> = {}) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action, Resource, ...extra }] })

describe('policy documents → compact entitlements', () => {
  it('reads URL-encoded documents (as IAM returns them) and single statements', () => {
    const doc = parsePolicyDocument(encodeURIComponent(JSON.stringify({ Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' } })))
    expect(doc.statements).toEqual([{ effect: 'Allow', actions: ['s3:GetObject'], notAction: false, resources: ['arn:aws:s3:::b/*'], notResource: false, conditional: false }])
    expect(() => parsePolicyDocument('%7Bnot json')).toThrow()
  })

  it('keeps `*` on `*` as one admin row instead of exploding it', async () => {
    const result = await computeEntitlements([source(allow('*'))], null)
    expect(result.entitlements).toEqual([{ action: '*', resource: '*', accessLevel: 'admin', sourceKind: 'managed_policy', sourceRef: 'arn:aws:iam::123456789012:policy/p', conditional: false }])
    expect(result.privilege).toMatchObject({ fullAdmin: true, maxAccessLevel: 'admin', wildcardWrite: ['*'] })
  })

  it('takes the highest access level a pattern grants from the IAM dataset', async () => {
    const result = await computeEntitlements([source(allow(['s3:List*', 's3:Get*', 'iam:PutRolePolicy', 'ec2:CreateTags', 'bedrock:InvokeModel']))], null)
    expect(Object.fromEntries(result.entitlements.map((e) => [e.action, e.accessLevel]))).toEqual({
      's3:List*': 'list',
      's3:Get*': 'read',
      'iam:PutRolePolicy': 'permissions_management',
      'ec2:CreateTags': 'tagging',
      'bedrock:InvokeModel': 'read',
    })
    expect(result.privilege.wildcardWrite).toEqual(['iam:PutRolePolicy'])
  })

  it('subtracts plain explicit Denies, ignores conditional ones, and drops fully denied rows', async () => {
    const doc = {
      Statement: [
        { Effect: 'Allow', Action: ['*', 'iam:CreateAccessKey'], Resource: '*' },
        { Effect: 'Deny', Action: 'iam:*', Resource: '*' },
        { Effect: 'Deny', Action: 's3:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
      ],
    }
    const result = await computeEntitlements([source(doc)], null)
    expect(result.entitlements.map((e) => [e.action, e.accessLevel])).toEqual([['*', 'permissions_management']])
    expect(result.privilege).toMatchObject({ fullAdmin: false, conditionalDenies: 1 })
    expect(result.escalationPaths.map((p) => p.id)).not.toContain('aws.privesc.create_access_key')
  })

  it('expands NotAction into what it leaves allowed', async () => {
    const result = await computeEntitlements([source({ Statement: [{ Effect: 'Allow', NotAction: ['iam:*', 'organizations:*'], Resource: '*' }] })], null)
    expect(result.entitlements).toHaveLength(1)
    expect(result.entitlements[0]).toMatchObject({ action: 'NotAction:iam:*,organizations:*', resource: '*' })
    expect(result.privilege.fullAdmin).toBe(false)
    expect(result.escalationPaths.map((p) => p.id)).toEqual(['aws.privesc.update_lambda_code', 'aws.privesc.update_glue_dev_endpoint', 'aws.privesc.assume_any_role'])
  })

  it('caps rights at the permissions boundary', async () => {
    const boundary = parsePolicyDocument(JSON.stringify(allow('s3:GetObject'))).statements
    const result = await computeEntitlements([source(allow(['*', 'iam:PassRole', 's3:*']))], boundary)
    expect(result.entitlements.map((e) => [e.action, e.accessLevel])).toEqual([
      ['*', 'read'],
      ['s3:*', 'read'],
    ])
    expect(result.privilege).toMatchObject({ fullAdmin: false, boundaryApplied: true })
  })

  it('finds the known escalation sets only when every permission is granted without a condition', async () => {
    const lambda = await computeEntitlements([source(allow(['iam:PassRole', 'lambda:CreateFunction', 'lambda:InvokeFunction']))], null)
    expect(lambda.escalationPaths.map((p) => p.id)).toEqual(['aws.privesc.passrole_lambda_invoke'])
    const partial = await computeEntitlements([source(allow(['iam:PassRole', 'lambda:CreateFunction']))], null)
    expect(partial.escalationPaths).toEqual([])
    const conditional = await computeEntitlements([source(allow('iam:CreatePolicyVersion', '*', { Condition: { StringEquals: { 'aws:ResourceTag/team': 'x' } } }))], null)
    expect(conditional.entitlements[0]?.conditional).toBe(true)
    expect(conditional.escalationPaths).toEqual([])
    const self = await computeEntitlements([source(allow('iam:CreateAccessKey', 'arn:aws:iam::*:user/${aws:username}'))], null)
    expect(self.escalationPaths).toEqual([])
    const others = await computeEntitlements([source(allow('iam:CreateAccessKey', 'arn:aws:iam::*:user/*'))], null)
    expect(others.escalationPaths.map((p) => p.id)).toEqual(['aws.privesc.create_access_key'])
    const scopedAssume = await computeEntitlements([source(allow('sts:AssumeRole', 'arn:aws:iam::123456789012:role/reader'))], null)
    expect(scopedAssume.escalationPaths).toEqual([])
  })

  it('keeps actions the dataset does not know yet, judging their level by the verb', async () => {
    const result = await computeEntitlements([source(allow(['futureservice:ListThings', 'futureservice:DeleteEverything']))], null)
    expect(result.entitlements.map((e) => [e.action, e.accessLevel])).toEqual([
      ['futureservice:ListThings', 'list'],
      ['futureservice:DeleteEverything', 'write'],
    ])
  })
})
