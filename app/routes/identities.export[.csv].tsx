/**
 * GET /identities/export.csv?<filter>: the inventory under the current filter as CSV, streamed
 * in keyset chunks so a million rows never sit in memory. Recorded in the audit trail.
 */
import type { LoaderFunctionArgs } from '@remix-run/node'
import { stringify } from 'csv-stringify/sync'
import { appendAuditEvent } from '../../db/audit.js'
import { prepareIdentityFilter, streamIdentities, type IdentityListRow } from '../../db/queries/identities.js'
import { auditActor, clientIp, requireUserWithPermission } from '~/utils/auth.server'
import { neutralizeFormula, readFilter } from '~/utils/dashboard.server'

const COLUMNS: { header: string; value: (row: IdentityListRow, origin: string) => unknown }[] = [
  { header: 'id', value: (row) => row.id },
  { header: 'name', value: (row) => row.display_name },
  { header: 'external_id', value: (row) => row.external_id },
  { header: 'provider', value: (row) => row.provider },
  { header: 'kind', value: (row) => row.kind },
  { header: 'account', value: (row) => row.account_id },
  { header: 'source_id', value: (row) => row.source_id },
  { header: 'status', value: (row) => row.status },
  { header: 'is_agent', value: (row) => (row.is_agent ? 'yes' : 'no') },
  { header: 'agent_platform', value: (row) => row.agent_platform ?? '' },
  { header: 'agent_confidence', value: (row) => row.agent_confidence.toFixed(2) },
  { header: 'owner', value: (row) => row.owner_ref ?? '' },
  { header: 'owner_status', value: (row) => row.owner_status },
  { header: 'risk_score', value: (row) => row.risk_score },
  { header: 'max_access_level', value: (row) => row.max_access_level ?? '' },
  { header: 'credential_count', value: (row) => row.credential_count },
  { header: 'oldest_credential_at', value: (row) => row.oldest_credential_at?.toISOString() ?? '' },
  { header: 'last_used_at', value: (row) => row.last_used_at?.toISOString() ?? '' },
  { header: 'last_used_known', value: (row) => (row.last_used_known ? 'yes' : 'no') },
  { header: 'leash_url', value: (row, origin) => `${origin}/identities/${row.id}` },
]

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { user } = await requireUserWithPermission(request, context, 'export:identity:any')
  const url = new URL(request.url)
  const { filter, view } = readFilter(url)
  const prepared = await prepareIdentityFilter(context.db, filter)
  await appendAuditEvent(context.db, {
    actor: auditActor(user),
    action: 'identity.exported',
    object: { type: 'identity', id: '*' },
    after: { filter, sort: view.sort ?? 'risk', format: 'csv' },
    ip: clientIp(context),
  })

  const rows = streamIdentities(context.db, prepared, { sort: view.sort, dir: view.dir })
  const encoder = new TextEncoder()
  let headerSent = false
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (!headerSent) {
          headerSent = true
          controller.enqueue(encoder.encode(stringify([COLUMNS.map((column) => column.header)])))
          return
        }
        const next = await rows.next()
        if (next.done || request.signal.aborted) {
          controller.close()
          return
        }
        const records = next.value.map((row) => COLUMNS.map((column) => neutralizeFormula(column.value(row, url.origin))))
        controller.enqueue(encoder.encode(stringify(records)))
      } catch (error) {
        // Headers are gone by now: end the stream with an error so the download is visibly incomplete.
        console.error(`leash: identity export failed: ${error instanceof Error ? error.message : String(error)}`)
        controller.error(error)
      }
    },
    async cancel() {
      await rows.return(undefined)
    },
  })
  const stamp = new Date().toISOString().slice(0, 10)
  return new Response(body, {
    headers: {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="leash-identities-${stamp}.csv"`,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    },
  })
}
