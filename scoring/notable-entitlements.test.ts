/**
 * A scoring pass reads only the notable grants of an identity (entitlements.notable, computed by
 * PostgreSQL), and the highest level of all of them (docs/decisions/044). These tests hold that this changes nothing the rules or the
 * classifier decide: for random grants stored in PostgreSQL, the assessment of the identity as
 * the pass loads it equals the assessment of the same identity with every grant.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ACCESS_LEVELS, type AccessLevel } from '../connectors/contract.js'
import { useTestDatabase } from '../test/db.js'
import { assessIdentity } from './assess.js'
import { fetchIdentitiesById, loadPassContext } from './load.js'
import { deriveSignals } from './classification.js'
import { NOW } from './testing.js'
import { storeIdentity, storeSource } from './testing-db.js'

const database = useTestDatabase()

/** Actions of every shape the rules and the classifier tell apart, in mixed case. */
const ACTIONS = [
  '*',
  's3:GetObject',
  's3:PutObject',
  'iam:PassRole',
  'iam:PutRolePolicy',
  'lambda:InvokeFunction',
  'bedrock:InvokeModel',
  'BEDROCK:Converse',
  'bedrock:*',
  'bedrock:ListFoundationModels',
  'bedrock-agentcore:InvokeAgentRuntime',
  'sagemaker:InvokeEndpointAsync',
  'sagemaker:CreateEndpoint',
  'Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action',
  'Microsoft.CognitiveServices/accounts/read',
  'roles/aiplatform.user',
  'roles/aiplatform.viewer',
  'aiplatform.endpoints.predict',
  'openai:ModelRequest',
  'model.request',
  'api.model.request',
  'Microsoft.Storage/storageAccounts/write',
]
const RESOURCES = ['*', 'arn:aws:s3:::reports/*', 'arn:aws:s3:::reports', 'arn:aws:iam::123456789012:role/*', 'arn:aws:s3:::*/*', 'projects/p-1', 'subscriptions/1/resourceGroups/rg']

const grant = fc.record({
  action: fc.constantFrom(...ACTIONS),
  resource: fc.constantFrom(...RESOURCES),
  accessLevel: fc.constantFrom(...ACCESS_LEVELS),
  conditional: fc.boolean(),
})

describe('the grants a scoring pass reads', () => {
  it('lead to the same assessment as all of them, for any mix of grants', async () => {
    const db = database.current.db
    const sourceId = await storeSource(db, 'notable')
    const context = await loadPassContext(db)
    let run = 0
    await fc.assert(
      fc.asyncProperty(fc.array(grant, { maxLength: 12 }), async (grants) => {
        run += 1
        const id = await storeIdentity(db, sourceId, { name: `notable-${run}` })
        await db.deleteFrom('entitlements').where('identity_id', '=', id).execute()
        if (grants.length > 0)
          await db
            .insertInto('entitlements')
            .values(
              grants.map((g) => ({
                identity_id: id,
                action: g.action,
                resource: g.resource,
                access_level: g.accessLevel,
                source_kind: 'managed_policy',
                source_ref: 'arn:aws:iam::123456789012:policy/p',
                conditional: g.conditional,
              })),
            )
            .execute()
        const [loaded] = await fetchIdentitiesById(db, [id])
        const all = await db.selectFrom('entitlements').selectAll().where('identity_id', '=', id).orderBy('id').execute()
        const full = {
          ...loaded!.identity,
          maxAccessLevel: undefined,
          entitlements: all.map((e) => ({
            action: e.action,
            resource: e.resource,
            accessLevel: e.access_level as AccessLevel,
            sourceKind: e.source_kind,
            sourceRef: e.source_ref,
            conditional: e.conditional,
          })),
        }
        const options = { now: NOW, thresholds: context.thresholds.resolve(sourceId, {}), directory: context.directory }
        const asLoaded = assessIdentity(loaded!.identity, options)
        const withAll = assessIdentity(full, options)
        expect(loaded!.identity.entitlements.length).toBeLessThanOrEqual(all.length)
        expect(asLoaded).toEqual(withAll)
      }),
      { numRuns: 60 },
    )
  })

  it('leave out grants no rule or classifier reads', async () => {
    const db = database.current.db
    const sourceId = await storeSource(db, 'plain')
    // storeIdentity grants s3:GetObject on one bucket at the read level.
    const id = await storeIdentity(db, sourceId, { name: 'plain-reader' })
    const [loaded] = await fetchIdentitiesById(db, [id])
    expect(loaded!.identity.entitlements).toEqual([])
    expect(loaded!.identity.maxAccessLevel).toBe('read')
  })

  it('include every call to a language-model API the classifier recognises, at any level and on any resource', async () => {
    const db = database.current.db
    const sourceId = await storeSource(db, 'llm-calls')
    const id = await storeIdentity(db, sourceId, { name: 'llm-caller' })
    const llmCalls = ACTIONS.filter(
      (action) => deriveSignals({ provider: 'aws', kind: 'role', displayName: 'x', tags: {}, signals: [], entitlements: [{ action }] }).length > 0,
    )
    expect(llmCalls.length).toBeGreaterThan(10)
    await db
      .insertInto('entitlements')
      .values(llmCalls.map((action) => ({ identity_id: id, action, resource: 'projects/p-1', access_level: 'read', source_kind: 'role', source_ref: 'r' })))
      .execute()
    const stored = await db.selectFrom('entitlements').select(['action', 'notable']).where('identity_id', '=', id).where('action', 'in', llmCalls).execute()
    expect(stored.filter((row) => !row.notable)).toEqual([])
    expect(stored).toHaveLength(llmCalls.length)
  })
})
