import type { LoaderFunctionArgs } from '@remix-run/node'
import { appendAuditEvent } from '../../db/audit.js'
import { auditJsonLines } from '../../db/audit-export.js'
import { parseAuditFilter } from '~/utils/audit.server'
import { auditActor, clientIp, requireUserWithPermission } from '~/utils/auth.server'

/**
 * GET /audit/export: the (filtered) trail as JSON lines for a SIEM, streamed in seq order in
 * constant memory. Works with a session or an API token holding export:audit:any.
 */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const { user } = await requireUserWithPermission(request, context, 'export:audit:any')
  const url = new URL(request.url)
  const { filter, errors } = parseAuditFilter(url.searchParams)
  if (errors.length) throw new Response(errors.join(' '), { status: 400 })
  const afterSeq = Number(url.searchParams.get('afterSeq') ?? 0)
  // Exporting the trail is itself an audited event (recorded before the export runs).
  await appendAuditEvent(context.db, { actor: auditActor(user), action: 'audit.exported', after: { filter: Object.fromEntries(url.searchParams) }, ip: clientIp(context) })
  const lines = auditJsonLines(context.db, { ...filter, afterSeq: Number.isInteger(afterSeq) && afterSeq > 0 ? afterSeq : 0 })
  const encoder = new TextEncoder()
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await lines.next()
        if (next.done) controller.close()
        else controller.enqueue(encoder.encode(next.value))
      } catch (error) {
        controller.error(error)
      }
    },
    async cancel() {
      await lines.return(undefined)
    },
  })
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  return new Response(body, {
    headers: {
      'Content-Type': 'application/x-ndjson; charset=utf-8',
      'Content-Disposition': `attachment; filename="leash-audit-${stamp}.jsonl"`,
      'Cache-Control': 'no-store',
    },
  })
}
