/**
 * OpenAI revocation: delete a person's project API key, delete a project service account
 * (OpenAI refuses to delete a service account's key on its own), delete an admin key.
 * OpenAI has no "disable" for keys, so none of these is reversible: the plan says so.
 */
import type OpenAI from 'openai'
import type {
  ActionContext,
  ExecutedCall,
  ExecutionResult,
  RevocationAction,
  RevocationPlan,
  RevocationTarget,
  VerificationResult,
} from '../contract.js'
import { httpStatusOf } from '../saas-kit/failures.js'
import { scrubSecrets } from '../saas-kit/identity.js'
import { createOpenAIClient } from './client.js'
import type { OpenAISettings } from './settings.js'

type Ctx = ActionContext<OpenAISettings>

function attr(target: RevocationTarget, name: string): string {
  const value = target.identity.attributes[name]
  if (typeof value !== 'string' || !value)
    throw new Error(`The identity ${target.identity.externalId} has no ${name}; rescan the source before revoking.`)
  return value
}

async function run(operation: string, parameters: Record<string, unknown>, call: () => Promise<unknown>): Promise<ExecutionResult> {
  const at = new Date().toISOString()
  try {
    const response = (await call()) as { id?: string; deleted?: boolean }
    const executed: ExecutedCall = {
      operation,
      parameters,
      ok: true,
      response: { id: response.id ?? null, deleted: response.deleted ?? null },
      error: null,
      at,
    }
    return { calls: [executed], ok: true, error: null }
  } catch (error) {
    // Idempotent: an object that is already gone is the outcome we wanted.
    if (httpStatusOf(error) === 404) {
      return { calls: [{ operation, parameters, ok: true, response: { alreadyAbsent: true }, error: null, at }], ok: true, error: null }
    }
    const message = scrubSecrets(error instanceof Error ? error.message : String(error))
    return { calls: [{ operation, parameters, ok: false, response: null, error: message, at }], ok: false, error: message }
  }
}

async function gone(call: () => Promise<unknown>, what: string): Promise<VerificationResult> {
  try {
    await call()
    return { verified: false, observed: `OpenAI still returns ${what}.` }
  } catch (error) {
    if (httpStatusOf(error) === 404) return { verified: true, observed: `OpenAI no longer has ${what} (404 on re-read).` }
    throw error
  }
}

function client(ctx: Ctx): OpenAI {
  return createOpenAIClient(ctx.settings, ctx)
}

const WRITE_SCOPE = 'api.management.write'

export const deleteProjectApiKey: RevocationAction<OpenAISettings> = {
  id: 'openai.project_api_key.delete',
  title: 'Delete the project API key',
  reversible: false,
  destructive: false,
  appliesTo: (t) =>
    t.identity.attributes.provider === 'openai' &&
    t.identity.kind === 'api_key' &&
    t.identity.attributes.ownerType === 'user' &&
    (t.credential == null || t.credential.type === 'api_key'),
  async plan(_ctx, target): Promise<RevocationPlan> {
    const projectId = attr(target, 'projectId')
    const keyId = target.credential?.externalId ?? attr(target, 'keyId')
    return {
      actionId: this.id,
      summary: `Delete API key ${keyId} in OpenAI project ${projectId}. Anything using it stops working at once.`,
      calls: [
        {
          operation: 'openai:DeleteProjectApiKey',
          parameters: { project_id: projectId, key_id: keyId },
          effect: `DELETE /v1/organization/projects/${projectId}/api_keys/${keyId}: the key stops authenticating immediately.`,
        },
      ],
      reversible: false,
      undoActionId: null,
      caveats: [
        'OpenAI keys cannot be disabled, only deleted: this cannot be undone. The owner creates a new key if it is still needed.',
        `Needs an Admin API key with the ${WRITE_SCOPE} scope.`,
      ],
    }
  },
  async execute(ctx, target) {
    const projectId = attr(target, 'projectId')
    const keyId = target.credential?.externalId ?? attr(target, 'keyId')
    return run('openai:DeleteProjectApiKey', { project_id: projectId, key_id: keyId }, () =>
      client(ctx).admin.organization.projects.apiKeys.delete(keyId, { project_id: projectId }),
    )
  },
  async verify(ctx, target) {
    const projectId = attr(target, 'projectId')
    const keyId = target.credential?.externalId ?? attr(target, 'keyId')
    return gone(
      () => client(ctx).admin.organization.projects.apiKeys.retrieve(keyId, { project_id: projectId }),
      `API key ${keyId} in project ${projectId}`,
    )
  },
}

