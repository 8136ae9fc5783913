import { z } from 'zod'

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name (holding a file path), not a key or a path')
const projectId = z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a Google Cloud project id such as my-project-123')
const numericId = z.string().regex(/^\d{6,20}$/, 'must be the numeric id, e.g. 123456789012')
const location = z.string().regex(/^[a-z]+-[a-z]+\d+$/, 'must be a Google Cloud region such as us-central1')

export interface GcpEndpoints {
  /** IAM API base, default https://iam.googleapis.com */
  iam?: string
  /** Resource Manager base, default https://cloudresourcemanager.googleapis.com */
  resourceManager?: string
  /** Policy Analyzer base, default https://policyanalyzer.googleapis.com */
  policyAnalyzer?: string
  /** Vertex AI base; `{location}` is replaced by each region. Default https://{location}-aiplatform.googleapis.com */
  aiplatform?: string
}

export interface GcpSettings {
  /** Project ids to scan. */
  projects?: string[]
  /** Scan every active project under this organization (numeric id), folders included. */
  organizationId?: string
  /** Scan every active project under these folders (numeric ids), sub-folders included. */
  folderIds?: string[]
  /** Project ids to leave out of an organization or folder walk. */
  excludeProjects?: string[]
  /**
   * Environment variable holding the PATH of a credential file (service account key or workload
   * identity federation config). Default: Application Default Credentials
   * (GOOGLE_APPLICATION_CREDENTIALS, gcloud, or the metadata server).
   */
  credentialsFileEnv?: string
  /** Regions to list Vertex AI Agent Engine (reasoning engines) in; [] skips Vertex AI. Default ["us-central1"]. */
  vertexLocations?: string[]
  /** Read last authentication from Policy Analyzer (default true). */
  usageActivity?: boolean
  /** API base URLs; only for a proxy, Private Service Connect, or the local stand-in. */
  endpoints?: GcpEndpoints
}

export const gcpSettingsSchema: z.ZodType<GcpSettings> = z
  .object({
    projects: z.array(projectId).min(1).optional(),
    organizationId: numericId.optional(),
    folderIds: z.array(numericId).min(1).optional(),
    excludeProjects: z.array(projectId).optional(),
    credentialsFileEnv: envName.optional(),
    vertexLocations: z.array(location).optional(),
    usageActivity: z.boolean().optional(),
    endpoints: z
      .object({
        iam: z.string().url().optional(),
        resourceManager: z.string().url().optional(),
        policyAnalyzer: z.string().url().optional(),
        aiplatform: z.string().min(8).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((s) => Boolean(s.projects?.length || s.organizationId || s.folderIds?.length), {
    message: 'Name what to scan: "projects" (project ids), "organizationId" or "folderIds".',
  })
