/**
 * Anthropic revocation: set an API key inactive (reversible — the undo sets it active again).
 * Archiving is permanent and is left to the Console on purpose.
 */
import type { ActionContext, ExecutionResult, RevocationAction, RevocationPlan, RevocationTarget, VerificationResult } from '../contract.js'
import { scrubSecrets } from '../saas-kit/identity.js'
import { createAnthropicClient } from './client.js'
import type { AnthropicSettings } from './settings.js'

type Ctx = ActionContext<AnthropicSettings>

function keyId(target: RevocationTarget): string {
  const id = target.credential?.externalId ?? target.identity.attributes.keyId
  if (typeof id !== 'string' || !id)
    throw new Error(`No Anthropic API key id on ${target.identity.externalId}; pick one of its credentials.`)
  return id
}

function setStatus(status: 'active' | 'inactive', id: string, title: string, undo: string): RevocationAction<AnthropicSettings> {
  const operation = 'anthropic:UpdateApiKey'
  return {
    id,
    title,
    reversible: true,
    destructive: false,
    appliesTo: (t) =>
      t.identity.attributes.provider === 'anthropic' &&
      (t.credential
        ? t.credential.type === 'api_key' && (status === 'inactive' ? t.credential.status === 'active' : t.credential.status === 'inactive')
        : t.identity.kind === 'api_key'),
    async plan(_ctx: Ctx, target): Promise<RevocationPlan> {
      const key = keyId(target)
      return {
        actionId: id,
        summary:
          status === 'inactive'
            ? `Set Anthropic API key ${key} inactive: requests with it are refused until it is set active again.`
            : `Set Anthropic API key ${key} active again.`,
        calls: [
          { operation, parameters: { api_key_id: key, status }, effect: `POST /v1/organizations/api_keys/${key} {"status":"${status}"}` },
        ],
        reversible: true,
        undoActionId: undo,
        caveats:
          status === 'inactive'
            ? ['Archiving (permanent) is not offered: do it in the Claude Console once you are sure nothing needs the key.']
            : [],
      }
    },
    async execute(ctx: Ctx, target): Promise<ExecutionResult> {
      const key = keyId(target)
      const parameters = { api_key_id: key, status }
      const at = new Date().toISOString()
      try {
        // Setting the status it already has is a no-op at Anthropic: idempotent by nature.
        const updated = await createAnthropicClient(ctx.settings, ctx).organization.apiKeys.update(key, { status })
        return {
          calls: [{ operation, parameters, ok: true, response: { id: updated.id, status: updated.status }, error: null, at }],
          ok: true,
          error: null,
        }
      } catch (error) {
        const message = scrubSecrets(error instanceof Error ? error.message : String(error))
        return { calls: [{ operation, parameters, ok: false, response: null, error: message, at }], ok: false, error: message }
      }
    },
    async verify(ctx: Ctx, target): Promise<VerificationResult> {
      const key = keyId(target)
      const now = await createAnthropicClient(ctx.settings, ctx).organization.apiKeys.retrieve(key)
      return { verified: now.status === status, observed: `Anthropic reports API key ${key} as ${now.status}.` }
    },
  }
}

export const deactivateApiKey = setStatus(
  'inactive',
  'anthropic.api_key.deactivate',
  'Set the API key inactive',
  'anthropic.api_key.activate',
)
export const activateApiKey = setStatus(
  'active',
  'anthropic.api_key.activate',
  'Set the API key active again (undo)',
  'anthropic.api_key.deactivate',
)

export const anthropicRevocationActions = [deactivateApiKey, activateApiKey]
