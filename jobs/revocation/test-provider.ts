/**
 * A small in-memory provider implementing the revocation part of the connector contract, for
 * the workflow's own tests: access keys that can be deactivated, reactivated and deleted, and
 * role sessions that can be revoked. It counts calls and can fail on demand, so tests can
 * prove "acts once" and "a failed call ends as failed, and a retry completes it".
 */
import { z } from 'zod'
import type { ActionContext, ExecutedCall, ExecutionResult, RevocationAction, RevocationTarget } from '../../connectors/contract.js'
import type { RevocationProvider } from './types.js'

export interface TestProviderState {
  keys: Map<string, 'Active' | 'Inactive' | 'Deleted'>
  sessionsRevokedBefore: Map<string, string>
  /** Every mutating call that reached the "provider". */
  mutations: { operation: string; target: string }[]
  /** Operations that fail (with this error) the next `times` times. */
  failures: Map<string, { error: Error; times: number }>
  /** Delay each execute by this many ms, to let concurrent callers overlap. */
  delayMs: number
}

export function createTestProviderState(keys: Record<string, 'Active' | 'Inactive'> = {}): TestProviderState {
  return { keys: new Map(Object.entries(keys)), sessionsRevokedBefore: new Map(), mutations: [], failures: new Map(), delayMs: 0 }
}

const settingsSchema = z.object({ accountId: z.string().regex(/^\d{12}$/) }).strict()
type Settings = z.infer<typeof settingsSchema>

function call(operation: string, parameters: Record<string, unknown>, ok: boolean, response: Record<string, unknown> | null, error: string | null): ExecutedCall {
  return { operation, parameters, ok, response, error, at: new Date().toISOString() }
}

export function createTestProvider(state: TestProviderState): RevocationProvider {
  function maybeFail(operation: string): void {
    const failure = state.failures.get(operation)
    if (failure && failure.times > 0) {
      failure.times--
      throw failure.error
    }
  }
  function keyAction(id: string, title: string, operation: string, to: 'Active' | 'Inactive' | 'Deleted', options: { reversible: boolean; destructive: boolean; undo: string | null; from: string[] }): RevocationAction<Settings> {
    return {
      id,
      title,
      reversible: options.reversible,
      destructive: options.destructive,
      appliesTo: (target: RevocationTarget) => target.credential?.type === 'access_key' && options.from.includes(target.credential.status),
      async plan(_ctx, target) {
        return {
          actionId: id,
          summary: `${title} ${target.credential!.externalId}`,
          calls: [{ operation, parameters: { UserName: target.identity.displayName, AccessKeyId: target.credential!.externalId, Status: to }, effect: `Key becomes ${to}.` }],
          reversible: options.reversible,
          undoActionId: options.undo,
          caveats: [],
        }
      },
      async execute(ctx: ActionContext<Settings>, target): Promise<ExecutionResult> {
        const keyId = target.credential!.externalId
        const parameters = { UserName: target.identity.displayName, AccessKeyId: keyId, Status: to }
        if (state.delayMs) await new Promise((resolve) => setTimeout(resolve, state.delayMs))
        if (state.keys.get(keyId) === to) return { ok: true, error: null, calls: [call(operation, parameters, true, { alreadyDone: true }, null)] }
        try {
          maybeFail(operation)
        } catch (error) {
          return { ok: false, error: (error as Error).message, calls: [call(operation, parameters, false, null, (error as Error).message)] }
        }
        ctx.apiCalls.record(operation)
        state.mutations.push({ operation, target: keyId })
        state.keys.set(keyId, to)
        return { ok: true, error: null, calls: [call(operation, parameters, true, { status: to }, null)] }
      },
      async verify(_ctx, target) {
        const now = state.keys.get(target.credential!.externalId) ?? 'Deleted'
        return { verified: now === to, observed: `Access key ${target.credential!.externalId} is ${now}.` }
      },
    }
  }
  const revokeSessions: RevocationAction<Settings> = {
    id: 'test.role.revoke_sessions',
    title: 'Revoke active sessions',
    reversible: false,
    destructive: false,
    appliesTo: (target) => target.credential === null && target.identity.kind === 'role',
    async plan(_ctx, target) {
      return {
        actionId: 'test.role.revoke_sessions',
        summary: `Deny sessions of ${target.identity.displayName} issued before now`,
        calls: [{ operation: 'iam:PutRolePolicy', parameters: { RoleName: target.identity.displayName }, effect: 'Sessions issued before now are denied.' }],
        reversible: false,
        undoActionId: null,
        caveats: [],
      }
    },
    async execute(_ctx, target) {
      maybeFail('iam:PutRolePolicy')
      state.mutations.push({ operation: 'iam:PutRolePolicy', target: target.identity.externalId })
      state.sessionsRevokedBefore.set(target.identity.externalId, new Date().toISOString())
      return { ok: true, error: null, calls: [call('iam:PutRolePolicy', { RoleName: target.identity.displayName }, true, {}, null)] }
    },
    async verify(_ctx, target) {
      const at = state.sessionsRevokedBefore.get(target.identity.externalId)
      return { verified: !!at, observed: at ? `Sessions issued before ${at} are denied.` : 'No session revocation policy found.' }
    },
  }
  return {
    settingsSchema,
    revocationActions: [
      keyAction('test.key.deactivate', 'Deactivate access key', 'iam:UpdateAccessKey', 'Inactive', { reversible: true, destructive: false, undo: 'test.key.reactivate', from: ['active'] }),
      keyAction('test.key.reactivate', 'Reactivate access key', 'iam:UpdateAccessKey', 'Active', { reversible: false, destructive: false, undo: null, from: ['inactive'] }),
      keyAction('test.key.delete', 'Delete access key', 'iam:DeleteAccessKey', 'Deleted', { reversible: false, destructive: true, undo: null, from: ['active', 'inactive'] }),
      revokeSessions,
    ] as RevocationAction<unknown>[],
  }
}
