/**
 * `leash start [--port N] [--host H] [--dev] [--config FILE]`: the command's arguments. What it
 * runs is in cli/start-leash.ts, imported only when it runs.
 */
import type { Command } from 'commander'
import { LeashError } from './errors.js'

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('Run Leash: migrations, the embedded database when DATABASE_URL is unset, the web app, the scan scheduler and one scan worker.')
    .option('-p, --port <port>', 'port for the web app (default: $PORT or 3000)')
    .option('--host <host>', 'interface to listen on', '0.0.0.0')
    .option('--dev', 'serve the app through Vite with hot reload (for development)')
    .option('-c, --config <file>', 'config file with sources (default: $LEASH_CONFIG or ./leash.config.yaml)')
    .action(async (options: { port?: string; host: string; dev?: boolean; config?: string }) => {
      const port = parsePort(options.port ?? process.env.PORT ?? '3000')
      const { startLeash } = await import('./start-leash.js')
      await startLeash({ ...options, port })
    })
}

function parsePort(value: string): number {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new LeashError(`"${value}" is not a valid port (PORT or --port).`, 'Use a whole number from 1 to 65535 (0 picks a free port), e.g. PORT=3000 npm start.')
  }
  return port
}
