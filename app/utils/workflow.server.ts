/**
 * Glue between the claims/revocation workflows (jobs/claims, jobs/revocation) and the routes:
 * the dependencies built from the load context, and WorkflowError → HTTP response.
 */
import { data, type AppLoadContext } from '@remix-run/node'
import type { ClaimDeps } from '../../jobs/claims/index.js'
import { WorkflowError, type WorkflowDeps } from '../../jobs/revocation/index.js'
import { scoreIdentities } from '../../scoring/index.js'
import { clientIp } from './auth.server'

export function revocationDeps(context: AppLoadContext): WorkflowDeps {
  return {
    ip: clientIp(context),
    // After a verified revocation the source is rescanned, so the inventory shows the result.
    requestScan: (request) => context.requestScan(request),
  }
}

export function claimDeps(context: AppLoadContext): ClaimDeps {
  return { ip: clientIp(context), scoreIdentities: (db, ids) => scoreIdentities(db, ids) }
}

export interface ActionFailure {
  ok: false
  error: string
  remedy: string
}

/** Runs a workflow step; a WorkflowError becomes the action's answer with its HTTP status. */
export async function runWorkflow<T>(step: () => Promise<T>) {
  try {
    return { ok: true as const, value: await step() }
  } catch (error) {
    if (error instanceof WorkflowError) {
      return { ok: false as const, response: data<ActionFailure>({ ok: false, error: error.message, remedy: error.remedy }, { status: error.status }) }
    }
    throw error
  }
}

/** A WorkflowError thrown from a loader: the page's error boundary shows its text. */
export function workflowErrorResponse(error: unknown): never {
  if (error instanceof WorkflowError) {
    throw new Response(`${error.message} ${error.remedy}`, { status: error.status, headers: { 'Content-Type': 'text/plain; charset=utf-8' } })
  }
  throw error
}
