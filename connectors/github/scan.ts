/**
 * get + transform for GitHub organizations. Each organization yields three scopes so one
 * unreadable part never blocks retirement elsewhere (or, worse, lets it retire wrongly):
 *   <org>                  app installations and fine-grained token grants
 *   <org>/sso-credentials  classic tokens authorized for SAML SSO (where the org uses SSO)
 *   <org>/deploy-keys      deploy keys of every repository
 */
import type { Octokit } from '@octokit/rest'
import { LeashError } from '../../cli/errors.js'
import type { NormalizedIdentity, ScanContext, ScanEvent, ScanProblem, ScanScope } from '../contract.js'
import { httpStatusOf, problemFromError, rethrowIfAborted } from '../saas-kit/failures.js'
import { mapPool, problem } from '../saas-kit/identity.js'
import { createGitHubClient, createGitHubOwnerClient, DEFAULT_GITHUB_BASE_URL } from './client.js'
import type { GitHubSettings } from './settings.js'
import {
  type Members,
  type RawCredentialAuthorization,
  type RawDeployKey,
  type RawInstallation,
  type RawPatGrant,
  transformCredentialAuthorization,
  transformDeployKey,
  transformInstallation,
  transformPatGrant,
} from './transform.js'

const BATCH = 500

export const PERMISSIONS = {
  members: 'Members: read (organization permission) or read:org',
  installations: 'Administration: read (organization permission) or admin:org — organization owner',
  patGrants: 'GitHub App with the organization permission "Personal access tokens: read" (only GitHub Apps can list token grants)',
  sso: 'Organization owner token with read:org (SAML SSO organizations only)',
  repos: 'Metadata: read (repository permission) or repo',
  deployKeys: 'Administration: read (repository permission) or repo',
} as const

/** The web address for links: github.com, or the Enterprise Server host. */
export function webUrl(settings: GitHubSettings): string {
  const base = settings.baseUrl ?? DEFAULT_GITHUB_BASE_URL
  if (base === DEFAULT_GITHUB_BASE_URL) return 'https://github.com'
  return base.replace(/\/api\/v3\/?$/, '').replace(/\/$/, '')
}

export function scopesFor(org: string) {
  return {
    org: { accountId: org, kind: 'organization', displayName: `${org} (apps and fine-grained tokens)` } satisfies ScanScope,
    sso: {
      accountId: `${org}/sso-credentials`,
      kind: 'organization',
      displayName: `${org} (SSO-authorized classic tokens)`,
    } satisfies ScanScope,
    keys: { accountId: `${org}/deploy-keys`, kind: 'organization', displayName: `${org} (deploy keys)` } satisfies ScanScope,
  }
}

function* batches(scope: ScanScope, identities: NormalizedIdentity[]): Generator<ScanEvent> {
  for (let i = 0; i < identities.length; i += BATCH) yield { type: 'batch', scope, identities: identities.slice(i, i + BATCH) }
}

function grantRemedy(permission: string): string {
  return `Grant ${permission}. See docs/providers/github.md for the least-privilege setup (a GitHub App is recommended).`
}

export async function* scanGitHub(ctx: ScanContext<GitHubSettings>): AsyncGenerator<ScanEvent> {
  for (const org of ctx.settings.organizations) yield* scanOrganization(ctx, org)
}

