import { readFileSync } from 'node:fs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { NormalizedIdentity, RevocationTarget } from '../contract.js'
import { actionContext, applyEnv, collectScan, scanContext } from '../saas-kit/testing.js'
import { STANDIN_TOKEN_ENV, vaultProvider } from './index.js'
import { destroySecretId, revokeToken } from './revocation.js'
import type { VaultSettings } from './settings.js'
import { LIMITED_TOKEN, SCANNER_TOKEN } from './stand-in/estate.js'
import { startVaultStandIn, type VaultStandIn } from './stand-in/server.js'
import { listedKeys } from './client.js'
import {
  auditDevices,
  authMountsOfType,
  kvV2Mounts,
  policyLevel,
  policyText,
  type RawAppRole,
  type RawKvMetadata,
  type RawSecretIdLookup,
  type RawTokenLookup,
  transformAppRole,
  transformKvSecret,
  transformToken,
  ttlSeconds,
  type VaultContext,
} from './transform.js'

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T
}

function target(identity: NormalizedIdentity, credentialId?: string): RevocationTarget {
  const cred = identity.credentials.find((c) => !credentialId || c.externalId === credentialId) ?? null
  return {
    identity: {
      externalId: identity.externalId,
      kind: identity.kind,
      accountId: identity.scope.accountId,
      displayName: identity.displayName,
      attributes: identity.attributes,
    },
    credential: cred ? { externalId: cred.externalId, type: cred.type, status: cred.status } : null,
  }
}

