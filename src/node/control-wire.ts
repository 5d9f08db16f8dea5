/**
 * The control connection's wire format on the agent socket (after the handshake, role "control"):
 * the third transport of the control API (src/shared/contract/control-api.ts), beside Electron IPC
 * and the web UI's WebSocket. Newline-delimited JSON, one object per line:
 *
 * - request `{id, method, params}` → `{id, result}` or `{id, error: {message, code?}}`, where
 *   `code` is a ControlError code (src/shared/contract/control-error.ts);
 * - an event the client subscribed to → `{event, data}` (the contract's payload).
 *
 * `method` is a control-API method, or one of the socket's own, which no other transport serves:
 * SUBSCRIBE_METHOD / UNSUBSCRIBE_METHOD (`{events: ControlEvent[]}`) and HAND_OVER_METHOD.
 */
import { ControlError, isControlErrorCode } from '../shared/contract/control-error'
import type { ControlErrorCode } from '../shared/contract/control-error'

/** Starts sending these events (`{events: [...]}`); `approval.requested` makes the client an approver. */
export const SUBSCRIBE_METHOD = 'events.subscribe'
/** Stops sending these events (`{events: [...]}`). */
export const UNSUBSCRIBE_METHOD = 'events.unsubscribe'
/** A gateway that wants the data directory asks the running one to hand over (`{to, pid}`). */
export const HAND_OVER_METHOD = 'gateway.handOver'

/** Largest request line the gateway reads; a longer one ends the connection. */
export const REQUEST_LINE_MAX_BYTES = 1024 * 1024

/** An error as it crosses the wire. */
export interface WireError {
  message: string
  code?: ControlErrorCode
}

/** The wire form of a thrown value: its message, and its code when it is a ControlError. */
export function toWireError(err: unknown): WireError {
  const message = err instanceof Error ? err.message : String(err)
  return err instanceof ControlError ? { message, code: err.code } : { message }
}

/** The thrown value for a wire error: a ControlError when it carries a known code. */
export function fromWireError(e: unknown): Error {
  const o = typeof e === 'object' && e !== null ? (e as Record<string, unknown>) : {}
  const message = typeof o.message === 'string' ? o.message : 'the gateway refused the request'
  return isControlErrorCode(o.code) ? new ControlError(message, o.code) : new Error(message)
}
