import { readFileSync } from 'node:fs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { NormalizedIdentity, RevocationTarget, RunningStandIn } from '../contract.js'
import { actionContext, applyEnv, collectScan, scanContext } from '../saas-kit/testing.js'
import { knownAgentApp } from './agents.js'
import { githubProvider } from './index.js'
import { deleteDeployKey, removeAppInstallation, removeSsoAuthorization, revokeFineGrainedPat } from './revocation.js'
import type { GitHubSettings } from './settings.js'
import { type GitHubStandIn, STANDIN_MEMBER_TOKEN, STANDIN_OWNER_TOKEN, startGitHubStandIn } from './stand-in/server.js'
import {
  type RawCredentialAuthorization,
  type RawDeployKey,
  type RawInstallation,
  type RawPatGrant,
  transformCredentialAuthorization,
  transformDeployKey,
  transformInstallation,
  transformPatGrant,
} from './transform.js'

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T
}

function target(identity: NormalizedIdentity): RevocationTarget {
  const cred = identity.credentials[0] ?? null
  return {
    identity: {
      externalId: identity.externalId,
      kind: identity.kind,
      accountId: identity.scope.accountId,
      displayName: identity.displayName,
      attributes: identity.attributes,
    },
    credential: cred ? { externalId: cred.externalId, type: cred.type, status: cred.status } : null,
  }
}

