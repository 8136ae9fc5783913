/**
 * GitHub Apps and bots that are AI coding agents, by app slug (github.com/apps/<slug>) or bot
 * login (<slug>[bot]). Maintained by hand: add an entry with the page it was confirmed on.
 * Anything not listed can still be recognised by name (weaker signal).
 */
import type { AgentPlatform, AgentSignal } from '../contract.js'
import { nameSignals } from '../saas-kit/agent-names.js'

export { nameSignals }

export interface KnownAgentApp {
  slug: string
  platform: AgentPlatform
  product: string
  /** Where the slug was confirmed. */
  source: string
}

export const KNOWN_AGENT_APPS: readonly KnownAgentApp[] = [
  {
    slug: 'copilot-swe-agent',
    platform: 'github_copilot',
    product: 'GitHub Copilot coding agent',
    source: 'https://docs.github.com/en/copilot/concepts/agents/coding-agent/about-coding-agent',
  },
  {
    slug: 'copilot-pull-request-reviewer',
    platform: 'github_copilot',
    product: 'GitHub Copilot code review',
    source: 'https://docs.github.com/en/copilot/concepts/agents/code-review',
  },
  { slug: 'claude', platform: 'anthropic', product: 'Claude (Claude Code GitHub app)', source: 'https://github.com/apps/claude' },
  {
    slug: 'chatgpt-codex-connector',
    platform: 'openai',
    product: 'OpenAI Codex',
    source: 'https://github.com/apps/chatgpt-codex-connector',
  },
  {
    slug: 'devin-ai-integration',
    platform: 'other_ai',
    product: 'Devin (Cognition)',
    source: 'https://github.com/apps/devin-ai-integration',
  },
  { slug: 'cursor', platform: 'other_ai', product: 'Cursor background agents', source: 'https://github.com/apps/cursor' },
  { slug: 'google-labs-jules', platform: 'other_ai', product: 'Jules (Google Labs)', source: 'https://github.com/apps/google-labs-jules' },
  {
    slug: 'gemini-code-assist',
    platform: 'vertex_ai',
    product: 'Gemini Code Assist',
    source: 'https://github.com/apps/gemini-code-assist',
  },
  { slug: 'amazon-q-developer', platform: 'bedrock', product: 'Amazon Q Developer', source: 'https://github.com/apps/amazon-q-developer' },
  { slug: 'openhands-ai', platform: 'other_ai', product: 'OpenHands', source: 'https://github.com/apps/openhands-ai' },
  { slug: 'sweep-ai', platform: 'other_ai', product: 'Sweep', source: 'https://github.com/apps/sweep-ai' },
  { slug: 'coderabbitai', platform: 'other_ai', product: 'CodeRabbit', source: 'https://github.com/apps/coderabbitai' },
  { slug: 'factory-droid', platform: 'other_ai', product: 'Factory Droids', source: 'https://github.com/apps/factory-droid' },
]

const BY_SLUG = new Map(KNOWN_AGENT_APPS.map((a) => [a.slug, a]))

/** A known coding-agent app by slug or bot login (`claude[bot]`). */
export function knownAgentApp(slugOrLogin: string | null | undefined): KnownAgentApp | null {
  if (!slugOrLogin) return null
  return BY_SLUG.get(slugOrLogin.toLowerCase().replace(/\[bot\]$/, '')) ?? null
}

export function appSignals(slug: string, name: string | null): AgentSignal[] {
  const known = knownAgentApp(slug)
  if (known) {
    return [
      {
        id: 'github.app.known_agent',
        platform: known.platform,
        weight: 0.9,
        reason: `${known.product} is an AI coding agent app.`,
        evidence: { slug, source: known.source },
      },
    ]
  }
  return nameSignals('github.app.name', `${slug} ${name ?? ''}`, 'app')
}
