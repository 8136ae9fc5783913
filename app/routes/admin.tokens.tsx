import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Form, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { z } from 'zod'
import { appendAuditEvent } from '../../db/audit.js'
import { PageHeader } from '~/components/page-header'
import { createApiToken, listApiTokens, revokeApiToken, TokenInputError } from '~/utils/api-tokens.server'
import { MAX_TOKEN_DAYS } from '~/utils/auth-constants'
import { auditActor, clientIp, requireUserWithPermission } from '~/utils/auth.server'
import { ROLE_PERMISSIONS, TOKEN_GRANTABLE_PERMISSIONS } from '~/utils/permissions'

export const meta: MetaFunction = () => [{ title: 'API tokens · Leash' }]

const CreateSchema = z.object({
  intent: z.literal('create'),
  name: z.string().trim().min(1, 'Give the token a name.').max(100),
  expiresInDays: z.coerce.number().int('Whole days only.').min(1, 'At least 1 day.').max(MAX_TOKEN_DAYS, `At most ${MAX_TOKEN_DAYS} days.`),
  scopes: z.array(z.string()).min(1, 'Choose at least one scope.'),
})
const RevokeSchema = z.object({ intent: z.literal('revoke'), tokenId: z.string().uuid() })

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { user } = await requireUserWithPermission(request, context, 'read:api_token:any')
  const tokens = await listApiTokens(context.db)
  const now = Date.now()
  return {
    canCreate: user.can('create:api_token:any'),
    canRevoke: user.can('delete:api_token:any'),
    // A token can only hold what its creator holds, and never an approval.
    grantable: TOKEN_GRANTABLE_PERMISSIONS.filter((permission) => ROLE_PERMISSIONS[user.role].has(permission)),
    tokens: tokens.map((token) => {
      const expiresAt = new Date(token.expires_at)
      return {
        id: token.id,
        name: token.name,
        prefix: token.token_prefix,
        scopes: token.scopes as string[],
        createdBy: token.created_by_username,
        createdAt: new Date(token.created_at).toISOString(),
        expiresAt: expiresAt.toISOString(),
        lastUsedAt: token.last_used_at ? new Date(token.last_used_at).toISOString() : null,
        status: token.revoked_at ? 'Revoked' : expiresAt.getTime() <= now ? 'Expired' : 'Active',
      }
    }),
  }
}

type ActionResult = { ok: true; message: string; token?: { name: string; value: string } } | { ok: false; error: string }

export async function action({ request, context }: ActionFunctionArgs) {
  const formData = await request.formData()
  const intent = formData.get('intent')
  const { user } = await requireUserWithPermission(request, context, intent === 'revoke' ? 'delete:api_token:any' : 'create:api_token:any')
  const ip = clientIp(context)
  if (intent === 'revoke') {
    const parsed = RevokeSchema.safeParse(Object.fromEntries(formData))
    if (!parsed.success) return data<ActionResult>({ ok: false, error: 'Choose a token to revoke.' }, { status: 400 })
    const revoked = await context.db.transaction().execute(async (trx) => {
      const done = await revokeApiToken(trx, parsed.data.tokenId)
      if (done) await appendAuditEvent(trx, { actor: auditActor(user), action: 'api_token.revoked', object: { type: 'api_token', id: parsed.data.tokenId }, ip })
      return done
    })
    return data<ActionResult>(revoked ? { ok: true, message: 'Token revoked; it stops working immediately.' } : { ok: false, error: 'That token is already revoked or does not exist.' }, { status: revoked ? 200 : 400 })
  }
  const parsed = CreateSchema.safeParse({ ...Object.fromEntries(formData), scopes: formData.getAll('scopes') })
  if (!parsed.success) return data<ActionResult>({ ok: false, error: parsed.error.issues.map((issue) => issue.message).join(' ') }, { status: 400 })
  const notHeld = parsed.data.scopes.filter((scope) => !user.can(scope as never))
  if (notHeld.length) return data<ActionResult>({ ok: false, error: `You cannot grant what you do not hold: ${notHeld.join(', ')}.` }, { status: 400 })
  try {
    const created = await context.db.transaction().execute(async (trx) => {
      const token = await createApiToken(trx, {
        name: parsed.data.name,
        scopes: parsed.data.scopes,
        expiresAt: new Date(Date.now() + parsed.data.expiresInDays * 86_400_000),
        createdBy: user.userId,
      })
      await appendAuditEvent(trx, {
        actor: auditActor(user),
        action: 'api_token.created',
        object: { type: 'api_token', id: token.id },
        after: { name: parsed.data.name, prefix: token.prefix, scopes: parsed.data.scopes, expires_in_days: parsed.data.expiresInDays },
        ip,
      })
      return token
    })
    return data<ActionResult>({ ok: true, message: `Created token ${created.prefix}.`, token: { name: parsed.data.name, value: created.token } }, { headers: { 'Cache-Control': 'no-store' } })
  } catch (error) {
    if (error instanceof TokenInputError) return data<ActionResult>({ ok: false, error: error.message }, { status: 400 })
    throw error
  }
}

