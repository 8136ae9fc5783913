/**
 * An error the user can act on: what went wrong and what to do. The CLI prints these as
 * one or two plain lines and exits non-zero, never with a stack trace.
 */
export class LeashError extends Error {
  constructor(
    message: string,
    readonly remedy: string,
  ) {
    super(message)
    this.name = 'LeashError'
  }
}

export function describeError(error: unknown): string {
  if (error instanceof LeashError) return `${error.message}\n  → ${error.remedy}`
  if (error instanceof Error) return error.message
  return String(error)
}