export const deleteServiceAccount: RevocationAction<OpenAISettings> = {
  id: 'openai.service_account.delete',
  title: 'Delete the project service account and its key',
  reversible: false,
  destructive: false,
  appliesTo: (t) => t.identity.attributes.provider === 'openai' && t.identity.kind === 'service_account',
  async plan(_ctx, target): Promise<RevocationPlan> {
    const projectId = attr(target, 'projectId')
    const saId = attr(target, 'serviceAccountId')
    return {
      actionId: this.id,
      summary: `Delete service account ${target.identity.displayName} (${saId}) in OpenAI project ${projectId}, and with it its API key.`,
      calls: [
        {
          operation: 'openai:DeleteProjectServiceAccount',
          parameters: { project_id: projectId, service_account_id: saId },
          effect: `DELETE /v1/organization/projects/${projectId}/service_accounts/${saId}: the service account and its key are removed.`,
        },
      ],
      reversible: false,
      undoActionId: null,
      caveats: [
        'OpenAI does not delete a service account key on its own: removing the key means removing the service account. This cannot be undone.',
        `Needs an Admin API key with the ${WRITE_SCOPE} scope.`,
      ],
    }
  },
  async execute(ctx, target) {
    const projectId = attr(target, 'projectId')
    const saId = attr(target, 'serviceAccountId')
    return run('openai:DeleteProjectServiceAccount', { project_id: projectId, service_account_id: saId }, () =>
      client(ctx).admin.organization.projects.serviceAccounts.delete(saId, { project_id: projectId }),
    )
  },
  async verify(ctx, target) {
    const projectId = attr(target, 'projectId')
    const saId = attr(target, 'serviceAccountId')
    return gone(
      () => client(ctx).admin.organization.projects.serviceAccounts.retrieve(saId, { project_id: projectId }),
      `service account ${saId} in project ${projectId}`,
    )
  },
}

export const deleteAdminApiKey: RevocationAction<OpenAISettings> = {
  id: 'openai.admin_api_key.delete',
  title: 'Delete the organization admin key',
  reversible: false,
  destructive: false,
  appliesTo: (t) => t.identity.attributes.provider === 'openai' && t.identity.attributes.adminKey === true,
  async plan(_ctx, target): Promise<RevocationPlan> {
    const keyId = attr(target, 'keyId')
    return {
      actionId: this.id,
      summary: `Delete organization admin key ${keyId}. Automation using it loses organization-management access at once.`,
      calls: [
        { operation: 'openai:DeleteAdminApiKey', parameters: { key_id: keyId }, effect: `DELETE /v1/organization/admin_api_keys/${keyId}` },
      ],
      reversible: false,
      undoActionId: null,
      caveats: [
        'This cannot be undone. If Leash itself scans with this key, the next scan will fail until another admin key is configured.',
      ],
    }
  },
  async execute(ctx, target) {
    const keyId = attr(target, 'keyId')
    return run('openai:DeleteAdminApiKey', { key_id: keyId }, () => client(ctx).admin.organization.adminAPIKeys.delete(keyId))
  },
  async verify(ctx, target) {
    const keyId = attr(target, 'keyId')
    return gone(() => client(ctx).admin.organization.adminAPIKeys.retrieve(keyId), `admin key ${keyId}`)
  },
}

export const openAIRevocationActions = [deleteProjectApiKey, deleteServiceAccount, deleteAdminApiKey]
