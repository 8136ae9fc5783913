/**
 * Rows in PostgreSQL's binary COPY format (the "Binary Format" section of the COPY reference),
 * for the scoring pass's writes (docs/decisions/047). In text format PostgreSQL parses every
 * field back from text; two timestamps per finding were a sixth of a finding's COPY. In binary,
 * numbers and timestamps go as their bytes, and text and JSON as UTF-8 with no escaping.
 *
 * Like CopyBuffer (copy.ts), rows are encoded as they come into chunks of about 1 MB outside the
 * JavaScript heap. A field is never split between chunks; a row may be, which COPY allows (the
 * stream is one sequence of bytes).
 */

/** The 11-byte signature, then the flags field and the header extension's length (both 0). */
const HEADER = Buffer.from([...Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), 0, 0, 0, 0, 0, 0, 0, 0])
/** A field count of -1 ends the data. */
const TRAILER = Buffer.from([0xff, 0xff])

/** PostgreSQL counts timestamps in microseconds from 2000-01-01 00:00 UTC. */
const POSTGRES_EPOCH_MS = 946_684_800_000
const TWO_TO_32 = 2 ** 32

const CHUNK_BYTES = 1 << 20
/** A buffer's first chunk is smaller: most batches of a quiet pass write little or nothing. */
const FIRST_CHUNK_BYTES = 64 << 10

export class BinaryCopyBuffer {
  readonly format = 'binary'
  private readonly done: Buffer[] = []
  private chunk: Buffer | null = null
  private at = 0
  private rows = 0
  private started = false
  private finished = false

  /**
   * @param fragment Fields only, with no header, row counts or trailer: a block of fields that
   * many rows repeat, encoded once (see fieldBlock) and copied in with `block`.
   */
  constructor(private readonly fragment = false) {}

  /** Starts a row; exactly `fields` field writes must follow. */
  row(fields: number): this {
    if (this.finished) throw new Error('This COPY buffer was already finished (chunks() was called); start a new one.')
    this.room(2)
    this.chunk!.writeInt16BE(fields, this.at)
    this.at += 2
    this.rows += 1
    return this
  }

  null(): this {
    this.room(4)
    this.chunk!.writeInt32BE(-1, this.at)
    this.at += 4
    return this
  }

  /** An int8 (bigint) field from a whole number within JavaScript's safe range. */
  int8(value: number | null): this {
    if (value === null) return this.null()
    if (!Number.isSafeInteger(value)) throw new RangeError(`Expected a whole number for an int8 field, got ${value}.`)
    const at = this.fixedField(8)
    const high = Math.floor(value / TWO_TO_32)
    this.chunk!.writeInt32BE(high, at)
    this.chunk!.writeUInt32BE(value - high * TWO_TO_32, at + 4)
    return this
  }

  int4(value: number | null): this {
    if (value === null) return this.null()
    this.chunk!.writeInt32BE(value, this.fixedField(4))
    return this
  }

  int2(value: number | null): this {
    if (value === null) return this.null()
    this.chunk!.writeInt16BE(value, this.fixedField(2))
    return this
  }

  /** An xid (a transaction id: 32 bits, unsigned). */
  xid(value: number): this {
    this.chunk!.writeUInt32BE(value, this.fixedField(4))
    return this
  }

  /** A real (float4): the number rounded to single precision, as PostgreSQL would store it. */
  float4(value: number | null): this {
    if (value === null) return this.null()
    this.chunk!.writeFloatBE(value, this.fixedField(4))
    return this
  }

  bool(value: boolean | null): this {
    if (value === null) return this.null()
    this.chunk![this.fixedField(1)] = value ? 1 : 0
    return this
  }

  /** A timestamptz from milliseconds since the Unix epoch; NULL for null or NaN (an invalid Date). */
  timestamptz(milliseconds: number | null): this {
    if (milliseconds === null || Number.isNaN(milliseconds)) return this.null()
    // Exact: a whole number of microseconds within 2^53 for years 1715 to 2285.
    const micros = (milliseconds - POSTGRES_EPOCH_MS) * 1000
    if (!Number.isSafeInteger(micros)) throw new RangeError(`Cannot write ${new Date(milliseconds).toISOString()} as a timestamp to the microsecond.`)
    return this.int8(micros)
  }

  /** A text, json or other field whose binary form is its UTF-8 text. */
  text(value: string | null): this {
    if (value === null) return this.null()
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    this.room(4 + value.length * 3)
    const chunk = this.chunk!
    const written = chunk.write(value, this.at + 4, 'utf8')
    chunk.writeInt32BE(written, this.at)
    this.at += 4 + written
    return this
  }

  /** Fields encoded once by a fragment buffer (fieldBlock), copied in as they are. */
  block(fields: Uint8Array): this {
    this.room(fields.length)
    this.chunk!.set(fields, this.at)
    this.at += fields.length
    return this
  }

  /** Rows written (0 for a fragment). */
  get length(): number {
    return this.rows
  }

  /** The COPY data: header, rows and trailer, in chunks (none when no row was written). */
  chunks(): Buffer[] {
    if (!this.fragment && this.rows === 0) return []
    // Idempotent: a batch rolled back is written again from the same buffer (scoring/write.ts).
    if (!this.finished) {
      if (!this.fragment) this.block(TRAILER)
      this.close()
      this.finished = true
    }
    return this.done
  }

  /** Writes the length of a field of `size` bytes and returns where its value goes. */
  private fixedField(size: number): number {
    this.room(4 + size)
    this.chunk!.writeInt32BE(size, this.at)
    const at = this.at + 4
    this.at = at + size
    return at
  }

  /** Makes room for `bytes` more in the current chunk, starting the next one if needed. */
  private room(bytes: number): void {
    if (this.chunk !== null && this.at + bytes <= this.chunk.length) return
    this.close()
    const first = this.done.length === 0
    const size = first && bytes + HEADER.length <= FIRST_CHUNK_BYTES ? FIRST_CHUNK_BYTES : Math.max(CHUNK_BYTES, bytes + HEADER.length)
    this.chunk = Buffer.allocUnsafe(size)
    if (!this.started && !this.fragment) {
      HEADER.copy(this.chunk, 0)
      this.at = HEADER.length
    }
    this.started = true
  }

  private close(): void {
    if (this.chunk !== null && this.at > 0) this.done.push(this.chunk.subarray(0, this.at))
    this.chunk = null
    this.at = 0
  }
}

/** Fields written once into their own bytes, to be copied into many rows with `block`. */
export function fieldBlock(write: (fields: BinaryCopyBuffer) => void): Buffer {
  const fragment = new BinaryCopyBuffer(true)
  write(fragment)
  return Buffer.concat(fragment.chunks())
}
