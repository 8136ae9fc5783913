/**
 * Is this identity an AI agent? Multi-signal, precision first.
 *
 * Each signal carries a weight (how strongly it alone says "AI agent"). Signals are grouped in
 * families (native object, trust, grant, credential, tag, name, …) and only the strongest signal
 * of a family counts, so ten naming hints do not add up to certainty. Families combine by
 * noisy-OR: confidence = 1 − Π(1 − w_family).
 *
 * An identity is an agent when the confidence reaches AGENT_THRESHOLD *and* at least one
 * signal is strong (weight ≥ STRONG_SIGNAL). Names and tags are weak by design: a CI role
 * called "deploy-agent-runner" or a "travel-agent-app" never becomes an agent on its name.
 * A person's confirm/reject (agent_override) is applied on top, outside this function.
 */
import { AGENT_PLATFORMS, type AgentPlatform, type AgentSignal } from '../connectors/contract.js'
import type { Classification, ClassifiedSignal } from './types.js'

export const AGENT_THRESHOLD = 0.65
export const STRONG_SIGNAL = 0.5
/** Without a strong signal the confidence is capped below the threshold. */
const WEAK_ONLY_CAP = 0.6

export interface ClassificationInput {
  provider: string
  kind: string
  displayName: string
  tags: Record<string, string>
  signals: AgentSignal[]
  entitlements: { action: string }[]
}

const NATIVE_KINDS = new Set(['agent_identity', 'agent_blueprint', 'agent_user'])
const AI_PLATFORM_PROVIDERS: Record<string, AgentPlatform> = { openai: 'openai', anthropic: 'anthropic' }

