/**
 * Non-secret settings of an AWS source. Credentials never live here: they come from the
 * SDK's default chain (environment, shared profile, SSO, web identity, instance metadata).
 */
import { z } from 'zod'

const accountId = z
  .string()
  .trim()
  .regex(/^\d{12}$/, 'An AWS account id is 12 digits, e.g. 123456789012.')

const roleName = z
  .string()
  .trim()
  .regex(/^[\w+=,.@-]{1,64}$/, 'A role name has 1-64 characters: letters, digits and + = , . @ _ -')

const roleArn = z
  .string()
  .trim()
  .regex(/^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'A role ARN looks like arn:aws:iam::123456789012:role/LeashScanner.')

const externalId = z
  .string()
  .trim()
  .regex(/^[\w+=,.@:/-]{2,1224}$/, 'An external id has 2-1224 characters: letters, digits and + = , . @ : / _ -')

export const awsAccountSettingsSchema = z
  .object({
    accountId,
    /** Role to assume in the account (name, assumed in that account) or a full ARN. */
    roleName: roleName.optional(),
    roleArn: roleArn.optional(),
    externalId: externalId.optional(),
    displayName: z.string().trim().min(1).max(100).optional(),
  })
  .strict()
  .refine((a) => !(a.roleName && a.roleArn), { message: 'Give either roleName or roleArn for an account, not both.' })
  .refine((a) => !a.roleArn || a.roleArn.split(':')[4] === a.accountId, {
    message: 'The roleArn must belong to the account it scans (its account id must match accountId).',
  })

export const awsSettingsSchema = z
  .object({
    /**
     * Accounts to scan. An account without roleName/roleArn is scanned with the credentials
     * of the default chain directly (they must belong to that account).
     */
    accounts: z.array(awsAccountSettingsSchema).max(1000).optional(),
    /** List the accounts of an AWS Organization and assume `roleName` in each ACTIVE one. */
    organization: z
      .object({
        roleName,
        externalId: externalId.optional(),
        /** Account ids to leave out (e.g. a sandbox OU you do not own). */
        excludeAccountIds: z.array(accountId).max(1000).optional(),
      })
      .strict()
      .optional(),
    /**
     * Role assumed for revocations (separate, write-capable policy; see docs/providers/aws.md).
     * Defaults to the scan role, which then needs the revocation permissions too.
     */
    revocationRole: z.object({ roleName, externalId: externalId.optional() }).strict().optional(),
    /** Region for STS, Secrets Manager and the console links. IAM is global. */
    region: z
      .string()
      .trim()
      .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'A region looks like us-east-1.')
      .default('us-east-1'),
    /** Send every SDK client to this endpoint (the local stand-in, or a VPC endpoint proxy). */
    endpoint: z.string().trim().url('endpoint must be a URL such as http://127.0.0.1:4566').optional(),
    /** Access Advisor (per-identity, rate-limited calls) to find granted but unused services. Off by default. */
    accessAdvisor: z.boolean().default(false),
    /** Read each secret's resource policy (one extra call per secret). Off by default. */
    secretResourcePolicies: z.boolean().default(false),
    /** Scan Secrets Manager in `region`. */
    secrets: z.boolean().default(true),
    /** SDK retry mode and attempts (throttling, 5xx, network errors). */
    retryMode: z.enum(['standard', 'adaptive']).default('adaptive'),
    maxAttempts: z.number().int().min(1).max(10).default(6),
    /** Identities per yielded batch. */
    batchSize: z.number().int().min(1).max(5000).default(500),
  })
  .strict()
  .refine((s) => !(s.accounts?.length && s.organization), {
    message: 'Give either accounts or organization, not both.',
    path: ['organization'],
  })

export type AwsSettings = z.infer<typeof awsSettingsSchema>
export type AwsSettingsInput = z.input<typeof awsSettingsSchema>
export type AwsAccountSettings = z.infer<typeof awsAccountSettingsSchema>
