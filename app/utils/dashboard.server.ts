/**
 * Shared loader helpers for the dashboard pages: parse the URL's filter into a typed value or
 * a plain-words 400, and the source list the filter forms offer.
 */
import type { Kysely } from 'kysely'
import { FilterError, parseIdentityFilter, parseIdentityView, type IdentityFilter, type IdentityView } from '../../db/queries/identity-filter.js'
import type { Database } from '../../db/schema.js'

export function badRequest(message: string): Response {
  return new Response(message, { status: 400, statusText: 'Bad Request', headers: { 'Content-Type': 'text/plain; charset=utf-8' } })
}

/** Runs `fn`, turning a FilterError (bad filter value, stale cursor) into a 400 the page explains. */
export async function withFilterErrors<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    if (error instanceof FilterError) throw badRequest(error.message)
    throw error
  }
}

export function readFilter(url: URL): { filter: IdentityFilter; view: IdentityView } {
  try {
    return { filter: parseIdentityFilter(url.searchParams), view: parseIdentityView(url.searchParams) }
  } catch (error) {
    if (error instanceof FilterError) throw badRequest(error.message)
    throw error
  }
}

export async function sourceOptions(db: Kysely<Database>) {
  return db.selectFrom('sources').select(['id', 'name', 'provider', 'is_demo']).orderBy('name').execute()
}

/** Spreadsheets execute cells that start with = + - @ (CSV injection): such text gets a leading quote. */
export function neutralizeFormula(value: unknown): unknown {
  return typeof value === 'string' && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
}
