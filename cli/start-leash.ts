/**
 * What `leash start` runs, loaded only when it runs (cli/start.ts defines the command), so
 * `leash --help` and argument errors do not wait for the whole application to load.
 */
import { ensureInitialAdmin } from '../app/utils/local-auth.server.js'
import { OidcConfigError, readOidcSettings } from '../app/utils/oidc.server.js'
import { openDatabase } from '../db/open.js'
import { scanServices, startScanQueue, startScanWorkers } from '../jobs/queue.js'
import { startDemoEstate } from '../jobs/demo/start.js'
import { startRevocationExpirySweep } from '../jobs/revocation/expiry-sweep.js'
import { startScheduler } from '../jobs/scheduler.js'
import { reevaluationIntervalMs } from '../scoring/reevaluation.js'
import { configuredThreads } from '../scoring/threads.js'
import { ensureAppBuilt } from './build-app.js'
import { applyConfigFile } from './config-file.js'
import { LeashError } from './errors.js'
import { ensurePortAvailable } from './port.js'
import { onShutdown } from './shutdown.js'
import { startWebServer } from './web-server.js'
import { startWebProcesses, webProcessCount } from './web-processes.js'

export interface StartOptions {
  port: number
  host: string
  dev?: boolean
  config?: string
}

export async function startLeash(options: StartOptions): Promise<void> {
  const { port } = options
  const webProcesses = webProcessCount()
  reevaluationIntervalMs() // a wrong LEASH_REEVALUATE_HOURS fails now, not at the first scoring pass
  configuredThreads() // so does a wrong LEASH_SCORING_THREADS
  const log = (line: string) => console.log(`leash: ${line}`)
  log('starting …')
  checkOidcSettings()
  await ensurePortAvailable(port, options.host)
  const database = await openDatabase({ log, applicationName: 'leash-main' })
  onShutdown(() => database.close())
  await ensureInitialAdmin(database.db, log)
  // Sources in leash.config.yaml first: a configured real source turns the demo estate off.
  await applyConfigFile(database.db, { config: options.config, log })
  // Scans: the shared queue, one worker and the scheduler in this process (`leash worker` adds more).
  const queue = await startScanQueue({ url: database.url, db: database.db, log })
  onShutdown(() => queue.stop())
  // No real source yet (and LEASH_DEMO is not 0): the demo estate, its first scans queued now.
  // Stopped after the workers (shutdown runs in reverse), so no scan sees its stand-in vanish.
  const demo = await startDemoEstate({ db: database.db, queue, log })
  if (demo) onShutdown(() => demo.stop())
  const workers = await startScanWorkers({ handle: database, queue, concurrency: 1, log })
  onShutdown(() => workers.stop())
  const scheduler = await startScheduler({ db: database.db, queue, schedulerId: workers.workerId, log })
  onShutdown(() => scheduler.stop())
  const expirySweep = startRevocationExpirySweep({ db: database.db, log })
  onShutdown(() => expirySweep.stop())
  // Built after the scans started, so a first start's build and the demo's first scans overlap.
  // The built app is served by web processes of their own (cli/web-processes.ts); --dev
  // serves it through Vite in this process.
  if (!options.dev) await ensureAppBuilt(log)
  const web = options.dev
    ? await startWebServer({ services: { db: database.db, ...scanServices(database.db, queue) }, port, host: options.host, dev: true })
    : await startWebProcesses({ count: webProcesses, port, host: options.host, databaseUrl: database.url, log })
  onShutdown(() => web.close())
  log(`ready: ${web.url}${options.dev ? '' : ` (${webProcesses} web process${webProcesses === 1 ? '' : 'es'})`}`)
}

/** A wrong single sign-on setting fails at start with what to fix, not at the first sign-in. */
function checkOidcSettings(): void {
  try {
    readOidcSettings()
  } catch (error) {
    if (error instanceof OidcConfigError) throw new LeashError(`Single sign-on is misconfigured: ${error.message}`, 'Fix the LEASH_OIDC_* environment variables (see docs/security.md), or unset LEASH_OIDC_ISSUER to use local accounts only.')
    throw error
  }
}
