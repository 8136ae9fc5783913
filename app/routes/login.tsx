import { getFormProps, getInputProps, useForm } from '@conform-to/react'
import { getZodConstraint, parseWithZod } from '@conform-to/zod'
import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Form, useActionData, useLoaderData, useNavigation, useSearchParams } from '@remix-run/react'
import { z } from 'zod'
import { clientIp, getActor, safeRedirectTo } from '~/utils/auth.server'
import { signInWithPassword } from '~/utils/local-auth.server'
import { oidcConfigured } from '~/utils/oidc.server'
import { destroySession, isInsecureRemote, readSessionToken, sessionCookie } from '~/utils/session.server'

export const meta: MetaFunction = () => [{ title: 'Sign in · Leash' }]

const SignInSchema = z.object({
  username: z.string({ required_error: 'Enter your username.' }).trim().min(1, 'Enter your username.').max(200),
  password: z.string({ required_error: 'Enter your password.' }).min(1, 'Enter your password.').max(1024),
  redirectTo: z.string().optional(),
})

export async function loader({ request, context }: LoaderFunctionArgs) {
  const actor = await getActor(request, context)
  const url = new URL(request.url)
  if (actor) throw redirect(safeRedirectTo(url.searchParams.get('redirectTo'), '/posture'))
  return {
    oidc: oidcConfigured(),
    insecureRemote: isInsecureRemote(request),
    error: url.searchParams.get('error'),
  }
}

export async function action({ request, context }: ActionFunctionArgs) {
  const formData = await request.formData()
  const submission = parseWithZod(formData, { schema: SignInSchema })
  if (submission.status !== 'success') {
    return data({ result: submission.reply({ hideFields: ['password'] }) }, { status: 400 })
  }
  const { username, password, redirectTo } = submission.value
  const result = await signInWithPassword(context.db, { username, password, ip: clientIp(context), userAgent: request.headers.get('User-Agent') })
  if (!result.ok) {
    return data({ result: submission.reply({ formErrors: [result.error], hideFields: ['password'] }) }, { status: result.status })
  }
  // A new token at every sign-in; any session the browser held before ends (no session fixation).
  const previous = readSessionToken(request)
  if (previous) await destroySession(context.db, previous)
  const target = result.user.mustChangePassword ? '/account/password' : safeRedirectTo(redirectTo, '/posture')
  throw redirect(target, { headers: { 'Set-Cookie': sessionCookie(request, result.session.token, result.session.maxAgeSeconds), 'Cache-Control': 'no-store' } })
}

const OIDC_ERRORS: Record<string, string> = {
  oidc: 'Single sign-on did not complete. Try again; if it keeps failing, an administrator can find the reason in the audit trail.',
  oidc_no_role: 'Your single sign-on account is in no group that Leash maps to a role. Ask an administrator for access.',
  oidc_disabled: 'This account is disabled. Ask an administrator.',
}

export default function LoginPage() {
  const { oidc, insecureRemote, error } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const [searchParams] = useSearchParams()
  const navigation = useNavigation()
  const [form, fields] = useForm({
    id: 'sign-in',
    lastResult: actionData?.result,
    constraint: getZodConstraint(SignInSchema),
    shouldRevalidate: 'onBlur',
    onValidate: ({ formData }) => parseWithZod(formData, { schema: SignInSchema }),
  })
  const redirectTo = searchParams.get('redirectTo') ?? ''
  const oidcHref = redirectTo ? `/auth/oidc/start?redirectTo=${encodeURIComponent(redirectTo)}` : '/auth/oidc/start'
  return (
    <section className="panel auth-card" aria-labelledby="sign-in-heading">
      <h1 id="sign-in-heading">Sign in to Leash</h1>
      {insecureRemote ? (
        <p className="form-error" role="alert">
          This page is served over plain HTTP. Browsers will not keep Leash&apos;s secure session cookie, so sign-in cannot last. Serve Leash over HTTPS (e.g. behind a TLS proxy).
        </p>
      ) : null}
      {error && OIDC_ERRORS[error] ? (
        <p className="form-error" role="alert">
          {OIDC_ERRORS[error]}
        </p>
      ) : null}
      <Form method="post" {...getFormProps(form)}>
        {form.errors?.length ? (
          <p className="form-error" role="alert" id={form.errorId}>
            {form.errors.join(' ')}
          </p>
        ) : null}
        <input type="hidden" name="redirectTo" value={redirectTo} />
        <div className="form-field">
          <label htmlFor={fields.username.id}>Username</label>
          <input {...getInputProps(fields.username, { type: 'text' })} autoComplete="username" autoCapitalize="none" spellCheck={false} />
          {fields.username.errors ? (
            <p className="field-error" id={fields.username.errorId}>
              {fields.username.errors.join(' ')}
            </p>
          ) : null}
        </div>
        <div className="form-field">
          <label htmlFor={fields.password.id}>Password</label>
          <input {...getInputProps(fields.password, { type: 'password' })} autoComplete="current-password" />
          {fields.password.errors ? (
            <p className="field-error" id={fields.password.errorId}>
              {fields.password.errors.join(' ')}
            </p>
          ) : null}
        </div>
        <button type="submit" className="button" disabled={navigation.state === 'submitting'}>
          {navigation.state === 'submitting' ? 'Signing in…' : 'Sign in'}
        </button>
      </Form>
      {oidc ? (
        <>
          <div className="divider">or</div>
          {/* A plain link: the SSO start is a top-level GET that redirects to the identity provider. */}
          <a className="button secondary" href={oidcHref}>
            Sign in with single sign-on
          </a>
        </>
      ) : null}
    </section>
  )
}
