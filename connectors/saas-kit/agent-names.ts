/** Name-based AI agent recognition shared by the SaaS connectors: a weaker signal than a known app or platform. */
import type { AgentPlatform, AgentSignal } from '../contract.js'

/**
 * Product and framework names say which AI platform issued or uses the credential: strong
 * enough alone (0.7, above the classifier's threshold). Generic words ("agent", "ai", "mcp")
 * are not: a Jenkins agent or a user-agent parser share them, so alone they stay below it
 * (precision over recall) and need a second signal.
 */
const PRODUCT_PATTERNS: readonly [RegExp, AgentPlatform][] = [
  [/\b(claude|anthropic)\b/i, 'anthropic'],
  [/\b(copilot)\b/i, 'github_copilot'],
  [/\b(openai|codex|chatgpt|gpt(-?\d)?)\b/i, 'openai'],
  [/\b(gemini|vertex)\b/i, 'vertex_ai'],
  [/\b(bedrock|amazon q)\b/i, 'bedrock'],
  [/\b(devin|cursor|aider|langchain|langgraph|autogen|crewai)\b/i, 'other_ai'],
]
const GENERIC_PATTERN = /\b(agent|agents|agentic|llm|mcp|ai)\b/i

function words(text: string): string {
  return text.replace(/[-_./:[\]]+/g, ' ')
}

/** Names that say "agent" (token names, key titles, app names): a weaker, name-only signal. */
export function nameSignals(id: string, text: string, what: string): AgentSignal[] {
  const w = words(text)
  for (const [re, platform] of PRODUCT_PATTERNS) {
    const m = re.exec(w)
    if (m) return [{ id, platform, weight: 0.7, reason: `The ${what} name names the AI product "${m[0]}".`, evidence: { name: text.trim() } }]
  }
  const generic = GENERIC_PATTERN.exec(w)
  if (generic) {
    return [{ id, platform: 'other_ai', weight: 0.5, reason: `The ${what} name mentions "${generic[0]}".`, evidence: { name: text.trim() } }]
  }
  return []
}
