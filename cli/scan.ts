/**
 * `leash scan [--source NAME]… [--all] [--json]`: scans sources now, in this process (no web
 * server, no queue), with a progress bar on stderr. With --json, one summary object per source
 * on stdout (one per line). Exit code 1 when any scan failed or could not start.
 */
import type { Command } from 'commander'
import type { ScanCommandOptions } from './scan-run.js'
import { onShutdown, shutdown } from './shutdown.js'

export function registerScanCommand(program: Command): Command {
  return (
    program
      .command('scan')
      .description('Scan sources now, in this process, and print a summary per source (exit code 1 if a scan failed).')
      .option('-s, --source <name>', 'scan this source (repeatable)', (value: string, previous: string[] = []) => [...previous, value])
      .option('-a, --all', 'scan every enabled source')
      .option('--json', 'print one JSON summary object per source (one per line) instead of text')
      .option('-c, --config <file>', 'config file with sources (default: $LEASH_CONFIG or ./leash.config.yaml)')
      .option('--demo', 'start the demo stand-ins in this process, register the demo sources, scan them and exit (no cloud account needed)')
      .addHelpText('after', '\nWithout --source or --all, scans the only source if there is exactly one.\nScans from the queue (`leash worker`) and from here never overlap: a source being scanned is reported, not scanned twice.')
      .action(async (options: ScanCommandOptions & { config?: string; demo?: boolean }) => {
        const log = (line: string) => console.error(`leash: ${line}`)
        // Imported when the command runs, so --help and argument errors do not load the scanners.
        const [{ openDatabase }, { applyConfigFile }, { runScanCommand }] = await Promise.all([import('../db/open.js'), import('./config-file.js'), import('./scan-run.js')])
        const database = await openDatabase({ applicationName: 'leash-scan', log: options.json ? undefined : log })
        onShutdown(() => database.close())
        // Sources in leash.config.yaml are synced first, so `leash scan --source` finds them.
        await applyConfigFile(database.db, { config: options.config, log: options.json ? undefined : log })
        if (options.demo) {
          const { runDemoScan } = await import('../jobs/demo/scan-command.js')
          // Always exit explicitly: nothing of the demo should outlive its summary.
          await shutdown((await runDemoScan(database, options)).code)
          return
        }
        const code = await runScanCommand(database, options)
        // Exit explicitly with the code (closing the database first), so idle pool connections
        // do not keep a finished scan alive: see cli/index.ts.
        await shutdown(code)
      })
  )
}