describe('GitHub documented examples', () => {
  const scope = { accountId: 'octo-org', kind: 'organization' as const }
  it('parses the List fine-grained token grants example verbatim', () => {
    // Source: docs.github.com REST reference, orgs/personal-access-tokens (fixtures/SOURCES.md)
    const [grant] = fixture<RawPatGrant[]>('list-pat-grants.json')
    const id = transformPatGrant(
      grant as RawPatGrant,
      'octo-org',
      scope,
      new Set(['octocat']),
      'https://github.com/organizations/octo-org',
      new Date('2023-06-01T00:00:00Z'),
    )
    expect(id).toMatchObject({
      externalId: 'github:octo-org:fine_grained_pat:25381',
      kind: 'token',
      status: 'active',
      lastUsedAt: null,
      lastUsedKnown: true,
    })
    expect(id.credentials[0]).toMatchObject({ externalId: '98716', type: 'token', status: 'active' })
    expect(id.credentials[0]?.expiresAt?.toISOString()).toBe('2023-11-16T15:47:09.000Z')
    expect(id.entitlements.map((e) => [e.action, e.resource, e.accessLevel])).toEqual([
      ['github:members:read', 'octo-org', 'read'],
      ['github:metadata:read', 'octo-org/*', 'read'],
    ])
    expect(id.owners[0]).toMatchObject({ ref: 'octocat', active: true })
    expect(id.agentSignals).toEqual([])
  })

  it('parses the List deploy keys example verbatim', () => {
    const [key] = fixture<RawDeployKey[]>('list-deploy-keys.json')
    const id = transformDeployKey(key as RawDeployKey, 'octocat', 'Hello-World', scope, null, 'https://github.com')
    expect(id).toMatchObject({ externalId: 'github:octocat/Hello-World:deploy_key:1', kind: 'deploy_key', lastUsedKnown: true })
    expect(id.lastUsedAt?.toISOString()).toBe('2022-01-10T15:53:42.000Z')
    expect(id.entitlements[0]).toMatchObject({ action: 'github:contents:read', accessLevel: 'read' })
    expect(id.owners[0]).toMatchObject({ ref: 'octocat', role: 'creator', active: null })
    expect(id.attributes.fingerprint).toBeNull()
    expect(JSON.stringify(id)).not.toContain('ssh-rsa AAA')
  })

  it('parses the List app installations for an organization example verbatim (wrapped in total_count)', () => {
    // Source: docs.github.com REST reference, orgs/orgs#list-app-installations-for-an-organization (fixtures/SOURCES.md)
    const body = fixture<{ total_count: number; installations: RawInstallation[] }>('list-app-installations.json')
    expect(body.total_count).toBe(body.installations.length)
    const [inst] = body.installations
    const id = transformInstallation(inst as RawInstallation, 'octo-org', scope, 'https://github.com/organizations/octo-org')
    expect(id).toMatchObject({
      externalId: 'github:octo-org:installation:25381',
      kind: 'app_installation',
      status: 'active',
      displayName: 'github-actions',
      consoleUrl: 'https://github.com/organizations/octo-org/settings/installations/25381',
      attributes: { appId: 2218, appSlug: 'github-actions', repositorySelection: 'selected', events: ['deployment', 'deployment_status'] },
    })
    expect(id.createdAt?.toISOString()).toBe('2017-05-16T15:47:09.000Z')
    expect(id.entitlements.map((e) => [e.action, e.resource, e.accessLevel])).toEqual([
      ['github:deployments:write', 'octo-org/(selected repositories)', 'write'],
      ['github:metadata:read', 'octo-org/(selected repositories)', 'read'],
      ['github:pull_requests:read', 'octo-org/(selected repositories)', 'read'],
      ['github:statuses:read', 'octo-org/(selected repositories)', 'read'],
    ])
    expect(id.credentials).toEqual([])
    expect(id.agentSignals).toEqual([])
  })

  it('parses the List SAML SSO authorizations example verbatim: PAT, OAuth and GitHub App tokens; SSH keys are skipped', () => {
    // Source: docs.github.com Enterprise Cloud REST reference, orgs/orgs#list-saml-sso-authorizations-for-an-organization
    const auths = fixture<RawCredentialAuthorization[]>('list-saml-sso-authorizations.json')
    const now = new Date('2023-06-01T00:00:00Z')
    const ids = auths.map((a) =>
      transformCredentialAuthorization(a, 'octo-org', scope, new Set(['octocat']), 'https://github.com/organizations/octo-org', now),
    )
    expect(ids.map((i) => i?.attributes.tokenKind ?? null)).toEqual(['classic', 'classic', 'oauth_app', 'github_app_user', null])
    const [pat, hubotPat, oauth, appToken] = ids
    expect(pat).toMatchObject({
      externalId: 'github:octo-org:sso_credential:161195',
      kind: 'token',
      displayName: 'classic token …71c3fc11 (octocat)',
      status: 'disabled',
      attributes: { credentialId: 161195, authorizedCredentialId: 12345678, scopes: ['user', 'repo'] },
    })
    expect(pat?.credentials[0]).toMatchObject({ externalId: '161195', status: 'expired', lastUsedKnown: true })
    expect(pat?.credentials[0]?.expiresAt?.toISOString()).toBe('2011-02-25T19:06:43.000Z')
    expect(pat?.entitlements.map((e) => [e.action, e.accessLevel])).toEqual([
      ['github:oauth_scope:user', 'write'],
      ['github:oauth_scope:repo', 'write'],
    ])
    expect(pat?.owners[0]).toMatchObject({ ref: 'octocat', active: true })
    expect(hubotPat?.owners[0]).toMatchObject({ ref: 'hubot', active: false })
    // OAuth app token, still valid on `now`, with read:org on the organization.
    expect(oauth).toMatchObject({ displayName: 'OAuth app token …9f2c4d1e (octocat)', status: 'active' })
    expect(oauth?.lastUsedAt?.toISOString()).toBe('2023-05-16T19:06:43.000Z')
    expect(oauth?.entitlements.map((e) => [e.action, e.resource, e.accessLevel])).toEqual([
      ['github:oauth_scope:repo', 'octo-org/*', 'write'],
      ['github:oauth_scope:read:org', 'octo-org', 'read'],
    ])
    expect(appToken).toMatchObject({ displayName: 'GitHub App user token …3b7a0c52 (hubot)', entitlements: [] })
    expect(removeSsoAuthorization.appliesTo(target(oauth as NormalizedIdentity))).toBe(true)
    expect(removeSsoAuthorization.appliesTo(target(appToken as NormalizedIdentity))).toBe(true)
    // Leash keeps only the last eight characters GitHub itself shows.
    expect(JSON.stringify(ids)).not.toContain('jklmnop12345678')
  })

  it('knows coding-agent apps by slug and bot login', () => {
    expect(knownAgentApp('copilot-swe-agent[bot]')?.platform).toBe('github_copilot')
    expect(knownAgentApp('claude')?.platform).toBe('anthropic')
    expect(knownAgentApp('slack')).toBeNull()
  })
})

