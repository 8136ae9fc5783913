/**
 * What an IAM identity's trust policy, name, tags and key usage say about it: AI-agent
 * signals, owners, environments and workloads. Precision over recall: a name alone is a weak
 * hint (a CI deploy role is not an agent); trust in an agent runtime or an explicit tag is strong.
 */
import type { AgentPlatform, AgentSignal, NormalizedIdentity, OwnerHint } from '../contract.js'
import type { ReportKey } from './credential-report.js'

export interface TrustSummary {
  services: string[]
  awsPrincipals: string[]
  federated: string[]
  /** Any statement admits a principal from outside the role's account. */
  crossAccount: boolean
}

export function summarizeTrust(document: unknown, ownAccountId: string): TrustSummary {
  const services = new Set<string>()
  const aws = new Set<string>()
  const federated = new Set<string>()
  const statements = (document as { Statement?: unknown })?.Statement
  const list = Array.isArray(statements) ? statements : statements ? [statements] : []
  for (const s of list as { Effect?: string; Principal?: unknown }[]) {
    if (s?.Effect !== 'Allow') continue
    const p = s.Principal
    if (p === '*') aws.add('*')
    else if (p && typeof p === 'object') {
      const add = (set: Set<string>, v: unknown) => (Array.isArray(v) ? v : v === undefined ? [] : [v]).forEach((x) => set.add(String(x)))
      add(services, (p as Record<string, unknown>).Service)
      add(aws, (p as Record<string, unknown>).AWS)
      add(federated, (p as Record<string, unknown>).Federated)
    }
  }
  const crossAccount = [...aws].some((a) => {
    if (a === '*') return true
    const account = /^\d{12}$/.test(a) ? a : a.split(':')[4]
    return account !== undefined && account !== ownAccountId
  })
  return { services: [...services].sort(), awsPrincipals: [...aws].sort(), federated: [...federated].sort(), crossAccount }
}

/** Service principals of AI agent runtimes, with how strongly trust in them alone says "agent". */
const AGENT_SERVICES: { service: string; id: string; platform: AgentPlatform; weight: number; reason: string }[] = [
  {
    service: 'bedrock-agentcore.amazonaws.com',
    id: 'aws.trust.bedrock_agentcore',
    platform: 'bedrock_agentcore',
    weight: 0.95,
    reason: 'Its trust policy lets Amazon Bedrock AgentCore (agent runtime, gateway, code interpreter) assume it.',
  },
  {
    service: 'bedrock.amazonaws.com',
    id: 'aws.trust.bedrock',
    platform: 'bedrock',
    weight: 0.85,
    reason: 'Its trust policy lets Amazon Bedrock assume it (Bedrock agents, knowledge bases, flows).',
  },
  {
    service: 'sagemaker.amazonaws.com',
    id: 'aws.trust.sagemaker',
    platform: 'sagemaker',
    // SageMaker roles are more often training/notebook roles than agents: a supporting signal only.
    weight: 0.4,
    reason: 'Its trust policy lets Amazon SageMaker assume it (notebooks, training, hosted models).',
  },
]

const AGENT_TAG_KEYS = new Set(['leash:agent', 'ai-agent', 'ai:agent', 'agent', 'is-agent', 'aiagent'])
const TRUE_VALUES = new Set(['true', 'yes', '1', 'y', 'agent', 'ai-agent'])
const AGENT_TAG_VALUES = /^(ai[-_ ]?agent|llm[-_ ]?agent|agent|genai[-_ ]?agent|autonomous[-_ ]?agent)$/i
const WORKLOAD_TYPE_KEYS = new Set(['workload-type', 'workload_type', 'workloadtype', 'purpose', 'type', 'component'])
const PLATFORM_TAG: Record<string, AgentPlatform> = {
  bedrock: 'bedrock',
  'bedrock-agentcore': 'bedrock_agentcore',
  agentcore: 'bedrock_agentcore',
  sagemaker: 'sagemaker',
  openai: 'openai',
  anthropic: 'anthropic',
  'azure-openai': 'azure_openai',
  'vertex-ai': 'vertex_ai',
}
/** Services a key used last that are AI-model or agent runtimes (credential report namespace). */
const AGENT_KEY_SERVICES: Record<string, AgentPlatform> = {
  bedrock: 'bedrock',
  'bedrock-runtime': 'bedrock',
  'bedrock-agent': 'bedrock',
  'bedrock-agent-runtime': 'bedrock',
  'bedrock-agentcore': 'bedrock_agentcore',
}

