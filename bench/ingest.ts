/**
 * `npm run bench -- ingest [--identities N] [--batch N] [--json]`
 *
 * Loads N synthetic identities (3 credentials, 10 entitlements, 1 owner each) through Leash's
 * real ingest path (jobs/ingest: the same ScanIngest a scan uses, fed generated batches), then
 * again as a rescan with 1% of identities changed, then copies the same rows with a bare COPY
 * into empty tables of the same shape (same columns and indexes, no foreign keys, no merge,
 * no history). Prints identities per second for each, the ratio Leash/COPY and peak memory.
 *
 * Works in a scratch database it creates (and drops) on DATABASE_URL's server, or on the
 * embedded PostgreSQL when DATABASE_URL is unset.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { connectDatabase } from '../db/connection.js'
import { startEmbeddedDatabase } from '../db/embedded.js'
import { migrateToLatest } from '../db/migrate.js'
import { copyField, copyJson, copyRows, CopyBuffer } from '../jobs/ingest/copy.js'
import { ScanIngest } from '../jobs/ingest/ingest.js'
import { startRunNow } from '../jobs/runs.js'
import { syntheticIdentity, syntheticScope, type Mutation } from '../jobs/testing/synthetic.js'
import type { NormalizedIdentity } from '../connectors/contract.js'

const ACCOUNT = '123456789012'
const MUTATIONS: Mutation[] = ['touched', 'credential_added', 'privilege_gained', 'owner_changed', 'credential_disabled', 'touched', 'privilege_lost', 'credential_removed', 'disabled', 'touched']

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(name)
  if (index >= 0) return args[index + 1]
  const inline = args.find((a) => a.startsWith(`${name}=`))
  return inline?.slice(name.length + 1)
}

function* batches(total: number, size: number, rescan: boolean): Generator<NormalizedIdentity[]> {
  for (let start = 0; start < total; start += size) {
    const batch: NormalizedIdentity[] = []
    for (let i = start; i < Math.min(total, start + size); i++) {
      // 1% changed on a rescan: every 100th identity, cycling through the kinds of change.
      const mutation = rescan && i % 100 === 0 ? MUTATIONS[(i / 100) % MUTATIONS.length]! : null
      batch.push(syntheticIdentity(ACCOUNT, i, { mutation }))
    }
    yield batch
  }
}

export async function run(args: string[]): Promise<void> {
  if (args.includes('--help')) {
    console.log('Usage: npm run bench -- ingest [--identities N (default 1000000)] [--batch N (default 1000)] [--json]')
    return
  }
  const total = Number(option(args, '--identities') ?? 1_000_000)
  const batchSize = Number(option(args, '--batch') ?? 1000)
  const asJson = args.includes('--json')
  if (!Number.isInteger(total) || total < 1) throw new Error('--identities must be a positive whole number')
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error('--batch must be a positive whole number')
  const log = (line: string) => {
    if (!asJson) console.log(line)
    else console.error(line)
  }

  let peakRss = process.memoryUsage().rss
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss)
  }, 100)
  sampler.unref()

  const embedded = process.env.DATABASE_URL ? null : await startEmbeddedDatabase({ log })
  const adminUrl = process.env.DATABASE_URL ?? embedded!.url
  const name = `leash_bench_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`create database ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  const handle = connectDatabase(url.toString(), { max: 4, applicationName: 'leash-bench' })
  try {
    await migrateToLatest(handle.db)
    const { db, pool } = handle
    const source = await db.insertInto('sources').values({ provider: 'aws', name: 'bench' }).returning('id').executeTakeFirstOrThrow()
    const scope = syntheticScope(ACCOUNT)

    const ingestOnce = async (rescan: boolean) => {
      const runId = await startRunNow(db, { sourceId: source.id, requestedBy: 'bench', trigger: 'cli', workerId: 'bench' })
      const started = performance.now()
      const ingest = await ScanIngest.open(pool, { sourceId: source.id, provider: 'aws', scanRunId: runId, workerId: 'bench' })
      try {
        await ingest.startScope(scope)
        for (const batch of batches(total, batchSize, rescan)) await ingest.add(scope, batch)
        const outcome = await ingest.finishScope(scope, true)
        const seconds = (performance.now() - started) / 1000
        await db.updateTable('scan_runs').set({ status: 'succeeded', finished_at: new Date() }).where('id', '=', runId).execute()
        return { seconds, stats: { ...ingest.stats }, outcome }
      } finally {
        await ingest.close()
      }
    }

    log(`Leash ingest: ${total.toLocaleString('en')} identities (3 credentials, 10 entitlements, 1 owner each) …`)
    const first = await ingestOnce(false)
    log(`  first scan: ${first.seconds.toFixed(1)} s, ${Math.round(total / first.seconds).toLocaleString('en')} identities/s`)
    await pool.query('vacuum analyze identity_records, identity_posture, credentials, entitlements, identity_owners')
    log('Leash ingest: rescan with 1% changed …')
    const second = await ingestOnce(true)
    log(`  rescan: ${second.seconds.toFixed(1)} s, ${Math.round(total / second.seconds).toLocaleString('en')} identities/s (${second.stats.identitiesChanged} changed, ${second.stats.changes} change rows)`)

    log('Bare COPY of the same rows into empty tables of the same shape …')
    const copySeconds = await bareCopy(pool, source.id, total, batchSize)
    log(`  bare COPY: ${copySeconds.toFixed(1)} s, ${Math.round(total / copySeconds).toLocaleString('en')} identities/s`)

    clearInterval(sampler)
    peakRss = Math.max(peakRss, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024)
    const result = {
      identities: total,
      leashPerSecond: Math.round(total / first.seconds),
      copyPerSecond: Math.round(total / copySeconds),
      ratio: Number((copySeconds / first.seconds).toFixed(3)),
      rescanPerSecond: Math.round(total / second.seconds),
      peakRssMb: Math.round(peakRss / 1024 / 1024),
    }
    log(`Leash/COPY ratio: ${result.ratio} (target ≥ 0.5); rescan/first: ${(first.seconds / second.seconds).toFixed(2)} (target ≥ 1); peak RSS ${result.peakRssMb} MB (target < 512)`)
    if (asJson) console.log(JSON.stringify(result))
  } finally {
    await handle.close()
    await admin.query(`drop database if exists ${name}`).catch(() => admin.query(`drop database if exists ${name} with (force)`))
    await admin.end()
    await embedded?.stop()
  }
}

/** The baseline: the same rows, COPYed straight into tables with the same columns and indexes. */
async function bareCopy(pool: pg.Pool, sourceId: string, total: number, batchSize: number): Promise<number> {
  const client = await pool.connect()
  try {
    for (const table of ['identity_records', 'identity_posture', 'credentials', 'entitlements', 'identity_owners']) {
      await client.query(`create table bare_${table} (like ${table} including all excluding identity)`)
    }
    const identityColumns = [
      'id', 'source_id', 'provider', 'kind', 'external_id', 'display_name', 'account_id', 'tags', 'attributes', 'console_url',
      'created_at', 'last_used_at', 'last_used_known', 'status', 'posture_inputs', 'agent_reasons',
    ]
    const postureColumns = ['identity_id', 'provider', 'credential_count', 'oldest_credential_at', 'max_access_level']
    const credentialColumns = ['id', 'identity_id', 'external_id', 'type', 'display_name', 'status', 'created_at', 'expires_at', 'last_used_at', 'last_used_known', 'last_rotated_at', 'rotation_enabled', 'is_static', 'attributes']
    const entitlementColumns = ['id', 'identity_id', 'action', 'resource', 'access_level', 'source_kind', 'source_ref', 'conditional']
    const ownerColumns = ['identity_id', 'owner_ref', 'role', 'kind', 'source', 'display_name', 'active', 'can_add_credentials']
    let nextIdentity = 1
    let nextCredential = 1
    let nextEntitlement = 1
    const encode = (batch: NormalizedIdentity[]) => {
      const identities = new CopyBuffer()
      const postures = new CopyBuffer()
      const credentials = new CopyBuffer()
      const entitlements = new CopyBuffer()
      const owners = new CopyBuffer()
      for (const i of batch) {
        const id = nextIdentity++
        const posture = { escalationPaths: i.escalationPaths, unusedGrants: i.unusedGrants, environments: i.environments, workloads: i.workloads, monitoring: i.monitoring, federationPossible: i.federationPossible, unreadable: i.unreadable }
        identities.row([
          String(id), sourceId, 'aws', i.kind, copyField(i.externalId), copyField(i.displayName), copyField(i.scope.accountId), copyJson(i.tags), copyJson(i.attributes),
          copyField(i.consoleUrl), copyField(i.createdAt), copyField(i.lastUsedAt), copyField(i.lastUsedKnown), i.status, copyJson(posture), copyJson(i.agentSignals),
        ])
        postures.row([String(id), 'aws', String(i.credentials.length), copyField(i.credentials[0]?.createdAt ?? null), 'admin'])
        for (const c of i.credentials) {
          credentials.row([
            String(nextCredential++), String(id), copyField(c.externalId), c.type, copyField(c.displayName), c.status, copyField(c.createdAt), copyField(c.expiresAt),
            copyField(c.lastUsedAt), copyField(c.lastUsedKnown), copyField(c.lastRotatedAt), copyField(c.rotationEnabled), copyField(c.isStatic), copyJson(c.attributes),
          ])
        }
        for (const e of i.entitlements) {
          entitlements.row([String(nextEntitlement++), String(id), copyField(e.action), copyField(e.resource), e.accessLevel, e.sourceKind, copyField(e.sourceRef), copyField(e.conditional)])
        }
        for (const o of i.owners) {
          owners.row([String(id), copyField(o.ref), o.role, o.kind, o.source, copyField(o.displayName), copyField(o.active), copyField(o.canAddCredentials)])
        }
      }
      return { identities, postures, credentials, entitlements, owners }
    }
    const send = async (rows: ReturnType<typeof encode>) => {
      await copyRows(client, 'bare_identity_records', identityColumns, rows.identities)
      await copyRows(client, 'bare_identity_posture', postureColumns, rows.postures)
      await copyRows(client, 'bare_credentials', credentialColumns, rows.credentials)
      await copyRows(client, 'bare_entitlements', entitlementColumns, rows.entitlements)
      await copyRows(client, 'bare_identity_owners', ownerColumns, rows.owners)
    }
    const started = performance.now()
    // Like Leash's ingest, encode the next batch while the previous one is being copied.
    let inflight: Promise<void> | null = null
    for (const batch of batches(total, batchSize, false)) {
      const rows = encode(batch)
      if (inflight) await inflight
      inflight = send(rows)
    }
    if (inflight) await inflight
    return (performance.now() - started) / 1000
  } finally {
    client.release()
  }
}
