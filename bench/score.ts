/**
 * `npm run bench -- score [--identities N] [--json] [--batch-size B] [--reevaluate] [--threshold-change]`
 *
 * Scores N identities (default 1,000,000) already in PostgreSQL, each with 3 credentials,
 * 10 entitlements, owners for most and AI-agent signals for some, and prints the time and the
 * peak memory of the scoring pass. The data is seeded set-based (INSERT … SELECT
 * generate_series) into a dedicated database, `leash_bench`, on the server of DATABASE_URL
 * (or the embedded PostgreSQL), never into DATABASE_URL's own database; set
 * LEASH_BENCH_DATABASE_URL to name the database yourself. A database already seeded with N
 * identities is reused, and each run scores a fresh copy of it (`leash_bench_run`, dropped
 * afterwards), so every run measures the same full pass over the same on-disk state. With
 * LEASH_BENCH_DATABASE_URL the named database is scored in place after clearing derived state.
 * Before the pass it times a fixed piece of work and a page fault (bench/_machine.ts): the JSON
 * line gives them as `calibrationCpuMs` and `pageFaultMicros`, to compare runs on different days.
 * The JSON line also gives the first pass's CPU: `nodeCpuSeconds` (every thread of this process)
 * and, on Linux, `otherCpuSeconds` (the rest of the machine's busy time: PostgreSQL, when it runs
 * here). LEASH_SCORING_THREADS sets the pass's threads, as in production (docs/decisions/038).
 *
 * With --reevaluate, a second pass follows a day later by the pass's clock: nothing is flagged,
 * every identity is due for its daily re-evaluation (scoring/reevaluation.ts). Its time is
 * printed as well, and the JSON line gains `reevaluateSeconds` and `reevaluated`.
 *
 * With --threshold-change, an admin then raises one limit for the `bench-aws` source (half the
 * estate) from 365 to 366 days, which changes the outcome of almost no identity, and the next
 * pass is timed: it shows what such an edit costs the pass (the JSON line gains
 * `thresholdChangeSeconds` (marking included), `thresholdChangeMarkSeconds`, `thresholdChangeReassessed`, `thresholdChangeIdentityRowsWritten`
 * and `thresholdChangeWalMb`; the rows written are posture rows since docs/decisions/043).
 */
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/schema.js'
import { scorePendingIdentities } from '../scoring/index.js'
import { markRecordedScopeChanges } from '../scoring/scope-changes.js'
import { openBenchServer, type BenchDatabase } from './_bench-database.js'
import { calibrateMachine } from './_machine.js'

const BENCH_DATABASE = 'leash_bench'
/** Bumped whenever the seeded data changes shape, so an older seed is rebuilt (3: never scored in place; 4: posture rows of their own). */
const SEED_VERSION = 4

interface Args {
  identities: number
  json: boolean
  batchSize: number | undefined
  reevaluate: boolean
  thresholdChange: boolean
}

function parseArgs(args: string[]): Args {
  const parsed: Args = { identities: 1_000_000, json: false, batchSize: undefined, reevaluate: false, thresholdChange: false }
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index]
    if (arg === '--json') parsed.json = true
    else if (arg === '--reevaluate') parsed.reevaluate = true
    else if (arg === '--threshold-change') parsed.thresholdChange = true
    else if (arg === '--identities' || arg === '--batch-size') {
      const value = Number(args[(index += 1)])
      if (!Number.isInteger(value) || value < 1) throw new Error(`${arg} needs a positive whole number, e.g. ${arg} 100000`)
      if (arg === '--identities') parsed.identities = value
      else parsed.batchSize = value
    } else throw new Error(`unknown option "${arg}". Usage: npm run bench -- score [--identities N] [--json] [--batch-size B] [--reevaluate] [--threshold-change]`)
  }
  return parsed
}

