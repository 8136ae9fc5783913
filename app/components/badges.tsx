import { riskBandOf } from '../../db/queries/identity-filter'
import { label } from './format'

type Tone = 'critical' | 'high' | 'medium' | 'low' | 'info' | 'unknown' | 'ok' | 'neutral' | 'running'

/** A small coloured label. Colour is never the only signal: the text always says it too. */
export function Badge({ tone, children, title }: { tone: Tone; children: React.ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  )
}

export function SeverityBadge({ severity }: { severity: string }) {
  const tone = (['critical', 'high', 'medium', 'low', 'info'].includes(severity) ? severity : 'unknown') as Tone
  return <Badge tone={tone}>{severity}</Badge>
}

/** The 0..100 risk score with its band, e.g. "87 critical". */
export function RiskBadge({ score }: { score: number }) {
  const band = riskBandOf(score)
  return (
    <span className={`risk risk-${band}`} title={`Risk ${score} of 100 (${band})`}>
      <span className="risk-score">{score}</span>
      <span className="risk-band">{band}</span>
    </span>
  )
}

export function OwnerStatusBadge({ status }: { status: string }) {
  const tone: Tone = status === 'valid' ? 'ok' : status === 'unknown' ? 'unknown' : 'high'
  return <Badge tone={tone}>{label(status)}</Badge>
}

export function AgentBadge({ platform, confidence }: { platform: string | null; confidence?: number }) {
  return (
    <Badge tone="neutral" title={confidence !== undefined ? `Agent confidence ${Math.round(confidence * 100)}%` : undefined}>
      <span aria-hidden="true">◆ </span>
      {platform ? label(platform) : 'AI agent'}
    </Badge>
  )
}

export type HealthTone = 'healthy' | 'incomplete' | 'unknown' | 'scanning' | 'never_scanned' | 'disabled'

const HEALTH: Record<HealthTone, { tone: Tone; text: string }> = {
  healthy: { tone: 'ok', text: 'Healthy' },
  incomplete: { tone: 'medium', text: 'Incomplete' },
  unknown: { tone: 'critical', text: 'Unknown — last scan failed' },
  scanning: { tone: 'running', text: 'Scanning' },
  never_scanned: { tone: 'unknown', text: 'Not scanned yet' },
  disabled: { tone: 'neutral', text: 'Disabled' },
}

export function HealthBadge({ health }: { health: HealthTone }) {
  const entry = HEALTH[health]
  return <Badge tone={entry.tone}>{entry.text}</Badge>
}

export function StatusBadge({ status }: { status: string }) {
  const tone: Tone = status === 'active' ? 'ok' : status === 'gone' || status === 'revoked' ? 'neutral' : status === 'expired' ? 'high' : 'unknown'
  return <Badge tone={tone}>{status}</Badge>
}
