import { describe, expect, it } from 'vitest'
import type { AgentSignal } from '../connectors/contract.js'
import { AGENT_THRESHOLD, classifyAgent, isLookAlikeName, type ClassificationInput } from './classification.js'

function input(overrides: Partial<ClassificationInput> = {}): ClassificationInput {
  return { provider: 'aws', kind: 'role', displayName: 'reports', tags: {}, signals: [], entitlements: [], ...overrides }
}
const signal = (id: string, weight: number, platform: AgentSignal['platform'] = null): AgentSignal => ({
  id,
  weight,
  platform,
  reason: id,
  evidence: {},
})
const nameSignal = signal('aws.name.agent', 0.3)

describe('AI-agent classification: look-alikes are not agents', () => {
  const lookAlikes: [string, ClassificationInput][] = [
    [
      'a CI deploy role named "deploy-agent-runner" trusted by GitHub Actions',
      input({
        displayName: 'deploy-agent-runner',
        signals: [nameSignal],
        tags: { purpose: 'ci' },
        entitlements: [{ action: 'cloudformation:*' }, { action: 's3:PutObject' }, { action: 'iam:PassRole' }],
      }),
    ],
    [
      'a "user-agent-parser" Lambda role',
      input({ displayName: 'user-agent-parser-role', signals: [nameSignal], entitlements: [{ action: 'logs:PutLogEvents' }] }),
    ],
    ['a Jenkins build agent instance role', input({ displayName: 'jenkins-agent', tags: { role: 'build-agent' }, signals: [nameSignal] })],
    [
      'a human "travel-agent-app" registration',
      input({ provider: 'entra', kind: 'application', displayName: 'travel-agent-app', signals: [signal('entra.name.agent', 0.3)] }),
    ],
    ['a Datadog agent role', input({ displayName: 'datadog-agent-integration', tags: { app: 'datadog-agent' } })],
    ['an SSM agent instance profile', input({ displayName: 'ssm-agent-instance-profile' })],
    [
      'an assistant-named role with only weak hints',
      input({ displayName: 'assistant-reports', tags: { team: 'ai-platform' }, signals: [signal('aws.tag.ai', 0.4)] }),
    ],
    [
      'an administrator (s3:* and * are not model access)',
      input({ displayName: 'admin', entitlements: [{ action: '*' }, { action: 's3:*' }] }),
    ],
    [
      'many weak hints of different kinds still below the bar',
      input({ displayName: 'llm-agent', tags: { genai: 'true' }, signals: [signal('aws.description.ai', 0.45)] }),
    ],
  ]
  for (const [name, value] of lookAlikes) {
    it(`${name} is not an agent`, () => {
      const result = classifyAgent(value)
      expect(result.isAgent).toBe(false)
      expect(result.platform).toBeNull()
      expect(result.confidence).toBeLessThan(AGENT_THRESHOLD)
    })
  }

  it('keeps the look-alike name signal as a reason, marked as not counted', () => {
    const result = classifyAgent(lookAlikes[0]![1])
    expect(result.reasons.find((reason) => reason.id === 'aws.name.agent')).toMatchObject({ counted: false, source: 'connector' })
  })

  it('recognises the look-alike names', () => {
    expect(isLookAlikeName('deploy-agent-runner')).toBe(true)
    expect(isLookAlikeName('user-agent-parser')).toBe(true)
    expect(isLookAlikeName('travel-agent-app')).toBe(true)
    expect(isLookAlikeName('support-copilot')).toBe(false)
    expect(isLookAlikeName('research-agent')).toBe(false)
  })
})

describe('AI-agent classification: agents', () => {
  it('a provider-native agent object is decisive (Entra Agent ID)', () => {
    const result = classifyAgent(input({ provider: 'entra', kind: 'agent_identity', displayName: 'Contoso HR helper' }))
    expect(result).toMatchObject({ isAgent: true, confidence: 1, platform: 'entra_agent_id' })
  })

  it('a trust relationship with an AI service is strong enough alone (Bedrock)', () => {
    const result = classifyAgent(
      input({ displayName: 'AmazonBedrockExecutionRoleForAgents_X', signals: [signal('aws.trust.bedrock', 0.85, 'bedrock')] }),
    )
    expect(result).toMatchObject({ isAgent: true, platform: 'bedrock' })
    expect(result.confidence).toBeGreaterThanOrEqual(0.85)
  })

  it('credentials only an AI platform issues (an OpenAI project key)', () => {
    const result = classifyAgent(input({ provider: 'openai', kind: 'api_key', displayName: 'prod-key' }))
    expect(result).toMatchObject({ isAgent: true, platform: 'openai' })
  })

  it('grants to a model API plus an AI name together are enough; the grant alone is not', () => {
    const grant = { entitlements: [{ action: 'bedrock:InvokeModel' }, { action: 's3:GetObject' }] }
    const both = classifyAgent(input({ displayName: 'support-agent', ...grant }))
    expect(both).toMatchObject({ isAgent: true, platform: 'bedrock' })
    const grantOnly = classifyAgent(input({ displayName: 'reports', ...grant }))
    expect(grantOnly.isAgent).toBe(false)
    expect(grantOnly.reasons.map((reason) => reason.id)).toContain('leash.grant.llm_api')
  })

  it('a look-alike name does not combine with a model grant into an agent', () => {
    const result = classifyAgent(input({ displayName: 'jenkins-agent', entitlements: [{ action: 'bedrock:InvokeModel' }] }))
    expect(result.isAgent).toBe(false)
  })

  it('several signals of one family count once', () => {
    const result = classifyAgent(
      input({ signals: [signal('aws.name.agent', 0.3), signal('aws.name.llm', 0.3), signal('aws.name.gpt', 0.3)] }),
    )
    expect(result.confidence).toBeCloseTo(0.3, 5)
  })

  it('ignores signals Leash derived in an earlier pass (they are recomputed)', () => {
    const stale = { ...signal('leash.grant.llm_api', 0.55, 'bedrock'), source: 'leash' } as AgentSignal
    const result = classifyAgent(input({ signals: [stale] }))
    expect(result.reasons).toEqual([])
  })

  it('clamps out-of-range weights from a connector', () => {
    const result = classifyAgent(input({ signals: [signal('x.trust.y', 7), signal('x.name.z', -1)] }))
    expect(result.confidence).toBe(1)
  })
})
