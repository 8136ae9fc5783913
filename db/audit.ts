/**
 * The tamper-evident audit trail: an append-only hash chain in `audit_events`.
 *
 * Each event's `hash` is the SHA-256 (hex) of a canonical serialization of the event,
 * which includes `seq` and the previous event's hash (`prev_hash`; 64 zeros for the first).
 * Editing any field, deleting an event or reordering events therefore breaks the chain at
 * the first affected event, and `verifyAuditChain` names it.
 *
 * Canonical serialization (version 1), documented in docs/security.md:
 *   JSON of the object below with object keys sorted by UTF-16 code unit at every depth,
 *   no whitespace, strings escaped as JSON.stringify does, `occurred_at` as ISO-8601 UTC with
 *   milliseconds, absent values as null:
 *   { v: 1, seq, occurred_at, actor_type, actor_id, actor_display, action, object_type,
 *     object_id, before, after, reason, ip, prev_hash }
 *
 * Linear under concurrency: an append takes a transaction-scoped advisory lock, so the
 * "read the last hash, write the next event" pair never interleaves, and the lock is held
 * until the caller's transaction commits. Callers write the event in the same transaction as
 * the action it records, so if the audit write fails, the action does not happen.
 */
import { createHash } from 'node:crypto'
import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database } from './schema.js'

export type AuditActorType = 'user' | 'token' | 'system' | 'anonymous'

export interface AuditActor {
  type: AuditActorType
  id: string | null
  display: string | null
}

export interface AuditEventInput {
  actor: AuditActor
  action: string
  object?: { type: string; id: string } | null
  before?: unknown
  after?: unknown
  reason?: string | null
  ip?: string | null
  occurredAt?: Date
}

export const GENESIS_HASH = '0'.repeat(64)
/** Key of the advisory lock that serializes appends (an arbitrary constant: "leash-audit"). */
const AUDIT_LOCK_KEY = 0x6c65617368 // 'leash' in hex, fits in int8

/**
 * Keys whose values are never recorded, at any depth: secrets, session and API tokens,
 * password material. Matched case-insensitively after removing '-' and '_'.
 */
const SECRET_KEY_PATTERN =
  /^(password|passwd|newpassword|currentpassword|oldpassword|confirmpassword|passwordhash|onetimepassword|otp|secret|clientsecret|secretvalue|secretaccesskey|privatekey|token|accesstoken|refreshtoken|idtoken|sessiontoken|sessionid|sessioncookie|idhash|tokenhash|apikey|apitoken|authorization|cookie|setcookie|authorizationcode|codeverifier)$/
export const REDACTED = '[redacted]'

function isSecretKey(key: string): boolean {
  return SECRET_KEY_PATTERN.test(key.toLowerCase().replace(/[-_]/g, ''))
}

/** Values that look like a Leash token or a bearer credential are redacted wherever they appear. */
const SECRET_VALUE_PATTERN = /\bleash_[A-Za-z0-9]{6,}_[A-Za-z0-9_-]{16,}|\bBearer\s+\S+/g

/**
 * Removes secrets and normalizes a value to what jsonb will store and give back: Dates as
 * ISO strings, undefined and functions dropped, NUL characters (which jsonb rejects) removed.
 */
export function scrubAuditValue(value: unknown, depth = 0): unknown {
  if (depth > 20) return '[too deep]'
  if (value === null || value === undefined) return null
  if (value instanceof Date) return value.toISOString()
  if (typeof value === 'string') return value.replaceAll('\u0000', '').replace(SECRET_VALUE_PATTERN, REDACTED)
  if (typeof value === 'number') return Number.isFinite(value) ? value : null
  if (typeof value === 'boolean') return value
  if (typeof value === 'bigint') return value.toString()
  if (Array.isArray(value)) return value.map((item) => scrubAuditValue(item, depth + 1) ?? null)
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      if (item === undefined || typeof item === 'function') continue
      out[key.replaceAll('\u0000', '')] = isSecretKey(key) ? REDACTED : scrubAuditValue(item, depth + 1)
    }
    return out
  }
  return null
}

function scrubText(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null
  return value.replaceAll('\u0000', '').replace(SECRET_VALUE_PATTERN, REDACTED)
}

/** JSON with keys sorted at every depth: the same value always gives the same bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null'
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`
  if (value instanceof Date) return JSON.stringify(value.toISOString())
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

export interface HashedFields {
  seq: number
  occurred_at: Date
  actor_type: string
  actor_id: string | null
  actor_display: string | null
  action: string
  object_type: string | null
  object_id: string | null
  before: unknown
  after: unknown
  reason: string | null
  ip: string | null
  prev_hash: string
}

export function hashAuditEvent(event: HashedFields): string {
  const canonical = canonicalJson({
    v: 1,
    seq: event.seq,
    occurred_at: event.occurred_at.toISOString(),
    actor_type: event.actor_type,
    actor_id: event.actor_id,
    actor_display: event.actor_display,
    action: event.action,
    object_type: event.object_type,
    object_id: event.object_id,
    before: event.before ?? null,
    after: event.after ?? null,
    reason: event.reason,
    ip: event.ip,
    prev_hash: event.prev_hash,
  })
  return createHash('sha256').update(canonical, 'utf8').digest('hex')
}

type Db = Kysely<Database> | Transaction<Database>

/**
 * Appends one event. Pass the transaction of the action being recorded; given a plain Kysely
 * instance it opens a transaction of its own. Throws when the event cannot be written.
 */
