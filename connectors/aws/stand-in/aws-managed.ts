/**
 * The AWS managed policies the stand-in's estates attach. Documents follow the published
 * policies in shape (AdministratorAccess and PowerUserAccess verbatim in substance; the others
 * abbreviated to their main statements).
 */
import type { EstatePolicy } from './estate.js'

const created = new Date('2015-02-06T18:39:46Z')

export const AWS_MANAGED_POLICIES: Record<string, EstatePolicy> = {
  AdministratorAccess: {
    name: 'AdministratorAccess',
    createdAt: created,
    document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
  },
  PowerUserAccess: {
    name: 'PowerUserAccess',
    createdAt: created,
    document: {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', NotAction: ['iam:*', 'organizations:*', 'account:*'], Resource: '*' },
        {
          Effect: 'Allow',
          Action: ['iam:CreateServiceLinkedRole', 'iam:DeleteServiceLinkedRole', 'iam:ListRoles', 'organizations:DescribeOrganization', 'account:ListRegions'],
          Resource: '*',
        },
      ],
    },
  },
  ReadOnlyAccess: {
    name: 'ReadOnlyAccess',
    createdAt: created,
    document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:Get*', 's3:List*', 'ec2:Describe*', 'iam:Get*', 'iam:List*', 'lambda:Get*', 'lambda:List*'], Resource: '*' }] },
  },
  IAMFullAccess: {
    name: 'IAMFullAccess',
    createdAt: created,
    document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['iam:*', 'organizations:DescribeAccount', 'organizations:DescribeOrganization'], Resource: '*' }] },
  },
  AmazonS3FullAccess: {
    name: 'AmazonS3FullAccess',
    createdAt: created,
    document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:*', 's3-object-lambda:*'], Resource: '*' }] },
  },
  AmazonS3ReadOnlyAccess: {
    name: 'AmazonS3ReadOnlyAccess',
    createdAt: created,
    document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:Get*', 's3:List*', 's3:Describe*'], Resource: '*' }] },
  },
  AmazonBedrockFullAccess: {
    name: 'AmazonBedrockFullAccess',
    createdAt: new Date('2023-12-12T18:00:00Z'),
    document: {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'BedrockAll', Effect: 'Allow', Action: ['bedrock:*'], Resource: '*' },
        {
          Sid: 'AllowPassRoleToBedrock',
          Effect: 'Allow',
          Action: ['iam:PassRole'],
          Resource: 'arn:aws:iam::*:role/*AmazonBedrock*',
          Condition: { StringEquals: { 'iam:PassedToService': ['bedrock.amazonaws.com'] } },
        },
      ],
    },
  },
  AmazonBedrockReadOnly: {
    name: 'AmazonBedrockReadOnly',
    createdAt: new Date('2023-12-12T18:00:00Z'),
    document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['bedrock:Get*', 'bedrock:List*'], Resource: '*' }] },
  },
  SecretsManagerReadWrite: {
    name: 'SecretsManagerReadWrite',
    createdAt: created,
    document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['secretsmanager:*', 'kms:DescribeKey', 'kms:ListAliases'], Resource: '*' }] },
  },
  AWSLambda_FullAccess: {
    name: 'AWSLambda_FullAccess',
    createdAt: new Date('2020-11-23T20:16:52Z'),
    document: {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['lambda:*', 'logs:DescribeLogGroups', 'cloudformation:DescribeStacks'], Resource: '*' },
        { Effect: 'Allow', Action: 'iam:PassRole', Resource: '*', Condition: { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } } },
      ],
    },
  },
  AmazonSageMakerFullAccess: {
    name: 'AmazonSageMakerFullAccess',
    createdAt: created,
    document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['sagemaker:*', 's3:GetObject', 's3:PutObject', 's3:ListBucket'], Resource: '*' }] },
  },
  AWSLambdaBasicExecutionRole: {
    name: 'AWSLambdaBasicExecutionRole',
    path: '/service-role/',
    createdAt: created,
    document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' }] },
  },
}

export const awsManagedArn = (name: string) => {
  const policy = AWS_MANAGED_POLICIES[name]
  return `arn:aws:iam::aws:policy${policy?.path ?? '/'}${name}`
}

export function awsManagedByArn(arn: string): EstatePolicy | undefined {
  const m = /^arn:aws:iam::aws:policy\/(?:.*\/)?([^/]+)$/.exec(arn)
  return m ? AWS_MANAGED_POLICIES[m[1] as string] : undefined
}
