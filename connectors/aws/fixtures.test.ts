/**
 * The connector against the example responses AWS itself documents (fixtures/SOURCES.md): the
 * XML is served verbatim to the official SDK client, the CSV is parsed as published.
 */
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { GetAccountAuthorizationDetailsCommand } from '@aws-sdk/client-iam'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClients, type AwsClients } from './clients.js'
import { parseCredentialReport, reportCredentials } from './credential-report.js'
import { awsSettingsSchema } from './settings.js'
import { callCounter } from './test-support.js'
import { MissingFieldError, storeGroup, storeManagedPolicy, transformRole, transformUser, type AccountContext } from './transform.js'

const here = import.meta.dirname
const xml = readFileSync(`${here}/fixtures/get-account-authorization-details.xml`, 'utf8')
const csv = readFileSync(`${here}/fixtures/credential-report.csv`, 'utf8')

let server: Server
let served = xml
let clients: AwsClients
const requests: string[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      requests.push(body)
      res.writeHead(200, { 'content-type': 'text/xml' })
      res.end(served)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const settings = awsSettingsSchema.parse({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })
  clients = createClients({ settings, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' }, apiCalls: callCounter() })
})

afterAll(async () => {
  clients?.destroy()
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

describe("AWS's documented GetAccountAuthorizationDetails example", () => {
  it('parses through the official SDK client and transforms into identities, unknown where the page lacks policies', async () => {
    const page = await clients.iam.send(new GetAccountAuthorizationDetailsCommand({}))
    expect(requests[0]).toContain('Action=GetAccountAuthorizationDetails')
    expect(page.IsTruncated).toBe(true)
    expect(page.Marker?.replace(/\s+/g, '')).toBe('EXAMPLEkakv9BCuUNFDtxWSyfzetYwEx2ADc8dnzfvERF5S6YMvXKx41t6gCl/eeaCX3Jo94/bKqezEAg8TEVS99EKFLxm3jtbpl25FDWEXAMPLE')
    expect(page.UserDetailList?.map((u) => u.UserName)).toEqual(['Alice', 'Bob', 'Charlie', 'Danielle', 'Elaine'])

    const ctx: AccountContext = {
      scope: { accountId: '123456789012', kind: 'account' },
      region: 'us-east-1',
      policies: new Map(),
      policiesComplete: true,
      groups: new Map(),
      groupsComplete: true,
      report: null,
      reportGeneratedAt: null,
      reportUnreadable: [{ field: 'credentials', operation: 'iam:GetCredentialReport', permission: null }],
    }
    for (const p of page.Policies ?? []) {
      const stored = storeManagedPolicy(p)
      if (stored) ctx.policies.set(stored[0], stored[1])
    }
    // The <Arn> broken over lines is trimmed; documents wrapped with tabs and newlines parse.
    expect([...ctx.policies.keys()]).toContain('arn:aws:iam::123456789012:policy/create-update-delete-set-managed-policies')
    expect(ctx.policies.get('arn:aws:iam::aws:policy/AmazonEC2FullAccess')?.statements).toHaveLength(4)
    for (const g of page.GroupDetailList ?? []) {
      const stored = storeGroup(g)
      if (stored) ctx.groups.set(stored.name, stored)
    }
    expect([...ctx.groups.keys()]).toEqual(['Admins', 'Dev', 'Finance'])

    const users = await Promise.all((page.UserDetailList ?? []).map((u) => transformUser(ctx, u)))
    const elaine = users.find((u) => u.displayName === 'Elaine')
    expect(elaine?.entitlements).toEqual([
      {
        action: 'aws-portal:*',
        resource: '*',
        accessLevel: 'write',
        sourceKind: 'group_policy',
        sourceRef: 'arn:aws:iam::123456789012:group/Finance#policygen-201310141157',
        conditional: false,
      },
    ])
    expect(elaine?.unreadable.some((u) => u.field === 'entitlements')).toBe(false)

    // Alice and Bob get AdministratorAccess through Admins, but the page does not carry that policy:
    // their entitlements are unreadable, never "none" and never guessed.
    const alice = users.find((u) => u.displayName === 'Alice')
    expect(alice?.entitlements).toEqual([])
    expect(alice?.attributes.missingPolicies).toEqual(['arn:aws:iam::aws:policy/AdministratorAccess'])
    expect(alice?.unreadable).toContainEqual({ field: 'entitlements', operation: 'iam:GetAccountAuthorizationDetails', permission: 'iam:GetAccountAuthorizationDetails' })
    // Credentials come from the credential report, which this context could not read.
    expect(alice?.unreadable).toContainEqual({ field: 'credentials', operation: 'iam:GetCredentialReport', permission: null })
    expect(alice?.credentials).toEqual([])

    // Bob's inline policy is a Deny only: it grants nothing.
    const bob = users.find((u) => u.displayName === 'Bob')
    expect(bob?.entitlements.filter((e) => e.sourceKind === 'inline_policy')).toEqual([])

    // The published example closes the role with `</RoleId>      </member>` on one line, and the
    // SDK's XML parser then returns that RoleDetail empty. The connector refuses the empty record
    // (the scan reports it as a problem and marks the account incomplete) instead of inventing one.
    expect(page.RoleDetailList).toEqual([{}])
    await expect(transformRole(ctx, page.RoleDetailList?.[0] ?? {})).rejects.toBeInstanceOf(MissingFieldError)

    // With only that whitespace moved to its own line, the same role parses and transforms fully.
    served = xml.replace('</RoleId>      </member>', '</RoleId>\n      </member>')
    const fixed = await clients.iam.send(new GetAccountAuthorizationDetailsCommand({}))
    const role = await transformRole(ctx, fixed.RoleDetailList?.[0] ?? {})
    expect(role).toMatchObject({ externalId: 'arn:aws:iam::123456789012:role/EC2role', kind: 'role', agentSignals: [], lastUsedAt: null })
    expect(role.attributes.trust).toMatchObject({ services: ['ec2.amazonaws.com'], crossAccount: false })
    expect(role.attributes.instanceProfiles).toEqual(['EC2role'])
    expect(role.attributes.missingPolicies).toEqual(['arn:aws:iam::aws:policy/AmazonS3FullAccess', 'arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess'])
  })
})

describe("AWS's documented credential report example", () => {
  it('parses the published 16-column report, treating absent last-use columns as unknown', () => {
    const rows = parseCredentialReport(csv)
    expect(rows.map((r) => r.user)).toEqual(['root_account', 'Administrator', 'Bill'])
    const admin = rows[1]
    expect(admin).toMatchObject({
      arn: 'arn:aws:iam::123456789012:user/Administrator',
      createdAt: new Date('2014-10-16T16:03:09Z'),
      passwordEnabled: true,
      passwordLastUsed: new Date('2015-04-20T15:18:32Z'),
      passwordLastChanged: new Date('2014-10-16T16:06:00Z'),
      mfaActive: false,
    })
    expect(admin?.keys).toEqual([
      { slot: 1, active: true, lastRotated: new Date('2014-12-03T18:53:41Z'), lastUsed: null, lastUsedKnown: false, lastUsedService: null, lastUsedRegion: null },
      { slot: 2, active: true, lastRotated: new Date('2015-03-25T20:38:14Z'), lastUsed: null, lastUsedKnown: false, lastUsedService: null, lastUsedRegion: null },
    ])
    const credentials = reportCredentials(admin as NonNullable<typeof admin>)
    expect(credentials.map((c) => [c.type, c.status, c.lastUsedKnown])).toEqual([
      ['access_key', 'active', false],
      ['access_key', 'active', false],
      ['console_password', 'active', true],
    ])
    expect(credentials[0]?.externalId).toBe('arn:aws:iam::123456789012:user/Administrator#access-key-1@2014-12-03T18:53:41.000Z')
    const bill = rows[2]
    expect(bill).toMatchObject({ passwordEnabled: false, passwordLastUsed: null, keys: [] })
    expect(bill?.certs).toEqual([{ slot: 1, active: false, lastRotated: new Date('2015-04-20T20:00:12Z') }])
    expect(rows[0]).toMatchObject({ passwordEnabled: null, mfaActive: true, passwordLastUsed: new Date('2015-04-20T17:41:10Z') })
  })

  it('rejects a document that is not a credential report', () => {
    expect(() => parseCredentialReport('name,value\na,b\n')).toThrow(/no "user" and "arn" columns/)
  })
})
