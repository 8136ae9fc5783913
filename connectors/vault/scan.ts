/**
 * get + transform for one Vault cluster (or namespace): one scope. Reads, in order: audit
 * devices (monitoring signal), auth methods and mounts (to find AppRole and KV v2), token
 * accessors with lookup-accessor, AppRole roles with their secret-id accessors, KV v2
 * metadata, and the ACL policies all of these reference. Any list that fails leaves the
 * scope incomplete; a refused policy read only leaves entitlements unreadable.
 */
import { LeashError } from '../../cli/errors.js'
import type { NormalizedIdentity, ScanContext, ScanEvent, ScanProblem, ScanScope } from '../contract.js'
import { HttpError } from '../saas-kit/http.js'
import { httpStatusOf, problemFromError, rethrowIfAborted } from '../saas-kit/failures.js'
import { mapPool, problem } from '../saas-kit/identity.js'
import { createVaultClient, listKeys, normalizeMount, type VaultClient, type VaultResponse, vaultAddress } from './client.js'
import type { VaultSettings } from './settings.js'
import {
  auditDevices,
  authMountsOfType,
  kvV2Mounts,
  type PolicyLevels,
  policyLevel,
  policyText,
  type RawAppRole,
  type RawKvMetadata,
  type RawSecretIdLookup,
  type RawTokenLookup,
  transformAppRole,
  transformKvSecret,
  transformToken,
  type VaultContext,
} from './transform.js'

const BATCH = 500
const CONCURRENCY = 8

export const CAPABILITIES = {
  audit: 'sudo on sys/audit (read)',
  auth: 'read on sys/auth',
  mounts: 'read on sys/mounts',
  accessors: 'list on auth/token/accessors (sudo)',
  lookupAccessor: 'update on auth/token/lookup-accessor',
  policies: 'read on sys/policies/acl/*',
  approle: 'list/read on auth/<approle mount>/role/*',
  secretIds: 'list on auth/<approle mount>/role/*/secret-id, update on …/secret-id-accessor/lookup',
  kv: 'list/read on <kv mount>/metadata/*',
} as const