describe('Vault documented examples', () => {
  const ctx: VaultContext = {
    scope: { accountId: 'vault.example.com', kind: 'vault' },
    auditEnabled: true,
    policies: new Map([
      ['default', 'read'],
      ['testgroup2-policy', 'write'],
    ]),
    uiUrl: 'https://vault.example.com',
  }
  it('parses the token lookup sample verbatim, never keeping the token id', () => {
    // Source: developer.hashicorp.com/vault/api-docs/auth/token#lookup-a-token (fixtures/SOURCES.md)
    const { data } = fixture<{ data: RawTokenLookup & { id: string } }>('token-lookup.json')
    const id = transformToken(data, ctx, new Date('2018-05-01T00:00:00Z'))
    expect(id).toMatchObject({
      externalId: 'vault:token:8609694a-cdbc-db9b-d345-e782dbb562ed',
      kind: 'token',
      status: 'active',
      displayName: 'ldap2-tesla',
    })
    expect(id.createdAt?.toISOString()).toBe('2018-04-17T15:35:54.000Z')
    expect(id.credentials[0]?.expiresAt?.toISOString()).toBe('2018-05-19T15:35:54.466Z')
    expect(id.owners[0]).toMatchObject({ ref: 'tesla', role: 'owner' })
    expect(id.entitlements.map((e) => [e.action, e.accessLevel])).toEqual([
      ['vault:policy:default', 'read'],
      ['vault:policy:testgroup2-policy', 'write'],
      ['vault:policy:dev-group-policy', 'list'],
    ])
    // dev-group-policy was not readable: said so.
    expect(id.unreadable.map((u) => u.field)).toContain('entitlements')
    expect(JSON.stringify(id)).not.toContain('cf64a70f-3a12-3f6c-791d-6cef6d390eed')
  })

  it('parses the lookup-accessor sample (what the scanner calls) verbatim, and lists the accessors sample', () => {
    // Source: developer.hashicorp.com/vault/api-docs/auth/token#lookup-a-token-accessor and #list-accessors
    expect(listedKeys(fixture('token-accessors-list.json'), 'auth/token/accessors')).toEqual([
      '476ea048-ded5-4d07-eeea-938c6b4e43ec',
      'bb00c093-b7d3-b0e9-69cc-c4d85081165b',
    ])
    const { data } = fixture<{ data: RawTokenLookup }>('token-lookup-accessor.json')
    const id = transformToken(data, ctx, new Date('2018-05-01T00:00:00Z'))
    expect(id).toMatchObject({
      externalId: 'vault:token:8609694a-cdbc-db9b-d345-e782dbb562ed',
      status: 'active',
      attributes: {
        path: 'auth/ldap2/login/tesla',
        orphan: true,
        ttlSeconds: 2763902,
        creationTtlSeconds: 2764800,
        tokenType: 'service',
        entityId: '7d2e3179-f69b-450c-7179-ac8ee8bd8ca9',
        root: false,
      },
    })
    expect(id.credentials[0]).toMatchObject({ externalId: '8609694a-cdbc-db9b-d345-e782dbb562ed', status: 'active' })
    // Expired by the time of a later scan.
    expect(transformToken(data, ctx, new Date('2018-06-01T00:00:00Z')).credentials[0]?.status).toBe('expired')
  })

  it('parses the KV v2 list and read-metadata samples verbatim', () => {
    // Source: developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2#list-secrets and #read-secret-metadata
    expect(listedKeys(fixture('kv-list-metadata.json'), 'secret/metadata/')).toEqual(['foo', 'foo/'])
    const { data } = fixture<{ data: RawKvMetadata }>('kv-read-metadata.json')
    const id = transformKvSecret('secret/', 'my-secret', data, ctx)
    expect(id).toMatchObject({
      externalId: 'vault:kv:secret/my-secret',
      kind: 'secret',
      status: 'active',
      tags: { foo: 'abc', bar: '123' },
      attributes: { currentVersion: 3, oldestVersion: 0, casRequired: false, deleteVersionAfter: '3h25m19s' },
    })
    expect(id.createdAt?.toISOString()).toBe('2018-03-22T02:24:06.945Z')
    expect(id.credentials[0]).toMatchObject({ type: 'secret_value', rotationEnabled: false, displayName: 'version 3' })
    expect(id.credentials[0]?.lastRotatedAt?.toISOString()).toBe('2018-03-22T02:36:43.986Z')
  })

  it('parses the AppRole read-role, secret-id accessor list and accessor lookup samples verbatim', () => {
    // Source: developer.hashicorp.com/vault/api-docs/auth/approle (fixtures/SOURCES.md)
    expect(listedKeys(fixture('approle-list-secret-id-accessors.json'), 'auth/approle/role/application1/secret-id')).toHaveLength(5)
    const { data: role } = fixture<{ data: RawAppRole }>('approle-read-role.json')
    const { data: secretId } = fixture<{ data: RawSecretIdLookup }>('approle-secret-id-accessor-lookup.json')
    const id = transformAppRole('approle/', 'application1', role, [secretId], ctx, new Date('2023-03-01T00:00:00Z'))
    expect(id).toMatchObject({
      externalId: 'vault:approle:approle/application1',
      kind: 'role',
      attributes: {
        policies: ['default'],
        tokenTtlSeconds: 1200,
        tokenMaxTtlSeconds: 1800,
        secretIdTtlSeconds: 600,
        secretIdNumUses: 40,
        tokenPeriodSeconds: null,
        bindSecretId: true,
        secretIdBoundCidrs: [],
      },
    })
    expect(id.entitlements.map((e) => [e.action, e.accessLevel])).toEqual([['vault:policy:default', 'read']])
    expect(id.credentials).toHaveLength(1)
    // "0001-01-01T00:00:00Z" is Vault's zero time: the secret id never expires.
    expect(id.credentials[0]).toMatchObject({
      externalId: '2be760a4-86bb-2fa9-1637-1b7fa9ba2896',
      type: 'secret_id',
      status: 'active',
      expiresAt: null,
      attributes: { metadata: { tag1: 'production' }, numUses: 0, cidrList: [], tokenBoundCidrs: [] },
    })
    expect(id.credentials[0]?.createdAt?.toISOString()).toBe('2023-02-10T18:17:27.089Z')
    expect(id.environments).toContain('production')
  })

  it('reads the sys/audit, sys/auth, sys/mounts and policy samples as documented', () => {
    // The documented sys/audit sample has the device at the top level, keyed "file" (no slash).
    expect(auditDevices(fixture('sys-audit.json'))).toEqual(['file'])
    // Current Vault: the table under data and repeated at the top level, keys with a slash.
    const device = { type: 'file', description: '', options: { file_path: '/var/log/vault_audit.log' } }
    expect(auditDevices({ 'file/': device, request_id: 'x', lease_id: '', data: { 'file/': device } })).toEqual(['file/'])
    expect(auditDevices({ request_id: 'x', data: {} })).toEqual([])
    expect(() => auditDevices('<html>')).toThrow(/malformed sys\/audit/)
    const auth = fixture('sys-auth.json')
    expect(authMountsOfType(auth, 'github')).toEqual(['github/'])
    expect(authMountsOfType(auth, 'approle')).toEqual([])
    expect(kvV2Mounts(fixture('sys-mounts.json'))).toEqual(['secret/'])
    expect(policyText(fixture('sys-policies-acl-read.json'), 'deploy')).toBe('path "secret/foo" {...')
    // Not a documented sample: the shape current servers return (policy under data), built here.
    expect(policyText({ data: { name: 'default', policy: 'path "a" {}' } }, 'default')).toBe('path "a" {}')
    expect(() => policyText({ data: { name: 'x' } }, 'x')).toThrow(/no policy text/)
    expect(() => listedKeys({ data: {} }, 'auth/token/accessors')).toThrow(/malformed list/)
    expect([ttlSeconds(0), ttlSeconds('768h'), ttlSeconds('1h30m'), ttlSeconds('soon')]).toEqual([0, 2764800, 5400, null])
  })

  it('ranks policy text by its strongest capability', () => {
    expect(policyLevel('path "*" { capabilities = ["read", "sudo"] }')).toBe('admin')
    expect(policyLevel('path "secret/data/x" { capabilities = ["create", "update"] }')).toBe('write')
    expect(policyLevel('path "secret/data/x" { capabilities = ["read"] }')).toBe('read')
  })
})

