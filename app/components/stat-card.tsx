import { Link } from '@remix-run/react'

/** A headline number that links to the inventory behind it. */
export function StatCard({
  value,
  label,
  href,
  hint,
  tone,
}: {
  value: string
  label: string
  href?: string
  hint?: string
  tone?: 'critical' | 'high' | 'ok' | 'neutral'
}) {
  const body = (
    <>
      <span className="stat-value">{value}</span>
      <span className="stat-label">{label}</span>
      {hint ? <span className="stat-hint">{hint}</span> : null}
    </>
  )
  const className = `stat ${tone ? `stat-${tone}` : ''}`
  return href ? (
    <Link className={className} to={href} aria-label={`${value} ${label}${hint ? ` (${hint})` : ''}: show identities`}>
      {body}
    </Link>
  ) : (
    <div className={className}>{body}</div>
  )
}

export function StatGrid({ children }: { children: React.ReactNode }) {
  return <div className="stat-grid">{children}</div>
}
