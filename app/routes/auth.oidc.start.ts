import { redirect, type LoaderFunctionArgs } from '@remix-run/node'
import { safeRedirectTo } from '~/utils/auth.server'
import { OidcConfigError, startOidcSignIn } from '~/utils/oidc.server'

/**
 * Starts single sign-on: a top-level GET (a link on the login page) that redirects to the
 * identity provider. It stores only the short-lived state of this sign-in attempt.
 */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const redirectTo = safeRedirectTo(new URL(request.url).searchParams.get('redirectTo'), '/posture')
  try {
    const { url, cookie } = await startOidcSignIn(context.db, request, redirectTo)
    return redirect(url, { headers: { 'Set-Cookie': cookie, 'Cache-Control': 'no-store' } })
  } catch (error) {
    if (error instanceof OidcConfigError) throw new Response(error.message, { status: 503 })
    throw new Response(`The identity provider could not be reached: ${error instanceof Error ? error.message : String(error)}. Try again later.`, { status: 502 })
  }
}
