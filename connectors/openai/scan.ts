/**
 * get + transform for an OpenAI organization: members, admin keys, projects, then per project
 * its service accounts and API keys. Each project is its own scope, so a refused or failed
 * call in one project leaves only that project incomplete (nothing in it is retired).
 */
import type OpenAI from 'openai'
import { LeashError } from '../../cli/errors.js'
import type { NormalizedIdentity, ScanContext, ScanEvent, ScanScope } from '../contract.js'
import { httpStatusOf, problemFromError, rethrowIfAborted } from '../saas-kit/failures.js'
import { problem } from '../saas-kit/identity.js'
import { createOpenAIClient } from './client.js'
import type { OpenAISettings } from './settings.js'
import {
  type Members,
  type RawAdminKey,
  type RawProject,
  type RawProjectKey,
  type RawServiceAccount,
  transformAdminKey,
  transformProject,
} from './transform.js'

const BATCH = 500
const READ_SCOPE = 'api.management.read'
const GRANT = `Use an OpenAI Admin API key with the ${READ_SCOPE} scope (organization owners create these under Organization settings → Admin keys).`

export function organizationScope(settings: OpenAISettings): ScanScope {
  return { accountId: settings.organizationId ?? 'openai-organization', kind: 'organization', displayName: 'OpenAI organization' }
}

function* batches(scope: ScanScope, identities: NormalizedIdentity[]): Generator<ScanEvent> {
  for (let i = 0; i < identities.length; i += BATCH) yield { type: 'batch', scope, identities: identities.slice(i, i + BATCH) }
}

async function all<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}

export async function* scanOpenAI(ctx: ScanContext<OpenAISettings>): AsyncGenerator<ScanEvent> {
  const org = organizationScope(ctx.settings)
  yield { type: 'scope_started', scope: org }
  let client: OpenAI
  try {
    client = createOpenAIClient(ctx.settings, ctx)
  } catch (error) {
    if (!(error instanceof LeashError)) throw error
    yield {
      type: 'problem',
      problem: problem({ scope: org, operation: 'openai:Configure', message: error.message, remedy: error.remedy, fatalForScope: true }),
    }
    yield { type: 'scope_finished', scope: org, complete: false }
    return
  }
  const admin = client.admin.organization
  let orgComplete = true

  // Members: only to tell whether a key's owner still belongs to the organization.
  let members: Members = null
  try {
    const users = await all(admin.users.list({ limit: 100 }))
    members = new Map(users.map((u) => [u.id, { id: u.id, name: u.name ?? '', email: u.email ?? '', role: u.role ?? '' }]))
  } catch (error) {
    rethrowIfAborted(error, ctx.signal)
    const unauthorized = httpStatusOf(error) === 401
    yield {
      type: 'problem',
      problem: problemFromError(error, {
        provider: 'OpenAI',
        scope: org,
        operation: 'openai:ListUsers',
        permission: READ_SCOPE,
        fatalForScope: unauthorized,
        grantRemedy: GRANT,
      }),
    }
    // After a 401 every further call would fail the same way: report it once and stop.
    if (unauthorized) {
      yield { type: 'scope_finished', scope: org, complete: false }
      return
    }
  }

  try {
    const keys = (await all(admin.adminAPIKeys.list({ limit: 100 }))) as RawAdminKey[]
    yield* batches(
      org,
      keys.map((k) => transformAdminKey(k, org, members, ctx.now)),
    )
  } catch (error) {
    rethrowIfAborted(error, ctx.signal)
    orgComplete = false
    yield {
      type: 'problem',
      problem: problemFromError(error, {
        provider: 'OpenAI',
        scope: org,
        operation: 'openai:ListAdminApiKeys',
        permission: READ_SCOPE,
        fatalForScope: true,
        grantRemedy: GRANT,
      }),
    }
  }

  let projects: RawProject[] = []
  try {
    projects = (await all(admin.projects.list({ limit: 100 }))) as RawProject[]
    const wanted = ctx.settings.projects
    if (wanted) {
      for (const id of wanted.filter((id) => !projects.some((p) => p.id === id))) {
        yield {
          type: 'problem',
          problem: problem({
            scope: org,
            operation: 'openai:ListProjects',
            message: `Project ${id} named in the source settings is not an active project of this organization.`,
            remedy: 'Remove it from the source settings or check the organization the admin key belongs to.',
          }),
        }
      }
      projects = projects.filter((p) => wanted.includes(p.id))
    }
  } catch (error) {
    rethrowIfAborted(error, ctx.signal)
    orgComplete = false
    yield {
      type: 'problem',
      problem: problemFromError(error, {
        provider: 'OpenAI',
        scope: org,
        operation: 'openai:ListProjects',
        permission: READ_SCOPE,
        fatalForScope: true,
        grantRemedy: GRANT,
      }),
    }
  }
  yield { type: 'scope_finished', scope: org, complete: orgComplete }

  for (const project of projects) {
    const scope: ScanScope = { accountId: project.id, kind: 'project', displayName: project.name ?? project.id }
    yield { type: 'scope_started', scope }
    let step = 'openai:ListProjectServiceAccounts'
    try {
      const sas = (await all(admin.projects.serviceAccounts.list(project.id, { limit: 100 }))) as RawServiceAccount[]
      step = 'openai:ListProjectApiKeys'
      // owner_project_access=any: without it the endpoint hides keys whose owner lost access — the orphans we most need to see.
      const keys = (await all(admin.projects.apiKeys.list(project.id, { limit: 100, owner_project_access: 'any' }))) as RawProjectKey[]
      step = 'transform'
      yield* batches(scope, transformProject(project, sas, keys, scope, members))
      yield { type: 'scope_finished', scope, complete: true }
    } catch (error) {
      rethrowIfAborted(error, ctx.signal)
      yield {
        type: 'problem',
        problem: problemFromError(error, {
          provider: 'OpenAI',
          scope,
          operation: step,
          permission: READ_SCOPE,
          fatalForScope: true,
          grantRemedy: GRANT,
        }),
      }
      yield { type: 'scope_finished', scope, complete: false }
    }
  }
}
