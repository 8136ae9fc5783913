/**
 * Formatting shared by every dashboard page: counts (honest about caps and estimates), dates,
 * ages, and the human labels of Leash's enums. Pure, so server and browser render the same text.
 */
const numberFormat = new Intl.NumberFormat('en')
const compactFormat = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 })

export function formatCount(value: number): string {
  return numberFormat.format(value)
}

/** "10,000+" for a capped count, "≈ 240k" for an estimate, the exact number otherwise. */
export function formatCapped(count: { count: number; exact: boolean; estimate?: number }): string {
  if (count.exact) return formatCount(count.count)
  if (count.estimate !== undefined && count.estimate > count.count) return `${formatCount(count.count)}+ (≈ ${compactFormat.format(count.estimate)})`
  return `${formatCount(count.count)}+`
}

export function formatEstimate(value: number, estimated: boolean): string {
  return estimated ? `≈ ${compactFormat.format(value)}` : formatCount(value)
}

const dateFormat = new Intl.DateTimeFormat('en-GB', { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' })
const dateTimeFormat = new Intl.DateTimeFormat('en-GB', {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZone: 'UTC',
  timeZoneName: 'short',
})

function toDate(value: Date | string | null | undefined): Date | null {
  if (value === null || value === undefined) return null
  const date = value instanceof Date ? value : new Date(value)
  return Number.isNaN(date.getTime()) ? null : date
}

export function formatDate(value: Date | string | null | undefined, fallback = '—'): string {
  const date = toDate(value)
  return date ? dateFormat.format(date) : fallback
}

export function formatDateTime(value: Date | string | null | undefined, fallback = '—'): string {
  const date = toDate(value)
  return date ? dateTimeFormat.format(date) : fallback
}

const timeFormat = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', timeZone: 'UTC', timeZoneName: 'short' })

export function formatTime(value: Date | string | null | undefined, fallback = '—'): string {
  const date = toDate(value)
  return date ? timeFormat.format(date) : fallback
}

export function daysSince(value: Date | string | null | undefined, now: Date = new Date()): number | null {
  const date = toDate(value)
  return date ? Math.floor((now.getTime() - date.getTime()) / 86_400_000) : null
}

// One formatter for every call: constructing an Intl formatter costs far more than formatting,
// and a page of identities formats hundreds of dates.
const relativeFormat = new Intl.RelativeTimeFormat('en', { numeric: 'auto' })

/** "3 days ago", "today", "in 5 days"; the fallback when unknown. */
export function formatAgo(value: Date | string | null | undefined, fallback = 'never', now: Date = new Date()): string {
  const date = toDate(value)
  if (!date) return fallback
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000)
  const abs = Math.abs(seconds)
  const rtf = relativeFormat
  if (abs < 60) return rtf.format(seconds, 'second')
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute')
  if (abs < 86_400) return rtf.format(Math.round(seconds / 3600), 'hour')
  if (abs < 86_400 * 60) return rtf.format(Math.round(seconds / 86_400), 'day')
  if (abs < 86_400 * 730) return rtf.format(Math.round(seconds / (86_400 * 30.4)), 'month')
  return rtf.format(Math.round(seconds / (86_400 * 365)), 'year')
}

export function formatAgeDays(value: Date | string | null | undefined, fallback = '—', now: Date = new Date()): string {
  const days = daysSince(value, now)
  if (days === null) return fallback
  return days === 1 ? '1 day' : `${formatCount(days)} days`
}

const LABELS: Record<string, string> = {
  // providers
  aws: 'AWS',
  azure: 'Microsoft Entra / Azure',
  entra: 'Microsoft Entra',
  gcp: 'Google Cloud',
  github: 'GitHub',
  openai: 'OpenAI',
  anthropic: 'Anthropic',
  vault: 'HashiCorp Vault',
  // agent platforms
  bedrock: 'Amazon Bedrock',
  bedrock_agentcore: 'Bedrock AgentCore',
  sagemaker: 'SageMaker',
  entra_agent_id: 'Entra Agent ID',
  azure_openai: 'Azure OpenAI',
  vertex_ai: 'Vertex AI',
  github_copilot: 'GitHub Copilot',
  other_ai: 'Other AI',
  // dimensions
  ownership: 'Ownership',
  privilege: 'Over-privilege',
  credential_age: 'Credential age',
  monitoring: 'Monitoring gaps',
  // owner status
  valid: 'Owned',
  invalid: 'Owner left',
  none: 'No owner',
  unknown: 'Unknown',
  // access levels
  admin: 'Admin',
  permissions_management: 'Permissions management',
  write: 'Write',
  tagging: 'Tagging',
  read: 'Read',
  list: 'List',
  // change types
  identity_new: 'New identity',
  identity_gone: 'Gone upstream',
  identity_returned: 'Returned',
  status_changed: 'Status changed',
  credential_added: 'Credential added',
  credential_removed: 'Credential removed',
  credential_status_changed: 'Credential status changed',
  privilege_gained: 'Privilege gained',
  privilege_lost: 'Privilege lost',
  owner_changed: 'Owner changed',
  agent_classification_changed: 'Agent classification changed',
}

/** A human label for an enum value (provider, platform, dimension…); unknown values are humanized. */
export function label(value: string | null | undefined, fallback = '—'): string {
  if (value === null || value === undefined || value === '') return fallback
  return LABELS[value] ?? value.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase())
}

export function kindLabel(value: string): string {
  return value.replace(/_/g, ' ')
}
