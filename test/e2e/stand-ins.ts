/**
 * Provider stand-ins for the browser tests. The global setup starts them before the app, so
 * the app's SDK credential chain finds their fake credentials in its environment, and the
 * specs read the source settings that point at them from LEASH_E2E_AWS_SETTINGS.
 */
import { startAwsStandIn } from '../../connectors/aws/stand-in/index.js'
import type { AwsSettings } from '../../connectors/aws/settings.js'

export interface E2EStandIns {
  /** Environment the app process needs (fake AWS credentials; never real ones). */
  env: Record<string, string>
  /** Environment the specs read (settings of a source pointing at each stand-in). */
  specEnv: Record<string, string>
  stop(): Promise<void>
}

export async function startE2EStandIns(): Promise<E2EStandIns> {
  const aws = await startAwsStandIn({ seed: 'test' })
  return {
    env: aws.env,
    specEnv: { LEASH_E2E_AWS_SETTINGS: JSON.stringify(aws.settings) },
    stop: () => aws.stop(),
  }
}

/** Settings of an AWS source that scans the stand-in, for a spec to register. */
export function e2eAwsSettings(): AwsSettings {
  const raw = process.env.LEASH_E2E_AWS_SETTINGS
  if (!raw) throw new Error('LEASH_E2E_AWS_SETTINGS is not set: the e2e global setup starts the AWS stand-in (test/e2e/stand-ins.ts).')
  return JSON.parse(raw) as AwsSettings
}
