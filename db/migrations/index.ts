/**
 * Every migration, by sortable name. A static list rather than a folder scan, so the same
 * set runs from the CLI (tsx) and from the bundled server alike.
 */
import type { Migration } from 'kysely'
import * as initial from './2026-11-21T0000_initial.js'
import * as jobsIngest from './2026-11-21T0105_jobs_ingest.js'
import * as authSecurity from './2026-11-21T0120_auth_security.js'
import * as dashboardIndexes from './2026-11-21T0160_dashboard_indexes.js'
import * as revocationClaims from './2026-11-21T0140_revocation_claims.js'
import * as scoring from './2026-11-21T0175_scoring.js'
import * as searchIndex from './2026-11-21T0190_search_index.js'
import * as scoringWritePath from './2026-11-22T0100_scoring_write_path.js'
import * as derivedRowsCascade from './2026-11-22T0200_derived_rows_cascade.js'
import * as findingsEvidenceJson from './2026-11-22T0300_findings_evidence_json.js'
import * as dropDuplicateCredentialAgeIndex from './2026-12-02T0100_drop_duplicate_credential_age_index.js'
import * as identityScoresComputedAtIndex from './2026-12-03T0100_identity_scores_computed_at_index.js'
import * as markIdentitiesOnScoringSettings from './2026-12-03T0200_mark_identities_on_scoring_settings.js'
import * as reassessScoredIdentities from './2026-12-04T0100_reassess_scored_identities.js'
import * as recordOwnerScopeChanges from './2026-12-04T0200_record_owner_scope_changes.js'
import * as identitySearchText from './2026-12-05T0100_identity_search_text.js'
import * as identityPostureTable from './2026-12-06T0100_identity_posture_table.js'
import * as notableEntitlements from './2026-12-06T0200_notable_entitlements.js'
import * as dropOpenFindingsIdentityIndex from './2026-12-07T0100_drop_open_findings_identity_index.js'
import * as findingsKeyedByIdentity from './2026-12-07T0200_findings_keyed_by_identity.js'
import * as agentRiskIndexForAgentsOnly from './2026-12-07T0300_agent_risk_index_for_agents_only.js'

export const migrations: Record<string, Migration> = {
  '2026-11-21T0000_initial': initial,
  '2026-11-21T0105_jobs_ingest': jobsIngest,
  '2026-11-21T0120_auth_security': authSecurity,
  '2026-11-21T0160_dashboard_indexes': dashboardIndexes,
  '2026-11-21T0140_revocation_claims': revocationClaims,
  '2026-11-21T0175_scoring': scoring,
  '2026-11-21T0190_search_index': searchIndex,
  '2026-11-22T0100_scoring_write_path': scoringWritePath,
  '2026-11-22T0200_derived_rows_cascade': derivedRowsCascade,
  '2026-11-22T0300_findings_evidence_json': findingsEvidenceJson,
  '2026-12-02T0100_drop_duplicate_credential_age_index': dropDuplicateCredentialAgeIndex,
  '2026-12-03T0100_identity_scores_computed_at_index': identityScoresComputedAtIndex,
  '2026-12-03T0200_mark_identities_on_scoring_settings': markIdentitiesOnScoringSettings,
  '2026-12-04T0100_reassess_scored_identities': reassessScoredIdentities,
  '2026-12-04T0200_record_owner_scope_changes': recordOwnerScopeChanges,
  '2026-12-05T0100_identity_search_text': identitySearchText,
  '2026-12-06T0100_identity_posture_table': identityPostureTable,
  '2026-12-06T0200_notable_entitlements': notableEntitlements,
  '2026-12-07T0100_drop_open_findings_identity_index': dropOpenFindingsIdentityIndex,
  '2026-12-07T0200_findings_keyed_by_identity': findingsKeyedByIdentity,
  '2026-12-07T0300_agent_risk_index_for_agents_only': agentRiskIndexForAgentsOnly,
}
