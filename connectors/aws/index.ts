/**
 * The AWS provider: IAM users and roles, their keys, passwords and policies, and Secrets
 * Manager secrets, across the accounts of an Organization or a list of accounts.
 */
import { GetAccountAuthorizationDetailsCommand, GenerateCredentialReportCommand, GetCredentialReportCommand } from '@aws-sdk/client-iam'
import { ListSecretsCommand } from '@aws-sdk/client-secrets-manager'
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts'
import type { PermissionCheck, Provider, ScanContext } from '../contract.js'
import { assumedRoleCredentials, createClients, defaultCredentials, type AwsClients } from './clients.js'
import { awsErrorInfo } from './errors.js'
import { awsRevocationActions } from './revocations.js'
import { resolveTargets, scanAws } from './scan.js'
import { awsSettingsSchema, type AwsSettings } from './settings.js'
import { startAwsStandIn } from './stand-in/index.js'

async function check(permission: string, run: () => Promise<string>): Promise<PermissionCheck> {
  try {
    return { permission, status: 'present', detail: await run() }
  } catch (error) {
    const info = awsErrorInfo(error)
    if (info.kind === 'access_denied') return { permission, status: 'missing', detail: info.message }
    // A report still being generated proves the permission to ask for it.
    if (info.code === 'ReportNotPresent' || info.code === 'ReportInProgress') return { permission, status: 'present', detail: `Allowed (${info.code}).` }
    return { permission, status: 'unknown', detail: `${info.code}: ${info.message}` }
  }
}

/**
 * Calls each read the scanner needs once, cheaply, in every account it would scan, and says
 * which are allowed. Nothing is changed (GenerateCredentialReport only refreshes the report).
 */
async function testConnection(ctx: ScanContext<AwsSettings>): Promise<PermissionCheck[]> {
  const base = createClients({ settings: ctx.settings, credentials: defaultCredentials(), apiCalls: ctx.apiCalls })
  const results: PermissionCheck[] = []
  try {
    const identity = await check('sts:GetCallerIdentity', async () => {
      const me = await base.sts.send(new GetCallerIdentityCommand({}), { abortSignal: ctx.signal })
      return `Signed in as ${me.Arn} (account ${me.Account}).`
    })
    if (identity.status !== 'present') {
      identity.detail = `No usable AWS credentials from the default chain: ${identity.detail}`
      return [identity]
    }
    results.push(identity)
    let targets: Awaited<ReturnType<typeof resolveTargets>> = []
    const listing = await check(ctx.settings.organization ? 'organizations:ListAccounts' : 'accounts', async () => {
      targets = await resolveTargets(ctx.settings, base, ctx.signal)
      return `${targets.length} account(s) to scan.`
    })
    if (ctx.settings.organization || listing.status !== 'present') results.push(listing)
    for (const target of targets) {
      let clients: AwsClients = base
      let own = false
      const tag = (p: string) => `${p} (${target.accountId})`
      if (target.roleArn) {
        const credentials = assumedRoleCredentials(base.sts, target.roleArn, target.externalId, ctx.signal)
        const assumed = await check(tag('sts:AssumeRole'), async () => {
          await credentials()
          return `Assumed ${target.roleArn}.`
        })
        results.push(assumed)
        if (assumed.status !== 'present') continue
        clients = createClients({ settings: ctx.settings, credentials, apiCalls: ctx.apiCalls })
        own = true
      }
      try {
        results.push(
          await check(tag('iam:GetAccountAuthorizationDetails'), async () => {
            await clients.iam.send(new GetAccountAuthorizationDetailsCommand({ MaxItems: 1, Filter: ['Role'] }), { abortSignal: ctx.signal })
            return 'Allowed.'
          }),
          await check(tag('iam:GenerateCredentialReport'), async () => {
            const out = await clients.iam.send(new GenerateCredentialReportCommand({}), { abortSignal: ctx.signal })
            return `Allowed (report ${out.State?.toLowerCase() ?? 'requested'}).`
          }),
          await check(tag('iam:GetCredentialReport'), async () => {
            await clients.iam.send(new GetCredentialReportCommand({}), { abortSignal: ctx.signal })
            return 'Allowed.'
          }),
        )
        if (ctx.settings.secrets) {
          results.push(
            await check(tag('secretsmanager:ListSecrets'), async () => {
              await clients.secrets.send(new ListSecretsCommand({ MaxResults: 1 }), { abortSignal: ctx.signal })
              return `Allowed in ${ctx.settings.region}.`
            }),
          )
        }
      } finally {
        if (own) clients.destroy()
      }
    }
    return results
  } finally {
    base.destroy()
  }
}

export const awsProvider: Provider<AwsSettings> = {
  name: 'aws',
  displayName: 'Amazon Web Services',
  settingsSchema: awsSettingsSchema as unknown as Provider<AwsSettings>['settingsSchema'],
  scan: scanAws,
  testConnection,
  revocationActions: awsRevocationActions,
  startStandIn: (options) => startAwsStandIn(options),
}
