import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { z } from 'zod'
import { PageHeader } from '~/components/page-header'
import { RouteErrorBoundary } from '~/components/route-error'
import { ActionFailureNotice } from '~/components/workflow-parts'
import { denyAccess, requireUser } from '~/utils/auth.server'
import { claimDeps, runWorkflow } from '~/utils/workflow.server'
import { handOverIdentity, isIdentityOwner } from '../../jobs/claims/index.js'

export const meta: MetaFunction = () => [{ title: 'Hand over identity · Leash' }]

const IdSchema = z.coerce.number().int().positive()

async function authorize(request: Request, context: LoaderFunctionArgs['context'], rawId: string | undefined) {
  const user = await requireUser(request, context)
  const id = IdSchema.safeParse(rawId)
  if (!id.success) throw new Response('That is not an identity id.', { status: 404 })
  const mayReassign = user.can('confirm:claim:any')
  const owns = user.can('update:claim:own') && (await isIdentityOwner(context.db, user.userId, id.data))
  if (!owns && !mayReassign) throw await denyAccess(request, context, user, 'update:claim:own', { type: 'identity', id: String(id.data) })
  return { user, identityId: id.data }
}

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { user, identityId } = await authorize(request, context, params.id)
  const identity = await context.db.selectFrom('identities').select(['id', 'display_name']).where('id', '=', identityId).executeTakeFirst()
  if (!identity) throw new Response('This identity does not exist.', { status: 404 })
  const people = await context.db
    .selectFrom('users')
    .select(['id', 'display_name', 'username', 'role'])
    .where('disabled_at', 'is', null)
    .where('role', '!=', 'viewer')
    .where('id', '!=', user.userId)
    .orderBy('display_name')
    .limit(1000)
    .execute()
  return { identity, people }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { user, identityId } = await authorize(request, context, params.id)
  const form = await request.formData()
  const parsed = z.object({ toUserId: z.string().uuid('Pick the person to hand it to.'), reason: z.string().max(2000) }).safeParse(Object.fromEntries(form))
  if (!parsed.success) return { ok: false as const, error: 'The handover is not complete.', remedy: parsed.error.issues.map((i) => i.message).join(' ') }
  const result = await runWorkflow(() => handOverIdentity(context.db, claimDeps(context), user, { identityId, ...parsed.data }))
  if (!result.ok) return result.response
  throw redirect('/my-identities')
}

export default function HandoverPage() {
  const { identity, people } = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>()
  const navigation = useNavigation()
  return (
    <>
      <PageHeader title={`Hand over ${identity.display_name}`} description="The person you choose becomes the owner once they accept. Until then, you stay the owner." />
      <ActionFailureNotice result={result} />
      <section className="panel" aria-labelledby="handover-heading">
        <h2 id="handover-heading" className="visually-hidden">
          Handover
        </h2>
        <Form method="post">
          <div className="form-field">
            <label htmlFor="handover-to">New owner</label>
            <select id="handover-to" name="toUserId" required defaultValue="">
              <option value="" disabled>
                Choose a person
              </option>
              {people.map((person) => (
                <option key={person.id} value={person.id}>
                  {person.display_name} ({person.username})
                </option>
              ))}
            </select>
          </div>
          <div className="form-field">
            <label htmlFor="handover-reason">Reason</label>
            <textarea id="handover-reason" name="reason" rows={3} required minLength={3} maxLength={2000} />
          </div>
          <button type="submit" className="button" disabled={navigation.state !== 'idle'}>
            Hand over
          </button>{' '}
          <Link to={`/identities/${identity.id}`} className="button secondary">
            Back
          </Link>
        </Form>
      </section>
    </>
  )
}

export function ErrorBoundary() {
  return <RouteErrorBoundary title="The handover form" backTo="/my-identities" backLabel="Back to My identities" />
}
