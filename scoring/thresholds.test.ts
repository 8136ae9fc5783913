import { describe, expect, it } from 'vitest'
import { LeashError } from '../cli/errors.js'
import { parseDepartedOwners } from './load.js'
import { DEFAULT_THRESHOLDS, parseThresholdValue, ThresholdResolver } from './thresholds.js'

const sources = [
  { sourceId: 'a', sourceName: 'aws-prod', settings: { unusedIdentityDays: 60 } },
  { sourceId: 'b', sourceName: 'entra', settings: {} },
]

describe('threshold resolution', () => {
  it('uses the documented defaults without configuration', () => {
    const resolved = new ThresholdResolver([], []).resolve('x', {})
    expect(resolved.values).toEqual(DEFAULT_THRESHOLDS)
    expect(DEFAULT_THRESHOLDS).toMatchObject({
      maxCredentialAgeDays: 90,
      unusedCredentialDays: 45,
      unusedIdentityDays: 90,
      maxExpiryDays: 365,
    })
  })

  it('applies source settings, then source overrides by name, then tag overrides, strictest tag first', () => {
    const resolver = new ThresholdResolver(sources, [
      { scope_type: 'source', scope_value: 'entra', threshold: 'maxExpiryDays', value: 180 },
      { scope_type: 'tag', scope_value: 'env=production', threshold: 'maxCredentialAgeDays', value: 60 },
      { scope_type: 'tag', scope_value: 'pci=true', threshold: 'maxCredentialAgeDays', value: 30 },
      { scope_type: 'tag', scope_value: 'sandbox=true', threshold: 'maxCredentialAgeDays', value: 365 },
    ])
    expect(resolver.resolve('a', {}).values.unusedIdentityDays).toBe(60)
    expect(resolver.resolve('a', {}).origins.unusedIdentityDays).toBe('source')
    expect(resolver.resolve('b', {}).values.maxExpiryDays).toBe(180)
    const both = resolver.resolve('b', { env: 'production', pci: 'true', sandbox: 'true' })
    expect(both.values.maxCredentialAgeDays).toBe(30)
    expect(both.origins.maxCredentialAgeDays).toBe('tag:pci=true')
    expect(resolver.resolve('b', { env: 'staging' }).values.maxCredentialAgeDays).toBe(90)
  })

  it('rejects unknown names, wrong values and malformed tag scopes with the place to fix', () => {
    expect(() => new ThresholdResolver([{ sourceId: 'a', sourceName: 'aws', settings: { maxAge: 3 } }], [])).toThrow(
      /Unknown threshold "maxAge" in the thresholds of source "aws"/,
    )
    expect(() => parseThresholdValue('maxExpiryDays', -1, 'test')).toThrow(LeashError)
    expect(() => parseThresholdValue('maxExpiryDays', 1.5, 'test')).toThrow(/whole number/)
    expect(parseThresholdValue('maxExpiryDays', '120', 'test')).toBe(120)
    expect(
      () => new ThresholdResolver([], [{ scope_type: 'tag', scope_value: 'production', threshold: 'maxExpiryDays', value: 30 }]),
    ).toThrow(/key=value/)
  })
})

describe('departed owners setting', () => {
  it('accepts references as strings or objects, case-insensitively', () => {
    expect([...parseDepartedOwners(['Alice@Example.com', { ref: 'bob' }])]).toEqual(['alice@example.com', 'bob'])
    expect(parseDepartedOwners(null).size).toBe(0)
  })
  it('rejects anything else with what to store instead', () => {
    expect(() => parseDepartedOwners({ alice: true })).toThrow(/not a list/)
    expect(() => parseDepartedOwners([42])).toThrow(/not an owner reference/)
  })
})
