import { describe, expect, it } from 'vitest'
import { formatAgo } from './format.js'

const NOW = new Date('2026-06-01T12:00:00Z')
const before = (ms: number) => new Date(NOW.getTime() - ms)
const DAY = 86_400_000

describe('formatAgo', () => {
  it('says how long ago, in the largest unit that fits', () => {
    expect(formatAgo(before(30_000), 'never', NOW)).toBe('30 seconds ago')
    expect(formatAgo(before(5 * 60_000), 'never', NOW)).toBe('5 minutes ago')
    expect(formatAgo(before(3 * 3_600_000), 'never', NOW)).toBe('3 hours ago')
    expect(formatAgo(before(DAY), 'never', NOW)).toBe('yesterday')
    expect(formatAgo(before(10 * DAY), 'never', NOW)).toBe('10 days ago')
    expect(formatAgo(before(200 * DAY), 'never', NOW)).toBe('7 months ago')
    expect(formatAgo(before(1000 * DAY), 'never', NOW)).toBe('3 years ago')
  })

  it('handles the future, ISO strings, and unknown or invalid dates', () => {
    expect(formatAgo(new Date(NOW.getTime() + 2 * DAY), 'never', NOW)).toBe('in 2 days')
    expect(formatAgo(before(10 * DAY).toISOString(), 'never', NOW)).toBe('10 days ago')
    expect(formatAgo(null, 'never', NOW)).toBe('never')
    expect(formatAgo('not a date', 'unknown', NOW)).toBe('unknown')
  })
})
