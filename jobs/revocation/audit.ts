/**
 * Audit events of the revocation workflow: one place that names them, so the audit page and
 * the docs list the same steps.
 */
import { appendAuditEvent } from '../../db/audit.js'
import type { Revocation } from '../../db/schema.js'
import { auditActor, type Db, type WorkflowActor } from './types.js'

export const REVOCATION_AUDIT_ACTIONS = [
  'revocation.requested',
  'revocation.approved',
  'revocation.rejected',
  'revocation.cancelled',
  'revocation.expired',
  'revocation.retry_requested',
  'revocation.executing',
  'revocation.provider_call',
  'revocation.verified',
  'revocation.failed',
  'revocation.partial',
  'revocation.undone',
] as const
export type RevocationAuditAction = (typeof REVOCATION_AUDIT_ACTIONS)[number]

/** The fields of a revocation worth showing as before/after in the trail. */
export function revocationSnapshot(row: Pick<Revocation, 'status' | 'action_id' | 'identity_id' | 'credential_id' | 'batch_id' | 'impact' | 'approval_required'>) {
  return {
    status: row.status,
    action: row.action_id,
    identityId: row.identity_id,
    credentialId: row.credential_id,
    batchId: row.batch_id,
    impact: row.impact,
    approvalRequired: row.approval_required,
  }
}

export async function auditRevocation(
  db: Db,
  event: {
    actor: WorkflowActor | null
    action: RevocationAuditAction
    revocationId: string
    before?: unknown
    after?: unknown
    reason?: string | null
    ip?: string | null
  },
): Promise<void> {
  await appendAuditEvent(db, {
    actor: auditActor(event.actor),
    action: event.action,
    object: { type: 'revocation', id: event.revocationId },
    before: event.before ?? null,
    after: event.after ?? null,
    reason: event.reason ?? null,
    ip: event.ip ?? null,
  })
}
