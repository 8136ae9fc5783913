/**
 * How a scan finds its provider: the registry (connectors/registry.ts), or one injected by a
 * test. Tests that run real worker processes cannot inject a function, so there is one
 * test-only escape hatch: LEASH_TEST_PROVIDER_MODULE names a module whose exported
 * `testProviders: Record<string, Provider>` is consulted before the registry. Only Leash's own
 * tests set it (jobs/*.test.ts); it is documented in docs/scans.md as not for production.
 */
import { pathToFileURL } from 'node:url'
import type { Provider } from '../connectors/contract.js'
import { getProvider } from '../connectors/registry.js'

export type ProviderResolver = (name: string) => Provider<any> | Promise<Provider<any>>

let testProviders: Promise<Record<string, Provider<any>>> | null = null

export const defaultProviderResolver: ProviderResolver = async (name) => {
  const module = process.env.LEASH_TEST_PROVIDER_MODULE
  if (module) {
    testProviders ??= import(pathToFileURL(module).href).then((m: { testProviders?: Record<string, Provider<any>> }) => m.testProviders ?? {})
    const provider = (await testProviders)[name]
    if (provider) return provider
  }
  return getProvider(name)
}
