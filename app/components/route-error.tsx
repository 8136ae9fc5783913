import { isRouteErrorResponse, Link, useRouteError } from '@remix-run/react'

/**
 * The error state of a page: a plain-words message and a way on, never a stack trace or a
 * blank page. Responses thrown by loaders (400 bad filter, 403, 404) show their own text.
 */
export function RouteErrorBoundary({ title, backTo = '/posture', backLabel = 'Back to Posture' }: { title: string; backTo?: string; backLabel?: string }) {
  const error = useRouteError()
  let heading = `${title} could not be shown`
  let detail = 'Something went wrong on the server. Try again in a moment; if it keeps failing, the server log says why.'
  if (isRouteErrorResponse(error)) {
    if (error.status === 404) heading = 'Not found'
    else if (error.status === 403) heading = 'Not allowed'
    else if (error.status === 400) heading = 'That link is not valid'
    if (typeof error.data === 'string' && error.data.trim() !== '') detail = error.data
  }
  return (
    <section className="panel error-state" role="alert">
      <h1>{heading}</h1>
      <p>{detail}</p>
      <p>
        <Link to={backTo}>{backLabel}</Link>
      </p>
    </section>
  )
}
