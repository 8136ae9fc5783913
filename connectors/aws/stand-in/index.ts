/**
 * Starting the AWS stand-in: `startAwsStandIn({ seed })` serves a seeded estate on a random
 * loopback port and returns source settings and fake credentials that point the official SDK
 * clients at it. Tests get the live server too (faults, call counts, state).
 */
import type { RunningStandIn } from '../../contract.js'
import { awsSettingsSchema, type AwsSettings } from '../settings.js'
import { countDeclared, estateSource, type EstateDescription, type EstateSource } from './estate.js'
import { DEMO_DEPARTED_OWNERS, demoEstate, DEMO_EXTERNAL_ID } from './seeds/demo.js'
import { GENERATED_SCANNER, generatedEstate } from './seeds/generated.js'
import { TEST_EXTERNAL_ID, testEstate } from './seeds/test.js'
import { BASE_ACCESS_KEY_ID, BASE_SECRET_ACCESS_KEY, StandInServer } from './server.js'

export type AwsStandInSeed = 'demo' | 'test' | { identities: number } | { estate: EstateDescription; scannerRole: string; externalId?: string }

export interface AwsStandIn extends RunningStandIn<AwsSettings> {
  server: StandInServer
  estate: EstateSource
  url: string
}

export async function startAwsStandIn(options: { seed: AwsStandInSeed; port?: number; now?: Date }): Promise<AwsStandIn> {
  const now = options.now ?? new Date()
  let estate: EstateSource
  let roleName = 'LeashScanner'
  let externalId: string | undefined
  const seed = options.seed
  if (seed === 'test') {
    estate = estateSource(testEstate(now))
    externalId = TEST_EXTERNAL_ID
  } else if (seed === 'demo') {
    estate = estateSource(demoEstate(now))
    externalId = DEMO_EXTERNAL_ID
  } else if ('identities' in seed) {
    estate = generatedEstate(seed.identities, now)
    roleName = GENERATED_SCANNER.name
    externalId = GENERATED_SCANNER.externalId
  } else {
    estate = estateSource(seed.estate)
    roleName = seed.scannerRole
    externalId = seed.externalId
  }
  const server = new StandInServer(estate)
  const url = await server.start(options.port ?? 0)
  const settings = awsSettingsSchema.parse({
    organization: { roleName, ...(externalId ? { externalId } : {}) },
    endpoint: url,
    region: 'us-east-1',
  })
  return {
    settings,
    env: {
      AWS_ACCESS_KEY_ID: BASE_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: BASE_SECRET_ACCESS_KEY,
      AWS_REGION: 'us-east-1',
      // Never fall through to the EC2 metadata service when running against the stand-in.
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    declared: countDeclared(estate),
    // AWS cannot know who left: the demo directory lists them (scoring reads `departed_owners`).
    ...(seed === 'demo' ? { departedOwners: DEMO_DEPARTED_OWNERS } : {}),
    server,
    estate,
    url,
    stop: () => server.stop(),
  }
}
