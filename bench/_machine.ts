/**
 * How fast the machine is at the moment a benchmark runs: a fixed piece of JavaScript work, and
 * what one page fault costs. The project's machine is a virtual machine whose speed differs from
 * day to day and hour to hour (the same 1M scoring pass has taken 58 s and 115 s), and whose page
 * faults cost microseconds (docs/decisions/046); printing both beside a figure lets figures taken
 * on different days be compared, and shows when a "regression" is the machine.
 */

/** What `calibrateMachine` measured: the best of a few repetitions, so a busy moment does not count. */
export interface MachineCalibration {
  /** Milliseconds for a fixed mix of object building, JSON and sorting (single thread). */
  cpuMs: number
  /** Microseconds per first touch of a fresh 4 KiB page (anonymous memory, the kernel zeroes it). */
  pageFaultMicros: number
}

const REPETITIONS = 3
const FAULT_BYTES = 64 << 20
const PAGE_BYTES = 4096

export function calibrateMachine(): MachineCalibration {
  let cpuMs = Infinity
  let pageFaultMicros = Infinity
  for (let round = 0; round < REPETITIONS; round += 1) {
    cpuMs = Math.min(cpuMs, timeMs(fixedWork))
    pageFaultMicros = Math.min(pageFaultMicros, (timeMs(touchFreshPages) * 1000) / (FAULT_BYTES / PAGE_BYTES))
  }
  return { cpuMs: Math.round(cpuMs), pageFaultMicros: Math.round(pageFaultMicros * 100) / 100 }
}

function timeMs(work: () => unknown): number {
  const started = process.hrtime.bigint()
  work()
  return Number(process.hrtime.bigint() - started) / 1e6
}

/** Objects, strings and JSON in the proportions a scoring batch has them; deterministic. */
function fixedWork(): number {
  let checksum = 0
  for (let batch = 0; batch < 20; batch += 1) {
    const rows = Array.from({ length: 5000 }, (_, index) => ({
      id: batch * 5000 + index,
      rule: `credential_age_secret_too_old_${index % 24}`,
      evidence: { credential: `KEY${index}-${batch}`, createdAt: new Date(1_700_000_000_000 + index * 86_400_000).toISOString(), limitDays: 90 },
    }))
    const text = JSON.stringify(rows)
    const parsed = JSON.parse(text) as typeof rows
    parsed.sort((a, b) => (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : b.id - a.id))
    checksum += text.length + parsed[0]!.id
  }
  return checksum
}

/** Writes one byte to each page of a fresh allocation, which the kernel must map on first touch. */
function touchFreshPages(): number {
  // allocUnsafeSlow: memory of its own, not from Node's pool, and not filled by Node beforehand.
  const memory = Buffer.allocUnsafeSlow(FAULT_BYTES)
  for (let offset = 0; offset < FAULT_BYTES; offset += PAGE_BYTES) memory[offset] = 1
  return memory[0]!
}
