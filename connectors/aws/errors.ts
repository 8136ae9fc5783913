/**
 * Turning SDK errors into what Leash reports: a ScanProblem in plain words with the missing
 * permission and a remedy. Never a finding, never a deletion.
 */
import type { ScanProblem, ScanScope } from '../contract.js'

export type AwsErrorKind =
  | 'access_denied'
  | 'throttling'
  | 'credentials'
  | 'not_found'
  | 'aborted'
  | 'malformed'
  | 'server'
  | 'network'
  | 'other'

export interface AwsErrorInfo {
  kind: AwsErrorKind
  code: string
  status: number | null
  message: string
}

const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'AuthorizationError',
  'AWSOrganizationsNotInUseException',
])
const CREDENTIALS = new Set([
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'MissingAuthenticationToken',
  'IncompleteSignature',
])
const THROTTLING = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded', 'LimitExceededException'])
const NOT_FOUND = new Set(['NoSuchEntity', 'NoSuchEntityException', 'ResourceNotFoundException'])

export function awsErrorInfo(error: unknown): AwsErrorInfo {
  const e = (error ?? {}) as { name?: string; Code?: string; message?: string; $metadata?: { httpStatusCode?: number }; code?: string }
  const code = String(e.Code ?? e.name ?? 'Error')
  const status = e.$metadata?.httpStatusCode ?? null
  const message = String(e.message ?? error)
  let kind: AwsErrorKind = 'other'
  if (code === 'AbortError' || message.includes('aborted')) kind = 'aborted'
  else if (ACCESS_DENIED.has(code)) kind = 'access_denied'
  else if (CREDENTIALS.has(code)) kind = 'credentials'
  else if (THROTTLING.has(code)) kind = 'throttling'
  else if (NOT_FOUND.has(code)) kind = 'not_found'
  else if (/Deserialization error|char '|Unexpected end|Invalid XML|not well-formed|Unexpected token|JSON/i.test(message) || code === 'SyntaxError' || code === 'MalformedResponse')
    kind = 'malformed'
  else if (status !== null && status >= 500) kind = 'server'
  else if (e.code && /^E[A-Z]+$/.test(e.code)) kind = 'network'
  else if (code === 'TimeoutError' || code === 'RequestTimeout') kind = 'network'
  return { kind, code, status, message: firstLine(message) }
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? text
  return line.length > 400 ? `${line.slice(0, 400)}…` : line
}

/** `iam:GetCredentialReport` → `GetCredentialReport` etc. Operation names equal IAM actions for the calls Leash makes. */
export function problemFor(
  scope: ScanScope | null,
  operation: string,
  error: unknown,
  options: { fatalForScope: boolean; permission?: string; what: string },
): ScanProblem {
  const info = awsErrorInfo(error)
  const permission = options.permission ?? operation
  switch (info.kind) {
    case 'access_denied':
      return {
        scope,
        operation,
        permission,
        message: `AWS denied ${operation} (${info.code}), so ${options.what} could not be read. ${info.message}`,
        remedy: `Allow ${permission} for the scanner's role (see docs/providers/aws.md for the read-only policy), then scan again.`,
        fatalForScope: options.fatalForScope,
      }
    case 'credentials':
      return {
        scope,
        operation,
        permission: null,
        message: `The AWS credentials were missing, expired or rejected (${info.code}) during ${operation}. ${info.message}`,
        remedy:
          'Provide credentials through the SDK default chain (AWS_PROFILE / SSO login, environment variables, web identity or instance role) and make sure they have not expired.',
        fatalForScope: options.fatalForScope,
      }
    case 'throttling':
      return {
        scope,
        operation,
        permission: null,
        message: `AWS kept throttling ${operation} (${info.code}) after all retries, so ${options.what} could not be read.`,
        remedy: 'Scan again later or outside peak hours; other tools sharing this account may be using the IAM request quota.',
        fatalForScope: options.fatalForScope,
      }
    case 'malformed':
      return {
        scope,
        operation,
        permission: null,
        message: `AWS returned a response to ${operation} that could not be parsed, so ${options.what} could not be read. ${info.message}`,
        remedy: 'Scan again; if it persists, check for a proxy or VPC endpoint that alters responses.',
        fatalForScope: options.fatalForScope,
      }
    default:
      return {
        scope,
        operation,
        permission: null,
        message: `${operation} failed (${info.code}${info.status ? `, HTTP ${info.status}` : ''}), so ${options.what} could not be read. ${info.message}`,
        remedy: 'Scan again; if it keeps failing, check the network path to AWS and the AWS Health Dashboard.',
        fatalForScope: options.fatalForScope,
      }
  }
}

export class MalformedResponseError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'MalformedResponse'
  }
}