async function* scanOrganization(ctx: ScanContext<GitHubSettings>, org: string): AsyncGenerator<ScanEvent> {
  const scopes = scopesFor(org)
  const all = [scopes.org, scopes.sso, scopes.keys]
  for (const scope of all) yield { type: 'scope_started', scope }
  const orgUrl = `${webUrl(ctx.settings)}/organizations/${org}`
  const fail = (error: unknown, scope: ScanScope, operation: string, permission: string, fatal = true): ScanProblem => {
    rethrowIfAborted(error, ctx.signal)
    return problemFromError(error, {
      provider: 'GitHub',
      scope,
      operation,
      permission,
      fatalForScope: fatal,
      grantRemedy: grantRemedy(permission),
    })
  }

  let octokit: Octokit
  let ownerOctokit: Octokit | null
  try {
    octokit = await createGitHubClient(ctx.settings, org, ctx)
    ownerOctokit = createGitHubOwnerClient(ctx.settings, ctx)
  } catch (error) {
    const p =
      error instanceof LeashError
        ? problem({ scope: scopes.org, operation: 'github:Configure', message: error.message, remedy: error.remedy, fatalForScope: true })
        : fail(error, scopes.org, 'github:GetOrgInstallation', 'the GitHub App installed on the organization')
    yield { type: 'problem', problem: p }
    for (const scope of all) yield { type: 'scope_finished', scope, complete: false }
    return
  }

  let members: Members = null
  try {
    const list = await octokit.paginate(octokit.rest.orgs.listMembers, { org, per_page: 100 })
    members = new Set(list.map((m) => m.login.toLowerCase()))
  } catch (error) {
    const p = fail(error, scopes.org, 'github:ListOrgMembers', PERMISSIONS.members, httpStatusOf(error) === 401)
    yield { type: 'problem', problem: p }
    if (httpStatusOf(error) === 401) {
      for (const scope of all) yield { type: 'scope_finished', scope, complete: false }
      return
    }
  }

  // Installations and fine-grained token grants.
  let orgComplete = true
  try {
    const installations = (await octokit.paginate(octokit.rest.orgs.listAppInstallations, { org, per_page: 100 })) as RawInstallation[]
    yield* batches(
      scopes.org,
      installations.map((i) => transformInstallation(i, org, scopes.org, orgUrl)),
    )
  } catch (error) {
    orgComplete = false
    yield { type: 'problem', problem: fail(error, scopes.org, 'github:ListOrgAppInstallations', PERMISSIONS.installations) }
  }
  try {
    const grants = (await octokit.paginate(octokit.rest.orgs.listPatGrants, { org, per_page: 100 })) as RawPatGrant[]
    yield* batches(
      scopes.org,
      grants.map((g) => transformPatGrant(g, org, scopes.org, members, orgUrl, ctx.now)),
    )
  } catch (error) {
    orgComplete = false
    yield { type: 'problem', problem: fail(error, scopes.org, 'github:ListPatGrants', PERMISSIONS.patGrants) }
  }
  yield { type: 'scope_finished', scope: scopes.org, complete: orgComplete }

  // Classic tokens, visible only through SAML SSO credential authorizations.
  try {
    const sso = ownerOctokit ?? octokit
    const auths = (await sso.paginate('GET /orgs/{org}/credential-authorizations', { org, per_page: 100 })) as RawCredentialAuthorization[]
    const ids = auths
      .map((a) => transformCredentialAuthorization(a, org, scopes.sso, members, orgUrl, ctx.now))
      .filter((i): i is NormalizedIdentity => i != null)
    yield* batches(scopes.sso, ids)
    yield { type: 'scope_finished', scope: scopes.sso, complete: true }
  } catch (error) {
    // 404: the organization does not use SAML SSO, so there is nothing to list — complete and empty.
    if (httpStatusOf(error) === 404) {
      yield { type: 'scope_finished', scope: scopes.sso, complete: true }
    } else {
      yield { type: 'problem', problem: fail(error, scopes.sso, 'github:ListSamlSsoAuthorizations', PERMISSIONS.sso) }
      yield { type: 'scope_finished', scope: scopes.sso, complete: false }
    }
  }

  // Deploy keys: one call per repository, four at a time.
  if (ctx.settings.deployKeys === false) {
    yield { type: 'scope_finished', scope: scopes.keys, complete: false }
    return
  }
  let repos: { name: string }[]
  try {
    repos = await octokit.paginate(octokit.rest.repos.listForOrg, { org, type: 'all', per_page: 100 })
  } catch (error) {
    yield { type: 'problem', problem: fail(error, scopes.keys, 'github:ListOrgRepos', PERMISSIONS.repos) }
    yield { type: 'scope_finished', scope: scopes.keys, complete: false }
    return
  }
  const results = await mapPool(repos, 4, async (repo) => {
    try {
      const keys = (await octokit.paginate(octokit.rest.repos.listDeployKeys, {
        owner: org,
        repo: repo.name,
        per_page: 100,
      })) as RawDeployKey[]
      return {
        identities: keys.map((k) => transformDeployKey(k, org, repo.name, scopes.keys, members, webUrl(ctx.settings))),
        problem: null,
      }
    } catch (error) {
      rethrowIfAborted(error, ctx.signal)
      return { identities: [], problem: fail(error, { ...scopes.keys }, `github:ListDeployKeys`, PERMISSIONS.deployKeys) }
    }
  })
  const problems = results.flatMap((r) =>
    r.problem ? [{ ...r.problem, message: `${r.problem.message} (repository ${org}/${repos[results.indexOf(r)]?.name})` }] : [],
  )
  for (const p of problems) yield { type: 'problem', problem: p }
  yield* batches(
    scopes.keys,
    results.flatMap((r) => r.identities),
  )
  yield { type: 'scope_finished', scope: scopes.keys, complete: problems.length === 0 }
}
