/**
 * Small pieces shared by the claims and revocation pages: status badges with words (colour
 * is never the only signal) and the answer of a refused action.
 */
const STATUS_LABELS: Record<string, string> = {
  pending_approval: 'Waiting for approval',
  approved: 'Approved',
  executing: 'Running',
  verified: 'Verified',
  failed: 'Failed',
  partial: 'Partly done',
  rejected: 'Rejected',
  expired: 'Expired',
  cancelled: 'Cancelled',
  undone: 'Undone',
  pending: 'Pending',
  confirmed: 'Confirmed',
  accepted: 'Accepted',
  declined: 'Declined',
}

export function WorkflowStatus({ status }: { status: string }) {
  return <span className={`status-badge status-${status}`}>{STATUS_LABELS[status] ?? status}</span>
}

export function workflowStatusLabel(status: string): string {
  return STATUS_LABELS[status] ?? status
}

/** What an action answered when it refused: what went wrong and what to do. */
export function ActionFailureNotice({ result }: { result: { ok: boolean; error?: string; remedy?: string } | undefined | null }) {
  if (!result || result.ok) return null
  return (
    <div className="form-error" role="alert">
      <strong>{result.error}</strong> {result.remedy}
    </div>
  )
}
