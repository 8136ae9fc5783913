/**
 * Streaming ingest: the "load" and "cleanup" halves of a scan (Cartography's shape).
 *
 * Batches from a connector are buffered to a few thousand identities and written set-based,
 * each flush in one transaction stamped with the scan run:
 *   1. one indexed lookup of the stored digests of the batch's identities;
 *   2. unchanged identities get only their "last seen" stamp (one UPDATE … WHERE id = ANY);
 *   3. new identities (ids drawn from the identity sequence) and their credentials,
 *      entitlements and owners are COPYed straight into place;
 *   4. changed identities are COPYed into a temp staging table and merged with one
 *      UPDATE … FROM; their parts that changed are replaced (entitlements, owners) or upserted
 *      (credentials), compared with what was stored to write the change history;
 *   5. change history rows are COPYed into identity_changes.
 * So a first scan is mostly COPY, and a 1% rescan rewrites 1% of the children. The first scan
 * of a source is its baseline: no per-identity "new" events.
 *
 * Cleanup happens only in finishScope(scope, complete=true) and only for that (source, account):
 * a failed or partial scan retires nothing, and a cleanup that would retire more than half a
 * scope's identities retires none and leaves a warning for a person to confirm.
 *
 * Never touched here: agent_override*, claims, findings, scores (the scoring engine owns them).
 */
import type pg from 'pg'
import { ACCESS_LEVELS, type NormalizedIdentity, type ScanProblem, type ScanScope } from '../../connectors/contract.js'
import { copyField, copyJson, copyRows, CopyBuffer } from './copy.js'
import { MalformedIdentityError, prepareIdentity, type PreparedIdentity } from './prepare.js'

export interface IngestOptions {
  sourceId: string
  /** The provider name stored on each identity. */
  provider: string
  scanRunId: string
  /** The worker that owns the run; every flush checks the run is still running and still ours. */
  workerId: string | null
  /** Flush when this many identities are buffered (default 2000). */
  flushIdentities?: number
  /** Flush buffered identities at least this often, so progress shows for slow providers (default 1000 ms). */
  flushIntervalMs?: number
  /** Data Leash could not store (malformed identities): reported as scan problems. */
  onProblem?: (problem: ScanProblem) => void
  onProgress?: (stats: Readonly<IngestStats>) => void
}

export interface IngestStats {
  identitiesSeen: number
  credentialsSeen: number
  entitlementsSeen: number
  identitiesNew: number
  identitiesChanged: number
  identitiesUnchanged: number
  identitiesRetired: number
  identitiesSkipped: number
  credentialsRemoved: number
  changes: number
}

export interface RetireWarningScope {
  accountId: string
  /** Identities present (not gone) in the scope before this scan. */
  present: number
  /** How many this scan did not see and would have retired. */
  wouldRetire: number
}

export interface ScopeOutcome {
  accountId: string
  complete: boolean
  retired: number
  credentialsRemoved: number
  /** Set when the >50% guard held the cleanup back. */
  warning: RetireWarningScope | null
}

/** Thrown when the run was taken away (marked failed by another process after a lost heartbeat). */
export class RunNoLongerActiveError extends Error {
  constructor(scanRunId: string) {
    super(`Scan run ${scanRunId} is no longer running under this worker (another process marked it failed after its heartbeat stopped).`)
    this.name = 'RunNoLongerActiveError'
  }
}

interface StoredIdentity {
  id: number
  external_id: string
  status: string
  data_hash: string | null
  credentials_hash: string | null
  entitlements_hash: string | null
  owners_hash: string | null
  max_access_level: string | null
}

interface ChangeRow {
  identityId: number
  type: string
  details: Record<string, unknown>
}

const STAGE_IDENTITY_COLUMNS = [
  'id',
  'external_id',
  'kind',
  'display_name',
  'account_id',
  'tags',
  'attributes',
  'console_url',
  'created_at',
  'last_used_at',
  'last_used_known',
  'status',
  'posture_inputs',
  'agent_reasons',
  'write_credentials',
  'credential_count',
  'oldest_credential_at',
  'write_entitlements',
  'max_access_level',
  'data_hash',
  'credentials_hash',
  'entitlements_hash',
  'owners_hash',
] as const

const NEW_IDENTITY_COLUMNS = [
  'id',
  'source_id',
  'provider',
  'kind',
  'external_id',
  'display_name',
  'account_id',
  'tags',
  'attributes',
  'console_url',
  'created_at',
  'last_used_at',
  'last_used_known',
  'status',
  'posture_inputs',
  'agent_reasons',
  'data_hash',
  'credentials_hash',
  'entitlements_hash',
  'owners_hash',
  'first_seen_scan_id',
  'last_seen_scan_id',
] as const

/** A new identity's posture row: what ingest knows of it; scoring fills in the rest (needs_scoring defaults to true). */
const NEW_POSTURE_COLUMNS = ['identity_id', 'provider', 'credential_count', 'oldest_credential_at', 'max_access_level'] as const

