/**
 * The command lines of the rule catalogue: what each provider's command runs, and the commands
 * several rules give for the same step (revoke a Vault token, delete an OpenAI project key…),
 * kept in one place so that a correction reaches every rule.
 */
import type { ProviderName } from '../../connectors/contract.js'

/** What a rule's command line for each provider runs: named next to the command, on the page and in the docs. */
export const COMMAND_TOOLS: Record<ProviderName, string> = {
  aws: 'AWS CLI',
  azure: 'Azure CLI',
  gcp: 'Google Cloud CLI (gcloud)',
  vault: 'Vault CLI',
  github: 'GitHub CLI (gh api)',
  openai: 'OpenAI Admin API (curl)',
  anthropic: 'Anthropic Admin API (curl)',
}

export const VAULT_REVOKE_TOKEN = 'vault token revoke -accessor ACCESSOR'
export const GITHUB_REVOKE_PAT = "gh api -X POST /orgs/ORG/personal-access-tokens -f action=revoke -F 'pat_ids[]=PAT_GRANT_ID'"
export const OPENAI_DELETE_PROJECT_KEY =
  'curl -X DELETE "https://api.openai.com/v1/organization/projects/PROJECT_ID/api_keys/KEY_ID" -H "Authorization: Bearer $OPENAI_ADMIN_KEY"'
export const ANTHROPIC_DEACTIVATE_KEY = `curl -X POST "https://api.anthropic.com/v1/organizations/api_keys/KEY_ID" -H "x-api-key: $ANTHROPIC_ADMIN_KEY" -H "anthropic-version: 2023-06-01" -H "content-type: application/json" -d '{"status":"inactive"}'`

/** Switching off an identity nobody uses, everywhere but AWS (where the rules' commands differ). */
export const DISABLE_UNUSED_IDENTITY = {
  azure: 'az ad sp update --id SP_ID --set accountEnabled=false',
  gcp: 'gcloud iam service-accounts disable SA_EMAIL',
  vault: VAULT_REVOKE_TOKEN,
  github: GITHUB_REVOKE_PAT,
  openai: OPENAI_DELETE_PROJECT_KEY,
  anthropic: ANTHROPIC_DEACTIVATE_KEY,
} as const