async function seedIdentities(db: Kysely<Database>, n: number, log: (line: string) => void): Promise<void> {
  log(`Seeding ${n.toLocaleString('en')} identities (3 credentials and 10 entitlements each) …`)
  await sql`truncate identity_records, identity_search_text, findings, identity_scores, sources, posture_snapshots restart identity cascade`.execute(db)
  await sql`insert into sources (provider, name) values ('aws', 'bench-aws'), ('entra', 'bench-entra')`.execute(db)
  const started = Date.now()
  await sql`
    insert into identity_records (source_id, provider, kind, external_id, display_name, account_id, tags, created_at, last_used_at, last_used_known,
                            posture_inputs, agent_reasons)
    select s.id, s.provider,
      case g % 4 when 0 then 'role' when 1 then 'user' when 2 then 'service_principal' else 'application' end,
      'bench/' || g,
      case g % 20 when 0 then 'support-agent-' || g when 1 then 'deploy-agent-runner-' || g when 2 then 'llm-gateway-' || g else 'svc-' || g end,
      '1234567890' || (g % 10),
      (case g % 3 when 0 then '{"owner":"alice@example.com","env":"production"}' when 1 then '{"team":"platform"}' else '{}' end)::jsonb,
      now() - make_interval(days => g % 1000),
      case when g % 5 = 0 then null else now() - make_interval(days => g % 200) end,
      g % 7 <> 0,
      jsonb_build_object(
        'escalationPaths', (case when g % 50 = 0 then '[{"id":"passrole_lambda","title":"PassRole to a new Lambda","permissions":["iam:PassRole","lambda:CreateFunction"]}]' else '[]' end)::jsonb,
        'unusedGrants', (case g % 8 when 0 then '[{"name":"s3","lastUsedAt":null},{"name":"ec2","lastUsedAt":"2025-01-01T00:00:00Z"}]' when 1 then 'null' else '[]' end)::jsonb,
        'environments', (case when g % 25 = 0 then '["production","non_production"]' else '["production"]' end)::jsonb,
        'workloads', (case when g % 30 = 0 then '["app-a","app-b"]' else '["app-a"]' end)::jsonb,
        'monitoring', jsonb_build_object('usageData', case when g % 40 = 0 then 'unavailable' else 'available' end,
                                         'runtimeLogging', case when g % 10 = 0 then to_jsonb(false) else 'null'::jsonb end),
        'federationPossible', g % 6 = 0,
        'unreadable', (case when g % 100 = 0 then '[{"field":"usage","operation":"iam:GenerateServiceLastAccessedDetails","permission":"iam:GenerateServiceLastAccessedDetails"}]' else '[]' end)::jsonb),
      (case when g % 10 = 0 then '[{"id":"aws.trust.bedrock","platform":"bedrock","weight":0.85,"reason":"Trusted by bedrock.amazonaws.com","evidence":{}}]'
            when g % 20 = 1 then '[{"id":"aws.name.agent","platform":null,"weight":0.3,"reason":"Name contains agent","evidence":{}}]'
            else '[]' end)::jsonb
    from generate_series(1, ${n}::int) as g
    join lateral (select id, provider from sources where name = case when g % 2 = 0 then 'bench-aws' else 'bench-entra' end) s on true`.execute(
    db,
  )
  // Each identity's posture row, flagged for scoring as ingest leaves a new identity.
  await sql`insert into identity_posture (identity_id, provider) select id, provider from identity_records`.execute(db)
  // Credentials: a current key (rotated within ~5 months), a second key that is usually
  // inactive, and a client secret with an expiry (some too long, some already expired).
  await sql`
    insert into credentials (identity_id, external_id, type, status, created_at, expires_at, last_used_at, last_used_known, rotation_enabled, is_static)
    select i.id, 'KEY' || i.id || '-' || k,
      case when k = 3 or i.provider = 'entra' then 'client_secret' else 'access_key' end,
      case when k = 2 and i.id % 10 <> 0 then 'inactive' else 'active' end,
      now() - (case k when 1 then (i.id * 7) % 150 when 2 then 100 + i.id % 400 else (i.id * 13) % 300 end) * interval '1 day',
      case when k = 3 or i.provider = 'entra' then now() + (365 - ((i.id * 13) % 300) + (case when i.id % 8 = 0 then 400 else 0 end) - (case when i.id % 25 = 0 then 400 else 0 end)) * interval '1 day' end,
      case when (i.id + k) % 6 = 0 then null else now() - ((i.id + k) % 30) * interval '1 day' end,
      i.id % 9 <> 0,
      case when k = 3 then (i.id % 5 <> 0) end,
      true
    from identity_records i cross join generate_series(1, 3) as k`.execute(db)
  // Entitlements: mostly scoped reads and writes; describe calls on "*"; a few broad writes,
  // permission-management rights and administrators, as in a typical estate.
  await sql`
    insert into entitlements (identity_id, action, resource, access_level, source_kind, source_ref)
    select i.id,
      case when k = 10 and i.id % 100 = 0 then '*'
           when k = 10 and i.id % 33 = 0 then 'iam:PutRolePolicy'
           when k = 9 and i.id % 10 = 3 then 'sqs:SendMessage'
           when k = 8 and i.id % 10 = 0 then 'bedrock:InvokeModel'
           else (array['s3:GetObject','s3:PutObject','ec2:DescribeInstances','dynamodb:PutItem','sqs:ReceiveMessage','logs:PutLogEvents',
                       'kms:Decrypt','lambda:InvokeFunction','cloudwatch:GetMetricData','sts:GetCallerIdentity'])[k] end,
      case when (k = 10 and i.id % 100 = 0) or (k = 9 and i.id % 10 = 3) or k in (3, 9, 10) then '*'
           else 'arn:aws:s3:::bucket-' || (i.id % 1000) || '/*' end,
      case when k = 10 and i.id % 100 = 0 then 'admin'
           when k = 10 and i.id % 33 = 0 then 'permissions_management'
           when k = 9 and i.id % 10 = 3 then 'write'
           when k = 8 and i.id % 10 = 0 then 'read'
           else (array['read','write','list','write','read','write','read','write','read','list'])[k] end,
      'managed_policy', 'arn:aws:iam::123456789012:policy/bench-' || ((i.id + k) % 50)
    from identity_records i cross join generate_series(1, 10) as k`.execute(db)
  await sql`
    insert into identity_owners (identity_id, owner_ref, role, kind, source, display_name, active, can_add_credentials)
    select i.id,
      case when i.id % 50 = 0 then 'departed@example.com' when i.id % 7 = 0 then 'team-platform' else 'owner' || (i.id % 1000) || '@example.com' end,
      'owner',
      case when i.id % 7 = 0 then 'team' else 'person' end,
      case when i.id % 2 = 0 then 'tag' else 'provider' end,
      null,
      case when i.id % 97 = 0 then false end,
      i.provider = 'entra'
    from identity_records i where i.id % 5 < 4`.execute(db)
  await sql`insert into settings (key, value) values ('departed_owners', '["departed@example.com"]') on conflict (key) do update set value = excluded.value`.execute(
    db,
  )
  await sql`insert into settings (key, value) values ('bench_seed', ${JSON.stringify({ version: SEED_VERSION, identities: n })}::jsonb)
    on conflict (key) do update set value = excluded.value`.execute(db)
  log(`Seeded in ${((Date.now() - started) / 1000).toFixed(1)} s; vacuuming …`)
  await sql`vacuum analyze`.execute(db)
}

