/**
 * How much power a Google Cloud role grants, and which grants open a privilege-escalation path.
 *
 * A maintained table rather than role expansion: predefined roles hold thousands of
 * permissions and change weekly, while what matters for an NHI posture is a short list of roles
 * that reach IAM itself. Sources:
 * - Basic roles (owner, editor, viewer) and the IAM roles' permissions:
 *   https://cloud.google.com/iam/docs/understanding-roles and
 *   https://cloud.google.com/iam/docs/roles-permissions/iam
 * - Service account impersonation and actAs: https://cloud.google.com/iam/docs/service-account-permissions
 *   ("Roles for service account authentication", the token creator / user / key admin roles).
 * - Escalation methods: Rhino Security Labs, "Privilege Escalation in Google Cloud Platform –
 *   Part 1 (IAM)" (https://rhinosecuritylabs.com/gcp/privilege-escalation-google-cloud-platform-part-1/)
 *   and Part 2 (non-IAM: deploymentmanager, cloudbuild, cloudfunctions with actAs).
 * Roles not in the table are ranked by their documented naming convention (…admin, …editor,
 * …viewer); custom roles (projects/…/roles/…, organizations/…/roles/…) are ranked `write`
 * because their permissions are not read.
 */
import type { AccessLevel, EscalationPath } from '../contract.js'

export interface RoleInfo {
  level: AccessLevel
  /** Why the role ranks where it does, for the entitlement detail. */
  note: string
}

export const ROLE_TABLE: Readonly<Record<string, RoleInfo>> = {
  'roles/owner': { level: 'admin', note: 'Basic role: full control including IAM policy.' },
  'roles/editor': { level: 'write', note: 'Basic role: modify most resources (includes actAs and key creation on service accounts).' },
  'roles/viewer': { level: 'read', note: 'Basic role: read most resources.' },
  'roles/browser': { level: 'list', note: 'List the resource hierarchy.' },
  'roles/resourcemanager.organizationAdmin': { level: 'admin', note: 'Full control of the organization, including its IAM policy.' },
  'roles/resourcemanager.folderAdmin': { level: 'admin', note: 'Full control of folders, including their IAM policy.' },
  'roles/resourcemanager.projectIamAdmin': {
    level: 'permissions_management',
    note: 'Sets the project IAM policy: can grant itself any role.',
  },
  'roles/resourcemanager.folderIamAdmin': { level: 'permissions_management', note: 'Sets folder IAM policies.' },
  'roles/iam.securityAdmin': { level: 'permissions_management', note: 'Gets and sets any IAM policy.' },
  'roles/iam.roleAdmin': { level: 'permissions_management', note: 'Creates and changes custom roles.' },
  'roles/iam.organizationRoleAdmin': { level: 'permissions_management', note: 'Creates and changes organization custom roles.' },
  'roles/iam.serviceAccountAdmin': { level: 'permissions_management', note: 'Manages service accounts and their IAM policies.' },
  'roles/iam.serviceAccountKeyAdmin': { level: 'permissions_management', note: 'Creates and deletes service account keys.' },
  'roles/iam.serviceAccountTokenCreator': {
    level: 'permissions_management',
    note: 'Mints access and ID tokens as any service account in scope.',
  },
  'roles/iam.serviceAccountUser': { level: 'write', note: 'actAs: attaches service accounts to workloads.' },
  'roles/iam.workloadIdentityUser': { level: 'write', note: 'Impersonates service accounts through workload identity.' },
  'roles/iam.serviceAccountViewer': { level: 'read', note: 'Reads service accounts and key metadata.' },
  'roles/iam.securityReviewer': { level: 'read', note: 'Reads IAM policies.' },
  'roles/deploymentmanager.editor': { level: 'write', note: 'Deployments run as the Google APIs service agent (editor on the project).' },
  'roles/cloudbuild.builds.editor': { level: 'write', note: 'Builds run as the Cloud Build service account.' },
  'roles/secretmanager.secretAccessor': { level: 'read', note: 'Reads secret payloads.' },
  'roles/secretmanager.admin': { level: 'permissions_management', note: 'Manages secrets and their IAM policies.' },
  'roles/storage.admin': { level: 'permissions_management', note: 'Full control of buckets and objects, including bucket IAM.' },
  'roles/aiplatform.user': { level: 'write', note: 'Uses Vertex AI: predicts, deploys and queries agents.' },
  'roles/aiplatform.admin': { level: 'permissions_management', note: 'Full control of Vertex AI resources.' },
  'roles/aiplatform.reasoningEngineServiceAgent': { level: 'write', note: 'The Agent Engine service agent role.' },
}