const lowerTags = (tags: Record<string, string>) => Object.fromEntries(Object.entries(tags).map(([k, v]) => [k.toLowerCase(), v]))

export function agentSignals(input: {
  kind: 'user' | 'role' | 'secret'
  name: string
  path: string
  tags: Record<string, string>
  trust: TrustSummary | null
  keys: ReportKey[]
}): AgentSignal[] {
  const signals: AgentSignal[] = []
  const tags = lowerTags(input.tags)
  const tagPlatform = tags['leash:agent-platform'] ?? tags['agent-platform'] ?? tags['ai-platform']
  const platformFromTag = tagPlatform ? (PLATFORM_TAG[tagPlatform.toLowerCase()] ?? 'other_ai') : null

  if (input.trust) {
    for (const def of AGENT_SERVICES) {
      if (input.trust.services.includes(def.service)) {
        signals.push({ id: def.id, platform: def.platform, weight: def.weight, reason: def.reason, evidence: { trustedService: def.service } })
      }
    }
  }

  if (input.kind === 'role' && /^AmazonBedrockExecutionRoleForAgents_/.test(input.name)) {
    signals.push({
      id: 'aws.name.bedrock_agent_service_role',
      platform: 'bedrock',
      weight: 0.9,
      reason: 'Named like the service role the Bedrock console creates for an agent (AmazonBedrockExecutionRoleForAgents_*).',
      evidence: { name: input.name },
    })
  } else if (input.kind === 'role' && /^AmazonBedrockAgentCore/i.test(input.name)) {
    signals.push({
      id: 'aws.name.agentcore_runtime_role',
      platform: 'bedrock_agentcore',
      weight: 0.8,
      reason: 'Named like the execution role the AgentCore toolkit creates (AmazonBedrockAgentCore*).',
      evidence: { name: input.name },
    })
  }

  for (const [key, value] of Object.entries(tags)) {
    const explicit = AGENT_TAG_KEYS.has(key) && TRUE_VALUES.has(value.trim().toLowerCase())
    const typed = WORKLOAD_TYPE_KEYS.has(key) && AGENT_TAG_VALUES.test(value.trim())
    if (explicit || typed) {
      signals.push({
        id: 'aws.tag.agent',
        platform: platformFromTag,
        weight: key === 'leash:agent' ? 0.95 : 0.8,
        reason: `Tagged ${key}=${value}, declaring it an AI agent identity.`,
        evidence: { tag: key, value },
      })
      break
    }
  }

  const agentName = tags['agent-name'] ?? tags['leash:agent-name']
  if (agentName) {
    signals.push({
      id: 'aws.tag.agent_name',
      platform: platformFromTag,
      weight: 0.7,
      reason: `Tagged with the name of the agent that uses it (${agentName}).`,
      evidence: { agentName },
    })
  }

  for (const key of input.keys) {
    const platform = key.lastUsedService ? AGENT_KEY_SERVICES[key.lastUsedService.toLowerCase()] : undefined
    if (platform) {
      signals.push({
        id: 'aws.key.used_for_ai_runtime',
        platform,
        weight: 0.6,
        reason: `Access key ${key.slot} was last used against ${key.lastUsedService} (an AI model / agent runtime).`,
        evidence: { slot: key.slot, service: key.lastUsedService, region: key.lastUsedRegion },
      })
      break
    }
  }

  // Names are weak evidence on their own: `deploy-agent` (CI) and `user-agent-parser` exist.
  const nameHint = /(^|[-_./ ])(ai[-_]?agent|agentic|llm|gpt|claude|copilot|langchain|langgraph|crewai|autogen|openai|anthropic|bedrock|chatbot|rag)([-_./ ]|$)/i
  const agentWord = /(^|[-_./ ])agents?([-_./ ]|$)/i
  const ciWords = /(^|[-_./ ])(ci|cd|deploy|deployer|github|gitlab|jenkins|build|terraform|pipeline)([-_./ ]|$)/i
  if (nameHint.test(input.name) || (agentWord.test(input.name) && !ciWords.test(input.name))) {
    signals.push({
      id: 'aws.name.agent_like',
      platform: null,
      weight: 0.2,
      reason: `Its name (${input.name}) suggests an AI agent; names alone are weak evidence.`,
      evidence: { name: input.name, path: input.path },
    })
  }
  return signals
}