async function resetDerivedState(db: Kysely<Database>, log: (line: string) => void): Promise<void> {
  log('Clearing findings and scores from any previous run …')
  await sql`truncate findings, identity_scores, identity_changes, posture_snapshots`.execute(db)
  const result = await sql`update identity_posture set needs_scoring = true where not needs_scoring`.execute(db)
  if (Number(result.numAffectedRows ?? 0) > 0) await sql`vacuum analyze identity_posture`.execute(db)
  else await sql`analyze`.execute(db)
}

export async function run(argv: string[]): Promise<void> {
  const args = parseArgs(argv)
  const log = args.json ? (line: string) => console.error(line) : (line: string) => console.log(line)
  const server = await openBenchServer({ log })
  const seeded = await server.open(BENCH_DATABASE, { applicationName: 'leash-bench-score' })
  let target: BenchDatabase = seeded
  try {
    const marker = await sql<{
      value: { version?: number; identities?: number }
    }>`select value from settings where key = 'bench_seed'`.execute(seeded.handle.db)
    const count = await sql<{ n: number }>`select count(*)::int as n from identity_records`.execute(seeded.handle.db)
    const seed = marker.rows[0]?.value
    if (seed?.version !== SEED_VERSION || seed.identities !== args.identities || count.rows[0]?.n !== args.identities)
      await seedIdentities(seeded.handle.db, args.identities, log)
    else log(`Reusing ${args.identities.toLocaleString('en')} seeded identities in ${BENCH_DATABASE}.`)
    if (server.serverUrl) {
      // Score a fresh copy: the seeded database stays as ingest leaves it, and every run starts
      // from the same rows and layout (not from the previous run's dead tuples).
      await seeded.close()
      target = { handle: seeded.handle, close: async () => {} }
      log(`Copying ${BENCH_DATABASE} for this run …`)
      target = await server.open(`${BENCH_DATABASE}_run`, { applicationName: 'leash-bench-score', copyOf: BENCH_DATABASE })
    } else await resetDerivedState(seeded.handle.db, log)
    const db = target.handle.db

    // Start the clock on a quiet server: flush what seeding or copying left dirty (allowed to
    // superusers and pg_checkpoint members; skipped otherwise).
    await sql`checkpoint`.execute(db).catch(() => log('(no CHECKPOINT privilege: the pass may pay for earlier writes)'))
    // The machine's speed right now, beside the figure: it changes from hour to hour (bench/_machine.ts).
    const machine = calibrateMachine()
    log(`Machine now: fixed CPU work ${machine.cpuMs} ms, a page fault ${machine.pageFaultMicros} µs.`)
    let peakRss = process.memoryUsage().rss
    const sample = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss)
    }, 50)
    let lastLogged = 0
    const now = new Date()
    const cpuBefore = readCpu()
    const started = process.hrtime.bigint()
    const result = await scorePendingIdentities(db, {
      now,
      batchSize: args.batchSize,
      onProgress: (scored) => {
        peakRss = Math.max(peakRss, process.memoryUsage().rss)
        if (!args.json && scored - lastLogged >= 100_000) {
          lastLogged = scored
          console.log(`  ${scored.toLocaleString('en')} scored (${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s)`)
        }
      },
    })
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    const cpu = cpuSpent(cpuBefore)
    clearInterval(sample)
    peakRss = Math.max(peakRss, process.memoryUsage().rss)
    const findings = await sql<{ n: number }>`select count(*)::int as n from findings`.execute(db)
    const peakRssMb = Math.round(peakRss / 1024 / 1024)
    log(
      `Scored ${result.scored.toLocaleString('en')} identities in ${seconds.toFixed(1)} s ` +
        `(${Math.round(result.scored / seconds).toLocaleString('en')}/s), ${findings.rows[0]?.n.toLocaleString('en')} findings, peak RSS ${peakRssMb} MB.`,
    )
    if (cpu.machineBusySeconds !== undefined)
      log(
        `CPU during the pass: Node ${cpu.nodeSeconds.toFixed(1)} s, the rest of the machine (PostgreSQL, when it runs here) ${(cpu.machineBusySeconds - cpu.nodeSeconds).toFixed(1)} s, ` +
          `${Math.round((100 * cpu.machineBusySeconds) / (seconds * cpu.cores))} % of ${cpu.cores} cores busy.`,
      )
    const summary: Record<string, number> = { identities: result.scored, seconds: Math.round(seconds * 100) / 100, peakRssMb }
    summary.nodeCpuSeconds = Math.round(cpu.nodeSeconds * 10) / 10
    if (cpu.machineBusySeconds !== undefined) summary.otherCpuSeconds = Math.round((cpu.machineBusySeconds - cpu.nodeSeconds) * 10) / 10
    summary.calibrationCpuMs = machine.cpuMs
    summary.pageFaultMicros = machine.pageFaultMicros
    // The clock of the last pass: a later pass runs after it, never before.
    let lastPassAt = now
    if (args.reevaluate) {
      await sql`checkpoint`.execute(db).catch(() => {})
      const dayLater = new Date(now.getTime() + 25 * 3_600_000)
      lastPassAt = dayLater
      const reStarted = process.hrtime.bigint()
      const again = await scorePendingIdentities(db, { now: dayLater, batchSize: args.batchSize })
      const reSeconds = Number(process.hrtime.bigint() - reStarted) / 1e9
      log(`Re-evaluated ${again.scored.toLocaleString('en')} unchanged identities a day later in ${reSeconds.toFixed(1)} s (${Math.round(again.scored / reSeconds).toLocaleString('en')}/s).`)
      summary.reevaluated = again.scored
      summary.reevaluateSeconds = Math.round(reSeconds * 100) / 100
    }
    if (args.thresholdChange)
      Object.assign(summary, await timeThresholdChange(db, new Date(lastPassAt.getTime() + 60_000), args.batchSize, log))
    if (args.json) console.log(JSON.stringify(summary))
  } finally {
    await target.close()
    await server.stop()
  }
}

