import type { Command } from 'commander'
import { openDatabase } from '../db/open.js'
import { ensureAppBuilt } from './build-app.js'
import { LeashError } from './errors.js'
import { onShutdown } from './shutdown.js'
import { startWebServer } from './web-server.js'

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('Run Leash: migrations, the embedded database when DATABASE_URL is unset, and the web app.')
    .option('-p, --port <port>', 'port for the web app (default: $PORT or 3000)')
    .option('--host <host>', 'interface to listen on', '0.0.0.0')
    .option('--dev', 'serve the app through Vite with hot reload (for development)')
    .action(async (options: { port?: string; host: string; dev?: boolean }) => {
      const port = parsePort(options.port ?? process.env.PORT ?? '3000')
      const log = (line: string) => console.log(`leash: ${line}`)
      log('starting …')
      const database = await openDatabase({ log, applicationName: 'leash-web' })
      onShutdown(() => database.close())
      if (!options.dev) await ensureAppBuilt(log)
      const web = await startWebServer({ services: { db: database.db }, port, host: options.host, dev: options.dev })
      onShutdown(() => web.close())
      log(`ready: ${web.url}`)
    })
}

function parsePort(value: string): number {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new LeashError(`"${value}" is not a valid port (PORT or --port).`, 'Use a whole number from 1 to 65535 (0 picks a free port), e.g. PORT=3000 npm start.')
  }
  return port
}