export async function appendAuditEvent(db: Db, event: AuditEventInput): Promise<{ seq: number; hash: string }> {
  if (!db.isTransaction) {
    return db.transaction().execute((trx) => appendAuditEvent(trx, event))
  }
  if (!event.action || !/^[a-z0-9_.:-]+$/i.test(event.action)) {
    throw new Error(`Audit action "${event.action}" is not a dotted identifier such as "auth.sign_in.succeeded".`)
  }
  await sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`.execute(db)
  const last = await db.selectFrom('audit_events').select('hash').orderBy('seq', 'desc').limit(1).executeTakeFirst()
  const prevHash = last?.hash ?? GENESIS_HASH
  const { rows } = await sql<{ seq: string | number }>`select nextval(pg_get_serial_sequence('audit_events', 'seq')) as seq`.execute(db)
  const seq = Number(rows[0]!.seq)
  // Millisecond precision: what a JS Date holds, so the stored value hashes the same when read back.
  const occurredAt = new Date(Math.floor((event.occurredAt ?? new Date()).getTime()))
  const before = event.before === undefined ? null : scrubAuditValue(event.before)
  const after = event.after === undefined ? null : scrubAuditValue(event.after)
  const fields: HashedFields = {
    seq,
    occurred_at: occurredAt,
    actor_type: event.actor.type,
    actor_id: scrubText(event.actor.id),
    actor_display: scrubText(event.actor.display),
    action: event.action,
    object_type: scrubText(event.object?.type ?? null),
    object_id: scrubText(event.object?.id ?? null),
    before,
    after,
    reason: scrubText(event.reason),
    ip: scrubText(event.ip),
    prev_hash: prevHash,
  }
  const hash = hashAuditEvent(fields)
  await sql`
    insert into audit_events (seq, occurred_at, actor_type, actor_id, actor_display, action, object_type, object_id, before, after, reason, ip, prev_hash, hash)
    overriding system value
    values (${seq}, ${occurredAt}, ${fields.actor_type}, ${fields.actor_id}, ${fields.actor_display}, ${fields.action}, ${fields.object_type}, ${fields.object_id},
      ${before === null ? null : JSON.stringify(before)}::jsonb, ${after === null ? null : JSON.stringify(after)}::jsonb,
      ${fields.reason}, ${fields.ip}, ${prevHash}, ${hash})`.execute(db)
  return { seq, hash }
}

export type AuditVerification = { ok: true; events: number; headSeq: number | null; headHash: string } | { ok: false; brokenAtSeq: number; reason: string; events: number }

/**
 * Walks the whole chain in seq order (in pages, so it runs in constant memory) and reports the
 * first event whose hash or link does not match. `expectHead` (a seq and hash recorded
 * elsewhere, e.g. from a previous export) also catches deletion of the newest events.
 */
export async function verifyAuditChain(
  db: Kysely<Database>,
  options: { pageSize?: number; expectHead?: { seq: number; hash: string }; startAfter?: { seq: number; hash: string } } = {},
): Promise<AuditVerification> {
  const pageSize = options.pageSize ?? 2000
  // startAfter continues from an event already verified (incremental checks); a full check starts at the genesis.
  let prevHash = options.startAfter?.hash ?? GENESIS_HASH
  let prevSeq = options.startAfter?.seq ?? 0
  let events = 0
  let sawExpectedHead = options.expectHead === undefined
  for (;;) {
    const rows = await db.selectFrom('audit_events').selectAll().where('seq', '>', prevSeq).orderBy('seq', 'asc').limit(pageSize).execute()
    for (const row of rows) {
      events++
      if (row.prev_hash !== prevHash) {
        const reason =
          events === 1 && !options.startAfter
            ? `the first event does not start the chain (its previous hash is ${short(row.prev_hash)}, expected ${short(GENESIS_HASH)}): events before it were deleted or the chain was altered`
            : `its previous hash ${short(row.prev_hash)} does not match event ${prevSeq}'s hash ${short(prevHash)}: an event before it was deleted, inserted or reordered`
        return { ok: false, brokenAtSeq: row.seq, reason, events }
      }
      const expected = hashAuditEvent({ ...row, seq: row.seq, occurred_at: new Date(row.occurred_at) })
      if (expected !== row.hash) {
        return { ok: false, brokenAtSeq: row.seq, reason: `its content does not match its hash (stored ${short(row.hash)}, computed ${short(expected)}): the event was edited`, events }
      }
      if (options.expectHead && row.seq === options.expectHead.seq) {
        if (row.hash !== options.expectHead.hash) {
          return { ok: false, brokenAtSeq: row.seq, reason: `its hash ${short(row.hash)} differs from the recorded head ${short(options.expectHead.hash)}`, events }
        }
        sawExpectedHead = true
      }
      prevHash = row.hash
      prevSeq = row.seq
    }
    if (rows.length < pageSize) break
  }
  if (!sawExpectedHead && options.expectHead) {
    return {
      ok: false,
      brokenAtSeq: options.expectHead.seq,
      reason: `the recorded head event ${options.expectHead.seq} is missing: events at the end of the trail were deleted`,
      events,
    }
  }
  return { ok: true, events, headSeq: prevSeq === 0 ? null : prevSeq, headHash: prevHash }
}

function short(hash: string): string {
  return hash.length > 12 ? `${hash.slice(0, 12)}…` : hash
}