export function vaultScope(settings: VaultSettings): ScanScope {
  let address: string
  try {
    address = vaultAddress(settings)
  } catch {
    address = 'vault'
  }
  const host = address.replace(/^https?:\/\//, '')
  return {
    accountId: settings.namespace ? `${host}/${settings.namespace}` : host,
    kind: 'vault',
    displayName: `Vault ${host}${settings.namespace ? ` (namespace ${settings.namespace})` : ''}`,
  }
}

function isInvalidAccessor(error: unknown): boolean {
  // Vault answers 400 "invalid accessor" / 404 for a token that expired between list and lookup.
  return error instanceof HttpError && (error.status === 404 || (error.status === 400 && /invalid accessor|not found/i.test(error.message)))
}

/** Vault answers 403 for a bad token too: lookup-self (allowed by the default policy) tells the two apart. */
async function tokenRejected(client: VaultClient): Promise<boolean> {
  try {
    await client.get('auth/token/lookup-self')
    return false
  } catch (error) {
    return httpStatusOf(error) === 403 || httpStatusOf(error) === 401
  }
}

export async function* scanVault(ctx: ScanContext<VaultSettings>): AsyncGenerator<ScanEvent> {
  const scope = vaultScope(ctx.settings)
  yield { type: 'scope_started', scope }
  let client: VaultClient
  try {
    client = createVaultClient(ctx.settings, ctx)
  } catch (error) {
    if (!(error instanceof LeashError)) throw error
    yield {
      type: 'problem',
      problem: problem({ scope, operation: 'vault:Configure', message: error.message, remedy: error.remedy, fatalForScope: true }),
    }
    yield { type: 'scope_finished', scope, complete: false }
    return
  }
  const problems: ScanProblem[] = []
  const fail = (error: unknown, operation: string, permission: string, fatal: boolean) => {
    rethrowIfAborted(error, ctx.signal)
    problems.push(
      problemFromError(error, {
        provider: 'Vault',
        scope,
        operation: `vault:${operation}`,
        permission,
        fatalForScope: fatal,
        grantRemedy: `Add "${permission}" to the Leash scanner policy (docs/providers/vault.md).`,
      }),
    )
  }

  // Monitoring signal: is any audit device enabled?
  let auditEnabled: boolean | null = null
  try {
    auditEnabled = auditDevices(await client.get('sys/audit')).length > 0
  } catch (error) {
    fail(error, 'sys/audit', CAPABILITIES.audit, false)
    // A rejected token fails every call alike: report it once and stop.
    if (
      httpStatusOf(error) === 401 ||
      (httpStatusOf(error) === 403 && /invalid token|permission denied/i.test(String(error)) && (await tokenRejected(client)))
    ) {
      for (const p of problems) yield { type: 'problem', problem: { ...p, fatalForScope: true } }
      yield { type: 'scope_finished', scope, complete: false }
      return
    }
  }

  // Where AppRole and KV v2 live.
  let approleMounts = ctx.settings.approleMounts?.map(normalizeMount) ?? null
  if (!approleMounts) {
    try {
      approleMounts = authMountsOfType(await client.get('sys/auth'), 'approle').map(normalizeMount)
    } catch (error) {
      fail(error, 'sys/auth', CAPABILITIES.auth, true)
      approleMounts = []
    }
  }
  let kvMounts = ctx.settings.kvMounts?.map(normalizeMount) ?? null
  if (!kvMounts) {
    try {
      kvMounts = kvV2Mounts(await client.get('sys/mounts')).map(normalizeMount)
    } catch (error) {
      fail(error, 'sys/mounts', CAPABILITIES.mounts, true)
      kvMounts = []
    }
  }

  // Token accessors.
  const tokens: RawTokenLookup[] = []
  try {
    const accessors = await listKeys(client, 'auth/token/accessors')
    let lookupFailure: unknown = null
    const found = await mapPool(accessors, CONCURRENCY, async (accessor) => {
      try {
        return (await client.post<VaultResponse<RawTokenLookup>>('auth/token/lookup-accessor', { accessor })).data
      } catch (error) {
        rethrowIfAborted(error, ctx.signal)
        if (!isInvalidAccessor(error)) lookupFailure ??= error
        return null
      }
    })
    if (lookupFailure) fail(lookupFailure, 'auth/token/lookup-accessor', CAPABILITIES.lookupAccessor, true)
    tokens.push(...found.filter((t): t is RawTokenLookup => t != null))
  } catch (error) {
    fail(error, 'auth/token/accessors', CAPABILITIES.accessors, true)
  }

  // AppRole roles and their secret-id accessors.
  const roles: { mount: string; role: string; data: RawAppRole; secretIds: RawSecretIdLookup[] }[] = []
  for (const mount of approleMounts) {
    try {
      const names = await listKeys(client, `auth/${mount}role`)
      const got = await mapPool(names, CONCURRENCY, async (role) => {
        const data = (await client.get<VaultResponse<RawAppRole>>(`auth/${mount}role/${encodeURIComponent(role)}`)).data
        const accessors = await listKeys(client, `auth/${mount}role/${encodeURIComponent(role)}/secret-id`)
        const secretIds: RawSecretIdLookup[] = []
        for (const accessor of accessors) {
          try {
            secretIds.push(
              (
                await client.post<VaultResponse<RawSecretIdLookup>>(
                  `auth/${mount}role/${encodeURIComponent(role)}/secret-id-accessor/lookup`,
                  { secret_id_accessor: accessor },
                )
              ).data,
            )
          } catch (error) {
            if (!isInvalidAccessor(error)) throw error
          }
        }
        return { mount, role, data, secretIds }
      })
      roles.push(...got)
    } catch (error) {
      fail(error, `auth/${mount}role`, CAPABILITIES.approle, true)
    }
  }

  // KV v2 metadata, walked folder by folder.
  const secrets: { mount: string; path: string; meta: RawKvMetadata }[] = []
  const maxDepth = ctx.settings.kvMaxDepth ?? 8
  for (const mount of kvMounts) {
    try {
      const leaves: string[] = []
      let folders = ['']
      for (let depth = 0; depth < maxDepth && folders.length; depth++) {
        const listed = await mapPool(folders, CONCURRENCY, async (folder) =>
          (await listKeys(client, `${mount}metadata/${folder}`)).map((k) => folder + k),
        )
        folders = []
        for (const key of listed.flat()) (key.endsWith('/') ? folders : leaves).push(key)
      }
      if (folders.length) {
        problems.push(
          problem({
            scope,
            operation: `vault:${mount}metadata`,
            message: `KV mount ${mount} has folders deeper than ${maxDepth} levels; they were not read.`,
            remedy: 'Raise kvMaxDepth in the source settings.',
            fatalForScope: true,
          }),
        )
      }
      const metas = await mapPool(leaves, CONCURRENCY, async (path) => ({
        mount,
        path,
        meta: (await client.get<VaultResponse<RawKvMetadata>>(`${mount}metadata/${path}`)).data,
      }))
      secrets.push(...metas)
    } catch (error) {
      fail(error, `${mount}metadata`, CAPABILITIES.kv, true)
    }
  }

  // The policies everything above references: their strongest capability becomes the access level.
  const names = new Set<string>([
    ...tokens.flatMap((t) => [...(t.policies ?? []), ...(t.identity_policies ?? [])]),
    ...roles.flatMap((r) => r.data.token_policies ?? r.data.policies ?? []),
  ])
  names.delete('root')
  const policies: PolicyLevels = new Map()
  let policyFailure: unknown = null
  await mapPool([...names], CONCURRENCY, async (name) => {
    try {
      const res = await client.get(`sys/policies/acl/${encodeURIComponent(name)}`)
      policies.set(name, policyLevel(policyText(res, name)))
    } catch (error) {
      rethrowIfAborted(error, ctx.signal)
      policyFailure ??= error
      policies.set(name, null)
    }
  })
  if (policyFailure) fail(policyFailure, 'sys/policies/acl', CAPABILITIES.policies, false)

  const vctx: VaultContext = { scope, auditEnabled, policies, uiUrl: client.address }
  const identities: NormalizedIdentity[] = [
    ...tokens.map((t) => transformToken(t, vctx, ctx.now)),
    ...roles.map((r) => transformAppRole(r.mount, r.role, r.data, r.secretIds, vctx, ctx.now)),
    ...secrets.map((s) => transformKvSecret(s.mount, s.path, s.meta, vctx)),
  ]
  for (const p of problems) yield { type: 'problem', problem: p }
  for (let i = 0; i < identities.length; i += BATCH) yield { type: 'batch', scope, identities: identities.slice(i, i + BATCH) }
  yield { type: 'scope_finished', scope, complete: !problems.some((p) => p.fatalForScope) }
}
