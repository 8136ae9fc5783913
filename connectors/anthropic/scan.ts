/**
 * get + transform for an Anthropic organization. The API keys list is organization-wide, so
 * the organization is the one scope: if keys or service accounts cannot be read, the scope is
 * incomplete and nothing is retired. Members and workspaces only enrich (owner, names).
 */
import type Anthropic from '@anthropic-ai/sdk'
import { LeashError } from '../../cli/errors.js'
import type { ScanContext, ScanEvent, ScanScope } from '../contract.js'
import { httpStatusOf, problemFromError, rethrowIfAborted } from '../saas-kit/failures.js'
import { problem } from '../saas-kit/identity.js'
import { createAnthropicClient } from './client.js'
import type { AnthropicSettings } from './settings.js'
import { type Directory, type RawKey, type RawServiceAccount, type RawUser, type RawWorkspace, transformOrganization } from './transform.js'

const BATCH = 500
const PERMISSION = 'Admin API key (organization admin)'
const GRANT = 'Use an Anthropic Admin API key (sk-ant-admin…); only organization admins can create one in the Claude Console.'

export function organizationScope(settings: AnthropicSettings): ScanScope {
  return { accountId: settings.organizationId ?? 'anthropic-organization', kind: 'organization', displayName: 'Anthropic organization' }
}

async function all<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}

export async function* scanAnthropic(ctx: ScanContext<AnthropicSettings>): AsyncGenerator<ScanEvent> {
  const scope = organizationScope(ctx.settings)
  yield { type: 'scope_started', scope }
  let client: Anthropic
  try {
    client = createAnthropicClient(ctx.settings, ctx)
  } catch (error) {
    if (!(error instanceof LeashError)) throw error
    yield {
      type: 'problem',
      problem: problem({ scope, operation: 'anthropic:Configure', message: error.message, remedy: error.remedy, fatalForScope: true }),
    }
    yield { type: 'scope_finished', scope, complete: false }
    return
  }
  const org = client.organization
  let complete = true
  // After a 401 every further call would fail the same way: report it once and stop.
  let rejected = false
  const fail = (error: unknown, operation: string, fatal: boolean) => {
    rethrowIfAborted(error, ctx.signal)
    if (httpStatusOf(error) === 401) rejected = true
    if (fatal || rejected) complete = false
    return {
      type: 'problem' as const,
      problem: problemFromError(error, {
        provider: 'Anthropic',
        scope,
        operation,
        permission: PERMISSION,
        fatalForScope: fatal,
        grantRemedy: GRANT,
      }),
    }
  }

  const dir: Directory = { users: null, workspaces: new Map() }
  try {
    const users = (await all(org.users.list({ limit: 1000 }))) as RawUser[]
    dir.users = new Map(users.map((u) => [u.id, u]))
  } catch (error) {
    yield fail(error, 'anthropic:ListUsers', false)
  }
  if (rejected) {
    yield { type: 'scope_finished', scope, complete: false }
    return
  }
  try {
    const workspaces = (await all(org.workspaces.list({ limit: 1000, include_archived: true }))) as RawWorkspace[]
    dir.workspaces = new Map(workspaces.map((w) => [w.id, w]))
  } catch (error) {
    yield fail(error, 'anthropic:ListWorkspaces', false)
  }
  let serviceAccounts: RawServiceAccount[] = []
  try {
    serviceAccounts = (await all(org.serviceAccounts.list({ limit: 1000 }))) as RawServiceAccount[]
  } catch (error) {
    // 404: the organization has no service-account API; there are none to list.
    if (httpStatusOf(error) !== 404) yield fail(error, 'anthropic:ListServiceAccounts', true)
  }
  try {
    const keys = (await all(org.apiKeys.list({ limit: 1000 }))) as RawKey[]
    const identities = transformOrganization(keys, serviceAccounts, scope, dir, ctx.now)
    for (let i = 0; i < identities.length; i += BATCH) yield { type: 'batch', scope, identities: identities.slice(i, i + BATCH) }
  } catch (error) {
    yield fail(error, 'anthropic:ListApiKeys', true)
  }
  yield { type: 'scope_finished', scope, complete }
}
