/** Name-based AI agent recognition shared by the SaaS connectors: a weaker signal than a known app or platform. */
import type { AgentPlatform, AgentSignal } from '../contract.js'

const NAME_PATTERNS: readonly [RegExp, AgentPlatform][] = [
  [/\b(claude|anthropic)\b/i, 'anthropic'],
  [/\b(copilot)\b/i, 'github_copilot'],
  [/\b(openai|codex|chatgpt|gpt(-?\d)?)\b/i, 'openai'],
  [/\b(gemini|vertex)\b/i, 'vertex_ai'],
  [/\b(bedrock|amazon q)\b/i, 'bedrock'],
  [/\b(agent|agents|agentic|llm|mcp|devin|cursor|aider|langchain|langgraph|autogen|crewai|ai)\b/i, 'other_ai'],
]

function words(text: string): string {
  return text.replace(/[-_./:[\]]+/g, ' ')
}

/** Names that say "agent" (token names, key titles, app names): a weaker, name-only signal. */
export function nameSignals(id: string, text: string, what: string): AgentSignal[] {
  const w = words(text)
  for (const [re, platform] of NAME_PATTERNS) {
    const m = re.exec(w)
    if (m)
      return [
        {
          id,
          platform,
          weight: platform === 'other_ai' ? 0.5 : 0.6,
          reason: `The ${what} name mentions "${m[0]}".`,
          evidence: { name: text.trim() },
        },
      ]
  }
  return []
}
