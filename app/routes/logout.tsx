import { redirect, type ActionFunctionArgs } from '@remix-run/node'
import { appendAuditEvent } from '../../db/audit.js'
import { auditActor, clientIp, getActor } from '~/utils/auth.server'
import { clearSessionCookie, destroySession, readSessionToken } from '~/utils/session.server'

// Signing out changes state, so it is a POST (from the layout's form); a GET only goes home.
export const loader = () => redirect('/')

export async function action({ request, context }: ActionFunctionArgs) {
  const actor = await getActor(request, context)
  const token = readSessionToken(request)
  if (token) {
    await context.db.transaction().execute(async (trx) => {
      await destroySession(trx, token)
      if (actor?.kind === 'user') {
        await appendAuditEvent(trx, { actor: auditActor(actor), action: 'auth.sign_out', object: { type: 'user', id: actor.userId }, ip: clientIp(context) })
      }
    })
  }
  throw redirect('/login', { headers: { 'Set-Cookie': clearSessionCookie(request), 'Cache-Control': 'no-store' } })
}
