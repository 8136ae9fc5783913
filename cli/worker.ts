/**
 * `leash worker [--concurrency N]`: an extra scan worker. Runs scans from the shared queue in
 * the database (DATABASE_URL) until stopped; start as many as you like, on any machine.
 */
import type { Command } from 'commander'
import { LeashError } from './errors.js'
import { onShutdown } from './shutdown.js'

// The database and the queue are imported when the command runs, so --help stays instant.

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('Run scans from the shared queue (scheduled scans and "scan now") until stopped. Start several for more throughput.')
    .option('-c, --concurrency <n>', 'scans this process runs at once', '1')
    .addHelpText('after', '\nWorkers find each other through the database only: point every one at the same DATABASE_URL.\nA source is never scanned by two workers at once; if a worker dies, another retries its scan.')
    .action(async (options: { concurrency: string }) => {
      const concurrency = Number(options.concurrency)
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) {
        throw new LeashError(`--concurrency "${options.concurrency}" is not valid.`, 'Use a whole number from 1 to 32.')
      }
      const log = (line: string) => console.log(`leash worker: ${line}`)
      const [{ openDatabase }, { startScanQueue, startScanWorkers }, { reevaluationIntervalMs }, { configuredThreads }] = await Promise.all([
        import('../db/open.js'),
        import('../jobs/queue.js'),
        import('../scoring/reevaluation.js'),
        import('../scoring/threads.js'),
      ])
      reevaluationIntervalMs() // a wrong LEASH_REEVALUATE_HOURS fails now, not at the first scoring pass
      configuredThreads() // so does a wrong LEASH_SCORING_THREADS
      const database = await openDatabase({ log, applicationName: 'leash-worker', poolSize: concurrency * 2 + 2 })
      onShutdown(() => database.close())
      const queue = await startScanQueue({ url: database.url, db: database.db, log })
      onShutdown(() => queue.stop())
      const workers = await startScanWorkers({ handle: database, queue, concurrency, log })
      onShutdown(() => workers.stop())
      log(`ready (${workers.workerId}, concurrency ${concurrency})`)
    })
}