/** Actions that call a large language model or an agent runtime. `*` alone is admin, not AI. */
const LLM_ACTIONS: { pattern: RegExp; platform: AgentPlatform }[] = [
  {
    pattern: /^bedrock:(\*|Invoke\*?|InvokeModel\w*|Converse\w*|InvokeAgent|InvokeInlineAgent|InvokeFlow|RetrieveAndGenerate\w*)$/i,
    platform: 'bedrock',
  },
  { pattern: /^bedrock-agentcore:/i, platform: 'bedrock_agentcore' },
  { pattern: /^sagemaker:InvokeEndpoint\w*$/i, platform: 'sagemaker' },
  { pattern: /^Microsoft\.CognitiveServices\/accounts\/(OpenAI|AIServices)\//i, platform: 'azure_openai' },
  { pattern: /^(roles\/aiplatform\.(user|admin)|aiplatform\.endpoints\.predict|aiplatform\.endpoints\.\*)$/i, platform: 'vertex_ai' },
  { pattern: /^(model\.request|api\.model\.request|openai:)/i, platform: 'openai' },
]

/** Words that make a name or tag look AI-related. */
const AI_NAME =
  /(^|[^a-z])(ai[-_ ]?agent|agentic|llm|genai|gen[-_]ai|gpt|chatgpt|openai|anthropic|claude|bedrock|langchain|langgraph|crewai|autogen|copilot|mcp[-_ ]?server|rag|chatbot|assistant|agent)([^a-z]|$)/i

/**
 * "agent" in names that are not AI agents: CI/CD and build agents, monitoring agents, the
 * User-Agent header, and human agents (travel, insurance, estate, support desks).
 */
const LOOK_ALIKE = new RegExp(
  [
    'user[-_ ]?agents?',
    '(build|ci|cd|deploy|deployment|release|pipeline|runner|jenkins|gitlab|bamboo|teamcity|buildkite|azure[-_ ]?devops|ado|octopus|spinnaker)[-_ ]?agents?',
    'agents?[-_ ]?(runner|pool|build|ci|deploy)',
    '(jenkins|gitlab|teamcity|bamboo|buildkite|octopus)',
    '(ssm|cloudwatch|cw|datadog|dd|newrelic|new[-_]relic|splunk|elastic|filebeat|fluent|otel|opentelemetry|zabbix|nagios|dynatrace|crowdstrike|falcon|sentinel|defender|qualys|tenable|nessus|wazuh|puppet|chef|salt|monitoring|backup|ecs|eks|kube|k8s|vsts|tfc|terraform|consul|vault)[-_ ]?agents?',
    '(travel|insurance|estate|realty|booking|ticket|sales|support|service|call[-_ ]?center|helpdesk|help[-_ ]?desk|customer)[-_ ]?agents?[-_ ]?(app|portal|crm|desk)',
    '(travel|insurance|real[-_ ]?estate|realty)[-_ ]?agents?',
  ].join('|'),
  'i',
)

export function isLookAlikeName(name: string): boolean {
  return LOOK_ALIKE.test(name)
}

/** The second part of a signal id (`aws.trust.bedrock` → `trust`), or the id when it has one part. */
function familyOf(signal: AgentSignal): string {
  const id = signal.id
  const first = id.indexOf('.')
  if (first < 0) return id
  const second = id.indexOf('.', first + 1)
  return id.slice(first + 1, second < 0 ? id.length : second)
}

function platformOf(value: unknown): AgentPlatform | null {
  return typeof value === 'string' && (AGENT_PLATFORMS as readonly string[]).includes(value) ? (value as AgentPlatform) : null
}

/** Signals Leash derives from normalized data, so every provider gets them the same way. */
export function deriveSignals(input: ClassificationInput): AgentSignal[] {
  const derived: AgentSignal[] = []
  if (NATIVE_KINDS.has(input.kind)) {
    const platform: AgentPlatform = /entra|azure/i.test(input.provider)
      ? 'entra_agent_id'
      : /aws/i.test(input.provider)
        ? 'bedrock_agentcore'
        : 'other_ai'
    derived.push({
      id: `leash.native.${input.kind}`,
      platform,
      weight: 1,
      reason: `The provider itself models this identity as an AI agent (${input.kind}).`,
      evidence: { kind: input.kind },
    })
  }
  const aiProvider = AI_PLATFORM_PROVIDERS[input.provider]
  if (aiProvider) {
    derived.push({
      id: `leash.credential.${input.provider}`,
      platform: aiProvider,
      weight: 0.9,
      reason: `Issued by ${input.provider}, an AI platform: it exists to call language models.`,
      evidence: { provider: input.provider },
    })
  }
  const llmActions: string[] = []
  let llmPlatform: AgentPlatform | null = null
  for (const entitlement of input.entitlements) {
    for (const { pattern, platform } of LLM_ACTIONS) {
      if (pattern.test(entitlement.action)) {
        if (llmActions.length < 10 && !llmActions.includes(entitlement.action)) llmActions.push(entitlement.action)
        llmPlatform ??= platform
        break
      }
    }
  }
  if (llmActions.length > 0) {
    derived.push({
      id: 'leash.grant.llm_api',
      platform: llmPlatform,
      weight: 0.55,
      reason: 'Granted permission to call a language-model or agent-runtime API.',
      evidence: { actions: llmActions },
    })
  }
  if (AI_NAME.test(input.displayName)) {
    derived.push({
      id: 'leash.name.ai_term',
      platform: null,
      weight: 0.3,
      reason: `The name "${input.displayName}" uses an AI or agent term.`,
      evidence: { name: input.displayName },
    })
  }
  const aiTags = Object.entries(input.tags).filter(
    ([key, value]) => (AI_NAME.test(key) || AI_NAME.test(value)) && !isLookAlikeName(value) && !isLookAlikeName(key),
  )
  if (aiTags.length > 0) {
    derived.push({
      id: 'leash.tag.ai_term',
      platform: null,
      weight: 0.35,
      reason: 'Tagged with an AI or agent term.',
      evidence: { tags: Object.fromEntries(aiTags.slice(0, 10)) },
    })
  }
  return derived
}

export function classifyAgent(input: ClassificationInput): Classification {
  const lookAlike = isLookAlikeName(input.displayName)
  const reasons: ClassifiedSignal[] = []
  const seen = new Set<string>()
  const consider = (signal: AgentSignal, source: ClassifiedSignal['source']) => {
    if (seen.has(signal.id)) return
    seen.add(signal.id)
    const family = familyOf(signal)
    const weight = Number.isFinite(signal.weight) ? Math.min(1, Math.max(0, signal.weight)) : 0
    // A look-alike name ("jenkins-agent", "user-agent-parser") is not evidence of an AI agent.
    const counted = !(lookAlike && (family === 'name' || family === 'naming'))
    reasons.push({ ...signal, weight, platform: platformOf(signal.platform), source, counted })
  }
  for (const signal of input.signals) {
    if ((signal as Partial<ClassifiedSignal>).source === 'leash') continue
    consider(signal, 'connector')
  }
  const connectorFamilies = new Set(reasons.map((reason) => familyOf(reason)))
  for (const signal of deriveSignals(input)) {
    // The connector's own naming or tag reading is more precise than Leash's generic one.
    const family = familyOf(signal)
    if ((family === 'name' || family === 'tag') && connectorFamilies.has(family)) continue
    consider(signal, 'leash')
  }

  const strongestByFamily = new Map<string, ClassifiedSignal>()
  for (const reason of reasons) {
    if (!reason.counted) continue
    const family = familyOf(reason)
    const current = strongestByFamily.get(family)
    if (!current || reason.weight > current.weight) strongestByFamily.set(family, reason)
  }
  let remaining = 1
  let strongest: ClassifiedSignal | null = null
  for (const reason of strongestByFamily.values()) {
    remaining *= 1 - reason.weight
    if (!strongest || reason.weight > strongest.weight) strongest = reason
  }
  let confidence = 1 - remaining
  const hasStrong = strongest !== null && strongest.weight >= STRONG_SIGNAL
  if (!hasStrong) confidence = Math.min(confidence, WEAK_ONLY_CAP)
  confidence = Math.round(confidence * 1000) / 1000
  const isAgent = hasStrong && confidence >= AGENT_THRESHOLD
  // The platform comes from the strongest signal that names one.
  let platform: AgentPlatform | null = null
  let platformWeight = -1
  for (const reason of reasons) {
    if (reason.counted && reason.platform && reason.weight > platformWeight) {
      platform = reason.platform
      platformWeight = reason.weight
    }
  }
  reasons.sort((a, b) => b.weight - a.weight || (a.id < b.id ? -1 : 1))
  return { isAgent, confidence, platform: isAgent ? platform : null, reasons }
}
