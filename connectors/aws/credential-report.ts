/**
 * The IAM credential report: one CSV per account with every user's password, access keys
 * (status, creation, last use) and signing certificates. Columns are read by name, so both the
 * current 22-column format and the older 16-column one (before `*_last_used_*` existed) parse;
 * a column the report does not have yields "unknown", never "never used".
 * Format: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html
 */
import { parse } from 'csv-parse/sync'
import type { NormalizedCredential } from '../contract.js'

export interface ReportKey {
  slot: 1 | 2
  active: boolean
  /** Creation (or last change) time of the key; the report's `access_key_N_last_rotated`. */
  lastRotated: Date | null
  lastUsed: Date | null
  /** false when the report has no last-used column at all (old format). */
  lastUsedKnown: boolean
  lastUsedService: string | null
  lastUsedRegion: string | null
}

export interface ReportCert {
  slot: 1 | 2
  active: boolean
  lastRotated: Date | null
}

export interface ReportUser {
  user: string
  arn: string
  createdAt: Date | null
  passwordEnabled: boolean | null
  passwordLastUsed: Date | null
  passwordLastChanged: Date | null
  mfaActive: boolean | null
  keys: ReportKey[]
  certs: ReportCert[]
}

function bool(value: string | undefined): boolean | null {
  if (value === undefined) return null
  const v = value.trim().toLowerCase()
  if (v === 'true') return true
  if (v === 'false') return false
  return null
}

/** ISO 8601 or null for `N/A`, `no_information`, `not_supported`, empty. */
function date(value: string | undefined): Date | null {
  if (!value) return null
  const v = value.trim()
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v)) return null
  const d = new Date(v)
  return Number.isNaN(d.getTime()) ? null : d
}

const text = (value: string | undefined) => {
  const v = value?.trim()
  return v && v !== 'N/A' ? v : null
}

export class CredentialReportFormatError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'MalformedResponse'
  }
}

/** Parses the report CSV (bytes or text). Throws CredentialReportFormatError when it is not a credential report. */
export function parseCredentialReport(content: Uint8Array | string): ReportUser[] {
  const rows = parse(typeof content === 'string' ? content : Buffer.from(content), {
    columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
    skip_empty_lines: true,
    trim: true,
    relax_column_count: false,
  }) as Record<string, string>[]
  const first = rows[0]
  if (first && (!('user' in first) || !('arn' in first))) {
    throw new CredentialReportFormatError('The credential report has no "user" and "arn" columns.')
  }
  return rows.map((row) => {
    const keys: ReportKey[] = []
    const certs: ReportCert[] = []
    for (const slot of [1, 2] as const) {
      const active = bool(row[`access_key_${slot}_active`]) ?? false
      const lastRotated = date(row[`access_key_${slot}_last_rotated`])
      if (active || lastRotated) {
        const lastUsedColumn = row[`access_key_${slot}_last_used_date`]
        keys.push({
          slot,
          active,
          lastRotated,
          lastUsed: date(lastUsedColumn),
          lastUsedKnown: lastUsedColumn !== undefined,
          lastUsedService: text(row[`access_key_${slot}_last_used_service`]),
          lastUsedRegion: text(row[`access_key_${slot}_last_used_region`]),
        })
      }
      const certActive = bool(row[`cert_${slot}_active`]) ?? false
      const certRotated = date(row[`cert_${slot}_last_rotated`])
      if (certActive || certRotated) certs.push({ slot, active: certActive, lastRotated: certRotated })
    }
    return {
      user: row.user ?? '',
      arn: row.arn ?? '',
      createdAt: date(row.user_creation_time),
      passwordEnabled: bool(row.password_enabled),
      passwordLastUsed: date(row.password_last_used),
      passwordLastChanged: date(row.password_last_changed),
      mfaActive: bool(row.mfa_active),
      keys,
      certs,
    }
  })
}

/**
 * Stable id of an access key seen through the report, which does not carry key ids: the user,
 * the slot and the key's creation time. A rotated key (new creation time) is a new credential.
 * Revocation resolves it to the real AccessKeyId with iam:ListAccessKeys at plan time.
 */
export function accessKeyExternalId(userArn: string, key: Pick<ReportKey, 'slot' | 'lastRotated'>): string {
  return `${userArn}#access-key-${key.slot}@${key.lastRotated ? key.lastRotated.toISOString() : 'unknown'}`
}

export function parseAccessKeyExternalId(externalId: string): { userArn: string; slot: 1 | 2; createdAt: Date | null } | null {
  const m = /^(arn:[^#]+)#access-key-([12])@(.+)$/.exec(externalId)
  if (!m) return null
  const d = m[3] === 'unknown' ? null : new Date(m[3] as string)
  return { userArn: m[1] as string, slot: Number(m[2]) as 1 | 2, createdAt: d && !Number.isNaN(d.getTime()) ? d : null }
}

export function consolePasswordExternalId(userArn: string): string {
  return `${userArn}#console-password`
}

/** The user's credentials as the report shows them. */
export function reportCredentials(row: ReportUser): NormalizedCredential[] {
  const out: NormalizedCredential[] = []
  for (const key of row.keys) {
    out.push({
      externalId: accessKeyExternalId(row.arn, key),
      type: 'access_key',
      displayName: `Access key ${key.slot}${key.lastRotated ? ` (created ${key.lastRotated.toISOString().slice(0, 10)})` : ''}`,
      status: key.active ? 'active' : 'inactive',
      createdAt: key.lastRotated,
      expiresAt: null,
      lastUsedAt: key.lastUsed,
      lastUsedKnown: key.lastUsedKnown,
      lastRotatedAt: key.lastRotated,
      rotationEnabled: null,
      isStatic: true,
      attributes: { slot: key.slot, lastUsedService: key.lastUsedService, lastUsedRegion: key.lastUsedRegion },
    })
  }
  if (row.passwordEnabled) {
    out.push({
      externalId: consolePasswordExternalId(row.arn),
      type: 'console_password',
      displayName: 'Console password',
      status: 'active',
      createdAt: null,
      expiresAt: null,
      lastUsedAt: row.passwordLastUsed,
      lastUsedKnown: true,
      lastRotatedAt: row.passwordLastChanged,
      rotationEnabled: null,
      isStatic: true,
      attributes: { mfaActive: row.mfaActive },
    })
  }
  for (const cert of row.certs) {
    out.push({
      externalId: `${row.arn}#signing-certificate-${cert.slot}@${cert.lastRotated ? cert.lastRotated.toISOString() : 'unknown'}`,
      type: 'certificate',
      displayName: `Signing certificate ${cert.slot}`,
      status: cert.active ? 'active' : 'inactive',
      createdAt: cert.lastRotated,
      expiresAt: null,
      lastUsedAt: null,
      lastUsedKnown: false,
      lastRotatedAt: cert.lastRotated,
      rotationEnabled: null,
      isStatic: true,
      attributes: { slot: cert.slot },
    })
  }
  return out
}