describe('GitHub against the stand-in', () => {
  let standIn: GitHubStandIn
  let running: RunningStandIn<GitHubSettings>
  let settings: GitHubSettings
  let restoreEnv: () => void

  beforeAll(async () => {
    running = await githubProvider.startStandIn({ seed: 'test' })
    settings = running.settings
    restoreEnv = applyEnv(running.env)
    // A second, private handle on a stand-in with the same seed for fault injection and state.
    standIn = await startGitHubStandIn({ seed: 'test' })
  })
  afterAll(async () => {
    restoreEnv()
    await running.stop()
    await standIn.close()
  })
  afterEach(() => standIn.clearFaults())

  it('finds everything the seed declares as a GitHub App, with its flaws', async () => {
    const scan = await collectScan(githubProvider, scanContext(settings))
    expect(scan.problems).toEqual([])
    expect(scan.finished).toEqual([
      { scope: 'acme-agents', complete: true },
      { scope: 'acme-agents/sso-credentials', complete: true },
      { scope: 'acme-agents/deploy-keys', complete: true },
    ])
    expect(scan.identities).toHaveLength(running.declared.identities)
    expect(scan.identities.flatMap((i) => i.credentials)).toHaveLength(running.declared.credentials)
    expect(scan.identities.filter((i) => i.agentSignals.length > 0)).toHaveLength(running.declared.agents)
    const byId = new Map(scan.identities.map((i) => [i.externalId, i]))
    const devin = byId.get('github:acme-agents:installation:5002')
    expect(devin?.agentSignals[0]).toMatchObject({ id: 'github.app.known_agent', weight: 0.9 })
    expect(devin?.entitlements.find((e) => e.action === 'github:administration:write')?.accessLevel).toBe('permissions_management')
    expect(devin?.escalationPaths.map((p) => p.id)).toContain('github.workflow_secrets')
    expect(byId.get('github:acme-agents:installation:5004')?.status).toBe('disabled')
    // Token of someone who left, without expiry.
    const orphan = byId.get('github:acme-agents:fine_grained_pat:25382')
    expect(orphan?.owners[0]).toMatchObject({ ref: 'mallory', active: false })
    expect(orphan?.credentials[0]?.expiresAt).toBeNull()
    // Agent token with organization members write.
    const mcp = byId.get('github:acme-agents:fine_grained_pat:25383')
    expect(mcp?.agentSignals[0]?.reason).toContain('mcp')
    expect(mcp?.entitlements.some((e) => e.action === 'github:members:write' && e.accessLevel === 'permissions_management')).toBe(true)
    expect(byId.get('github:acme-agents:fine_grained_pat:25384')?.credentials[0]).toMatchObject({ lastUsedAt: null, lastUsedKnown: true })
    // Classic tokens through SSO; SSH keys are not tokens.
    expect(byId.get('github:acme-agents:sso_credential:161195')?.entitlements.map((e) => e.accessLevel)).toEqual(['write', 'admin'])
    expect(byId.has('github:acme-agents:sso_credential:161196')).toBe(false)
    const agentKey = byId.get('github:acme-agents/website:deploy_key:3')
    expect(agentKey).toMatchObject({ attributes: { readOnly: false } })
    expect(agentKey?.attributes.fingerprint).toMatch(/^SHA256:/)
    expect(byId.get('github:acme-agents/website:deploy_key:2')?.credentials[0]).toMatchObject({ lastUsedAt: null, lastUsedKnown: true })
    expect(scan.apiCalls.byOperation['github:CreateInstallationAccessToken']).toBeGreaterThanOrEqual(1)
    expect(scan.apiCalls.byOperation['github:ListDeployKeys']).toBe(3)
  })

  it('with a plain token: fine-grained grants are unreadable, reported as a problem, and that scope is incomplete', async () => {
    const restore = applyEnv({ LEASH_TEST_GITHUB_TOKEN: STANDIN_OWNER_TOKEN })
    try {
      const scan = await collectScan(
        githubProvider,
        scanContext({ organizations: ['acme-agents'], tokenEnv: 'LEASH_TEST_GITHUB_TOKEN', baseUrl: standIn.url }),
      )
      expect(scan.problems).toHaveLength(1)
      expect(scan.problems[0]).toMatchObject({
        operation: 'github:ListPatGrants',
        fatalForScope: true,
        permission: expect.stringContaining('Personal access tokens: read'),
      })
      expect(scan.finished).toContainEqual({ scope: 'acme-agents', complete: false })
      expect(scan.finished).toContainEqual({ scope: 'acme-agents/deploy-keys', complete: true })
      expect(scan.identities.some((i) => i.attributes.tokenKind === 'fine_grained')).toBe(false)
    } finally {
      restore()
    }
  })

  it('a member token: refused deploy keys mark only the deploy-key scope incomplete', async () => {
    const restore = applyEnv({ LEASH_TEST_GITHUB_TOKEN: STANDIN_MEMBER_TOKEN })
    try {
      const scan = await collectScan(
        githubProvider,
        scanContext({ organizations: ['acme-agents'], tokenEnv: 'LEASH_TEST_GITHUB_TOKEN', baseUrl: standIn.url }),
      )
      const keyProblems = scan.problems.filter((p) => p.operation === 'github:ListDeployKeys')
      expect(keyProblems).toHaveLength(3)
      expect(keyProblems[0]?.permission).toContain('Administration: read')
      expect(scan.finished).toContainEqual({ scope: 'acme-agents/deploy-keys', complete: false })
      expect(scan.identities.filter((i) => i.kind === 'deploy_key')).toEqual([])
    } finally {
      restore()
    }
  })

  it('retries a throttled page (Retry-After) and a malformed page is a problem, not an empty list', async () => {
    const restore = applyEnv({ LEASH_TEST_GITHUB_TOKEN: STANDIN_OWNER_TOKEN })
    const s = { organizations: ['acme-agents'], tokenEnv: 'LEASH_TEST_GITHUB_TOKEN', baseUrl: standIn.url }
    try {
      standIn.inject({ match: /^GET \/orgs\/acme-agents\/installations/, kind: 'throttle', times: 1, retryAfterSeconds: 1 })
      const throttled = await collectScan(githubProvider, scanContext(s))
      expect(throttled.problems.map((p) => p.operation)).toEqual(['github:ListPatGrants'])
      expect(throttled.apiCalls.byOperation['github:ListOrgAppInstallations']).toBe(2)
      expect(throttled.identities.filter((i) => i.kind === 'app_installation')).toHaveLength(5)

      standIn.inject({ match: /^GET \/orgs\/acme-agents\/repos/, kind: 'malformed', times: 1 })
      const malformed = await collectScan(githubProvider, scanContext(s))
      expect(malformed.problems.find((p) => p.operation === 'github:ListOrgRepos')).toBeDefined()
      expect(malformed.finished).toContainEqual({ scope: 'acme-agents/deploy-keys', complete: false })
    } finally {
      restore()
    }
  })

  it('revokes a fine-grained grant, deletes a deploy key, removes an SSO authorization: each verified and gone from the next scan', async () => {
    const ctx = actionContext(settings)
    const before = await collectScan(githubProvider, scanContext(settings))
    const find = (id: string) => before.identities.find((i) => i.externalId === id) as NormalizedIdentity

    const pat = target(find('github:acme-agents:fine_grained_pat:25382'))
    expect(revokeFineGrainedPat.appliesTo(pat)).toBe(true)
    expect((await revokeFineGrainedPat.plan(ctx, pat)).calls[0]).toMatchObject({
      operation: 'github:UpdatePatAccesses',
      parameters: { action: 'revoke', pat_ids: [25382] },
    })
    expect(await revokeFineGrainedPat.verify(ctx, pat)).toMatchObject({ verified: false })
    expect(await revokeFineGrainedPat.execute(ctx, pat)).toMatchObject({ ok: true })
    expect(await revokeFineGrainedPat.verify(ctx, pat)).toMatchObject({ verified: true })
    expect(await revokeFineGrainedPat.execute(ctx, pat)).toMatchObject({ ok: true, calls: [{ response: { alreadyAbsent: true } }] })

    const key = target(find('github:acme-agents/website:deploy_key:3'))
    expect(deleteDeployKey.appliesTo(key)).toBe(true)
    expect(await deleteDeployKey.execute(ctx, key)).toMatchObject({ ok: true })
    expect(await deleteDeployKey.verify(ctx, key)).toMatchObject({ verified: true })
    expect(await deleteDeployKey.execute(ctx, key)).toMatchObject({ ok: true, calls: [{ response: { alreadyAbsent: true } }] })

    const classic = target(find('github:acme-agents:sso_credential:161197'))
    expect(removeSsoAuthorization.appliesTo(classic)).toBe(true)
    expect(await removeSsoAuthorization.execute(ctx, classic)).toMatchObject({ ok: true })
    expect(await removeSsoAuthorization.verify(ctx, classic)).toMatchObject({ verified: true })

    const after = await collectScan(githubProvider, scanContext(settings))
    const ids = new Set(after.identities.map((i) => i.externalId))
    expect(ids.has(pat.identity.externalId) || ids.has(key.identity.externalId) || ids.has(classic.identity.externalId)).toBe(false)
    expect(after.identities).toHaveLength(before.identities.length - 3)
  })

  it('for a third-party app installation, the plan names who can remove it and links there; execute makes no call', async () => {
    const ctx = actionContext(settings)
    const scan = await collectScan(githubProvider, scanContext(settings))
    const claude = target(scan.identities.find((i) => i.externalId === 'github:acme-agents:installation:5001') as NormalizedIdentity)
    const plan = await removeAppInstallation.plan(ctx, claude)
    expect(plan.calls).toEqual([])
    expect(plan.caveats[0]).toContain('/organizations/acme-agents/settings/installations/5001')
    expect(plan.caveats[0]).toMatch(/owner/)
    const before = ctx.apiCalls.total
    expect(await removeAppInstallation.execute(ctx, claude)).toMatchObject({ ok: false, calls: [] })
    expect(ctx.apiCalls.total).toBe(before)
    expect(await removeAppInstallation.verify(ctx, claude)).toMatchObject({ verified: false })
  })

  it('pages through a large generated organization with Link headers', async () => {
    const big = await githubProvider.startStandIn({ seed: { identities: 600 } })
    const restore = applyEnv(big.env)
    try {
      const scan = await collectScan(githubProvider, scanContext(big.settings))
      expect(scan.problems).toEqual([])
      expect(scan.identities).toHaveLength(big.declared.identities)
      expect(scan.identities.flatMap((i) => i.credentials)).toHaveLength(big.declared.credentials)
      expect(scan.identities.filter((i) => i.agentSignals.length > 0)).toHaveLength(big.declared.agents)
      expect(scan.apiCalls.byOperation['github:ListPatGrants']).toBeGreaterThan(1)
    } finally {
      restore()
      await big.stop()
    }
  })
})
