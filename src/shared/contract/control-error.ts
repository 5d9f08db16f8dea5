/** The error of a refused control request (its own module so that services the ControlService delegates to can throw it). */

/** Why a control request was refused. */
export const CONTROL_ERROR_CODES = [
  'UNKNOWN_METHOD',
  'INVALID_PARAMS',
  'NOT_FOUND',
  'CONFLICT',
  'INVALID',
  'TOO_LARGE',
  'UNSUPPORTED',
] as const

/** A code of CONTROL_ERROR_CODES. */
export type ControlErrorCode = (typeof CONTROL_ERROR_CODES)[number]

/** A refused control request. `code` says why; the message says what to do. */
export class ControlError extends Error {
  override name = 'ControlError'
  constructor(
    message: string,
    readonly code: ControlErrorCode,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** Whether a value is one of the ControlError codes (for transports that receive error objects). */
export function isControlErrorCode(code: unknown): code is ControlErrorCode {
  return typeof code === 'string' && (CONTROL_ERROR_CODES as readonly string[]).includes(code)
}
