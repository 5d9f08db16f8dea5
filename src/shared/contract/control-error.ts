/** The error of a refused control request (its own module so that services the ControlService delegates to can throw it). */

/** A refused control request. `code` says why; the message says what to do. */
export class ControlError extends Error {
  override name = 'ControlError'
  constructor(
    message: string,
    readonly code:
      | 'UNKNOWN_METHOD'
      | 'INVALID_PARAMS'
      | 'NOT_FOUND'
      | 'CONFLICT'
      | 'INVALID'
      | 'TOO_LARGE'
      | 'UNSUPPORTED',
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}
