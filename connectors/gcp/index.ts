/** Google Cloud IAM: service accounts, user-managed keys, project IAM bindings, Policy Analyzer usage, Vertex AI agent identities. */
import { LeashError } from '../../cli/errors.js'
import type { PermissionCheck, Provider } from '../contract.js'
import { httpStatusOf, rethrowIfAborted } from '../saas-kit/failures.js'
import { scrubSecrets } from '../saas-kit/identity.js'
import { createGcpClient, GoogleApiError } from './client.js'
import { gcpRevocationActions } from './revocation.js'
import { PERMISSIONS, scanGcp } from './scan.js'
import { type GcpSettings, gcpSettingsSchema } from './settings.js'
import { startGcpStandIn } from './stand-in/server.js'

export const STANDIN_CREDENTIALS_ENV = 'LEASH_STANDIN_GCP_CREDENTIALS'

/** The stand-in's settings: every API base points at it, credentials come from a federation config file. */
export function standInSettings(url: string, projects: string[] | null, organizationId: string): GcpSettings {
  return {
    ...(projects ? { projects } : { organizationId }),
    credentialsFileEnv: STANDIN_CREDENTIALS_ENV,
    vertexLocations: ['us-central1'],
    endpoints: { iam: url, resourceManager: url, policyAnalyzer: url, aiplatform: url },
  }
}

export const gcpProvider: Provider<GcpSettings> = {
  name: 'gcp',
  displayName: 'Google Cloud IAM',
  settingsSchema: gcpSettingsSchema,
  scan: scanGcp,
  async testConnection(ctx) {
    let client
    try {
      client = createGcpClient(ctx.settings, ctx)
    } catch (error) {
      if (error instanceof LeashError)
        return [{ permission: 'Google credentials', status: 'missing', detail: `${error.message} ${error.remedy}` }]
      throw error
    }
    // One project is enough to tell which permissions the credential has: the first listed, or the first found.
    let project = ctx.settings.projects?.[0] ?? null
    const checks: PermissionCheck[] = []
    const probe = async (permission: string, call: () => Promise<unknown>) => {
      try {
        await call()
        checks.push({ permission, status: 'present', detail: 'Readable.' })
      } catch (error) {
        rethrowIfAborted(error, ctx.signal)
        const status = httpStatusOf(error)
        const disabled = error instanceof GoogleApiError && error.serviceDisabled
        checks.push({
          permission,
          status: disabled ? 'unknown' : status === 403 || status === 401 ? 'missing' : 'unknown',
          detail: scrubSecrets(error instanceof Error ? error.message : String(error)),
        })
      }
    }
    const rm = client.endpoints.resourceManager
    const parent = ctx.settings.organizationId
      ? `organizations/${ctx.settings.organizationId}`
      : ctx.settings.folderIds?.[0]
        ? `folders/${ctx.settings.folderIds[0]}`
        : null
    if (parent)
      await probe(PERMISSIONS.projectsList, async () => {
        const res = await client.get<{ projects?: { projectId?: string }[] }>(
          `${rm}/v3/projects?parent=${encodeURIComponent(parent)}&pageSize=1`,
        )
        project ??= res.projects?.[0]?.projectId ?? null
      })
    if (!project) {
      checks.push({
        permission: PERMISSIONS.serviceAccountsList,
        status: 'unknown',
        detail: 'No project to probe: list one in "projects".',
      })
      return checks
    }
    const pid = encodeURIComponent(project)
    await probe(PERMISSIONS.projectsGet, () => client.get(`${rm}/v3/projects/${pid}`))
    await probe(PERMISSIONS.serviceAccountsList, () => client.get(`${client.endpoints.iam}/v1/projects/${pid}/serviceAccounts?pageSize=1`))
    await probe(PERMISSIONS.getIamPolicy, () =>
      client.post(`${rm}/v1/projects/${pid}:getIamPolicy`, { options: { requestedPolicyVersion: 3 } }),
    )
    await probe(PERMISSIONS.accountActivity, () =>
      client.get(
        `${client.endpoints.policyAnalyzer}/v1/projects/${pid}/locations/global/activityTypes/serviceAccountLastAuthentication/activities:query?pageSize=1`,
      ),
    )
    await probe(PERMISSIONS.keyActivity, () =>
      client.get(
        `${client.endpoints.policyAnalyzer}/v1/projects/${pid}/locations/global/activityTypes/serviceAccountKeyLastAuthentication/activities:query?pageSize=1`,
      ),
    )
    const location = ctx.settings.vertexLocations?.[0] ?? 'us-central1'
    if (ctx.settings.vertexLocations?.length !== 0)
      await probe(PERMISSIONS.reasoningEngines, () =>
        client.get(`${client.aiplatformBase(location)}/v1/projects/${pid}/locations/${location}/reasoningEngines?pageSize=1`),
      )
    return checks
  },
  revocationActions: gcpRevocationActions,
  async startStandIn(options) {
    const standIn = await startGcpStandIn(options)
    return {
      // The demo walks the organization, as a real org-wide source would.
      settings: standInSettings(standIn.url, null, standIn.estate.orgId),
      env: { [STANDIN_CREDENTIALS_ENV]: standIn.credentialFiles.scanner },
      declared: standIn.declared,
      departedOwners: ['dana@acme.example'],
      stop: () => standIn.close(),
    }
  },
}