const CREDENTIAL_COLUMNS = [
  'identity_id',
  'external_id',
  'type',
  'display_name',
  'status',
  'created_at',
  'expires_at',
  'last_used_at',
  'last_used_known',
  'last_rotated_at',
  'rotation_enabled',
  'is_static',
  'attributes',
  'first_seen_scan_id',
  'last_seen_scan_id',
] as const

const ENTITLEMENT_COLUMNS = ['identity_id', 'action', 'resource', 'access_level', 'source_kind', 'source_ref', 'conditional', 'last_seen_scan_id'] as const
const OWNER_COLUMNS = ['identity_id', 'owner_ref', 'role', 'kind', 'source', 'display_name', 'active', 'can_add_credentials'] as const
const CHANGE_COLUMNS = ['identity_id', 'source_id', 'scan_run_id', 'change_type', 'details'] as const

/**
 * What is stored for a batch's identities ($1 source id, $2 external ids): one probe of the
 * (source_id, external_id) unique key per identity, whatever the statistics say. The plain
 * `where source_id = $1 and external_id = any($2)` let the planner, on a table not yet analyzed
 * (a first scan; autovacuum off or not run yet), read every identity of the source through
 * identities_source_account_idx and filter them: O(table) per flush, O(n²) per scan, more than
 * a third of a 1M first scan. LATERAL … OFFSET 0 cannot be flattened into a hash join, so each
 * external id is looked up on its own (docs/decisions/030).
 */
export const STORED_IDENTITIES_SQL = `
  select s.* from unnest($2::text[]) as b(external_id),
    lateral (select i.id, i.external_id, i.status, i.data_hash, i.credentials_hash, i.entitlements_hash, i.owners_hash, p.max_access_level
               from identity_records i join identity_posture p on p.identity_id = i.id
              where i.source_id = $1 and i.external_id = b.external_id offset 0) s`

/** At most this many items are listed in one change row's details; the count is always exact. */
const DETAIL_LIMIT = 25
const MAX_PROBLEMS_REPORTED = 50
/** Identities prepared between two looks at the event loop while a flush is in flight. */
const YIELD_EVERY = 10

export class ScanIngest {
  readonly stats: IngestStats = {
    identitiesSeen: 0,
    credentialsSeen: 0,
    entitlementsSeen: 0,
    identitiesNew: 0,
    identitiesChanged: 0,
    identitiesUnchanged: 0,
    identitiesRetired: 0,
    identitiesSkipped: 0,
    credentialsRemoved: 0,
    changes: 0,
  }
  private buffer = new Map<string, PreparedIdentity>()
  private bufferedSeen = new Map<string, number>()
  private inflight: Promise<void> | null = null
  private failure: unknown = null
  private lastFlush = Date.now()
  private readonly tainted = new Set<string>()
  private readonly startedScopes = new Set<string>()
  private problemsReported = 0
  private closed = false
  /**
   * While most identities are new (a source's first scan; afterwards, whenever the last flush
   * found more than half of its identities new), their COPY rows are encoded as they are added,
   * while the previous flush is still running in PostgreSQL, instead of inside the flush where
   * PostgreSQL would wait for them. Rescans, where nearly every identity is unchanged, skip it:
   * the rows would be encoded for nothing.
   */
  private encodeAhead: boolean
  /** Rows encoded ahead for buffered identities, by external id; handed to the flush with the buffer. */
  private bufferedRows = new Map<string, FreshRows>()

  private constructor(
    private readonly client: pg.PoolClient,
    private readonly options: IngestOptions,
    /** The source had no identities before this scan: no per-identity "new" events. */
    readonly baseline: boolean,
  ) {
    this.encodeAhead = baseline
  }

  /** Takes a dedicated connection (its temp staging tables live as long as the scan). */
  static async open(pool: pg.Pool, options: IngestOptions): Promise<ScanIngest> {
    const client = await pool.connect()
    try {
      await client.query(`
        set jit = off;
        create temp table leash_stage_identities (
          id bigint, external_id text not null, kind text, display_name text, account_id text,
          tags jsonb, attributes jsonb, console_url text, created_at timestamptz, last_used_at timestamptz,
          last_used_known boolean, status text, posture_inputs jsonb, agent_reasons jsonb,
          write_credentials boolean, credential_count integer, oldest_credential_at timestamptz,
          write_entitlements boolean, max_access_level text,
          data_hash text, credentials_hash text, entitlements_hash text, owners_hash text
        ) on commit delete rows;
        create temp table leash_stage_credentials (
          identity_id bigint, external_id text, type text, display_name text, status text,
          created_at timestamptz, expires_at timestamptz, last_used_at timestamptz, last_used_known boolean,
          last_rotated_at timestamptz, rotation_enabled boolean, is_static boolean, attributes jsonb,
          first_seen_scan_id uuid, last_seen_scan_id uuid
        ) on commit delete rows;
        -- Credentials a scan no longer lists: removed only once their scope finishes complete.
        create temp table leash_pending_removals (
          credential_id bigint primary key, account_id text not null
        );
      `)
      const { rows } = await client.query<{ found: boolean }>(`select exists (select 1 from identity_records where source_id = $1) as found`, [options.sourceId])
      return new ScanIngest(client, options, !rows[0]!.found)
    } catch (error) {
      client.release(true)
      throw error
    }
  }

