/**
 * GitHub revocation: revoke a fine-grained token's access to the organization, remove a classic
 * token's SAML SSO authorization, delete a deploy key. A third-party app installation cannot be
 * removed through the API by anyone but the app itself: that plan names who can and links there.
 */
import type { Octokit } from '@octokit/rest'
import type { ActionContext, ExecutionResult, RevocationAction, RevocationPlan, RevocationTarget, VerificationResult } from '../contract.js'
import { httpStatusOf } from '../saas-kit/failures.js'
import { scrubSecrets } from '../saas-kit/identity.js'
import { createGitHubClient, createGitHubOwnerClient } from './client.js'
import type { GitHubSettings } from './settings.js'
import { type RawCredentialAuthorization, type RawInstallation, type RawPatGrant, SSO_TOKEN_KIND_VALUES } from './transform.js'

type Ctx = ActionContext<GitHubSettings>

function attr<T extends string | number>(target: RevocationTarget, name: string): T {
  const value = target.identity.attributes[name]
  if (value === undefined || value === null || value === '')
    throw new Error(`The identity ${target.identity.externalId} has no ${name}; rescan the source before revoking.`)
  return value as T
}

function client(ctx: Ctx, org: string): Promise<Octokit> {
  return createGitHubClient(ctx.settings, org, ctx)
}

/** SSO credential authorizations need an organization owner: the owner token when configured. */
async function ownerClient(ctx: Ctx, org: string): Promise<Octokit> {
  return createGitHubOwnerClient(ctx.settings, ctx) ?? client(ctx, org)
}

async function run(
  operation: string,
  parameters: Record<string, unknown>,
  call: () => Promise<{ status: number }>,
  alreadyDone: (status: number | undefined) => boolean,
): Promise<ExecutionResult> {
  const at = new Date().toISOString()
  try {
    const res = await call()
    return { calls: [{ operation, parameters, ok: true, response: { status: res.status }, error: null, at }], ok: true, error: null }
  } catch (error) {
    if (alreadyDone(httpStatusOf(error)))
      return { calls: [{ operation, parameters, ok: true, response: { alreadyAbsent: true }, error: null, at }], ok: true, error: null }
    const message = scrubSecrets(error instanceof Error ? error.message : String(error))
    return { calls: [{ operation, parameters, ok: false, response: null, error: message, at }], ok: false, error: message }
  }
}

async function grantExists(ctx: Ctx, org: string, owner: string, grantId: number): Promise<boolean> {
  const octokit = await client(ctx, org)
  const grants = (await octokit.paginate(octokit.rest.orgs.listPatGrants, { org, owner: [owner], per_page: 100 })) as RawPatGrant[]
  return grants.some((g) => g.id === grantId)
}

