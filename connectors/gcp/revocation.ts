/**
 * Google Cloud revocation: disable a user-managed key (undo: enable), delete a disabled key (a
 * later, destructive step), disable a service account (undo: enable). Each action plans from
 * what Google reports now, executes idempotently (re-reads first, changes only what is not yet
 * changed) and verifies by re-reading. Google-managed identities (service agents, agent
 * identity principals) have no such controls: no action applies to them; the docs say to
 * remove their role bindings instead.
 */
import type {
  ActionContext,
  ExecutedCall,
  ExecutionResult,
  PlannedCall,
  RevocationAction,
  RevocationPlan,
  RevocationTarget,
} from '../contract.js'
import { httpStatusOf } from '../saas-kit/failures.js'
import { scrubSecrets } from '../saas-kit/identity.js'
import { createGcpClient, type GcpClient } from './client.js'
import type { GcpSettings } from './settings.js'
import type { RawKey, RawServiceAccount } from './transform.js'

type Ctx = ActionContext<GcpSettings>

interface SaRef {
  projectId: string
  email: string
  /** projects/{project}/serviceAccounts/{email} */
  name: string
}

function saRef(t: RevocationTarget): SaRef {
  const a = t.identity.attributes
  const email = typeof a.email === 'string' ? a.email : null
  const projectId = typeof a.projectId === 'string' ? a.projectId : t.identity.accountId
  if (!email || a.googleManaged === true)
    throw new Error(`${t.identity.displayName} is not a user-managed service account; rescan the source.`)
  return { projectId, email, name: `projects/${encodeURIComponent(projectId)}/serviceAccounts/${encodeURIComponent(email)}` }
}

const isUserServiceAccount = (t: RevocationTarget) =>
  t.identity.kind === 'service_account' && t.identity.attributes.provider === 'gcp' && t.identity.attributes.googleManaged !== true
const isKey = (t: RevocationTarget) => isUserServiceAccount(t) && t.credential?.type === 'service_account_key'

function keyUrl(client: GcpClient, sa: SaRef, keyId: string): string {
  return `${client.endpoints.iam}/v1/${sa.name}/keys/${encodeURIComponent(keyId)}`
}

function describe(error: unknown): string {
  const status = httpStatusOf(error)
  const message = scrubSecrets(error instanceof Error ? error.message : String(error))
  if (status === 403) return `Google refused the call: ${message} Grant the revocation role in docs/providers/gcp.md.`
  return message
}

async function record(
  calls: ExecutedCall[],
  operation: string,
  parameters: Record<string, unknown>,
  run: () => Promise<Record<string, unknown> | null>,
): Promise<boolean> {
  const at = new Date().toISOString()
  try {
    calls.push({ operation, parameters, ok: true, response: await run(), error: null, at })
    return true
  } catch (error) {
    calls.push({ operation, parameters, ok: false, response: null, error: describe(error), at })
    return false
  }
}

function result(calls: ExecutedCall[], error: string | null = null): ExecutionResult {
  const failed = calls.find((c) => !c.ok)
  return { calls, ok: !failed && !error, error: error ?? failed?.error ?? null }
}

/** The key as Google reports it now; null when it no longer exists. */
async function readKey(client: GcpClient, sa: SaRef, keyId: string): Promise<RawKey | null> {
  try {
    return await client.get<RawKey>(keyUrl(client, sa, keyId))
  } catch (error) {
    if (httpStatusOf(error) === 404) return null
    throw error
  }
}

async function readAccount(client: GcpClient, sa: SaRef): Promise<RawServiceAccount | null> {
  try {
    return await client.get<RawServiceAccount>(`${client.endpoints.iam}/v1/${sa.name}`)
  } catch (error) {
    if (httpStatusOf(error) === 404) return null
    throw error
  }
}

function keyIdOf(t: RevocationTarget): string {
  const id = t.credential?.externalId
  if (!id || !/^[0-9a-f]{8,64}$/i.test(id)) throw new Error(`No service account key id on ${t.identity.externalId}; rescan the source.`)
  return id
}