  /** Records the scope as started (scan_scopes row). */
  async startScope(scope: ScanScope): Promise<void> {
    await this.settle()
    await this.ensureScope(scope.accountId)
  }

  /**
   * Adds one batch from the connector. Flushes (in the background, one flush in flight at a
   * time) when enough is buffered; errors surface on the next call.
   */
  async add(scope: ScanScope, identities: NormalizedIdentity[]): Promise<void> {
    if (this.failure) throw this.failure
    if (!Array.isArray(identities)) {
      this.skip(scope, '(batch)', 'the batch is not a list of identities')
      return
    }
    const { sourceId, provider, scanRunId } = this.options
    let sinceYield = 0
    for (const raw of identities) {
      // While a flush is in flight, let its replies through every so often: PostgreSQL sits
      // idle from the moment a statement ends until Node reads the reply and sends the next.
      if (this.inflight && ++sinceYield >= YIELD_EVERY) {
        sinceYield = 0
        await new Promise<void>((resolve) => setImmediate(resolve))
      }
      let prepared: PreparedIdentity
      try {
        prepared = prepareIdentity(raw, scope.accountId)
      } catch (error) {
        if (!(error instanceof MalformedIdentityError)) throw error
        const id = typeof (raw as { externalId?: unknown } | null)?.externalId === 'string' ? (raw as { externalId: string }).externalId : '(no externalId)'
        this.skip(scope, id, error.message)
        continue
      }
      if (this.encodeAhead) this.bufferedRows.set(prepared.externalId, freshRows(sourceId, provider, scanRunId, prepared))
      else this.bufferedRows.delete(prepared.externalId)
      // One identity listed twice in a batch: the last listing wins.
      this.buffer.set(prepared.externalId, prepared)
      this.bufferedSeen.set(prepared.accountId, (this.bufferedSeen.get(prepared.accountId) ?? 0) + 1)
    }
    const due = this.buffer.size >= (this.options.flushIdentities ?? 2000) || Date.now() - this.lastFlush >= (this.options.flushIntervalMs ?? 1000)
    if (due && this.buffer.size > 0) await this.startFlush()
  }

  /** Writes everything buffered and waits for it. */
  async flush(): Promise<void> {
    await this.startFlush()
    await this.settle()
  }

  /**
   * Ends a scope. With complete=true (and nothing in the scope skipped as malformed), retires
   * what this run did not see in that (source, account): identities → 'gone', credentials no
   * longer listed → 'gone', each with a change row. Otherwise retires nothing.
   */
  async finishScope(scope: ScanScope, complete: boolean): Promise<ScopeOutcome> {
    await this.flush()
    const accountId = scope.accountId
    await this.ensureScope(accountId)
    const effective = complete && !this.tainted.has(accountId)
    const outcome: ScopeOutcome = { accountId, complete: effective, retired: 0, credentialsRemoved: 0, warning: null }
    const { sourceId, scanRunId } = this.options
    await this.transaction(async () => {
      if (effective) {
        const { rows } = await this.client.query<{ present: number; unseen: number }>(
          `select count(*)::int as present,
                  count(*) filter (where last_seen_scan_id is distinct from $3)::int as unseen
             from identity_records where source_id = $1 and account_id = $2 and status <> 'gone'`,
          [sourceId, accountId, scanRunId],
        )
        const { present, unseen } = rows[0]!
        if (unseen > 0 && unseen * 2 > present) {
          outcome.warning = { accountId, present, wouldRetire: unseen }
        } else if (unseen > 0) {
          outcome.retired = await retireUnseenIdentities((text, values) => this.client.query(text, values), { sourceId, accountId, scanRunId, onlySeenBeforeRun: false })
        }
        const removed = await this.client.query(
          `with gone as (
             update credentials c set status = 'gone', last_seen_at = now()
               from leash_pending_removals p
              where p.account_id = $3 and c.id = p.credential_id and c.status <> 'gone'
                and c.last_seen_scan_id is distinct from $2
             returning c.identity_id, c.external_id, c.type, c.status
           ), changes as (
             insert into identity_changes (identity_id, source_id, scan_run_id, change_type, details)
             select identity_id, $1, $2, 'credential_removed', jsonb_build_object('externalId', external_id, 'type', type)
               from gone
           )
           update identity_posture set needs_scoring = true where identity_id in (select identity_id from gone)`,
          [sourceId, scanRunId, accountId],
        )
        outcome.credentialsRemoved = removed.rowCount ?? 0
        await this.client.query(`delete from leash_pending_removals where account_id = $1`, [accountId])
      }
      await this.client.query(
        `update scan_scopes set status = $3, finished_at = now() where scan_run_id = $1 and account_id = $2`,
        [scanRunId, accountId, effective ? 'complete' : 'incomplete'],
      )
      await this.client.query(`update scan_runs set identities_retired = identities_retired + $2 where id = $1`, [scanRunId, outcome.retired])
    })
    this.stats.identitiesRetired += outcome.retired
    this.stats.credentialsRemoved += outcome.credentialsRemoved
    this.stats.changes += outcome.retired + outcome.credentialsRemoved
    return outcome
  }