export const revokeFineGrainedPat: RevocationAction<GitHubSettings> = {
  id: 'github.pat_grant.revoke',
  title: "Revoke the fine-grained token's access to the organization",
  reversible: false,
  destructive: false,
  appliesTo: (t) => t.identity.attributes.provider === 'github' && t.identity.attributes.tokenKind === 'fine_grained',
  async plan(_ctx, target): Promise<RevocationPlan> {
    const org = attr<string>(target, 'org')
    const grantId = attr<number>(target, 'patGrantId')
    return {
      actionId: this.id,
      summary: `Revoke ${target.identity.displayName}'s access to ${org}. The token keeps working elsewhere; its owner must request access again to reach ${org}.`,
      calls: [
        {
          operation: 'github:UpdatePatAccesses',
          parameters: { org, action: 'revoke', pat_ids: [grantId] },
          effect: `POST /orgs/${org}/personal-access-tokens {"action":"revoke","pat_ids":[${grantId}]}`,
        },
      ],
      reversible: false,
      undoActionId: null,
      caveats: [
        'Only a GitHub App with the organization permission "Personal access tokens: write" can revoke token grants.',
        `The owner (${String(target.identity.attributes.owner)}) can delete the token itself in their settings; Leash cannot.`,
      ],
    }
  },
  async execute(ctx, target) {
    const org = attr<string>(target, 'org')
    const grantId = attr<number>(target, 'patGrantId')
    const owner = attr<string>(target, 'owner')
    if (!(await grantExists(ctx, org, owner, grantId))) {
      return {
        calls: [
          {
            operation: 'github:ListPatGrants',
            parameters: { org, owner },
            ok: true,
            response: { alreadyAbsent: true },
            error: null,
            at: new Date().toISOString(),
          },
        ],
        ok: true,
        error: null,
      }
    }
    const octokit = await client(ctx, org)
    return run(
      'github:UpdatePatAccesses',
      { org, action: 'revoke', pat_ids: [grantId] },
      () => octokit.rest.orgs.updatePatAccesses({ org, action: 'revoke', pat_ids: [grantId] }),
      (s) => s === 404,
    )
  },
  async verify(ctx, target): Promise<VerificationResult> {
    const org = attr<string>(target, 'org')
    const grantId = attr<number>(target, 'patGrantId')
    const exists = await grantExists(ctx, org, attr<string>(target, 'owner'), grantId)
    return {
      verified: !exists,
      observed: exists ? `Token grant ${grantId} still has access to ${org}.` : `Token grant ${grantId} is no longer listed for ${org}.`,
    }
  },
}

export const removeSsoAuthorization: RevocationAction<GitHubSettings> = {
  id: 'github.sso_authorization.remove',
  title: "Remove the token's SAML SSO authorization for the organization",
  reversible: false,
  destructive: false,
  // Classic PATs, OAuth app tokens and GitHub App user tokens: GitHub documents the same removal for all.
  appliesTo: (t) =>
    t.identity.attributes.provider === 'github' &&
    SSO_TOKEN_KIND_VALUES.includes(String(t.identity.attributes.tokenKind)) &&
    t.identity.attributes.credentialId != null,
  async plan(_ctx, target): Promise<RevocationPlan> {
    const org = attr<string>(target, 'org')
    const id = attr<number>(target, 'credentialId')
    return {
      actionId: this.id,
      summary: `Remove the SAML SSO authorization of ${target.identity.displayName} for ${org}: the token can no longer reach ${org}'s resources.`,
      calls: [
        {
          operation: 'github:RemoveSamlSsoAuthorization',
          parameters: { org, credential_id: id },
          effect: `DELETE /orgs/${org}/credential-authorizations/${id}`,
        },
      ],
      reversible: false,
      undoActionId: null,
      caveats: [
        'The token still exists and works outside this organization; only its owner can delete it.',
        'Needs an organization owner token with admin:org.',
      ],
    }
  },
  async execute(ctx, target) {
    const org = attr<string>(target, 'org')
    const id = attr<number>(target, 'credentialId')
    const octokit = await ownerClient(ctx, org)
    return run(
      'github:RemoveSamlSsoAuthorization',
      { org, credential_id: id },
      () => octokit.request('DELETE /orgs/{org}/credential-authorizations/{credential_id}', { org, credential_id: id }),
      (s) => s === 404,
    )
  },
  async verify(ctx, target) {
    const org = attr<string>(target, 'org')
    const id = attr<number>(target, 'credentialId')
    const octokit = await ownerClient(ctx, org)
    const auths = (await octokit.paginate('GET /orgs/{org}/credential-authorizations', {
      org,
      per_page: 100,
    })) as RawCredentialAuthorization[]
    const still = auths.some((a) => a.credential_id === id)
    return {
      verified: !still,
      observed: still ? `Credential ${id} is still authorized for ${org}.` : `Credential ${id} is no longer authorized for ${org}.`,
    }
  },
}

