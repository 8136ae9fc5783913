/** GitHub organizations: app installations, fine-grained token grants, SSO-authorized classic tokens, deploy keys. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LeashError } from '../../cli/errors.js'
import type { PermissionCheck, Provider } from '../contract.js'
import { checkPermission, httpStatusOf, rethrowIfAborted } from '../saas-kit/failures.js'
import { scrubSecrets } from '../saas-kit/identity.js'
import { createGitHubClient, createGitHubOwnerClient } from './client.js'
import { gitHubRevocationActions } from './revocation.js'
import { PERMISSIONS, scanGitHub } from './scan.js'
import { type GitHubSettings, gitHubSettingsSchema } from './settings.js'
import { STANDIN_OWNER_TOKEN, startGitHubStandIn } from './stand-in/server.js'

export const STANDIN_APP_KEY_PATH_ENV = 'LEASH_STANDIN_GITHUB_APP_KEY_PATH'
export const STANDIN_OWNER_TOKEN_ENV = 'LEASH_STANDIN_GITHUB_OWNER_TOKEN'

export const githubProvider: Provider<GitHubSettings> = {
  name: 'github',
  displayName: 'GitHub organizations',
  settingsSchema: gitHubSettingsSchema,
  scan: scanGitHub,
  async testConnection(ctx) {
    const checks: PermissionCheck[] = []
    for (const org of ctx.settings.organizations) {
      let octokit
      try {
        octokit = await createGitHubClient(ctx.settings, org, ctx)
      } catch (error) {
        rethrowIfAborted(error, ctx.signal)
        const detail = error instanceof LeashError ? `${error.message} ${error.remedy}` : scrubSecrets(String(error))
        checks.push({ permission: `${org}: credentials`, status: 'missing', detail })
        continue
      }
      checks.push(
        await checkPermission(ctx.signal, `${org}: ${PERMISSIONS.installations}`, 'Lists app installations and their permissions.', () =>
          octokit.rest.orgs.listAppInstallations({ org, per_page: 1 }),
        ),
      )
      checks.push(
        await checkPermission(ctx.signal, `${org}: ${PERMISSIONS.patGrants}`, 'Lists fine-grained tokens granted to the organization.', () =>
          octokit.rest.orgs.listPatGrants({ org, per_page: 1 }),
        ),
      )
      checks.push(
        await checkPermission(ctx.signal, `${org}: ${PERMISSIONS.repos}`, 'Lists repositories to read their deploy keys.', () =>
          octokit.rest.repos.listForOrg({ org, per_page: 1 }),
        ),
      )
      const owner = createGitHubOwnerClient(ctx.settings, ctx)
      if (owner)
        checks.push(
          await checkPermission(ctx.signal, `${org}: ${PERMISSIONS.sso}`, 'Lists SSO-authorized classic tokens.', () =>
            owner.request('GET /orgs/{org}/credential-authorizations', { org, per_page: 1 }).catch((e: unknown) => {
              if (httpStatusOf(e) === 404) return null
              throw e
            }),
          ),
        )
    }
    return checks
  },
  revocationActions: gitHubRevocationActions,
  async startStandIn(options) {
    const standIn = await startGitHubStandIn(options)
    // The app's private key must be a file, as in production; it lives as long as the stand-in.
    const dir = mkdtempSync(join(tmpdir(), 'leash-github-standin-'))
    const keyPath = join(dir, 'app.pem')
    writeFileSync(keyPath, standIn.appPrivateKey, { mode: 0o600 })
    return {
      settings: {
        organizations: [standIn.estate.org],
        app: { appId: standIn.appId, privateKeyPathEnv: STANDIN_APP_KEY_PATH_ENV },
        ownerTokenEnv: STANDIN_OWNER_TOKEN_ENV,
        baseUrl: standIn.url,
      },
      env: { [STANDIN_APP_KEY_PATH_ENV]: keyPath, [STANDIN_OWNER_TOKEN_ENV]: STANDIN_OWNER_TOKEN },
      declared: standIn.declared,
      async stop() {
        await standIn.close()
        rmSync(dir, { recursive: true, force: true })
      },
    }
  },
}