  /** Releases the connection (destroying it, so its temp tables go with it). */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.inflight?.catch(() => {})
    this.client.release(true)
  }

  // ---------------------------------------------------------------------------------------

  private skip(scope: ScanScope, externalId: string, reason: string): void {
    this.tainted.add(scope.accountId)
    this.stats.identitiesSkipped += 1
    if (this.problemsReported >= MAX_PROBLEMS_REPORTED) return
    this.problemsReported += 1
    this.options.onProblem?.({
      scope,
      operation: 'leash:ingest',
      permission: null,
      message: `Identity ${externalId} in ${scope.accountId} was not stored: ${reason}.${this.problemsReported === MAX_PROBLEMS_REPORTED ? ' (Further malformed identities are counted in the summary, not listed.)' : ''}`,
      remedy:
        'The connector returned data Leash does not accept; report it with this identity id. Nothing in this scope is retired until a scan reads it cleanly.',
      fatalForScope: true,
    })
  }

  private async ensureScope(accountId: string): Promise<void> {
    if (this.startedScopes.has(accountId)) return
    await this.client.query(
      `insert into scan_scopes (scan_run_id, account_id, status) values ($1, $2, 'running') on conflict do nothing`,
      [this.options.scanRunId, accountId],
    )
    this.startedScopes.add(accountId)
  }

  private async startFlush(): Promise<void> {
    await this.settle()
    if (this.buffer.size === 0) return
    const batch = [...this.buffer.values()]
    const seen = this.bufferedSeen
    const encoded = this.bufferedRows
    this.bufferedRows = new Map()
    this.buffer = new Map()
    this.bufferedSeen = new Map()
    this.lastFlush = Date.now()
    this.inflight = this.write(batch, seen, encoded).catch((error: unknown) => {
      this.failure = error
    })
  }

  private async settle(): Promise<void> {
    if (this.inflight) {
      await this.inflight
      this.inflight = null
    }
    if (this.failure) throw this.failure
  }

  /** `setup` (plain SQL, no parameters) is sent with the BEGIN: one round trip fewer. */
  private async transaction(run: () => Promise<void>, setup = ''): Promise<void> {
    await this.client.query(setup ? `begin; ${setup}` : 'begin')
    try {
      await run()
      await this.client.query('commit')
    } catch (error) {
      await this.client.query('rollback').catch(() => {})
      throw error
    }
  }

  private async write(batch: PreparedIdentity[], seenByAccount: Map<string, number>, encoded: Map<string, FreshRows>): Promise<void> {
    for (const accountId of seenByAccount.keys()) await this.ensureScope(accountId)
    const { sourceId, scanRunId, provider } = this.options
    const client = this.client
    let newCount = 0
    let changedCount = 0
    let changesWritten = 0
    // Every statement below has an index path (unique key, primary key, identity_id). While a
    // first scan fills a table, its statistics say "tiny" and the planner would pick
    // sequential scans, making each batch O(table): forbid them for this transaction.
    // The penalty that forbids them also inflates costs past jit_above_cost; JIT-compiling
    // every small statement would cost more than running it.
    const setup = 'set local enable_seqscan = off; set local jit = off'
    await this.transaction(async () => {
      // The run must still be ours; this also row-locks it, so a stale-run sweep cannot fail it mid-flush.
      const owned = await client.query(
        `update scan_runs set heartbeat_at = now() where id = $1 and status = 'running' and worker_id is not distinct from $2 returning id`,
        [scanRunId, this.options.workerId],
      )
      if (owned.rowCount === 0) throw new RunNoLongerActiveError(scanRunId)

      const { rows: stored } = await client.query<StoredIdentity>(STORED_IDENTITIES_SQL, [sourceId, batch.map((p) => p.externalId)])
      const storedById = new Map(stored.map((row) => [row.external_id, row]))

      const unchangedIds: number[] = []
      const fresh: PreparedIdentity[] = []
      const changed: { prepared: PreparedIdentity; old: StoredIdentity; status: string; parts: ChangedParts }[] = []
      for (const prepared of batch) {
        const old = storedById.get(prepared.externalId)
        if (!old) {
          fresh.push(prepared)
          continue
        }
        const status = resolveIdentityStatus(old.status, prepared.identity.status)
        const returned = old.status === 'gone'
        const parts: ChangedParts = {
          returned,
          data: returned || old.data_hash !== prepared.dataHash || old.status !== status,
          credentials: prepared.credentialsHash !== null && (returned || old.credentials_hash !== prepared.credentialsHash),
          entitlements: prepared.entitlementsHash !== null && (returned || old.entitlements_hash !== prepared.entitlementsHash),
          owners: prepared.ownersHash !== null && (returned || old.owners_hash !== prepared.ownersHash),
        }
        if (parts.data || parts.credentials || parts.entitlements || parts.owners) changed.push({ prepared, old, status, parts })
        else unchangedIds.push(old.id)
      }

      this.encodeAhead = fresh.length * 2 > batch.length

      if (unchangedIds.length > 0) {
        await client.query(`update identity_records set last_seen_scan_id = $1, last_seen_at = now() where id = any($2::bigint[])`, [scanRunId, unchangedIds])
      }

      // Stage new and changed identities, then merge.
      // New identities: ids drawn from the identity sequence, rows COPYed straight into place,
      // and so are their credentials, entitlements and owners (nothing to compare with).
      const changes: ChangeRow[] = []
      const credentialRows = new CopyBuffer()
      const entitlementRows = new CopyBuffer()
      const ownerRows = new CopyBuffer()
      if (fresh.length > 0) {
        const { rows: ids } = await client.query<{ id: number }>(`select nextval('identities_id_seq'::regclass) as id from generate_series(1, $1::int)`, [fresh.length])
        const identityRows = new CopyBuffer()
        const postureRows = new CopyBuffer()
        fresh.forEach((prepared, index) => {
          const id = ids[index]!.id
          const rows = encoded.get(prepared.externalId) ?? freshRows(sourceId, provider, scanRunId, prepared)
          identityRows.line(id + rows.identity)
          postureRows.line(id + rows.posture)
          for (const tail of rows.credentials) credentialRows.line(id + tail)
          for (const tail of rows.entitlements) entitlementRows.line(id + tail)
          for (const tail of rows.owners) ownerRows.line(id + tail)
          // The first scan of a source is its baseline: everything is new, so no per-identity event.
          if (!this.baseline) {
            changes.push({ identityId: id, type: 'identity_new', details: { kind: prepared.identity.kind, displayName: prepared.identity.displayName, accountId: prepared.accountId } })
          }
        })
        await copyRows(client, 'identity_records', NEW_IDENTITY_COLUMNS, identityRows)
        await copyRows(client, 'identity_posture', NEW_POSTURE_COLUMNS, postureRows)
        newCount = fresh.length
      }
      // Changed identities: staged, then merged with one UPDATE … FROM.
      if (changed.length > 0) {
        const stage = new CopyBuffer()
        for (const { prepared, old, status, parts } of changed) {
          const keep: Pick<PreparedIdentity, 'credentialsHash' | 'entitlementsHash' | 'ownersHash'> = {
            credentialsHash: parts.credentials ? prepared.credentialsHash : old.credentials_hash,
            entitlementsHash: parts.entitlements ? prepared.entitlementsHash : old.entitlements_hash,
            ownersHash: parts.owners ? prepared.ownersHash : old.owners_hash,
          }
          stage.row(stageIdentityRow(old.id, prepared, status, parts.credentials, parts.entitlements, keep))
        }
        await copyRows(client, 'leash_stage_identities', STAGE_IDENTITY_COLUMNS, stage)
      }
      if (changed.length > 0) {
        await client.query('analyze leash_stage_identities')
        await client.query(
          `update identity_records i set
             kind = s.kind, display_name = s.display_name, account_id = s.account_id, tags = s.tags,
             attributes = s.attributes, console_url = s.console_url, created_at = s.created_at,
             last_used_at = s.last_used_at, last_used_known = s.last_used_known,
             status = s.status,
             status_changed_at = case when i.status is distinct from s.status then now() else i.status_changed_at end,
             posture_inputs = s.posture_inputs, agent_reasons = s.agent_reasons,
             data_hash = s.data_hash, credentials_hash = s.credentials_hash,
             entitlements_hash = s.entitlements_hash, owners_hash = s.owners_hash,
             last_seen_scan_id = $1, last_seen_at = now()
           from leash_stage_identities s
           where s.id is not null and i.id = s.id`,
          [scanRunId],
        )
        // The posture row: what ingest derives from credentials and entitlements, and the flag
        // that has the next pass score the identity again.
        await client.query(
          `update identity_posture p set
             credential_count = case when s.write_credentials then s.credential_count else p.credential_count end,
             oldest_credential_at = case when s.write_credentials then s.oldest_credential_at else p.oldest_credential_at end,
             max_access_level = case when s.write_entitlements then s.max_access_level else p.max_access_level end,
             needs_scoring = true
           from leash_stage_identities s
           where s.id is not null and p.identity_id = s.id`,
        )
        changedCount = changed.length
      }

      // Changed identities: compare with what is stored, record the changes, rewrite the part.
      for (const { prepared, old, status } of changed) {
        if (old.status === 'gone') {
          changes.push({ identityId: old.id, type: 'identity_returned', details: { status, displayName: prepared.identity.displayName } })
        } else if (old.status !== status) {
          changes.push({ identityId: old.id, type: 'status_changed', details: { from: old.status, to: status } })
        }
      }
      const credentialChanged = changed.filter((c) => c.parts.credentials)
      if (credentialChanged.length > 0) {
        await this.diffCredentials(credentialChanged, changes)
      }
      const entitlementChanged = changed.filter((c) => c.parts.entitlements)
      if (entitlementChanged.length > 0) {
        const ids = entitlementChanged.map((c) => c.old.id)
        const { rows } = await client.query<{ identity_id: number; action: string; resource: string; access_level: string; conditional: boolean }>(
          `select identity_id, action, resource, access_level, conditional from entitlements where identity_id = any($1::bigint[])`,
          [ids],
        )
        const before = groupBy(rows, (r) => r.identity_id)
        for (const { prepared, old } of entitlementChanged) {
          diffEntitlements(old, before.get(old.id) ?? [], prepared, changes)
          for (const e of prepared.entitlements) entitlementRows.line(old.id + entitlementTail(e, scanRunId))
        }
        await client.query(`delete from entitlements where identity_id = any($1::bigint[])`, [ids])
      }
      const ownerChanged = changed.filter((c) => c.parts.owners)
      if (ownerChanged.length > 0) {
        const ids = ownerChanged.map((c) => c.old.id)
        const { rows } = await client.query<{ identity_id: number; owner_ref: string; role: string; source: string }>(
          `delete from identity_owners where identity_id = any($1::bigint[]) and source <> 'claim' returning identity_id, owner_ref, role, source`,
          [ids],
        )
        const before = groupBy(rows, (r) => r.identity_id)
        for (const { prepared, old, parts } of ownerChanged) {
          const was = (before.get(old.id) ?? []).map((o) => ({ ref: o.owner_ref, role: o.role, source: o.source }))
          const now = prepared.owners.map((o) => ({ ref: o.ref, role: o.role, source: o.source }))
          const key = (list: { ref: string; role: string; source: string }[]) => list.map((o) => `${o.ref}|${o.role}|${o.source}`).sort().join('\n')
          if (!parts.returned && key(was) !== key(now)) {
            changes.push({ identityId: old.id, type: 'owner_changed', details: { before: was.slice(0, DETAIL_LIMIT), after: now.slice(0, DETAIL_LIMIT) } })
          }
          for (const o of prepared.owners) ownerRows.line(old.id + ownerTail(o))
        }
      }

      await copyRows(client, 'credentials', CREDENTIAL_COLUMNS, credentialRows)
      await copyRows(client, 'entitlements', ENTITLEMENT_COLUMNS, entitlementRows)
      await copyRows(client, 'identity_owners', OWNER_COLUMNS, ownerRows)
      if (changes.length > 0) {
        const changeRows = new CopyBuffer()
        for (const change of changes) {
          changeRows.row([String(change.identityId), copyField(sourceId), copyField(scanRunId), change.type, copyJson(change.details)])
        }
        await copyRows(client, 'identity_changes', CHANGE_COLUMNS, changeRows)
        changesWritten += changes.length
      }

      let credentialsSeen = 0
      let entitlementsSeen = 0
      for (const prepared of batch) {
        credentialsSeen += prepared.credentials.length
        entitlementsSeen += prepared.entitlements.length
      }
      // The run's and its scopes' counters in one statement (one round trip).
      await client.query(
        `with run as (
           update scan_runs set identities_seen = identities_seen + $4, credentials_seen = credentials_seen + $5,
                  entitlements_seen = entitlements_seen + $6, identities_new = identities_new + $7
            where id = $1
         )
         update scan_scopes s set identities_seen = s.identities_seen + x.n
           from unnest($2::text[], $3::int[]) as x(account_id, n)
          where s.scan_run_id = $1 and s.account_id = x.account_id`,
        [scanRunId, [...seenByAccount.keys()], [...seenByAccount.values()], batch.length, credentialsSeen, entitlementsSeen, newCount],
      )
      this.stats.credentialsSeen += credentialsSeen
      this.stats.entitlementsSeen += entitlementsSeen
    }, setup)
    this.stats.identitiesSeen += batch.length
    this.stats.identitiesNew += newCount
    this.stats.identitiesChanged += changedCount
    this.stats.identitiesUnchanged += batch.length - newCount - changedCount
    this.stats.changes += changesWritten
    this.options.onProgress?.(this.stats)
  }

  private async diffCredentials(
    changedIdentities: { prepared: PreparedIdentity; old: StoredIdentity; parts: ChangedParts }[],
    changes: ChangeRow[],
  ): Promise<void> {
    const client = this.client
    const { scanRunId } = this.options
    const ids = changedIdentities.map((c) => c.old.id)
    const { rows } = await client.query<{ id: number; identity_id: number; external_id: string; type: string; status: string }>(
      `select id, identity_id, external_id, type, status from credentials where identity_id = any($1::bigint[])`,
      [ids],
    )
    const before = groupBy(rows, (r) => r.identity_id)
    const stage = new CopyBuffer()
    const pendingIds: number[] = []
    const pendingAccounts: string[] = []
    for (const { prepared, old, parts } of changedIdentities) {
      const stored = new Map((before.get(old.id) ?? []).map((c) => [c.external_id, c]))
      for (const c of prepared.credentials) {
        const previous = stored.get(c.externalId)
        const status = resolveCredentialStatus(previous?.status ?? null, c.status)
        stage.line(old.id + credentialTail(c, status, scanRunId))
        if (!previous) {
          changes.push({ identityId: old.id, type: 'credential_added', details: { externalId: c.externalId, type: c.type, status } })
        } else if (previous.status !== status && !(parts.returned && previous.status === 'gone')) {
          changes.push({ identityId: old.id, type: 'credential_status_changed', details: { externalId: c.externalId, type: c.type, from: previous.status, to: status } })
        }
        stored.delete(c.externalId)
      }
      for (const leftover of stored.values()) {
        if (leftover.status === 'gone') continue
        pendingIds.push(leftover.id)
        pendingAccounts.push(prepared.accountId)
      }
    }
    await copyRows(client, 'leash_stage_credentials', CREDENTIAL_COLUMNS, stage)
    await client.query('analyze leash_stage_credentials')
    await client.query(
      `insert into credentials (${CREDENTIAL_COLUMNS.join(', ')})
       select ${CREDENTIAL_COLUMNS.join(', ')} from leash_stage_credentials
       on conflict (identity_id, external_id) do update set
         type = excluded.type, display_name = excluded.display_name, status = excluded.status,
         created_at = excluded.created_at, expires_at = excluded.expires_at, last_used_at = excluded.last_used_at,
         last_used_known = excluded.last_used_known, last_rotated_at = excluded.last_rotated_at,
         rotation_enabled = excluded.rotation_enabled, is_static = excluded.is_static, attributes = excluded.attributes,
         last_seen_scan_id = excluded.last_seen_scan_id, last_seen_at = now()`,
    )
    if (pendingIds.length > 0) {
      await client.query(
        `insert into leash_pending_removals (credential_id, account_id)
         select * from unnest($1::bigint[], $2::text[]) on conflict (credential_id) do nothing`,
        [pendingIds, pendingAccounts],
      )
    }
  }
}

