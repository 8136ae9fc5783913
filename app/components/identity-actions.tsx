/**
 * The actions a user may take on one identity (claim, hand over, revoke, kill switch).
 * The identity page renders this slot; props are what the page already knows, and the
 * signed-in user's permissions come from the root loader. Each action opens its own page,
 * which shows the plan or the form and checks everything again on the server.
 */
import { Link, useRouteLoaderData } from '@remix-run/react'

export interface IdentityActionsProps {
  identity: {
    id: number
    displayName: string
    provider: string
    isAgent: boolean
    ownerRef: string | null
    ownerStatus: string
    status: string
  }
  credentials: { id: number; externalId: string; type: string; status: string }[]
}

interface RootData {
  user: { permissions: string[] } | null
}

function useCan(): (permission: string) => boolean {
  const permissions = useRouteLoaderData<RootData>('root')?.user?.permissions ?? []
  return (permission) => permissions.includes(permission)
}

export function IdentityActions({ identity, credentials }: IdentityActionsProps) {
  const can = useCan()
  const gone = identity.status === 'gone'
  const canClaim = can('claim:identity:any') && identity.ownerStatus !== 'valid' && !gone
  const canHandOver = (can('update:claim:own') || can('confirm:claim:any')) && identity.ownerStatus === 'valid' && !gone
  const canRevoke = (can('create:revocation:any') || can('create:revocation:own')) && !gone
  const active = credentials.filter((c) => c.status === 'active')
  const base = `/identities/${identity.id}`
  const nothing = !canClaim && !canHandOver && !canRevoke
  return (
    <section className="panel" aria-labelledby="identity-actions-heading">
      <h2 id="identity-actions-heading">Actions</h2>
      {nothing ? <p className="muted small">{gone ? 'This identity is gone upstream; there is nothing to act on.' : 'Your role cannot claim or revoke this identity.'}</p> : null}
      <ul className="identity-actions-list">
        {canClaim ? (
          <li>
            <Link to={`${base}/claim`} className="button">
              Claim ownership
            </Link>
          </li>
        ) : null}
        {canHandOver ? (
          <li>
            <Link to={`${base}/handover`} className="button secondary">
              Hand over to someone else
            </Link>
          </li>
        ) : null}
        {canRevoke
          ? active.map((credential) => (
              <li key={credential.id}>
                <Link to={`${base}/revoke?credential=${credential.id}`} className="button secondary" aria-label={`Revoke ${credential.type.replace(/_/g, ' ')} ${credential.externalId}`}>
                  Revoke {credential.type.replace(/_/g, ' ')} <span className="mono">{credential.externalId}</span>
                </Link>
              </li>
            ))
          : null}
        {canRevoke ? (
          <>
            <li>
              <Link to={`${base}/revoke`} className="button secondary">
                Revoke access of the identity
              </Link>
            </li>
            <li>
              <Link to={`${base}/revoke?kill=1`} className="button danger">
                Kill switch: revoke everything
              </Link>
              <div className="small muted">Revokes every active credential and session of this identity in one request.</div>
            </li>
          </>
        ) : null}
      </ul>
    </section>
  )
}
