import type { LinksFunction, MetaFunction } from '@remix-run/node'
import { Links, Meta, NavLink, Outlet, Scripts, ScrollRestoration, isRouteErrorResponse, useNavigation, useRouteError } from '@remix-run/react'
import styles from './styles/app.css?url'

export const links: LinksFunction = () => [{ rel: 'stylesheet', href: styles }]

export const meta: MetaFunction = () => [{ title: 'Leash' }, { name: 'description', content: 'Posture of the non-human identities that AI agents hold.' }]

const NAVIGATION = [
  { to: '/posture', label: 'Posture' },
  { to: '/identities', label: 'Identities' },
  { to: '/orphans', label: 'Orphans' },
  { to: '/revocations', label: 'Revocations' },
  { to: '/sources', label: 'Sources' },
  { to: '/audit', label: 'Audit' },
] as const

export function Layout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body>
        <a href="#main" className="skip-link">
          Skip to content
        </a>
        <div className="shell">
          <header className="topbar">
            <a href="/posture" className="brand" aria-label="Leash home">
              <span aria-hidden="true" className="brand-mark">
                ◆
              </span>{' '}
              Leash
            </a>
            <nav aria-label="Main">
              <ul className="nav">
                {NAVIGATION.map((item) => (
                  <li key={item.to}>
                    <NavLink to={item.to} prefetch="intent">
                      {item.label}
                    </NavLink>
                  </li>
                ))}
              </ul>
            </nav>
          </header>
          <main id="main" className="content" tabIndex={-1}>
            {children}
          </main>
        </div>
        <ScrollRestoration />
        <Scripts />
      </body>
    </html>
  )
}

export default function App() {
  const navigation = useNavigation()
  return (
    <>
      {navigation.state === 'loading' ? <div className="loading-bar" role="progressbar" aria-label="Loading" /> : null}
      <Outlet />
    </>
  )
}

export function ErrorBoundary() {
  const error = useRouteError()
  const title = isRouteErrorResponse(error) ? `${error.status} ${error.statusText}` : 'Something went wrong'
  const detail = isRouteErrorResponse(error) && typeof error.data === 'string' ? error.data : 'Leash could not show this page. Try again; if it keeps failing, the server log says why.'
  return (
    <section className="panel error-state" role="alert">
      <h1>{title}</h1>
      <p>{detail}</p>
    </section>
  )
}