interface CpuReading {
  node: NodeJS.CpuUsage
  /** Busy clock ticks of the whole machine, from /proc/stat (Linux only). */
  machineBusyTicks?: number
}

/**
 * Where the pass's CPU goes: Node's own, and the machine's busy time around it, so that what
 * PostgreSQL spends shows up when it runs on this machine (decision 033 reasons in CPU per identity).
 */
function readCpu(): CpuReading {
  const node = process.cpuUsage()
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number)
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    const busy = fields.slice(0, 8).reduce((sum, value, index) => (index === 3 || index === 4 ? sum : sum + value), 0)
    return { node, machineBusyTicks: busy }
  } catch {
    return { node }
  }
}

function cpuSpent(before: CpuReading): { nodeSeconds: number; machineBusySeconds?: number; cores: number } {
  const after = readCpu()
  const used = process.cpuUsage(before.node)
  const nodeSeconds = (used.user + used.system) / 1e6
  const cores = availableParallelism()
  // Linux reports /proc/stat in USER_HZ, which is 100 on every architecture Node supports.
  if (before.machineBusyTicks === undefined || after.machineBusyTicks === undefined) return { nodeSeconds, cores }
  return { nodeSeconds, machineBusySeconds: (after.machineBusyTicks - before.machineBusyTicks) / 100, cores }
}