export function roleLevel(role: string): RoleInfo {
  const known = ROLE_TABLE[role]
  if (known) return known
  if (/^(projects|organizations)\/[^/]+\/roles\//.test(role))
    return { level: 'write', note: 'Custom role: its permissions were not read; ranked as write.' }
  const name = role.replace(/^roles\//, '').toLowerCase()
  if (/(^|\.)(viewer|reader|browser|observer|auditor|reviewer)$/.test(name) || /viewer|reader/.test(name))
    return { level: 'read', note: 'Predefined read-only role (by its documented naming).' }
  if (/iamadmin$|securityadmin$|policyadmin$/.test(name)) return { level: 'permissions_management', note: 'Manages IAM policies.' }
  if (/(^|\.)admin$|\.admin\b/.test(name))
    return { level: 'permissions_management', note: 'Service admin role: usually includes setting IAM on that service’s resources.' }
  return { level: 'write', note: 'Predefined role that changes resources (by its documented naming).' }
}

/** Roles whose holder can become another identity or change IAM: each is a path on its own. */
const SINGLE_ROLE_PATHS: Readonly<Record<string, { id: string; title: string; permissions: string[] }>> = {
  'roles/iam.serviceAccountTokenCreator': {
    id: 'gcp.privesc.token_creator',
    title: 'Mint access tokens as any service account in the project (serviceAccountTokenCreator)',
    permissions: [
      'iam.serviceAccounts.getAccessToken',
      'iam.serviceAccounts.signBlob',
      'iam.serviceAccounts.signJwt',
      'iam.serviceAccounts.implicitDelegation',
    ],
  },
  'roles/iam.serviceAccountKeyAdmin': {
    id: 'gcp.privesc.key_admin',
    title: 'Create a key for any service account in the project and sign in as it (serviceAccountKeyAdmin)',
    permissions: ['iam.serviceAccountKeys.create'],
  },
  'roles/iam.serviceAccountAdmin': {
    id: 'gcp.privesc.service_account_set_iam',
    title: 'Grant itself token creator on any service account (serviceAccountAdmin sets service account IAM policies)',
    permissions: ['iam.serviceAccounts.setIamPolicy'],
  },
  'roles/iam.workloadIdentityUser': {
    id: 'gcp.privesc.workload_identity_user',
    title: 'Impersonate service accounts in scope through workload identity',
    permissions: ['iam.serviceAccounts.getAccessToken'],
  },
  'roles/resourcemanager.projectIamAdmin': {
    id: 'gcp.privesc.set_project_iam',
    title: 'Grant itself any role on the project (projectIamAdmin)',
    permissions: ['resourcemanager.projects.setIamPolicy'],
  },
  'roles/iam.securityAdmin': {
    id: 'gcp.privesc.set_iam_policy',
    title: 'Set any IAM policy in scope (securityAdmin)',
    permissions: ['resourcemanager.projects.setIamPolicy', 'iam.serviceAccounts.setIamPolicy'],
  },
  'roles/iam.roleAdmin': {
    id: 'gcp.privesc.update_custom_role',
    title: 'Add permissions to a custom role it already holds (roleAdmin)',
    permissions: ['iam.roles.update'],
  },
  'roles/owner': {
    id: 'gcp.privesc.owner',
    title: 'Owner: sets the project IAM policy and acts as every service account',
    permissions: ['resourcemanager.projects.setIamPolicy', 'iam.serviceAccounts.actAs', 'iam.serviceAccountKeys.create'],
  },
  'roles/editor': {
    id: 'gcp.privesc.editor_service_account_keys',
    title: 'Editor: creates keys for and acts as the project’s service accounts',
    permissions: ['iam.serviceAccounts.actAs', 'iam.serviceAccountKeys.create'],
  },
  'roles/deploymentmanager.editor': {
    id: 'gcp.privesc.deploymentmanager',
    title: 'Run deployments as the Google APIs service agent, which is editor on the project',
    permissions: ['deploymentmanager.deployments.create'],
  },
  'roles/cloudbuild.builds.editor': {
    id: 'gcp.privesc.cloudbuild',
    title: 'Run builds as the Cloud Build service account and read its token',
    permissions: ['cloudbuild.builds.create'],
  },
}

/** Roles that deploy code running as a service account: with actAs, a path to that account's rights. */
const DEPLOYER_ROLES = new Set([
  'roles/cloudfunctions.developer',
  'roles/cloudfunctions.admin',
  'roles/run.developer',
  'roles/run.admin',
  'roles/compute.instanceAdmin.v1',
  'roles/compute.admin',
  'roles/dataflow.developer',
  'roles/composer.worker',
  'roles/aiplatform.user',
  'roles/aiplatform.admin',
])

/** Escalation paths from unconditional grants (a conditional grant may not apply, so it opens no path). */
export function escalationPaths(grants: readonly { role: string; conditional: boolean }[]): EscalationPath[] {
  const roles = new Set(grants.filter((g) => !g.conditional).map((g) => g.role))
  const paths: EscalationPath[] = []
  for (const role of roles) {
    const p = SINGLE_ROLE_PATHS[role]
    if (p) paths.push({ ...p, permissions: [...p.permissions] })
  }
  const deployer = [...roles].find((r) => DEPLOYER_ROLES.has(r))
  if (roles.has('roles/iam.serviceAccountUser') && deployer) {
    paths.push({
      id: 'gcp.privesc.actas_deploy',
      title: `Deploy code that runs as another service account (serviceAccountUser + ${deployer})`,
      permissions: ['iam.serviceAccounts.actAs', deployer],
    })
  }
  return paths
}

/** Roles that say the holder calls Vertex AI / Gemini: an agent signal (the grant family). */
export const VERTEX_ROLES = new Set([
  'roles/aiplatform.user',
  'roles/aiplatform.admin',
  'roles/aiplatform.reasoningEngineServiceAgent',
  'roles/aiplatform.serviceAgent',
  'roles/discoveryengine.admin',
  'roles/discoveryengine.editor',
  'roles/dialogflow.admin',
  'roles/dialogflow.client',
  'roles/ml.developer',
])
