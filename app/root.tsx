import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Form, Links, Meta, NavLink, Outlet, Scripts, ScrollRestoration, isRouteErrorResponse, useNavigation, useRouteError, useRouteLoaderData } from '@remix-run/react'
import styles from './styles/app.css?url'
import authStyles from './styles/auth.css?url'
import workflowStyles from './styles/workflow.css?url'
import { getActor, mustChangePassword } from './utils/auth.server'
import { useNonce } from './utils/nonce-provider'
import { ROLE_PERMISSIONS, type Permission } from './utils/permissions'

export const links: LinksFunction = () => [
  { rel: 'stylesheet', href: styles },
  { rel: 'stylesheet', href: authStyles },
  { rel: 'stylesheet', href: workflowStyles },
]

/** The signed-in user (or null) for the layout: name, role and permissions, to show only what they can use. */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const actor = await getActor(request, context)
  if (!actor || actor.kind !== 'user') return { user: null }
  const permissions = ROLE_PERMISSIONS[actor.role]
  return {
    user: {
      username: actor.username,
      displayName: actor.displayName,
      role: actor.role,
      permissions: [...permissions],
      mustChangePassword: mustChangePassword(actor),
    },
  }
}

export const meta: MetaFunction = () => [{ title: 'Leash' }, { name: 'description', content: 'Posture of the non-human identities that AI agents hold.' }]

// Each link shows only to roles that can open the page (the server checks again on every request).
const NAVIGATION: ReadonlyArray<{ to: string; label: string; needs: readonly Permission[] }> = [
  { to: '/posture', label: 'Posture', needs: ['read:posture:any'] },
  { to: '/identities', label: 'Identities', needs: ['read:identity:any'] },
  { to: '/orphans', label: 'Orphans', needs: ['read:identity:any'] },
  { to: '/my-identities', label: 'My identities', needs: ['read:claim:own'] },
  { to: '/claims', label: 'Claims', needs: ['read:claim:any'] },
  { to: '/revocations', label: 'Revocations', needs: ['read:revocation:any', 'read:revocation:own'] },
  { to: '/sources', label: 'Sources', needs: ['read:source:any'] },
  { to: '/audit', label: 'Audit', needs: ['read:audit:any'] },
  { to: '/admin/scoring', label: 'Scoring', needs: ['read:setting:any'] },
  { to: '/admin/users', label: 'Users', needs: ['read:user:any'] },
  { to: '/admin/tokens', label: 'API tokens', needs: ['read:api_token:any'] },
]

const ROLE_LABELS: Record<string, string> = { viewer: 'Viewer', owner: 'Owner', security_lead: 'Security lead', operator: 'Operator', admin: 'Admin' }

export function Layout({ children }: { children: React.ReactNode }) {
  const nonce = useNonce()
  // Undefined when the root loader itself failed (the error boundary still renders this layout).
  const user = useRouteLoaderData<typeof loader>('root')?.user ?? null
  const navigation = user ? NAVIGATION.filter((item) => item.needs.some((permission) => user.permissions.includes(permission))) : []
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
                {navigation.map((item) => (
                  <li key={item.to}>
                    <NavLink to={item.to} prefetch="intent">
                      {item.label}
                    </NavLink>
                  </li>
                ))}
              </ul>
            </nav>
            {user ? (
              <div className="account-menu">
                <NavLink to="/account/password" className="account-name" title="Change your password">
                  {user.displayName} <span className="role-badge">{ROLE_LABELS[user.role] ?? user.role}</span>
                </NavLink>
                <Form method="post" action="/logout">
                  <button type="submit" className="button-link">
                    Sign out
                  </button>
                </Form>
              </div>
            ) : null}
          </header>
          <main id="main" className="content" tabIndex={-1}>
            {children}
          </main>
        </div>
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
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
