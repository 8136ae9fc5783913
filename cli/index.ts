/**
 * `leash`: one entry point for the web app, the workers and the operator's commands.
 * Each command lives in its own module and registers itself here. A command's module holds only
 * its arguments; what it runs is imported when it runs, so `leash --help` and argument errors
 * answer at once instead of after the whole application has loaded.
 */
import { Command, CommanderError } from 'commander'
import { registerAuditCommand } from './audit.js'
import { registerMigrateCommand } from './migrate.js'
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
registerScanCommand(program)
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