interface ChangedParts {
  returned: boolean
  data: boolean
  credentials: boolean
  entitlements: boolean
  owners: boolean
}

/** Upstream is the truth, except that a Leash revocation is not undone by the provider reporting "disabled". */
function resolveIdentityStatus(stored: string, upstream: 'active' | 'disabled'): string {
  if (stored === 'revoked' && upstream === 'disabled') return 'revoked'
  return upstream
}

function resolveCredentialStatus(stored: string | null, upstream: string): string {
  if (stored === 'revoked' && upstream !== 'active') return 'revoked'
  return upstream
}

function stageIdentityRow(
  id: number | null,
  p: PreparedIdentity,
  status: string,
  writeCredentials: boolean,
  writeEntitlements: boolean,
  hashes: Pick<PreparedIdentity, 'credentialsHash' | 'entitlementsHash' | 'ownersHash'>,
): string[] {
  const i = p.identity
  return [
    copyField(id),
    copyField(p.externalId),
    copyField(i.kind),
    copyField(i.displayName),
    copyField(p.accountId),
    copyField(p.tagsJson),
    copyField(p.attributesJson),
    copyField(i.consoleUrl ?? null),
    copyField(i.createdAt),
    copyField(i.lastUsedAt),
    copyField(i.lastUsedKnown),
    status,
    copyField(p.postureJson),
    copyField(p.agentJson),
    copyField(writeCredentials),
    copyField(p.credentialCount),
    copyField(p.oldestCredentialAt),
    copyField(writeEntitlements),
    copyField(p.maxAccessLevel),
    copyField(p.dataHash),
    copyField(hashes.credentialsHash),
    copyField(hashes.entitlementsHash),
    copyField(hashes.ownersHash),
  ]
}

