/**
 * Reads `posture_snapshots.aggregates` as scoring/snapshots.ts writes them (SnapshotAggregates)
 * into what the Posture page draws. Tolerant: a part missing from an older snapshot becomes
 * empty ("not in this snapshot"), never an error on the page.
 */
import { z } from 'zod'
import { rulesById } from '../../scoring/rules/index.js'
import { DIMENSIONS, SEVERITIES } from './identity-filter.js'

export interface CountRow {
  value: string
  count: number
}

export interface CredentialAgeRow {
  key: string
  label: string
  /** Inventory filter bounds in days: age in [minDays, maxDays). */
  minDays: number | null
  maxDays: number | null
  count: number
}

export interface PostureBreakdown {
  /** Open findings by dimension and severity. */
  findings: { dimension: string; severity: string; count: number }[]
  findingsByDimension: CountRow[]
  findingsBySeverity: CountRow[]
  identitiesByProvider: CountRow[]
  agentsByProvider: CountRow[]
  agentsByPlatform: CountRow[]
  ownerStatus: CountRow[]
  topOwners: CountRow[]
  /** Active credentials by age since creation or last rotation. */
  credentialAge: CredentialAgeRow[]
  mttrDays: number | null
}

/** The snapshot's credential-age buckets (scoring/snapshots.ts CREDENTIAL_AGE_BUCKETS), with labels and inventory bounds. */
export const CREDENTIAL_AGE_BUCKETS: readonly Omit<CredentialAgeRow, 'count'>[] = [
  { key: '0-30', label: '≤30d', minDays: 0, maxDays: 31 },
  { key: '31-90', label: '31–90d', minDays: 31, maxDays: 91 },
  { key: '91-180', label: '91–180d', minDays: 91, maxDays: 181 },
  { key: '181-365', label: '181–365d', minDays: 181, maxDays: 366 },
  { key: '366-730', label: '1–2y', minDays: 366, maxDays: 731 },
  { key: '731+', label: '>2y', minDays: 731, maxDays: null },
  { key: 'unknown', label: 'unknown', minDays: null, maxDays: null },
]

const numberRecord = z.record(z.string(), z.coerce.number()).catch({})
const providerEntry = z.union([
  z.coerce.number().transform((identities) => ({ identities, agents: 0 })),
  z.object({ identities: z.coerce.number().catch(0), agents: z.coerce.number().catch(0) }).passthrough(),
])

const snapshotAggregates = z
  .object({
    byDimension: numberRecord.optional(),
    bySeverity: numberRecord.optional(),
    byRule: numberRecord.optional(),
    byProvider: z.record(z.string(), providerEntry).catch({}).optional(),
    byAgentPlatform: numberRecord.optional(),
    byOwnerStatus: numberRecord.optional(),
    topOwners: z
      .array(z.object({ owner: z.string(), identities: z.coerce.number() }).passthrough())
      .catch([])
      .optional(),
    credentialAge: numberRecord.optional(),
    mttr: z
      .object({ meanHours: z.coerce.number().nullable().catch(null) })
      .passthrough()
      .nullable()
      .catch(null)
      .optional(),
  })
  .passthrough()

function rows(record: Record<string, number> | undefined): CountRow[] {
  return Object.entries(record ?? {})
    .filter(([, count]) => count > 0)
    .map(([value, count]) => ({ value, count }))
    .sort((a, b) => b.count - a.count || a.value.localeCompare(b.value))
}

function inOrder(record: Record<string, number> | undefined, order: readonly string[]): CountRow[] {
  return order.map((value) => ({ value, count: record?.[value] ?? 0 }))
}

/** Open findings by (dimension, severity) from counts per rule: each rule has one dimension and severity. */
export function matrixFromRules(byRule: Record<string, number>): PostureBreakdown['findings'] {
  const cells = new Map<string, { dimension: string; severity: string; count: number }>()
  for (const [ruleId, count] of Object.entries(byRule)) {
    const rule = rulesById.get(ruleId)
    if (!rule || count <= 0) continue
    const key = `${rule.dimension}/${rule.severity}`
    const cell = cells.get(key) ?? { dimension: rule.dimension, severity: rule.severity, count: 0 }
    cell.count += count
    cells.set(key, cell)
  }
  return [...cells.values()]
}

export function parseAggregates(value: unknown): PostureBreakdown {
  const parsed = snapshotAggregates.safeParse(value ?? {})
  const a = parsed.success ? parsed.data : {}
  const providers = Object.entries(a.byProvider ?? {})
  const findings = matrixFromRules(a.byRule ?? {})
  // A rule missing from this version's catalogue leaves the matrix incomplete: show only the marginals then.
  const matrixTotal = findings.reduce((sum, cell) => sum + cell.count, 0)
  const severityTotal = Object.values(a.bySeverity ?? {}).reduce((sum, count) => sum + count, 0)
  return {
    findings: matrixTotal === severityTotal ? findings : [],
    findingsByDimension: inOrder(a.byDimension, DIMENSIONS),
    findingsBySeverity: inOrder(a.bySeverity, SEVERITIES),
    identitiesByProvider: providers.map(([provider, entry]) => ({ value: provider, count: entry.identities })).sort((x, y) => y.count - x.count),
    agentsByProvider: providers.map(([provider, entry]) => ({ value: provider, count: entry.agents })).filter((row) => row.count > 0),
    agentsByPlatform: rows(a.byAgentPlatform),
    ownerStatus: inOrder(a.byOwnerStatus, ['valid', 'invalid', 'none', 'unknown']).filter((row) => row.count > 0),
    topOwners: (a.topOwners ?? []).slice(0, 10).map((owner) => ({ value: owner.owner, count: owner.identities })),
    credentialAge: a.credentialAge
      ? CREDENTIAL_AGE_BUCKETS.map((bucket) => ({ ...bucket, count: a.credentialAge?.[bucket.key] ?? 0 })).filter((bucket) => bucket.key !== 'unknown' || bucket.count > 0)
      : [],
    mttrDays: a.mttr?.meanHours != null ? Math.round((a.mttr.meanHours / 24) * 10) / 10 : null,
  }
}
