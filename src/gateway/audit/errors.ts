/**
 * Errors of the audit log. A failed write denies the call that wanted it, so the message says
 * which file failed, why, and what the user can do about it.
 */

/** Error code of {@link AuditWriteError}. */
export const AUDIT_WRITE_FAILED = 'AUDIT_WRITE_FAILED'
/** Error code of {@link AuditOpenError}. */
export const AUDIT_OPEN_FAILED = 'AUDIT_OPEN_FAILED'
/** Error code of {@link AuditQueryError}. */
export const AUDIT_BAD_QUERY = 'AUDIT_BAD_QUERY'

/** A record could not be written (or synced): the call it describes must be denied. */
export class AuditWriteError extends Error {
  override readonly name = 'AuditWriteError'
  readonly code = AUDIT_WRITE_FAILED
  /** The file that failed. */
  readonly file: string

  constructor(file: string, what: string, cause: unknown) {
    super(
      `audit log ${file}: ${what} failed (${describeCause(cause)}); the call was denied. ${hintFor(cause, file)}`,
      {
        cause,
      },
    )
    this.file = file
  }
}

/** The audit directory or its newest file could not be opened or recovered. */
export class AuditOpenError extends Error {
  override readonly name = 'AuditOpenError'
  readonly code = AUDIT_OPEN_FAILED

  constructor(message: string, cause?: unknown) {
    super(message, { cause })
  }
}

/** A query carried a value the reader cannot use (e.g. an unparseable `since`). */
export class AuditQueryError extends Error {
  override readonly name = 'AuditQueryError'
  readonly code = AUDIT_BAD_QUERY
}

/** "ENOSPC: no space left on device" from a Node errno error, else its message. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const m = /^([A-Z][A-Z0-9_]+): ([^,]+)/.exec(cause.message)
    if (m) return `${m[1]}: ${m[2]}`
    const code = errnoCode(cause)
    return code ? `${code}: ${cause.message}` : cause.message
  }
  return String(cause)
}

/** The errno code (`ENOSPC`, `EACCES`…) of an error, if it has one. */
export function errnoCode(cause: unknown): string | undefined {
  if (typeof cause === 'object' && cause !== null && 'code' in cause) {
    const code = (cause as { code: unknown }).code
    if (typeof code === 'string') return code
  }
  return undefined
}

function hintFor(cause: unknown, file: string): string {
  switch (errnoCode(cause)) {
    case 'ENOSPC':
    case 'EDQUOT':
    case 'EFBIG':
      return 'Free disk space or change AIRLOCK_HOME.'
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return `Check that the directory of ${file} is writable by this user, or change AIRLOCK_HOME.`
    case 'EIO':
      return 'The disk reported an I/O error: check it, then restart Airlock.'
    default:
      return 'Check the disk and the audit directory, then restart Airlock (or change AIRLOCK_HOME).'
  }
}