export const deleteDeployKey: RevocationAction<GitHubSettings> = {
  id: 'github.deploy_key.delete',
  title: 'Delete the deploy key',
  reversible: false,
  destructive: false,
  appliesTo: (t) => t.identity.attributes.provider === 'github' && t.identity.kind === 'deploy_key',
  async plan(_ctx, target): Promise<RevocationPlan> {
    const org = attr<string>(target, 'org')
    const repo = attr<string>(target, 'repo')
    const id = attr<number>(target, 'deployKeyId')
    return {
      actionId: this.id,
      summary: `Delete deploy key ${target.identity.displayName} from ${org}/${repo}. Machines using it lose access at once.`,
      calls: [
        {
          operation: 'github:DeleteDeployKey',
          parameters: { owner: org, repo, key_id: id },
          effect: `DELETE /repos/${org}/${repo}/keys/${id}`,
        },
      ],
      reversible: false,
      undoActionId: null,
      caveats: [
        'GitHub cannot disable a deploy key, only delete it. A repository admin can add the same public key again if needed.',
        'Needs repository administration write access.',
      ],
    }
  },
  async execute(ctx, target) {
    const org = attr<string>(target, 'org')
    const repo = attr<string>(target, 'repo')
    const id = attr<number>(target, 'deployKeyId')
    const octokit = await client(ctx, org)
    return run(
      'github:DeleteDeployKey',
      { owner: org, repo, key_id: id },
      () => octokit.rest.repos.deleteDeployKey({ owner: org, repo, key_id: id }),
      (s) => s === 404,
    )
  },
  async verify(ctx, target) {
    const org = attr<string>(target, 'org')
    const repo = attr<string>(target, 'repo')
    const id = attr<number>(target, 'deployKeyId')
    const octokit = await client(ctx, org)
    try {
      await octokit.rest.repos.getDeployKey({ owner: org, repo, key_id: id })
      return { verified: false, observed: `Deploy key ${id} still exists on ${org}/${repo}.` }
    } catch (error) {
      if (httpStatusOf(error) === 404) return { verified: true, observed: `Deploy key ${id} is gone from ${org}/${repo} (404 on re-read).` }
      throw error
    }
  },
}

/** No call: GitHub lets only an organization owner (in the UI) or the app itself uninstall it. */
export const removeAppInstallation: RevocationAction<GitHubSettings> = {
  id: 'github.app_installation.remove',
  title: 'Remove the app installation (by an organization owner)',
  reversible: false,
  destructive: false,
  appliesTo: (t) => t.identity.attributes.provider === 'github' && t.identity.kind === 'app_installation',
  async plan(_ctx, target): Promise<RevocationPlan> {
    const org = attr<string>(target, 'org')
    const url = attr<string>(target, 'settingsUrl')
    return {
      actionId: this.id,
      summary: `Leash cannot remove the ${String(target.identity.attributes.appSlug)} installation from ${org}: an organization owner must do it.`,
      calls: [],
      reversible: false,
      undoActionId: null,
      caveats: [
        `An owner of ${org} opens ${url} and chooses Suspend (reversible) or Uninstall.`,
        'The GitHub API lets only the app itself delete its installation; Leash does not act as third-party apps.',
      ],
    }
  },
  async execute(_ctx, target) {
    return {
      calls: [],
      ok: false,
      error: `No call made: an owner of ${String(target.identity.attributes.org)} must suspend or uninstall the app at ${String(target.identity.attributes.settingsUrl)}.`,
    }
  },
  async verify(ctx, target) {
    const org = attr<string>(target, 'org')
    const id = attr<number>(target, 'installationId')
    const octokit = await client(ctx, org)
    const all = (await octokit.paginate(octokit.rest.orgs.listAppInstallations, { org, per_page: 100 })) as RawInstallation[]
    const inst = all.find((i) => i.id === id)
    if (!inst) return { verified: true, observed: `The installation ${id} is no longer in ${org}.` }
    if (inst.suspended_at) return { verified: true, observed: `The installation ${id} is suspended since ${inst.suspended_at}.` }
    return { verified: false, observed: `The installation ${id} is still active in ${org}.` }
  },
}

export const gitHubRevocationActions = [revokeFineGrainedPat, removeSsoAuthorization, deleteDeployKey, removeAppInstallation]
