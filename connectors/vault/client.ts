/**
 * Vault's HTTP API through fetch: HashiCorp publishes no official JavaScript client (see
 * docs/decisions). Lists use `GET …?list=true`, which Vault documents as equivalent to the
 * LIST verb and which every proxy passes. The token comes from an environment variable only.
 */
import { LeashError } from '../../cli/errors.js'
import type { ApiCallCounter } from '../contract.js'
import { countingFetch, DEFAULT_RETRY, HttpError, type OperationTable, retryingFetch } from '../saas-kit/http.js'
import type { VaultSettings } from './settings.js'

export const DEFAULT_VAULT_TOKEN_ENV = 'VAULT_TOKEN'

const OPERATIONS: OperationTable = [
  ['GET', /\/v1\/sys\/auth$/, 'sys/auth'],
  ['GET', /\/v1\/sys\/audit$/, 'sys/audit'],
  ['GET', /\/v1\/sys\/mounts$/, 'sys/mounts'],
  ['GET', /\/v1\/sys\/policies\/acl\/[^/]+$/, 'sys/policies/acl'],
  ['GET', /\/v1\/auth\/token\/lookup-self$/, 'auth/token/lookup-self'],
  ['GET', /\/v1\/auth\/token\/accessors\/?$/, 'auth/token/accessors (list)'],
  ['POST', /\/v1\/auth\/token\/lookup-accessor$/, 'auth/token/lookup-accessor'],
  ['POST', /\/v1\/auth\/token\/revoke-accessor$/, 'auth/token/revoke-accessor'],
  ['GET', /\/v1\/auth\/.+\/role\/?$/, 'auth/approle/role (list)'],
  ['GET', /\/v1\/auth\/.+\/role\/[^/]+\/secret-id\/?$/, 'auth/approle/role/secret-id (list)'],
  ['POST', /\/v1\/auth\/.+\/role\/[^/]+\/secret-id-accessor\/lookup$/, 'auth/approle/role/secret-id-accessor/lookup'],
  ['POST', /\/v1\/auth\/.+\/role\/[^/]+\/secret-id-accessor\/destroy$/, 'auth/approle/role/secret-id-accessor/destroy'],
  ['GET', /\/v1\/auth\/.+\/role\/[^/]+$/, 'auth/approle/role'],
  ['GET', /\/v1\/.+\/metadata(\/.*)?$/, 'kv/metadata'],
]

export interface VaultClient {
  address: string
  /** GET (or GET ?list=true) a path under /v1; returns the parsed body. */
  get<T = unknown>(path: string, options?: { list?: boolean }): Promise<T>
  post<T = unknown>(path: string, body: unknown): Promise<T>
}

export interface VaultResponse<T> {
  data: T
}

export function vaultAddress(settings: VaultSettings): string {
  const address = settings.address ?? process.env.VAULT_ADDR
  if (!address)
    throw new LeashError(
      'No Vault address: the source has no address and VAULT_ADDR is not set.',
      'Set "address" in the source settings (e.g. https://vault.example.com:8200).',
    )
  return address.replace(/\/+$/, '')
}

export function createVaultClient(settings: VaultSettings, ctx: { apiCalls: ApiCallCounter; signal: AbortSignal }): VaultClient {
  const address = vaultAddress(settings)
  const envName = settings.tokenEnv ?? DEFAULT_VAULT_TOKEN_ENV
  const token = process.env[envName]
  if (!token)
    throw new LeashError(
      `The Vault token variable ${envName} is not set.`,
      `Export a token with the Leash scanner policy as ${envName} (see docs/providers/vault.md).`,
    )
  const doFetch = retryingFetch(
    countingFetch({ prefix: 'vault', table: OPERATIONS, apiCalls: ctx.apiCalls, signal: ctx.signal }),
    DEFAULT_RETRY,
    Math.random,
    ctx.signal,
  )
  const headers: Record<string, string> = { 'X-Vault-Token': token, 'X-Vault-Request': 'true' }
  if (settings.namespace) headers['X-Vault-Namespace'] = settings.namespace

  async function send<T>(method: 'GET' | 'POST', path: string, body?: unknown, list = false): Promise<T> {
    const url = `${address}/v1/${path.replace(/^\/+/, '')}${list ? '?list=true' : ''}`
    const res = await doFetch(url, {
      method,
      headers: body === undefined ? headers : { ...headers, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    if (!res.ok) {
      let errors: string[] = []
      try {
        errors = (JSON.parse(text) as { errors?: string[] }).errors ?? []
      } catch {
        errors = [text.slice(0, 200)]
      }
      throw new HttpError(
        res.status,
        path,
        `Vault ${method} ${path}${list ? '?list=true' : ''} answered ${res.status}: ${errors.join('; ') || res.statusText}`,
        errors,
      )
    }
    if (!text) return {} as T
    return JSON.parse(text) as T
  }
  return {
    address,
    get: (path, options) => send('GET', path, undefined, options?.list ?? false),
    post: (path, body) => send('POST', path, body),
  }
}

/** Vault answers a LIST of an empty or missing folder with 404: that is an empty list, not an error. */
/**
 * The keys of a LIST response: `data.keys` as Vault returns them; the documented sys/policies
 * samples show them at the top level instead. Anything else is malformed, never an empty list.
 */
export function listedKeys(body: unknown, path: string): string[] {
  const b = (typeof body === 'object' && body !== null ? body : {}) as { data?: { keys?: unknown } | null; keys?: unknown }
  const keys = b.data?.keys ?? b.keys
  if (Array.isArray(keys) && keys.every((k) => typeof k === 'string')) return keys
  throw new Error(`Vault returned a malformed list for ${path}: no "keys" array`)
}

export async function listKeys(client: VaultClient, path: string): Promise<string[]> {
  try {
    return listedKeys(await client.get(path, { list: true }), path)
  } catch (error) {
    if (error instanceof HttpError && error.status === 404) return []
    throw error
  }
}

export function normalizeMount(mount: string): string {
  return mount.replace(/^\/+/, '').replace(/\/?$/, '/')
}