function keyStateAction(kind: 'disable' | 'enable'): RevocationAction<GcpSettings> {
  const id = `gcp.key.${kind}`
  const wantDisabled = kind === 'disable'
  const operation = `iam.serviceAccountKeys.${kind}`
  return {
    id,
    title: wantDisabled ? 'Disable the service account key' : 'Enable the service account key again',
    reversible: true,
    destructive: false,
    appliesTo: (t) => isKey(t) && (wantDisabled ? t.credential?.status !== 'inactive' : t.credential?.status === 'inactive'),
    async plan(ctx: Ctx, target): Promise<RevocationPlan> {
      const sa = saRef(target)
      const keyId = keyIdOf(target)
      const client = createGcpClient(ctx.settings, ctx)
      const key = await readKey(client, sa, keyId)
      const calls: PlannedCall[] = [
        {
          operation: 'iam.serviceAccountKeys.get',
          parameters: { name: `${sa.name}/keys/${keyId}` },
          effect: 'Reads the key’s current state (no change).',
        },
      ]
      const caveats: string[] = []
      if (!key) caveats.push(`Key ${keyId} no longer exists; executing changes nothing.`)
      else if (Boolean(key.disabled) === wantDisabled)
        caveats.push(`Key ${keyId} is already ${wantDisabled ? 'disabled' : 'enabled'}; executing changes nothing.`)
      else
        calls.push({
          operation,
          parameters: { name: `${sa.name}/keys/${keyId}` },
          effect: wantDisabled
            ? `Key ${keyId} stops authenticating at once; access tokens it already minted stay valid until they expire (at most 1 hour). Enabling restores it.`
            : `Key ${keyId} authenticates again.`,
        })
      if (wantDisabled)
        caveats.push(
          'Workloads signing in with this key fail until they use another credential; prefer workload identity federation or an attached service account to a new key.',
          key?.disableReason && /EXPOSED|COMPROMISE/.test(key.disableReason)
            ? 'Google disabled this key as exposed or compromised: do not enable it again; delete it.'
            : 'Needs iam.serviceAccountKeys.disable on the service account.',
        )
      return {
        actionId: id,
        summary: `${wantDisabled ? 'Disable' : 'Enable'} key ${keyId} of service account ${sa.email} (project ${sa.projectId}).`,
        calls,
        reversible: true,
        undoActionId: wantDisabled ? 'gcp.key.enable' : 'gcp.key.disable',
        caveats,
      }
    },
    async execute(ctx: Ctx, target) {
      const sa = saRef(target)
      const keyId = keyIdOf(target)
      const client = createGcpClient(ctx.settings, ctx)
      const calls: ExecutedCall[] = []
      const name = `${sa.name}/keys/${keyId}`
      let key: RawKey | null = null
      if (
        !(await record(
          calls,
          'iam.serviceAccountKeys.get',
          { name },
          async () => ((key = await readKey(client, sa, keyId)), { disabled: key?.disabled ?? null, exists: key !== null }),
        ))
      )
        return result(calls)
      const current = key as RawKey | null
      if (!current) return result(calls, `Key ${keyId} no longer exists: it was deleted since the scan. Scan again.`)
      if (Boolean(current.disabled) === wantDisabled) return result(calls) // already done
      await record(calls, operation, { name }, async () => {
        await client.post(`${keyUrl(client, sa, keyId)}:${kind}`, {})
        return { disabled: wantDisabled }
      })
      return result(calls)
    },
    async verify(ctx: Ctx, target) {
      const sa = saRef(target)
      const keyId = keyIdOf(target)
      const key = await readKey(createGcpClient(ctx.settings, ctx), sa, keyId)
      if (!key) return { verified: wantDisabled, observed: `Key ${keyId} no longer exists.` }
      const disabled = Boolean(key.disabled)
      return { verified: disabled === wantDisabled, observed: `Google reports key ${keyId} as ${disabled ? 'disabled' : 'enabled'}.` }
    },
  }
}

export const disableKey = keyStateAction('disable')
export const enableKey = keyStateAction('enable')

export const deleteKey: RevocationAction<GcpSettings> = {
  id: 'gcp.key.delete',
  title: 'Delete the service account key',
  reversible: false,
  destructive: true,
  appliesTo: (t) => isKey(t) && t.credential?.status === 'inactive',
  async plan(ctx, target) {
    const sa = saRef(target)
    const keyId = keyIdOf(target)
    const key = await readKey(createGcpClient(ctx.settings, ctx), sa, keyId)
    const name = `${sa.name}/keys/${keyId}`
    const calls: PlannedCall[] = [{ operation: 'iam.serviceAccountKeys.get', parameters: { name }, effect: 'Reads the key (no change).' }]
    const caveats = [
      'Deleting cannot be undone: a workload that still needs access must get a new credential (preferably workload identity federation).',
    ]
    if (!key) caveats.push('The key no longer exists; executing changes nothing.')
    else {
      if (!key.disabled) caveats.push('The key is still enabled: disable it first and wait out the grace period.')
      calls.push({ operation: 'iam.serviceAccountKeys.delete', parameters: { name }, effect: `Key ${keyId} is deleted permanently.` })
    }
    return {
      actionId: 'gcp.key.delete',
      summary: `Delete key ${keyId} of service account ${sa.email}.`,
      calls,
      reversible: false,
      undoActionId: null,
      caveats,
    }
  },
  async execute(ctx, target) {
    const sa = saRef(target)
    const keyId = keyIdOf(target)
    const client = createGcpClient(ctx.settings, ctx)
    const name = `${sa.name}/keys/${keyId}`
    const calls: ExecutedCall[] = []
    let key: RawKey | null = null
    if (
      !(await record(
        calls,
        'iam.serviceAccountKeys.get',
        { name },
        async () => ((key = await readKey(client, sa, keyId)), { exists: key !== null }),
      ))
    )
      return result(calls)
    const current = key as RawKey | null
    if (!current) return result(calls) // already deleted
    if (!current.disabled) return result(calls, 'The key is enabled: disable it first (Leash deletes only disabled keys).')
    await record(calls, 'iam.serviceAccountKeys.delete', { name }, async () => {
      await client.delete(keyUrl(client, sa, keyId))
      return { deleted: true }
    })
    return result(calls)
  },
  async verify(ctx, target) {
    const keyId = keyIdOf(target)
    const key = await readKey(createGcpClient(ctx.settings, ctx), saRef(target), keyId)
    return key
      ? { verified: false, observed: `Key ${keyId} still exists (${key.disabled ? 'disabled' : 'enabled'}).` }
      : { verified: true, observed: `Key ${keyId} no longer exists.` }
  },
}

