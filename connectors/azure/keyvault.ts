/**
 * Azure Key Vault: vaults are listed through Resource Manager, then each vault's secrets,
 * keys and certificates through the data plane — metadata only (the SDK's list calls never
 * return values). Each vault is its own scan scope, so a vault Leash cannot read never
 * makes another vault's (or the tenant's) inventory look complete or incomplete.
 */
import type { NormalizedCredential, NormalizedIdentity, ScanScope } from '../contract.js'
import type { AzureClients } from './clients.js'
import { statusOf } from './graph-get.js'

export interface VaultRef {
  id: string
  name: string
  subscriptionId: string
  vaultUrl: string
  location: string | null
  tags: Record<string, string>
  rbac: boolean | null
}

export interface VaultItem {
  itemType: 'secret' | 'key' | 'certificate'
  name: string
  enabled: boolean | null
  createdOn: Date | null
  updatedOn: Date | null
  expiresOn: Date | null
  notBefore: Date | null
  contentType: string | null
  tags: Record<string, string>
  recoveryLevel: string | null
  keyType: string | null
}

export async function listSubscriptions(clients: AzureClients, signal: AbortSignal): Promise<string[]> {
  const body = (await clients.armGet('/subscriptions?api-version=2022-12-01', signal)) as { value?: { subscriptionId?: string; state?: string }[] }
  return (body.value ?? []).filter((s) => s.subscriptionId && s.state !== 'Disabled').map((s) => s.subscriptionId as string)
}

export async function listVaults(clients: AzureClients, subscriptionId: string, signal: AbortSignal): Promise<VaultRef[]> {
  const out: VaultRef[] = []
  for await (const v of clients.arm(subscriptionId).vaults.listBySubscription({ abortSignal: signal })) {
    const vaultUrl = v.properties?.vaultUri?.replace(/\/+$/, '')
    if (!v.id || !v.name || !vaultUrl) continue
    out.push({
      id: v.id,
      name: v.name,
      subscriptionId,
      vaultUrl,
      location: v.location ?? null,
      tags: { ...(v.tags ?? {}) },
      rbac: v.properties?.enableRbacAuthorization ?? null,
    })
  }
  return out
}

export async function listVaultItems(clients: AzureClients, vault: VaultRef, signal: AbortSignal): Promise<VaultItem[]> {
  const items: VaultItem[] = []
  const options = { abortSignal: signal }
  for await (const s of clients.secrets(vault.vaultUrl).listPropertiesOfSecrets(options)) {
    // Secrets backing a certificate are listed as the certificate.
    if (s.managed) continue
    items.push({
      itemType: 'secret',
      name: s.name,
      enabled: s.enabled ?? null,
      createdOn: s.createdOn ?? null,
      updatedOn: s.updatedOn ?? null,
      expiresOn: s.expiresOn ?? null,
      notBefore: s.notBefore ?? null,
      contentType: s.contentType ?? null,
      tags: { ...(s.tags ?? {}) },
      recoveryLevel: s.recoveryLevel ?? null,
      keyType: null,
    })
  }
  for await (const k of clients.keys(vault.vaultUrl).listPropertiesOfKeys(options)) {
    if (k.managed) continue
    items.push({
      itemType: 'key',
      name: k.name,
      enabled: k.enabled ?? null,
      createdOn: k.createdOn ?? null,
      updatedOn: k.updatedOn ?? null,
      expiresOn: k.expiresOn ?? null,
      notBefore: k.notBefore ?? null,
      contentType: null,
      tags: { ...(k.tags ?? {}) },
      recoveryLevel: k.recoveryLevel ?? null,
      keyType: null,
    })
  }
  for await (const c of clients.certificates(vault.vaultUrl).listPropertiesOfCertificates(options)) {
    items.push({
      itemType: 'certificate',
      name: c.name ?? 'unnamed',
      enabled: c.enabled ?? null,
      createdOn: c.createdOn ?? null,
      updatedOn: c.updatedOn ?? null,
      expiresOn: c.expiresOn ?? null,
      notBefore: c.notBefore ?? null,
      contentType: null,
      tags: { ...(c.tags ?? {}) },
      recoveryLevel: c.recoveryLevel ?? null,
      keyType: null,
    })
  }
  return items
}

const COLLECTION = { secret: 'secrets', key: 'keys', certificate: 'certificates' } as const

export function vaultScope(vault: VaultRef): ScanScope {
  return { accountId: vault.id.toLowerCase(), kind: 'vault', displayName: `Key Vault ${vault.name}` }
}

/** One identity per vault item: the thing a workload holds, with its single credential. */
export function transformVaultItem(vault: VaultRef, item: VaultItem, tenantId: string, now: Date): NormalizedIdentity {
  const externalId = `${vault.vaultUrl}/${COLLECTION[item.itemType]}/${item.name}`
  const expired = item.expiresOn !== null && item.expiresOn.getTime() <= now.getTime()
  const credential: NormalizedCredential = {
    externalId,
    type: item.itemType === 'certificate' ? 'certificate' : 'secret_value',
    displayName: item.name,
    status: item.enabled === false ? 'inactive' : expired ? 'expired' : 'active',
    // The list shows the current version: its creation is the last rotation.
    createdAt: item.createdOn,
    expiresAt: item.expiresOn,
    lastUsedAt: null,
    lastUsedKnown: false,
    lastRotatedAt: item.createdOn,
    rotationEnabled: null,
    isStatic: true,
    attributes: { itemType: item.itemType, contentType: item.contentType, notBefore: item.notBefore?.toISOString() ?? null, neverExpires: item.expiresOn === null },
  }
  const env = Object.entries(item.tags).map(([k, v]) => `${k} ${v}`).join(' ') + ` ${vault.name} ${item.name}`
  return {
    externalId,
    kind: 'secret',
    displayName: `${vault.name}/${item.name}`,
    scope: vaultScope(vault),
    status: item.enabled === false ? 'disabled' : 'active',
    createdAt: item.createdOn,
    lastUsedAt: null,
    lastUsedKnown: false,
    tags: item.tags,
    attributes: {
      itemType: item.itemType,
      vaultName: vault.name,
      vaultUrl: vault.vaultUrl,
      vaultResourceId: vault.id,
      subscriptionId: vault.subscriptionId,
      itemName: item.name,
      updatedOn: item.updatedOn?.toISOString() ?? null,
      recoveryLevel: item.recoveryLevel,
      vaultRbac: vault.rbac,
      tenantId,
    },
    consoleUrl: `https://portal.azure.com/#@${tenantId}/resource${vault.id}/${COLLECTION[item.itemType]}`,
    credentials: [credential],
    entitlements: [],
    owners: [],
    agentSignals: [],
    escalationPaths: [],
    unusedGrants: null,
    environments: [
      ...(/(^|[^a-z])(prod|production|prd)([^a-z]|$)/i.test(env) ? (['production'] as const) : []),
      ...(/(^|[^a-z])(dev|test|staging|sandbox|qa)([^a-z]|$)/i.test(env) ? (['non_production'] as const) : []),
    ],
    workloads: [],
    // Key Vault has no per-item last-access API; access shows only in diagnostic logs.
    monitoring: { usageData: 'unavailable', runtimeLogging: null },
    federationPossible: false,
    unreadable: [{ field: 'usage', operation: 'Key Vault diagnostic logs (AuditEvent)', permission: null }],
  }
}

export function describeAzureError(error: unknown): { status: number | null; message: string } {
  const e = error as { message?: string; code?: string } | null
  return { status: statusOf(error), message: (e?.message ?? String(error)).split('\n')[0]?.slice(0, 400) ?? 'unknown error' }
}
