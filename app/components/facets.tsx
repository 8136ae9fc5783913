import { Link } from '@remix-run/react'
import { formatEstimate } from './format'

export interface FacetOption {
  value: string
  label: string
  count: number
  /** The link that applies (or, when active, removes) this value. */
  href: string
  active: boolean
}

/** One facet: a heading and the values with their counts, each a link that toggles the filter. */
export function FacetGroup({ title, options, estimated, limit = 8 }: { title: string; options: FacetOption[]; estimated: boolean; limit?: number }) {
  if (options.length === 0) return null
  return (
    <section className="facet" aria-label={title}>
      <h3>{title}</h3>
      <ul>
        {options.slice(0, limit).map((option) => (
          <li key={option.value}>
            <Link
              to={option.href}
              className={option.active ? 'facet-link active' : 'facet-link'}
              aria-current={option.active ? 'true' : undefined}
              aria-label={`${option.label}: ${formatEstimate(option.count, estimated)} identities${option.active ? ' (applied; select to remove)' : ''}`}
            >
              <span className="facet-label">{option.label}</span>
              <span className="facet-count">{formatEstimate(option.count, estimated)}</span>
            </Link>
          </li>
        ))}
      </ul>
    </section>
  )
}