const OWNER_KEYS: Record<string, OwnerHint['role']> = {
  owner: 'owner',
  'leash:owner': 'owner',
  'owner-email': 'owner',
  owner_email: 'owner',
  ownedby: 'owner',
  'owned-by': 'owner',
  contact: 'owner',
  maintainer: 'owner',
  team: 'owner',
  'owner-team': 'owner',
  squad: 'owner',
  sponsor: 'sponsor',
  'leash:sponsor': 'sponsor',
  'created-by': 'creator',
  createdby: 'creator',
  created_by: 'creator',
  creator: 'creator',
}

export function ownerHints(tags: Record<string, string>): OwnerHint[] {
  const out: OwnerHint[] = []
  const seen = new Set<string>()
  for (const [rawKey, rawValue] of Object.entries(tags)) {
    const key = rawKey.toLowerCase()
    const role = OWNER_KEYS[key]
    const value = rawValue.trim()
    if (!role || !value || seen.has(`${role}:${value.toLowerCase()}`)) continue
    seen.add(`${role}:${value.toLowerCase()}`)
    const isTeamKey = key === 'team' || key === 'owner-team' || key === 'squad'
    const kind: OwnerHint['kind'] = value.includes('@') ? 'person' : isTeamKey ? 'team' : 'unknown'
    out.push({ ref: value, kind, role, source: 'tag', displayName: null, active: null, canAddCredentials: false })
  }
  return out
}

const ENV_KEYS = new Set(['env', 'environment', 'stage', 'leash:environment', 'deployment-environment'])
const PROD = /^(prod|production|prd|live)$/i
const NON_PROD = /^(dev|development|staging|stage|stg|test|testing|qa|uat|sandbox|sbx|nonprod|non-prod|preprod|pre-prod|demo)$/i

/** prod / non-prod from tags. A tag value like `prod,staging` (or two tags) yields both (NHI8). */
export function environments(tags: Record<string, string>): NormalizedIdentity['environments'] {
  const out = new Set<'production' | 'non_production'>()
  for (const [key, value] of Object.entries(tags)) {
    if (!ENV_KEYS.has(key.toLowerCase())) continue
    for (const part of value.split(/[,;+/| ]+/).filter(Boolean)) {
      if (PROD.test(part)) out.add('production')
      else if (NON_PROD.test(part)) out.add('non_production')
    }
  }
  return [...out].sort()
}

const WORKLOAD_KEYS = new Set(['workload', 'workloads', 'leash:workload', 'leash:workloads', 'app', 'application', 'service', 'agent-name', 'leash:agent-name'])

/** Distinct workloads declared on the identity (NHI9: one identity shared by several agents or apps). */
export function workloads(tags: Record<string, string>): string[] {
  const out = new Set<string>()
  for (const [key, value] of Object.entries(tags)) {
    if (!WORKLOAD_KEYS.has(key.toLowerCase())) continue
    for (const part of value.split(/[,;+| ]+/).map((p) => p.trim()).filter(Boolean)) out.add(part)
  }
  return [...out].sort()
}