export default function ApiTokensPage() {
  const { tokens, grantable, canCreate, canRevoke } = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>()
  const navigation = useNavigation()
  const busy = navigation.state === 'submitting'
  return (
    <>
      <PageHeader title="API tokens" description="Scoped, expiring tokens for automation (SOAR, scripts): Authorization: Bearer leash_…. A token can request a revocation but never approve one." />
      {result ? (
        result.ok ? (
          <div className="form-notice" role="status">
            <p>{result.message}</p>
            {result.token ? (
              <>
                <p>Copy the token now; Leash stores only its hash and cannot show it again.</p>
                <p className="secret-once" aria-label={`Token ${result.token.name}`}>
                  {result.token.value}
                </p>
              </>
            ) : null}
          </div>
        ) : (
          <p className="form-error" role="alert">
            {result.error}
          </p>
        )
      ) : null}
      {tokens.length === 0 ? (
        <p className="muted">No API tokens yet.</p>
      ) : (
        <table className="data-table">
          <caption className="visually-hidden">API tokens</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Prefix</th>
              <th scope="col">Scopes</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              <th scope="col">Status</th>
              {canRevoke ? <th scope="col">Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {tokens.map((token) => (
              <tr key={token.id}>
                <td>{token.name}</td>
                <td className="mono">{token.prefix}…</td>
                <td className="mono">{token.scopes.join(', ')}</td>
                <td>
                  {token.createdAt.slice(0, 10)} by {token.createdBy}
                </td>
                <td>{token.expiresAt.slice(0, 10)}</td>
                <td>{token.lastUsedAt ? token.lastUsedAt.replace('T', ' ').slice(0, 16) : 'Never'}</td>
                <td>{token.status}</td>
                {canRevoke ? (
                  <td>
                    {token.status === 'Active' ? (
                      <Form method="post" className="inline-form">
                        <input type="hidden" name="tokenId" value={token.id} />
                        <button type="submit" name="intent" value="revoke" className="button danger" disabled={busy}>
                          Revoke {token.name}
                        </button>
                      </Form>
                    ) : null}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canCreate ? (
        <Form method="post" className="panel" style={{ marginTop: 24 }} aria-labelledby="new-token-heading">
          <h2 id="new-token-heading">Create a token</h2>
          <input type="hidden" name="intent" value="create" />
          <div className="form-field">
            <label htmlFor="token-name">Name</label>
            <input id="token-name" name="name" required maxLength={100} placeholder="e.g. SOAR playbook" />
          </div>
          <div className="form-field">
            <label htmlFor="token-days">Expires in (days)</label>
            <input id="token-days" name="expiresInDays" type="number" min={1} max={MAX_TOKEN_DAYS} defaultValue={90} required />
          </div>
          <fieldset className="scope-grid">
            <legend>Scopes</legend>
            {grantable.map((permission) => (
              <label key={permission}>
                <input type="checkbox" name="scopes" value={permission} /> {permission}
              </label>
            ))}
          </fieldset>
          <button type="submit" className="button" disabled={busy}>
            Create token
          </button>
        </Form>
      ) : null}
    </>
  )
}
