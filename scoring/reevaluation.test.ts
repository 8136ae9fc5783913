import { describe, expect, it } from 'vitest'
import { reevaluationIntervalMs } from './reevaluation.js'

describe('LEASH_REEVALUATE_HOURS', () => {
  it('defaults to a day and takes whole hours', () => {
    expect(reevaluationIntervalMs(undefined)).toBe(24 * 3_600_000)
    expect(reevaluationIntervalMs(' ')).toBe(24 * 3_600_000)
    expect(reevaluationIntervalMs('6')).toBe(6 * 3_600_000)
    expect(reevaluationIntervalMs('720')).toBe(720 * 3_600_000)
  })

  it('names the value and what to set instead', () => {
    for (const value of ['0', '1.5', '721', 'daily', '-3']) {
      expect(() => reevaluationIntervalMs(value)).toThrow(`LEASH_REEVALUATE_HOURS is "${value}", not a whole number of hours from 1 to 720.`)
    }
  })
})