/*
 * Rows of a new identity and its parts, in COPY text format, each WITHOUT its leading identity
 * id: the id is drawn from the sequence only at the flush, and prefixed there (`id + tail`).
 */
interface FreshRows {
  /** COPY tails (after the id) for NEW_IDENTITY_COLUMNS and NEW_POSTURE_COLUMNS. */
  identity: string
  posture: string
  credentials: string[]
  entitlements: string[]
  owners: string[]
}

function freshRows(sourceId: string, provider: string, scanRunId: string, p: PreparedIdentity): FreshRows {
  return {
    identity: newIdentityTail(sourceId, provider, scanRunId, p),
    posture: ['', copyField(provider), copyField(p.credentialCount), copyField(p.oldestCredentialAt), copyField(p.maxAccessLevel)].join('\t'),
    credentials: p.credentials.map((c) => credentialTail(c, c.status, scanRunId)),
    entitlements: p.entitlements.map((e) => entitlementTail(e, scanRunId)),
    owners: p.owners.map(ownerTail),
  }
}

function newIdentityTail(sourceId: string, provider: string, scanRunId: string, p: PreparedIdentity): string {
  const i = p.identity
  return [
    '',
    sourceId,
    copyField(provider),
    copyField(i.kind),
    copyField(p.externalId),
    copyField(i.displayName),
    copyField(p.accountId),
    copyField(p.tagsJson),
    copyField(p.attributesJson),
    copyField(i.consoleUrl ?? null),
    copyField(i.createdAt),
    copyField(i.lastUsedAt),
    copyField(i.lastUsedKnown),
    i.status,
    copyField(p.postureJson),
    copyField(p.agentJson),
    copyField(p.dataHash),
    copyField(p.credentialsHash),
    copyField(p.entitlementsHash),
    copyField(p.ownersHash),
    scanRunId,
    scanRunId,
  ].join('\t')
}

