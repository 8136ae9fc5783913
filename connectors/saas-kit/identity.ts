/** Small builders for the normalized model, so every SaaS connector fills every field the same way. */
import type { NormalizedCredential, NormalizedIdentity, ScanProblem, ScanScope } from '../contract.js'

type Required<T, K extends keyof T> = Pick<T, K> & Partial<Omit<T, K>>

export function identity(fields: Required<NormalizedIdentity, 'externalId' | 'kind' | 'displayName' | 'scope'>): NormalizedIdentity {
  return {
    status: 'active',
    createdAt: null,
    lastUsedAt: null,
    lastUsedKnown: false,
    tags: {},
    attributes: {},
    consoleUrl: null,
    credentials: [],
    entitlements: [],
    owners: [],
    agentSignals: [],
    escalationPaths: [],
    unusedGrants: null,
    environments: [],
    workloads: [],
    monitoring: { usageData: 'unknown', runtimeLogging: null },
    federationPossible: false,
    unreadable: [],
    ...fields,
  }
}

export function credential(fields: Required<NormalizedCredential, 'externalId' | 'type'>): NormalizedCredential {
  return {
    displayName: null,
    status: 'active',
    createdAt: null,
    expiresAt: null,
    lastUsedAt: null,
    lastUsedKnown: false,
    lastRotatedAt: null,
    rotationEnabled: null,
    isStatic: true,
    attributes: {},
    ...fields,
  }
}

/** Unix seconds → Date; null/undefined stay null. */
export function fromUnix(seconds: number | null | undefined): Date | null {
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000) : null
}

/** RFC 3339 string → Date; null, empty or unparsable stay null. */
export function fromIso(value: string | null | undefined): Date | null {
  if (!value) return null
  const d = new Date(value)
  return Number.isNaN(d.getTime()) ? null : d
}

export function latest(...dates: (Date | null)[]): Date | null {
  let best: Date | null = null
  for (const d of dates) if (d && (!best || d > best)) best = d
  return best
}

/** Names like `prod-…`, `…-staging` → environments (NHI8). */
export function environmentsFromName(...names: (string | null | undefined)[]): ('production' | 'non_production')[] {
  const text = names.filter(Boolean).join(' ').toLowerCase()
  const out: ('production' | 'non_production')[] = []
  if (/\b(prod|production|prd|live)\b/.test(text.replace(/[-_/.:]/g, ' '))) out.push('production')
  if (/\b(dev|development|staging|stage|stg|test|qa|sandbox|nonprod|preview)\b/.test(text.replace(/[-_/.:]/g, ' ')))
    out.push('non_production')
  return out
}

export function problem(fields: Required<ScanProblem, 'operation' | 'message' | 'remedy'> & { scope: ScanScope | null }): ScanProblem {
  return { permission: null, fatalForScope: false, ...fields }
}

/** Redacts anything that looks like a bearer secret before a provider message is shown or stored. */
export function scrubSecrets(text: string): string {
  return text
    .replace(/\b(sk-[A-Za-z0-9_-]{6})[A-Za-z0-9_-]{10,}/g, '$1…')
    .replace(/\b(gh[pousr]_|github_pat_)[A-Za-z0-9_]{10,}/g, '$1…')
    .replace(/\b(hvs\.|s\.)[A-Za-z0-9_-]{16,}/g, '$1…')
    .replace(/"private_key"\s*:\s*"[^"]*"/g, '"private_key":"…"')
}

/** Runs fn over items with at most `limit` in flight; results keep the input order. */
export async function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i] as T, i)
    }
  })
  await Promise.all(workers)
  return results
}
