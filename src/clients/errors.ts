/**
 * The one error type of the client adapters. Every message names the file and says what to do
 * next; the file it is about has been left exactly as it was.
 */

/** Why a client config file could not be read, changed or restored. */
export type ClientConfigErrorCode =
  | 'MALFORMED'
  | 'READ_ONLY'
  | 'UNREADABLE'
  | 'UNWRITABLE'
  | 'CHANGED_DURING_WRITE'
  | 'UNSUPPORTED_LAYOUT'
  | 'WOULD_BREAK_FILE'
  | 'NOT_FOUND'

/** A client config file Airlock refuses to (or cannot) touch. The file is unchanged. */
export class ClientConfigError extends Error {
  override name = 'ClientConfigError'
  constructor(
    message: string,
    readonly code: ClientConfigErrorCode,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** Line and column (1-based) of `offset` in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1
  let lineStart = 0
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++
      lineStart = i + 1
    }
  }
  return { line, column: offset - lineStart + 1 }
}
