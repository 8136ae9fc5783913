/** Turning a failed provider call into a ScanProblem the user can act on. */
import type { PermissionCheck, ScanProblem, ScanScope } from '../contract.js'
import { problem, scrubSecrets } from './identity.js'

export function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status
  return typeof status === 'number' ? status : undefined
}

/** Rethrows cancellation so an aborted scan stops instead of reporting a problem per call. */
export function rethrowIfAborted(error: unknown, signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason ?? error
}

export interface FailureContext {
  provider: string
  scope: ScanScope | null
  operation: string
  /** The permission or scope this call needs, named in the problem when it is refused. */
  permission: string
  fatalForScope: boolean
  /** What the user does when the credential lacks the permission. */
  grantRemedy: string
}

export function problemFromError(error: unknown, f: FailureContext): ScanProblem {
  const status = httpStatusOf(error)
  const raw = error instanceof Error ? error.message : String(error)
  const message = scrubSecrets(raw).slice(0, 500)
  if (status === 401) {
    return problem({
      scope: f.scope,
      operation: f.operation,
      permission: null,
      fatalForScope: true,
      message: `${f.provider} rejected the credential (401): ${message}`,
      remedy: 'Check that the environment variable named in the source settings holds a valid, unexpired credential.',
    })
  }
  if (status === 403) {
    return problem({
      scope: f.scope,
      operation: f.operation,
      permission: f.permission,
      fatalForScope: f.fatalForScope,
      message: `${f.provider} refused ${f.operation} (403): ${message}`,
      remedy: f.grantRemedy,
    })
  }
  if (status === 404) {
    return problem({
      scope: f.scope,
      operation: f.operation,
      permission: null,
      fatalForScope: f.fatalForScope,
      message: `${f.provider} answered 404 for ${f.operation}: ${message}`,
      remedy: 'Check the ids in the source settings; the resource may have been deleted or the feature is not enabled for this account.',
    })
  }
  if (status === 429) {
    return problem({
      scope: f.scope,
      operation: f.operation,
      permission: null,
      fatalForScope: f.fatalForScope,
      message: `${f.provider} kept throttling ${f.operation} after bounded retries: ${message}`,
      remedy:
        'Run the scan again later or at a quieter time; Leash honours Retry-After and gives up after a few attempts rather than stall.',
    })
  }
  if (error instanceof SyntaxError || /JSON|Unexpected (end|token)/i.test(raw)) {
    return problem({
      scope: f.scope,
      operation: f.operation,
      permission: null,
      fatalForScope: f.fatalForScope,
      message: `${f.provider} returned a malformed response for ${f.operation}: ${message}`,
      remedy: 'Retry the scan; if it persists, a proxy between Leash and the provider may be altering responses.',
    })
  }
  return problem({
    scope: f.scope,
    operation: f.operation,
    permission: null,
    fatalForScope: f.fatalForScope,
    message: `${f.operation} failed${status ? ` (${status})` : ''}: ${message}`,
    remedy: 'Retry the scan; if it keeps failing, check network access from Leash to the provider.',
  })
}

/**
 * One line of a connection test: runs a harmless read and reports the permission present,
 * missing (401/403) or unknown (anything else), with the provider's message scrubbed of secrets.
 */
export async function checkPermission(
  signal: AbortSignal,
  permission: string,
  detail: string,
  call: () => Promise<unknown>,
): Promise<PermissionCheck> {
  try {
    await call()
    return { permission, status: 'present', detail }
  } catch (error) {
    rethrowIfAborted(error, signal)
    const status = httpStatusOf(error)
    return {
      permission,
      status: status === 401 || status === 403 ? 'missing' : 'unknown',
      detail: scrubSecrets(error instanceof Error ? error.message : String(error)),
    }
  }
}
