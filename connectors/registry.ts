/**
 * The one registry of providers. Adding a provider: create connectors/<name>/, add its name
 * to PROVIDER_NAMES in contract.ts, and its entry here.
 */
import { LeashError } from '../cli/errors.js'
import { PROVIDER_NAMES, type Provider, type ProviderName } from './contract.js'
import { anthropicProvider } from './anthropic/index.js'
import { awsProvider } from './aws/index.js'
import { azureProvider } from './azure/index.js'
import { gcpProvider } from './gcp/index.js'
import { githubProvider } from './github/index.js'
import { openaiProvider } from './openai/index.js'
import { vaultProvider } from './vault/index.js'

export const providers: Record<ProviderName, Provider<any>> = {
  aws: awsProvider,
  openai: openaiProvider,
  anthropic: anthropicProvider,
  azure: azureProvider,
  github: githubProvider,
  vault: vaultProvider,
  gcp: gcpProvider,
}

export function isProviderName(name: string): name is ProviderName {
  return (PROVIDER_NAMES as readonly string[]).includes(name)
}

export function getProvider(name: string): Provider<any> {
  if (!isProviderName(name)) {
    throw new LeashError(`Unknown provider "${name}".`, `Use one of: ${PROVIDER_NAMES.join(', ') || '(none registered)'}.`)
  }
  return providers[name]
}
