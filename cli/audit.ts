/**
 * `leash audit verify` checks the whole hash chain and names the first broken event.
 * `leash audit export [--since <time>]` writes the trail as JSON lines (one event per line) for a SIEM.
 */
import type { Command } from 'commander'
import { LeashError } from './errors.js'

// The database layer is imported when a subcommand runs, so --help and argument errors stay instant.

export function registerAuditCommand(program: Command): void {
  const audit = program.command('audit').description('Check and export the tamper-evident audit trail.')

  audit
    .command('verify')
    .description('Recompute every event hash and link; exit 1 and name the first broken event if the chain was altered.')
    .option('--expect-head <seq:hash>', 'also require this event (recorded earlier, e.g. from an export) to still head the chain at its position')
    .action(async (options: { expectHead?: string }) => {
      const expectHead = options.expectHead ? parseHead(options.expectHead) : undefined
      const [{ openDatabase }, { verifyAuditChain }] = await Promise.all([import('../db/open.js'), import('../db/audit.js')])
      const database = await openDatabase({ applicationName: 'leash-audit' })
      try {
        const result = await verifyAuditChain(database.db, { expectHead })
        if (result.ok) {
          console.log(`leash: audit chain intact: ${result.events} events${result.headSeq !== null ? `, head #${result.headSeq} ${result.headHash}` : ''}.`)
        } else {
          // A LeashError exits 1 (cli/index.ts) with the message and what to do.
          throw new LeashError(
            `audit chain BROKEN at event #${result.brokenAtSeq}: ${result.reason} (${result.events} events checked; those before #${result.brokenAtSeq} are intact).`,
            'Treat it as an incident: compare with your SIEM copy of the trail (leash audit export) and review who had owner or superuser access to the database.',
          )
        }
      } finally {
        await database.close()
      }
    })

  audit
    .command('export')
    .description('Write audit events as JSON lines to standard output (for a SIEM).')
    .option('--since <time>', 'only events at or after this ISO-8601 time, e.g. 2026-11-01T00:00:00Z')
    .option('--after-seq <seq>', 'only events after this sequence number (for incremental shipping)')
    .action(async (options: { since?: string; afterSeq?: string }) => {
      const since = options.since ? parseSince(options.since) : undefined
      const afterSeq = options.afterSeq ? parseSeq(options.afterSeq) : 0
      const [{ openDatabase }, { auditJsonLines }] = await Promise.all([import('../db/open.js'), import('../db/audit-export.js')])
      const database = await openDatabase({ applicationName: 'leash-audit' })
      try {
        for await (const line of auditJsonLines(database.db, { since, afterSeq })) {
          if (!process.stdout.write(line)) await new Promise((resolve) => process.stdout.once('drain', resolve))
        }
      } finally {
        await database.close()
      }
    })
}

function parseSince(value: string): Date {
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) throw new LeashError(`--since "${value}" is not a date and time.`, 'Use ISO-8601, e.g. --since 2026-11-01T00:00:00Z.')
  return date
}

function parseSeq(value: string): number {
  const seq = Number(value)
  if (!Number.isInteger(seq) || seq < 0) throw new LeashError(`--after-seq "${value}" is not a sequence number.`, 'Use the seq of the last event you already have, e.g. --after-seq 1200.')
  return seq
}

function parseHead(value: string): { seq: number; hash: string } {
  const match = /^(\d+):([0-9a-f]{64})$/.exec(value.trim())
  if (!match) throw new LeashError(`--expect-head "${value}" is not <seq>:<sha256>.`, 'Use the seq and hash of the last event of an earlier export, e.g. --expect-head 1200:3f5a…')
  return { seq: Number(match[1]), hash: match[2]! }
}