function credentialTail(c: PreparedIdentity['credentials'][number], status: string, scanRunId: string): string {
  return [
    '',
    copyField(c.externalId),
    copyField(c.type),
    copyField(c.displayName ?? null),
    status,
    copyField(c.createdAt),
    copyField(c.expiresAt),
    copyField(c.lastUsedAt),
    copyField(c.lastUsedKnown === true),
    copyField(c.lastRotatedAt),
    copyField(c.rotationEnabled ?? null),
    copyField(c.isStatic !== false),
    copyJson(c.attributes ?? {}),
    scanRunId,
    scanRunId,
  ].join('\t')
}

function entitlementTail(e: PreparedIdentity['entitlements'][number], scanRunId: string): string {
  return [
    '',
    copyField(e.action),
    copyField(e.resource),
    e.accessLevel,
    copyField(e.sourceKind),
    copyField(e.sourceRef),
    copyField(e.conditional === true),
    scanRunId,
  ].join('\t')
}

function ownerTail(o: PreparedIdentity['owners'][number]): string {
  return [
    '',
    copyField(o.ref),
    copyField(o.role),
    copyField(o.kind ?? 'unknown'),
    copyField(o.source),
    copyField(o.displayName ?? null),
    copyField(o.active ?? null),
    copyField(o.canAddCredentials === true),
  ].join('\t')
}

