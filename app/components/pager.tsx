import { Link, useLocation } from '@remix-run/react'

/** Previous / next links for keyset pages: the cursors live in the URL, so back and forward work. */
export function KeysetPager({ prev, next, label = 'Pages' }: { prev: string | null; next: string | null; label?: string }) {
  const location = useLocation()
  const href = (cursor: { after?: string; before?: string } | null) => {
    const params = new URLSearchParams(location.search)
    params.delete('after')
    params.delete('before')
    if (cursor?.after) params.set('after', cursor.after)
    if (cursor?.before) params.set('before', cursor.before)
    const query = params.toString()
    return `${location.pathname}${query ? `?${query}` : ''}`
  }
  const onFirst = !new URLSearchParams(location.search).has('after') && !new URLSearchParams(location.search).has('before')
  return (
    <nav className="pager" aria-label={label}>
      {onFirst ? (
        <span className="button button-ghost" aria-disabled="true">
          First page
        </span>
      ) : (
        <Link className="button button-ghost" to={href(null)}>
          First page
        </Link>
      )}
      {prev ? (
        <Link className="button button-ghost" to={href({ before: prev })} rel="prev">
          ← Previous
        </Link>
      ) : (
        <span className="button button-ghost" aria-disabled="true">
          ← Previous
        </span>
      )}
      {next ? (
        <Link className="button" to={href({ after: next })} rel="next">
          Next →
        </Link>
      ) : (
        <span className="button button-ghost" aria-disabled="true">
          Next →
        </span>
      )}
    </nav>
  )
}
