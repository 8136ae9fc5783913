import { describe, expect, it } from 'vitest'
import { buildTenant, declaredCounts } from './seed.js'

describe('stand-in seeds', () => {
  it('builds the same demo tenant every time: ~80 identities, about a third agents, every flaw', () => {
    const a = buildTenant('demo')
    const b = buildTenant('demo')
    expect(a.expected.map((e) => e.externalId)).toEqual(b.expected.map((e) => e.externalId))
    const counts = declaredCounts(a)
    expect(counts.identities).toBe(80)
    expect(counts.agents / counts.identities).toBeGreaterThan(0.25)
    expect(counts.agents / counts.identities).toBeLessThan(0.4)
    const flaws = new Set(a.expected.flatMap((e) => e.flaws))
    for (const f of ['agent_orphaned', 'secret_never_expires', 'secret_two_year_lifetime', 'agent_with_role_management', 'owner_disabled', 'sponsor_deleted', 'credential_never_used', 'secret_disabled', 'key_expired']) {
      expect(flaws, f).toContain(f)
    }
    const kinds = new Set(a.expected.map((e) => e.kind))
    for (const k of ['application', 'service_principal', 'managed_identity', 'agent_blueprint', 'agent_identity', 'agent_user', 'secret']) expect(kinds).toContain(k)
  })

  it('scales to the requested number of identities', () => {
    expect(declaredCounts(buildTenant({ identities: 1000 })).identities).toBe(1000)
    expect(declaredCounts(buildTenant('test')).identities).toBe(30)
  })
})
