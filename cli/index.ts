/**
 * `leash`: one entry point for the web app, the workers and the operator's commands.
 * Each command lives in its own module and registers itself here.
 */
import { Command, CommanderError } from 'commander'
import { registerAuditCommand } from './audit.js'
import { registerMigrateCommand } from './migrate.js'
import { addDemoOption } from '../jobs/demo/scan-command.js'
import { registerScanCommand } from './scan.js'
import { registerStartCommand } from './start.js'
import { registerWorkerCommand } from './worker.js'
import { describeError } from './errors.js'
import { shutdown } from './shutdown.js'

const program = new Command('leash')
  .description('Leash: inventory and posture of the non-human identities that AI agents hold.')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()

registerStartCommand(program)
registerMigrateCommand(program)
addDemoOption(registerScanCommand(program))
registerWorkerCommand(program)
registerAuditCommand(program)

try {
  await program.parseAsync(process.argv)
} catch (error) {
  // Exit explicitly: an embedded database or open handles must not keep a failed command alive,
  // and tsx's loader does not carry process.exitCode through.
  if (error instanceof CommanderError) {
    process.exit(error.exitCode)
  }
  console.error(`leash: ${describeError(error)}`)
  await shutdown(1)
}
