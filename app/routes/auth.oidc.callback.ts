import { redirect, type LoaderFunctionArgs } from '@remix-run/node'
import { clientIp, safeRedirectTo } from '~/utils/auth.server'
import { clearOidcStateCookie, finishOidcSignIn } from '~/utils/oidc.server'
import { destroySession, readSessionToken, sessionCookie } from '~/utils/session.server'

/**
 * Where the identity provider sends the browser back. A GET by the protocol's design; it
 * completes only the sign-in this browser started (state cookie + single-use server record).
 */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const result = await finishOidcSignIn(context.db, request, { ip: clientIp(context), userAgent: request.headers.get('User-Agent') })
  const headers = new Headers({ 'Cache-Control': 'no-store' })
  headers.append('Set-Cookie', clearOidcStateCookie(request))
  if (!result.ok) {
    return redirect(`/login?error=${result.error}`, { headers })
  }
  const previous = readSessionToken(request)
  if (previous) await destroySession(context.db, previous)
  headers.append('Set-Cookie', sessionCookie(request, result.session.token, result.session.maxAgeSeconds))
  return redirect(safeRedirectTo(result.redirectTo, '/posture'), { headers })
}
