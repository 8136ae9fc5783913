import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Form, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { z } from 'zod'
import { PageHeader } from '~/components/page-header'
import { auditActor, clientIp, requireUserWithPermission } from '~/utils/auth.server'
import { ROLE_LABELS, ROLES } from '~/utils/auth-constants'
import { createLocalUser, disableUser, enableUser, listUsers, resetUserPassword, setUserRole, UserAdminError } from '~/utils/users.server'

export const meta: MetaFunction = () => [{ title: 'Users · Leash' }]

const RoleSchema = z.enum(ROLES as [string, ...string[]]).transform((value) => value as (typeof ROLES)[number])

const ActionSchema = z.discriminatedUnion('intent', [
  z.object({
    intent: z.literal('create'),
    username: z.string().trim().min(2, 'Enter a username of at least 2 characters.').max(64),
    displayName: z.string().trim().max(200).default(''),
    email: z.string().trim().email('Enter a valid email address or leave it empty.').optional().or(z.literal('').transform(() => undefined)),
    role: RoleSchema,
  }),
  z.object({ intent: z.literal('set-role'), userId: z.string().uuid(), role: RoleSchema }),
  z.object({ intent: z.literal('disable'), userId: z.string().uuid() }),
  z.object({ intent: z.literal('enable'), userId: z.string().uuid() }),
  z.object({ intent: z.literal('reset-password'), userId: z.string().uuid() }),
])

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { user } = await requireUserWithPermission(request, context, 'read:user:any')
  const users = await listUsers(context.db)
  return {
    me: user.userId,
    canEdit: user.can('update:user:any'),
    canCreate: user.can('create:user:any'),
    users: users.map((row) => ({
      ...row,
      sessions: Number(row.sessions),
      sso: row.oidc_issuer !== null,
      disabled_at: row.disabled_at ? new Date(row.disabled_at).toISOString() : null,
      last_sign_in_at: row.last_sign_in_at ? new Date(row.last_sign_in_at).toISOString() : null,
    })),
  }
}

type ActionResult = { ok: true; message: string; oneTimePassword?: { username: string; password: string } } | { ok: false; error: string }

export async function action({ request, context }: ActionFunctionArgs) {
  const formData = await request.formData()
  const intent = formData.get('intent')
  const permission = intent === 'create' ? 'create:user:any' : 'update:user:any'
  const { user } = await requireUserWithPermission(request, context, permission)
  const parsed = ActionSchema.safeParse(Object.fromEntries(formData))
  if (!parsed.success) {
    return data<ActionResult>({ ok: false, error: parsed.error.issues.map((issue) => issue.message).join(' ') }, { status: 400 })
  }
  const actor = auditActor(user)
  const ip = clientIp(context)
  const input = parsed.data
  try {
    switch (input.intent) {
      case 'create': {
        const created = await createLocalUser(context.db, actor, { username: input.username, displayName: input.displayName, role: input.role, email: input.email ?? null }, ip)
        return data<ActionResult>({ ok: true, message: `Created ${created.username}.`, oneTimePassword: { username: created.username, password: created.oneTimePassword } })
      }
      case 'set-role':
        await setUserRole(context.db, actor, input.userId, input.role, ip)
        return data<ActionResult>({ ok: true, message: `Role changed to ${ROLE_LABELS[input.role]}.` })
      case 'disable': {
        const { sessionsEnded } = await disableUser(context.db, actor, input.userId, ip)
        return data<ActionResult>({ ok: true, message: `Disabled; ${sessionsEnded} session(s) ended.` })
      }
      case 'enable':
        await enableUser(context.db, actor, input.userId, ip)
        return data<ActionResult>({ ok: true, message: 'Enabled.' })
      case 'reset-password': {
        const reset = await resetUserPassword(context.db, actor, input.userId, ip)
        return data<ActionResult>({ ok: true, message: `Password reset for ${reset.username}; their sessions ended.`, oneTimePassword: { username: reset.username, password: reset.oneTimePassword } })
      }
    }
  } catch (error) {
    if (error instanceof UserAdminError) return data<ActionResult>({ ok: false, error: error.message }, { status: 400 })
    throw error
  }
}