function groupBy<T, K>(rows: T[], key: (row: T) => K): Map<K, T[]> {
  const map = new Map<K, T[]>()
  for (const row of rows) {
    const k = key(row)
    const list = map.get(k)
    if (list) list.push(row)
    else map.set(k, [row])
  }
  return map
}

function levelIndex(level: string | null): number {
  return level === null ? -1 : (ACCESS_LEVELS as readonly string[]).indexOf(level)
}

/** privilege_gained / privilege_lost: by (action, resource, conditional), with the max access level before and after. */
function diffEntitlements(
  old: StoredIdentity,
  before: { action: string; resource: string; access_level: string; conditional: boolean }[],
  prepared: PreparedIdentity,
  changes: ChangeRow[],
): void {
  const grantKey = (e: { action: string; resource: string; conditional: boolean }) => `${e.action}\u0001${e.resource}\u0001${e.conditional ? 'c' : ''}`
  const was = new Map(before.map((e) => [grantKey(e), { action: e.action, resource: e.resource, accessLevel: e.access_level, conditional: e.conditional }]))
  const now = new Map(
    prepared.entitlements.map((e) => [grantKey(e), { action: e.action, resource: e.resource, accessLevel: e.accessLevel as string, conditional: e.conditional }]),
  )
  const added = [...now.entries()].filter(([k]) => !was.has(k)).map(([, v]) => v)
  const removed = [...was.entries()].filter(([k]) => !now.has(k)).map(([, v]) => v)
  const maxAccessLevel = { from: old.max_access_level, to: prepared.maxAccessLevel }
  const levelUp = levelIndex(prepared.maxAccessLevel) > levelIndex(old.max_access_level)
  const levelDown = levelIndex(prepared.maxAccessLevel) < levelIndex(old.max_access_level)
  if (added.length > 0 || levelUp) {
    changes.push({ identityId: old.id, type: 'privilege_gained', details: { added: added.slice(0, DETAIL_LIMIT), addedCount: added.length, maxAccessLevel } })
  }
  if (removed.length > 0 || levelDown) {
    changes.push({ identityId: old.id, type: 'privilege_lost', details: { removed: removed.slice(0, DETAIL_LIMIT), removedCount: removed.length, maxAccessLevel } })
  }
}

/**
 * Marks identities of one (source, account) that were not seen by `scanRunId` as gone, with an
 * identity_gone change each; their credentials become 'gone' too. `onlySeenBeforeRun` (used when
 * a person confirms a held-back retirement later) limits it to identities last seen before that
 * run started, so nothing a later scan saw is retired.
 */
export type RawQuery = (text: string, values: unknown[]) => Promise<{ rowCount: number | null }>

export async function retireUnseenIdentities(
  query: RawQuery,
  options: { sourceId: string; accountId: string; scanRunId: string; onlySeenBeforeRun: boolean; confirmedBy?: string },
): Promise<number> {
  const { rowCount } = await query(
    `with gone as (
       update identity_records set status = 'gone', status_changed_at = now()
        where source_id = $1 and account_id = $2 and status <> 'gone'
          and last_seen_scan_id is distinct from $3
          and (not $4::boolean or last_seen_at < (select started_at from scan_runs where id = $3))
       returning id, display_name, last_seen_at, last_seen_scan_id
     ), flagged as (
       update identity_posture set needs_scoring = true where identity_id in (select id from gone)
     ), creds as (
       update credentials set status = 'gone' where identity_id in (select id from gone) and status <> 'gone'
     )
     insert into identity_changes (identity_id, source_id, scan_run_id, change_type, details)
     select id, $1, $3, 'identity_gone',
            jsonb_strip_nulls(jsonb_build_object('displayName', display_name, 'lastSeenAt', last_seen_at,
              'lastSeenScanId', last_seen_scan_id, 'confirmedBy', $5::text))
       from gone`,
    [options.sourceId, options.accountId, options.scanRunId, options.onlySeenBeforeRun, options.confirmedBy ?? null],
  )
  return rowCount ?? 0
}
