import { getFormProps, getInputProps, useForm } from '@conform-to/react'
import { getZodConstraint, parseWithZod } from '@conform-to/zod'
import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Form, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { z } from 'zod'
import { PageHeader } from '~/components/page-header'
import { clientIp, mustChangePassword, requireUser } from '~/utils/auth.server'
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '~/utils/auth-constants'
import { changePassword } from '~/utils/local-auth.server'
import { readSessionToken, sha256Hex } from '~/utils/session.server'

export const meta: MetaFunction = () => [{ title: 'Change password · Leash' }]

const ChangePasswordSchema = z
  .object({
    currentPassword: z.string({ required_error: 'Enter your current password.' }).max(1024),
    newPassword: z
      .string({ required_error: 'Enter a new password.' })
      .min(PASSWORD_MIN_LENGTH, `Use at least ${PASSWORD_MIN_LENGTH} characters.`)
      .max(PASSWORD_MAX_LENGTH, `Use at most ${PASSWORD_MAX_LENGTH} characters.`),
    confirmPassword: z.string({ required_error: 'Repeat the new password.' }),
  })
  .refine((value) => value.newPassword === value.confirmPassword, { path: ['confirmPassword'], message: 'The two new passwords differ.' })

const HIDDEN = ['currentPassword', 'newPassword', 'confirmPassword']

export async function loader({ request, context }: LoaderFunctionArgs) {
  const actor = await requireUser(request, context)
  if (actor.kind !== 'user') throw new Response('API tokens have no password.', { status: 403 })
  const user = await context.db.selectFrom('users').select(['password_hash', 'oidc_issuer']).where('id', '=', actor.userId).executeTakeFirstOrThrow()
  return { mustChange: mustChangePassword(actor), hasPassword: user.password_hash !== null, sso: user.oidc_issuer !== null }
}

export async function action({ request, context }: ActionFunctionArgs) {
  const actor = await requireUser(request, context)
  if (actor.kind !== 'user') throw new Response('API tokens have no password.', { status: 403 })
  const formData = await request.formData()
  const submission = parseWithZod(formData, { schema: ChangePasswordSchema })
  if (submission.status !== 'success') return data({ result: submission.reply({ hideFields: HIDDEN }) }, { status: 400 })
  const token = readSessionToken(request)
  const result = await changePassword(context.db, {
    userId: actor.userId,
    currentPassword: submission.value.currentPassword,
    newPassword: submission.value.newPassword,
    keepSessionIdHash: token ? sha256Hex(token) : null,
    ip: clientIp(context),
  })
  if (!result.ok) {
    return data({ result: submission.reply({ fieldErrors: { [result.field]: [result.error] }, hideFields: HIDDEN }) }, { status: 400 })
  }
  throw redirect('/posture?notice=password-changed')
}

export default function ChangePasswordPage() {
  const { mustChange, hasPassword, sso } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const navigation = useNavigation()
  const [form, fields] = useForm({
    id: 'change-password',
    lastResult: actionData?.result,
    constraint: getZodConstraint(ChangePasswordSchema),
    shouldRevalidate: 'onBlur',
    onValidate: ({ formData }) => parseWithZod(formData, { schema: ChangePasswordSchema }),
  })
  if (!hasPassword) {
    return (
      <>
        <PageHeader title="Password" />
        <p className="panel">{sso ? 'You sign in through single sign-on; your password is managed by your identity provider.' : 'This account has no local password.'}</p>
      </>
    )
  }
  const field = (name: 'currentPassword' | 'newPassword' | 'confirmPassword', label: string, autoComplete: string, hint?: string) => (
    <div className="form-field">
      <label htmlFor={fields[name].id}>{label}</label>
      <input {...getInputProps(fields[name], { type: 'password' })} autoComplete={autoComplete} />
      {hint ? <span className="hint">{hint}</span> : null}
      {fields[name].errors ? (
        <p className="field-error" id={fields[name].errorId}>
          {fields[name].errors.join(' ')}
        </p>
      ) : null}
    </div>
  )
  return (
    <section className="auth-card">
      <PageHeader title="Change password" />
      {mustChange ? (
        <p className="form-notice" role="status">
          Choose a new password before you continue. The one you signed in with was for one use only.
        </p>
      ) : null}
      <Form method="post" className="panel" {...getFormProps(form)}>
        {field('currentPassword', 'Current password', 'current-password')}
        {field('newPassword', 'New password', 'new-password', `At least ${PASSWORD_MIN_LENGTH} characters; a passphrase works well.`)}
        {field('confirmPassword', 'Repeat the new password', 'new-password')}
        <button type="submit" className="button" disabled={navigation.state === 'submitting'}>
          Change password
        </button>
      </Form>
    </section>
  )
}
