/**
 * The shape of `posture_snapshots.aggregates` as the dashboard reads it. The scoring engine
 * writes snapshots after each scan; this parser is tolerant (camelCase or snake_case keys,
 * missing parts become "not in this snapshot") so an older snapshot never breaks the page.
 */
import { z } from 'zod'
import { DIMENSIONS, SEVERITIES } from './identity-filter.js'

const counts = z.record(z.string(), z.coerce.number()).catch({})

const credentialAgeBucket = z.object({
  label: z.string().optional(),
  bucket: z.string().optional(),
  minDays: z.coerce.number().nullable().optional(),
  maxDays: z.coerce.number().nullable().optional(),
  min_days: z.coerce.number().nullable().optional(),
  max_days: z.coerce.number().nullable().optional(),
  count: z.coerce.number(),
})

const section = z
  .object({
    findingsByDimension: counts.optional(),
    findings_by_dimension: counts.optional(),
    byDimension: counts.optional(),
    by_dimension: counts.optional(),
    findingsBySeverity: counts.optional(),
    findings_by_severity: counts.optional(),
    bySeverity: counts.optional(),
    by_severity: counts.optional(),
    findingsByDimensionSeverity: z.record(z.string(), counts).optional().catch(undefined),
    findings_by_dimension_severity: z.record(z.string(), counts).optional().catch(undefined),
    identitiesByProvider: counts.optional(),
    identities_by_provider: counts.optional(),
    byProvider: counts.optional(),
    by_provider: counts.optional(),
    agentsByProvider: counts.optional(),
    agents_by_provider: counts.optional(),
    agentsByPlatform: counts.optional(),
    agents_by_platform: counts.optional(),
    byPlatform: counts.optional(),
    by_platform: counts.optional(),
    identitiesByOwnerStatus: counts.optional(),
    identities_by_owner_status: counts.optional(),
    byOwnerStatus: counts.optional(),
    by_owner_status: counts.optional(),
    byOwner: counts.optional(),
    by_owner: counts.optional(),
    credentialAge: z.array(credentialAgeBucket).optional().catch(undefined),
    credential_age: z.array(credentialAgeBucket).optional().catch(undefined),
    credentialAgeHistogram: z.array(credentialAgeBucket).optional().catch(undefined),
    credential_age_histogram: z.array(credentialAgeBucket).optional().catch(undefined),
    mttrDays: z.coerce.number().nullable().optional().catch(undefined),
    mttr_days: z.coerce.number().nullable().optional().catch(undefined),
    mttrHours: z.coerce.number().nullable().optional().catch(undefined),
    mttr_hours: z.coerce.number().nullable().optional().catch(undefined),
  })
  .passthrough()

export interface CountRow {
  value: string
  count: number
}

export interface CredentialAgeRow {
  label: string
  minDays: number | null
  maxDays: number | null
  count: number
}

export interface PostureBreakdown {
  /** Open findings by dimension and severity (cells may be missing when only the marginals are known). */
  findings: { dimension: string; severity: string; count: number }[]
  findingsByDimension: CountRow[]
  findingsBySeverity: CountRow[]
  identitiesByProvider: CountRow[]
  agentsByProvider: CountRow[]
  agentsByPlatform: CountRow[]
  ownerStatus: CountRow[]
  topOwners: CountRow[]
  credentialAge: CredentialAgeRow[]
  mttrDays: number | null
}

/** The credential-age buckets the dashboard draws (days since the oldest active credential was created). */
export const CREDENTIAL_AGE_BUCKETS: readonly { label: string; minDays: number; maxDays: number | null }[] = [
  { label: '≤ 30 d', minDays: 0, maxDays: 30 },
  { label: '31–90 d', minDays: 30, maxDays: 90 },
  { label: '91–180 d', minDays: 90, maxDays: 180 },
  { label: '181–365 d', minDays: 180, maxDays: 365 },
  { label: '> 1 year', minDays: 365, maxDays: null },
]

function rows(record: Record<string, number> | undefined): CountRow[] {
  return Object.entries(record ?? {})
    .map(([value, count]) => ({ value, count }))
    .sort((a, b) => b.count - a.count || a.value.localeCompare(b.value))
}

function inOrder(record: Record<string, number> | undefined, order: readonly string[]): CountRow[] {
  const all = rows(record)
  return all.sort((a, b) => rank(order, a.value) - rank(order, b.value))
}

function rank(order: readonly string[], value: string): number {
  const index = order.indexOf(value)
  return index === -1 ? order.length : index
}

/** Reads one aggregates object (the whole estate, or its `agents` sub-object). */
export function parseAggregates(value: unknown): PostureBreakdown {
  const parsed = section.safeParse(value ?? {})
  const a = parsed.success ? parsed.data : ({} as z.infer<typeof section>)
  const byDimension = a.findingsByDimension ?? a.findings_by_dimension ?? a.byDimension ?? a.by_dimension
  const bySeverity = a.findingsBySeverity ?? a.findings_by_severity ?? a.bySeverity ?? a.by_severity
  const matrix = a.findingsByDimensionSeverity ?? a.findings_by_dimension_severity
  const findings: PostureBreakdown['findings'] = []
  for (const [dimension, perSeverity] of Object.entries(matrix ?? {})) {
    for (const [severity, count] of Object.entries(perSeverity)) findings.push({ dimension, severity, count })
  }
  const histogram = a.credentialAge ?? a.credential_age ?? a.credentialAgeHistogram ?? a.credential_age_histogram ?? []
  const mttrHours = a.mttrHours ?? a.mttr_hours
  return {
    findings,
    findingsByDimension: inOrder(byDimension, DIMENSIONS),
    findingsBySeverity: inOrder(bySeverity, SEVERITIES),
    identitiesByProvider: rows(a.identitiesByProvider ?? a.identities_by_provider ?? a.byProvider ?? a.by_provider),
    agentsByProvider: rows(a.agentsByProvider ?? a.agents_by_provider),
    agentsByPlatform: rows(a.agentsByPlatform ?? a.agents_by_platform ?? a.byPlatform ?? a.by_platform),
    ownerStatus: inOrder(a.identitiesByOwnerStatus ?? a.identities_by_owner_status ?? a.byOwnerStatus ?? a.by_owner_status, [
      'valid',
      'invalid',
      'none',
      'unknown',
    ]),
    topOwners: rows(a.byOwner ?? a.by_owner).slice(0, 10),
    credentialAge: histogram.map((bucket) => ({
      label: bucket.label ?? bucket.bucket ?? '',
      minDays: bucket.minDays ?? bucket.min_days ?? null,
      maxDays: bucket.maxDays ?? bucket.max_days ?? null,
      count: bucket.count,
    })),
    mttrDays: a.mttrDays ?? a.mttr_days ?? (mttrHours != null ? mttrHours / 24 : null),
  }
}

/** The agents-only part of a snapshot, when the snapshot carries one (`agents` or `agentsOnly`). */
export function agentAggregates(value: unknown): unknown {
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>
    return record.agentsOnly ?? record.agents_only ?? record.agents ?? null
  }
  return null
}