function accountStateAction(kind: 'disable' | 'enable'): RevocationAction<GcpSettings> {
  const id = `gcp.service_account.${kind}`
  const wantDisabled = kind === 'disable'
  const operation = `iam.serviceAccounts.${kind}`
  return {
    id,
    title: wantDisabled ? 'Disable the service account' : 'Enable the service account again',
    reversible: true,
    destructive: false,
    appliesTo: (t) => isUserServiceAccount(t) && t.credential === null && (t.identity.attributes.disabled === true) !== wantDisabled,
    async plan(ctx, target) {
      const sa = saRef(target)
      const account = await readAccount(createGcpClient(ctx.settings, ctx), sa)
      const calls: PlannedCall[] = [
        { operation: 'iam.serviceAccounts.get', parameters: { name: sa.name }, effect: 'Reads the service account (no change).' },
      ]
      const caveats: string[] = []
      if (!account) caveats.push(`${sa.email} no longer exists; executing changes nothing.`)
      else if (Boolean(account.disabled) === wantDisabled)
        caveats.push(`${sa.email} is already ${wantDisabled ? 'disabled' : 'enabled'}; executing changes nothing.`)
      else
        calls.push({
          operation,
          parameters: { name: sa.name },
          effect: wantDisabled
            ? `${sa.email} can no longer authenticate: its keys, impersonation and workloads running as it stop working. Its roles stay in place; enabling restores everything.`
            : `${sa.email} can authenticate again.`,
        })
      if (wantDisabled)
        caveats.push(
          'Every workload running as this account (VMs, Cloud Run, Agent Engine) fails its Google API calls until it is enabled again.',
          'Needs iam.serviceAccounts.disable on the service account.',
        )
      return {
        actionId: id,
        summary: `${wantDisabled ? 'Disable' : 'Enable'} service account ${sa.email} (project ${sa.projectId}).`,
        calls,
        reversible: true,
        undoActionId: wantDisabled ? 'gcp.service_account.enable' : 'gcp.service_account.disable',
        caveats,
      }
    },
    async execute(ctx, target) {
      const sa = saRef(target)
      const client = createGcpClient(ctx.settings, ctx)
      const calls: ExecutedCall[] = []
      let account: RawServiceAccount | null = null
      if (
        !(await record(
          calls,
          'iam.serviceAccounts.get',
          { name: sa.name },
          async () => ((account = await readAccount(client, sa)), { exists: account !== null, disabled: account?.disabled ?? null }),
        ))
      )
        return result(calls)
      const current = account as RawServiceAccount | null
      if (!current) return result(calls, `${sa.email} no longer exists. Scan again.`)
      if (Boolean(current.disabled) === wantDisabled) return result(calls)
      await record(calls, operation, { name: sa.name }, async () => {
        await client.post(`${client.endpoints.iam}/v1/${sa.name}:${kind}`, {})
        return { disabled: wantDisabled }
      })
      return result(calls)
    },
    async verify(ctx, target) {
      const sa = saRef(target)
      const account = await readAccount(createGcpClient(ctx.settings, ctx), sa)
      if (!account) return { verified: false, observed: `${sa.email} no longer exists.` }
      const disabled = Boolean(account.disabled)
      return { verified: disabled === wantDisabled, observed: `Google reports ${sa.email} as ${disabled ? 'disabled' : 'enabled'}.` }
    },
  }
}

export const disableServiceAccount = accountStateAction('disable')
export const enableServiceAccount = accountStateAction('enable')

export const gcpRevocationActions = [disableKey, enableKey, deleteKey, disableServiceAccount, enableServiceAccount]
