/**
 * The Microsoft provider: Entra ID (applications, service principals, managed identities,
 * Agent ID) and Azure Key Vault.
 */
import type { PermissionCheck, Provider, ScanContext } from '../contract.js'
import { createClients } from './clients.js'
import { statusOf } from './graph-get.js'
import { revocationActions } from './revocation.js'
import { READ_PERMISSIONS, scanAzure } from './scan.js'
import { azureSettingsSchema, type AzureSettings } from './settings.js'
import { startAzureStandIn } from './stand-in/server.js'

async function check(permission: string, detail: string, run: () => Promise<unknown>): Promise<PermissionCheck> {
  try {
    await run()
    return { permission, status: 'present', detail }
  } catch (error) {
    const status = statusOf(error)
    const message = ((error as Error)?.message ?? String(error)).split('\n')[0]?.slice(0, 300) ?? ''
    if (status === 401 || status === 403) return { permission, status: 'missing', detail: `${detail} — denied (${status}): ${message}` }
    return { permission, status: 'unknown', detail: `${detail} — could not tell (${status ?? 'no HTTP status'}): ${message}` }
  }
}

/** One cheap call per permission the scan relies on. */
export async function testAzureConnection(ctx: ScanContext<AzureSettings>): Promise<PermissionCheck[]> {
  const settings = azureSettingsSchema.parse(ctx.settings)
  let clients
  try {
    clients = createClients(settings, ctx.apiCalls)
    await clients.credential.getToken(clients.endpoints.graphScope, { abortSignal: ctx.signal })
  } catch (error) {
    return [{ permission: 'sign-in', status: 'missing', detail: `Cannot get a token for Microsoft Graph: ${((error as Error)?.message ?? String(error)).split('\n')[0]}` }]
  }
  const c = clients
  const checks: PermissionCheck[] = [{ permission: 'sign-in', status: 'present', detail: `Token issued for ${c.endpoints.graphScope}` }]
  checks.push(await check(READ_PERMISSIONS.applications, 'List applications and service principals', () => c.graph.api(`${c.graphV1}/applications?$top=1&$select=id`).get()))
  checks.push(await check(READ_PERMISSIONS.grants, 'List delegated permission grants', () => c.graph.api(`${c.graphV1}/oauth2PermissionGrants?$top=1`).get()))
  checks.push(await check(READ_PERMISSIONS.roles, 'List directory role assignments', () => c.graph.api(`${c.graphV1}/roleManagement/directory/roleAssignments?$top=1`).get()))
  if (settings.signInActivity)
    checks.push(await check(READ_PERMISSIONS.signIns, 'Read service principal sign-in activity (needs Entra ID P1/P2)', () => c.graph.api(`${c.graphBeta}/reports/servicePrincipalSignInActivities?$top=1`).get()))
  if (settings.agentId)
    checks.push(await check(READ_PERMISSIONS.agentIdentities, 'List Entra Agent ID agent identities', () => c.graph.api(`${c.graphBeta}/servicePrincipals/microsoft.graph.agentIdentity?$top=1`).get()))
  if (settings.keyVault) {
    const sub = settings.subscriptions?.[0]
    checks.push(
      await check('Key Vault Reader (Microsoft.KeyVault/vaults/read)', sub ? `List key vaults in subscription ${sub}` : 'List subscriptions', async () => {
        if (sub) {
          for await (const v of c.arm(sub).vaults.listBySubscription({ abortSignal: ctx.signal })) {
            void v
            break
          }
        } else await c.armGet('/subscriptions?api-version=2022-12-01', ctx.signal)
      }),
    )
  }
  return checks
}

export const azureProvider: Provider<AzureSettings> = {
  name: 'azure',
  displayName: 'Microsoft Entra ID and Azure Key Vault',
  settingsSchema: azureSettingsSchema as unknown as Provider<AzureSettings>['settingsSchema'],
  scan: scanAzure,
  testConnection: testAzureConnection,
  revocationActions,
  startStandIn: (options) => startAzureStandIn(options),
}

export { azureSettingsSchema, type AzureSettings } from './settings.js'
export { startAzureStandIn, type AzureStandIn } from './stand-in/server.js'
