/**
 * The rule catalogue. One module per rule, metadata beside logic (Prowler's habit), so a
 * security lead can read why a finding exists and how to fix it. docs/rules.md is generated
 * from this list (`npx tsx scoring/docs.ts`); a test fails when the two disagree.
 */
import type { Rule } from '../types.js'
import { credentialAgeIdentityMultipleActiveKeys } from './credential-age/identity-multiple-active-keys.js'
import { credentialAgeSecretExpiredPresent } from './credential-age/secret-expired-present.js'
import { credentialAgeSecretExpiryTooFar } from './credential-age/secret-expiry-too-far.js'
import { credentialAgeSecretFederationPossible } from './credential-age/secret-federation-possible.js'
import { credentialAgeSecretNeverRotated } from './credential-age/secret-never-rotated.js'
import { credentialAgeSecretTooOld } from './credential-age/secret-too-old.js'
import { monitoringAgentRuntimeLoggingDisabled } from './monitoring/agent-runtime-logging-disabled.js'
import { monitoringCredentialUnused } from './monitoring/credential-unused.js'
import { monitoringIdentityNeverUsed } from './monitoring/identity-never-used.js'
import { monitoringIdentityNoLastUsedData } from './monitoring/identity-no-last-used-data.js'
import { monitoringIdentityUnused } from './monitoring/identity-unused.js'
import { monitoringSourceUsageLogsUnavailable } from './monitoring/source-usage-logs-unavailable.js'
import { ownershipAgentNoSponsor } from './ownership/agent-no-sponsor.js'
import { ownershipIdentityNoOwner } from './ownership/identity-no-owner.js'
import { ownershipIdentityOwnersCanAddCredentials } from './ownership/identity-owners-can-add-credentials.js'
import { ownershipOwnerGroupOnly } from './ownership/owner-group-only.js'
import { ownershipOwnerInactive } from './ownership/owner-inactive.js'
import { privilegeIdentityCrossEnvironment } from './privilege/identity-cross-environment.js'
import { privilegeIdentityEscalationPath } from './privilege/identity-escalation-path.js'
import { privilegeIdentityFullAdmin } from './privilege/identity-full-admin.js'
import { privilegeIdentityPermissionsManagement } from './privilege/identity-permissions-management.js'
import { privilegeIdentitySharedWorkloads } from './privilege/identity-shared-workloads.js'
import { privilegeIdentityUnusedGrants } from './privilege/identity-unused-grants.js'
import { privilegeWriteWildcardResource } from './privilege/write-wildcard-resource.js'

export const rules: Rule[] = [
  ownershipIdentityNoOwner,
  ownershipOwnerInactive,
  ownershipOwnerGroupOnly,
  ownershipIdentityOwnersCanAddCredentials,
  ownershipAgentNoSponsor,
  privilegeIdentityFullAdmin,
  privilegeIdentityPermissionsManagement,
  privilegeIdentityEscalationPath,
  privilegeWriteWildcardResource,
  privilegeIdentityUnusedGrants,
  privilegeIdentitySharedWorkloads,
  privilegeIdentityCrossEnvironment,
  credentialAgeSecretTooOld,
  credentialAgeSecretNeverRotated,
  credentialAgeSecretExpiryTooFar,
  credentialAgeSecretExpiredPresent,
  credentialAgeIdentityMultipleActiveKeys,
  credentialAgeSecretFederationPossible,
  monitoringIdentityNeverUsed,
  monitoringIdentityUnused,
  monitoringCredentialUnused,
  monitoringIdentityNoLastUsedData,
  monitoringSourceUsageLogsUnavailable,
  monitoringAgentRuntimeLoggingDisabled,
]

export const rulesById: ReadonlyMap<string, Rule> = new Map(rules.map((rule) => [rule.id, rule]))

export function getRule(id: string): Rule | undefined {
  return rulesById.get(id)
}
