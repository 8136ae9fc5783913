import type { ApiCallCounter } from '../contract.js'

/** A plain in-memory ApiCallCounter; the scan runner may pass its own. */
export function createApiCallCounter(): ApiCallCounter {
  const byOperation: Record<string, number> = {}
  let total = 0
  return {
    record(operation: string) {
      total += 1
      byOperation[operation] = (byOperation[operation] ?? 0) + 1
    },
    get total() {
      return total
    },
    get byOperation() {
      return byOperation
    },
  }
}
