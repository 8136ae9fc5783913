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