describe('Vault against the stand-in', () => {
  let standIn: VaultStandIn
  let settings: VaultSettings
  let restoreEnv: () => void

  beforeAll(async () => {
    standIn = await startVaultStandIn({ seed: 'test' })
    settings = { address: standIn.url, tokenEnv: STANDIN_TOKEN_ENV }
    restoreEnv = applyEnv({ [STANDIN_TOKEN_ENV]: SCANNER_TOKEN })
  })
  afterAll(async () => {
    restoreEnv()
    await standIn.close()
  })
  afterEach(() => standIn.clearFaults())

  it('finds everything the seed declares, with its flaws, using GET ?list=true', async () => {
    const scan = await collectScan(vaultProvider, scanContext(settings))
    expect(scan.problems).toEqual([])
    expect(scan.finished).toEqual([{ scope: standIn.url.replace('http://', ''), complete: true }])
    expect(scan.identities).toHaveLength(standIn.declared.identities)
    expect(scan.identities.flatMap((i) => i.credentials)).toHaveLength(standIn.declared.credentials)
    expect(scan.identities.filter((i) => i.agentSignals.length > 0)).toHaveLength(standIn.declared.agents)
    const root = scan.identities.find((i) => i.displayName === 'root')
    expect(root?.entitlements[0]).toMatchObject({ accessLevel: 'admin' })
    expect(root?.credentials[0]).toMatchObject({ expiresAt: null, isStatic: true })
    const agentToken = scan.identities.find((i) => i.displayName === 'token-support-agent')
    expect(agentToken?.entitlements.find((e) => e.action === 'vault:policy:break-glass-admin')?.accessLevel).toBe('admin')
    expect(agentToken?.monitoring).toEqual({ usageData: 'available', runtimeLogging: true })
    const role = scan.identities.find((i) => i.externalId === 'vault:approle:approle/support-agent')
    expect(role?.credentials.map((c) => c.type)).toEqual(['secret_id', 'secret_id'])
    expect(role?.credentials[0]?.expiresAt).toBeNull()
    const stripe = scan.identities.find((i) => i.externalId === 'vault:kv:secret/prod/payments/stripe')
    expect(stripe?.owners[0]).toMatchObject({ ref: 'payments-team', kind: 'team', source: 'tag' })
    expect(stripe?.environments).toContain('production')
    expect(scan.identities.some((i) => i.externalId.startsWith('vault:kv:kv-v1/'))).toBe(false)
    expect(standIn.requests.some((r) => r.startsWith('GET /v1/auth/token/accessors?list=true'))).toBe(true)
    expect(standIn.requests.some((r) => r.startsWith('LIST'))).toBe(false)
    expect(JSON.stringify(scan.identities)).not.toContain('hvs.')
  })

  it('a token without audit and policy read: usage and entitlements unreadable, problems named, scope still complete', async () => {
    const restore = applyEnv({ [STANDIN_TOKEN_ENV]: LIMITED_TOKEN })
    try {
      const scan = await collectScan(vaultProvider, scanContext(settings))
      expect(scan.problems.map((p) => [p.operation, p.fatalForScope])).toEqual([
        ['vault:sys/audit', false],
        ['vault:sys/policies/acl', false],
      ])
      expect(scan.problems[0]?.permission).toContain('sys/audit')
      const t = scan.identities.find((i) => i.displayName === 'token-support-agent')
      expect(t?.monitoring.usageData).toBe('unknown')
      expect(t?.unreadable.map((u) => u.field)).toContain('entitlements')
      expect(scan.finished[0]?.complete).toBe(true)
    } finally {
      restore()
    }
  })

  it('a bad token stops at the first call with one fatal problem', async () => {
    const restore = applyEnv({ [STANDIN_TOKEN_ENV]: 'hvs.not-a-real-token-000000000' })
    try {
      const scan = await collectScan(vaultProvider, scanContext(settings))
      expect(scan.identities).toEqual([])
      expect(scan.finished[0]?.complete).toBe(false)
      expect(scan.apiCalls.total).toBeLessThanOrEqual(2)
    } finally {
      restore()
    }
  })

  it('retries a throttled list, and a refused or malformed list leaves the scope incomplete', async () => {
    standIn.inject({ match: /^GET \/v1\/auth\/token\/accessors/, kind: 'throttle', times: 1, retryAfterSeconds: 1 })
    const throttled = await collectScan(vaultProvider, scanContext(settings))
    expect(throttled.problems).toEqual([])
    expect(throttled.apiCalls.byOperation['vault:auth/token/accessors (list)']).toBe(2)

    standIn.inject({ match: /^GET \/v1\/auth\/approle\/role\?list=true/, kind: 'forbidden', times: 1 })
    const refused = await collectScan(vaultProvider, scanContext(settings))
    expect(refused.problems[0]).toMatchObject({ operation: 'vault:auth/approle/role', fatalForScope: true })
    expect(refused.finished[0]?.complete).toBe(false)

    standIn.inject({ match: /^GET \/v1\/secret\/metadata\/\?list=true/, kind: 'malformed', times: 1 })
    const malformed = await collectScan(vaultProvider, scanContext(settings))
    expect(malformed.problems[0]?.message).toMatch(/malformed|JSON/)
    expect(malformed.finished[0]?.complete).toBe(false)
  })

  it('revokes a token by accessor and destroys a secret-id: verified, and gone from the next scan', async () => {
    const ctx = actionContext(settings)
    const before = await collectScan(vaultProvider, scanContext(settings))
    const tok = target(before.identities.find((i) => i.displayName === 'token-support-agent') as NormalizedIdentity)
    expect(revokeToken.appliesTo(tok)).toBe(true)
    expect((await revokeToken.plan(ctx, tok)).calls[0]?.operation).toBe('vault:auth/token/revoke-accessor')
    expect(await revokeToken.verify(ctx, tok)).toMatchObject({ verified: false })
    expect(await revokeToken.execute(ctx, tok)).toMatchObject({ ok: true })
    expect(await revokeToken.verify(ctx, tok)).toMatchObject({ verified: true })
    expect(await revokeToken.execute(ctx, tok)).toMatchObject({ ok: true, calls: [{ response: { alreadyAbsent: true } }] })

    const role = before.identities.find((i) => i.externalId === 'vault:approle:approle/support-agent') as NormalizedIdentity
    const sid = target(role, 'a1b2c3d4-0000-1111-2222-333344445555')
    expect(destroySecretId.appliesTo(sid)).toBe(true)
    expect(destroySecretId.appliesTo(target(before.identities.find((i) => i.kind === 'secret') as NormalizedIdentity))).toBe(false)
    expect(await destroySecretId.execute(ctx, sid)).toMatchObject({ ok: true })
    expect(await destroySecretId.verify(ctx, sid)).toMatchObject({ verified: true })

    const after = await collectScan(vaultProvider, scanContext(settings))
    expect(after.identities.some((i) => i.externalId === tok.identity.externalId)).toBe(false)
    expect(after.identities.find((i) => i.externalId === role.externalId)?.credentials.map((c) => c.externalId)).toEqual([
      'a1b2c3d4-0000-1111-2222-333344446666',
    ])
  })

  it('scans a large generated cluster', async () => {
    const big = await vaultProvider.startStandIn({ seed: { identities: 500 } })
    const restore = applyEnv(big.env)
    try {
      const scan = await collectScan(vaultProvider, scanContext(big.settings))
      expect(scan.problems).toEqual([])
      expect(scan.identities).toHaveLength(big.declared.identities)
      expect(scan.identities.flatMap((i) => i.credentials)).toHaveLength(big.declared.credentials)
      expect(scan.identities.filter((i) => i.agentSignals.length > 0)).toHaveLength(big.declared.agents)
    } finally {
      restore()
      await big.stop()
    }
  })
})