export default function UsersPage() {
  const { users, me, canEdit, canCreate } = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>()
  const navigation = useNavigation()
  const busy = navigation.state === 'submitting'
  return (
    <>
      <PageHeader title="Users" description="Who can sign in to Leash and with which role. Single sign-on users get their role from their groups at each sign-in." />
      {result ? (
        result.ok ? (
          <div className="form-notice" role="status">
            <p>{result.message}</p>
            {result.oneTimePassword ? (
              <>
                <p>
                  One-time password for <strong>{result.oneTimePassword.username}</strong> (shown only now; they must change it at first sign-in):
                </p>
                <p className="secret-once">{result.oneTimePassword.password}</p>
              </>
            ) : null}
          </div>
        ) : (
          <p className="form-error" role="alert">
            {result.error}
          </p>
        )
      ) : null}
      <table className="data-table">
        <caption className="visually-hidden">Users</caption>
        <thead>
          <tr>
            <th scope="col">User</th>
            <th scope="col">Role</th>
            <th scope="col">Sign-in</th>
            <th scope="col">Status</th>
            <th scope="col">Last sign-in</th>
            {canEdit ? <th scope="col">Actions</th> : null}
          </tr>
        </thead>
        <tbody>
          {users.map((row) => (
            <tr key={row.id}>
              <td>
                {row.display_name} <span className="muted mono">{row.username}</span>
              </td>
              <td>
                {canEdit && !row.sso ? (
                  <Form method="post" className="inline-form">
                    <input type="hidden" name="intent" value="set-role" />
                    <input type="hidden" name="userId" value={row.id} />
                    <label className="visually-hidden" htmlFor={`role-${row.id}`}>
                      Role of {row.username}
                    </label>
                    <select id={`role-${row.id}`} name="role" defaultValue={row.role}>
                      {ROLES.map((role) => (
                        <option key={role} value={role}>
                          {ROLE_LABELS[role]}
                        </option>
                      ))}
                    </select>
                    <button type="submit" className="button secondary" disabled={busy}>
                      Save
                    </button>
                  </Form>
                ) : (
                  ROLE_LABELS[row.role]
                )}
              </td>
              <td>{row.sso ? 'Single sign-on' : 'Local password'}</td>
              <td>{row.disabled_at ? 'Disabled' : row.must_change_password ? 'Must change password' : `Active (${row.sessions} session${row.sessions === 1 ? '' : 's'})`}</td>
              <td>{row.last_sign_in_at ? row.last_sign_in_at.replace('T', ' ').slice(0, 16) + ' UTC' : 'Never'}</td>
              {canEdit ? (
                <td>
                  {row.id !== me ? (
                    <Form method="post" className="inline-form">
                      <input type="hidden" name="userId" value={row.id} />
                      <button type="submit" name="intent" value={row.disabled_at ? 'enable' : 'disable'} className={row.disabled_at ? 'button secondary' : 'button danger'} disabled={busy}>
                        {row.disabled_at ? `Enable ${row.username}` : `Disable ${row.username}`}
                      </button>
                    </Form>
                  ) : null}{' '}
                  {!row.sso ? (
                    <Form method="post" className="inline-form">
                      <input type="hidden" name="userId" value={row.id} />
                      <button type="submit" name="intent" value="reset-password" className="button secondary" disabled={busy}>
                        Reset password
                      </button>
                    </Form>
                  ) : null}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
      {canCreate ? (
        <Form method="post" className="panel" style={{ marginTop: 24, maxWidth: 520 }} aria-labelledby="new-user-heading">
          <h2 id="new-user-heading">Add a local user</h2>
          <input type="hidden" name="intent" value="create" />
          <div className="form-field">
            <label htmlFor="new-username">Username</label>
            <input id="new-username" name="username" required minLength={2} maxLength={64} autoComplete="off" />
          </div>
          <div className="form-field">
            <label htmlFor="new-display-name">Display name</label>
            <input id="new-display-name" name="displayName" maxLength={200} />
          </div>
          <div className="form-field">
            <label htmlFor="new-email">Email (optional)</label>
            <input id="new-email" name="email" type="email" />
          </div>
          <div className="form-field">
            <label htmlFor="new-role">Role</label>
            <select id="new-role" name="role" defaultValue="viewer">
              {ROLES.map((role) => (
                <option key={role} value={role}>
                  {ROLE_LABELS[role]}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" className="button" disabled={busy}>
            Add user
          </button>
        </Form>
      ) : null}
    </>
  )
}