/**
 * An override for half the estate that changes almost no outcome, then the pass after it: what
 * it rewrites is the cost of the edit (docs/decisions/037).
 */
async function timeThresholdChange(
  db: Kysely<Database>,
  now: Date,
  batchSize: number | undefined,
  log: (line: string) => void,
): Promise<Record<string, number>> {
  await sql`checkpoint`.execute(db).catch(() => {})
  await sql`insert into threshold_overrides (scope_type, scope_value, threshold, value) values ('source', 'bench-aws', 'maxExpiryDays', '366')`.execute(
    db,
  )
  const before = await sql<{
    lsn: string
    xid: string
  }>`select pg_current_wal_lsn()::text as lsn, (txid_current() % 4294967296)::text as xid`.execute(db)
  const { lsn, xid } = before.rows[0]!
  const started = process.hrtime.bigint()
  // What the pass does first, timed on its own: marking the scope's identities.
  await markRecordedScopeChanges(db)
  const markSeconds = Number(process.hrtime.bigint() - started) / 1e9
  const result = await scorePendingIdentities(db, { now, batchSize })
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const after = await sql<{ wal: string; rows: number }>`
    select pg_wal_lsn_diff(pg_current_wal_lsn(), ${lsn}::pg_lsn)::text as wal,
           (select count(*)::int from identity_posture where xmin::text::bigint > ${xid}::bigint) as rows`.execute(db)
  const walMb = Math.round(Number(after.rows[0]!.wal) / 1024 / 1024)
  const rows = after.rows[0]!.rows
  log(
    `After a source-wide threshold change: ${result.scored.toLocaleString('en')} identities marked in ${markSeconds.toFixed(1)} s and assessed again, ${seconds.toFixed(1)} s in all, ` +
      `${rows.toLocaleString('en')} posture rows rewritten, ${walMb} MB of WAL.`,
  )
  return {
    thresholdChangeSeconds: Math.round(seconds * 100) / 100,
    thresholdChangeMarkSeconds: Math.round(markSeconds * 100) / 100,
    thresholdChangeReassessed: result.scored,
    thresholdChangeIdentityRowsWritten: rows,
    thresholdChangeWalMb: walMb,
  }
}
