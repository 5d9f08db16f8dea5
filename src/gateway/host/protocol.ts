/**
 * Messages between the Electron main process and the gateway's utilityProcess (over
 * `process.parentPort` / `UtilityProcess.postMessage`, structured clone). Main relays control
 * calls and events and shows the native approval dialogs; the gateway decides everything else.
 */
import type { ApprovalAnswer, PendingApproval } from '../approvals/approvals'

/** A control error as it crosses a process boundary. */
export interface WireError {
  name: string
  message: string
  code?: string
}

/** Main → gateway. */
export type HostToGateway =
  /** A control request (already checked and parsed by main). */
  | { type: 'call'; id: number; method: string; params: unknown }
  /** The native dialog's answer to an approval request; `null` when it gave up. */
  | { type: 'approval.answer'; id: string; answer: ApprovalAnswer | null }
  /**
   * Server secrets from the OS keychain, kept in memory only: server → env name → value.
   * `refusal` is set when main cannot store new secrets safely (no keychain): writes then fail.
   */
  | { type: 'secrets'; values: Record<string, Record<string, string>>; refusal?: string }
  /** Close sessions and the audit log, then exit. */
  | { type: 'shutdown' }

/** Gateway → main. */
export type GatewayToHost =
  /** The gateway listens on its agent socket. */
  | { type: 'ready'; home: string; endpoint: string; pid: number }
  /** The gateway cannot start; `code` GATEWAY_RUNNING means another gateway owns the data directory. */
  | { type: 'fatal'; error: WireError }
  | { type: 'result'; id: number; ok: true; result: unknown }
  | { type: 'result'; id: number; ok: false; error: WireError }
  /** A control event for the UI. */
  | { type: 'event'; event: string; data: unknown }
  /** Ask a person (the native dialog) about a held call. */
  | { type: 'approval.ask'; request: PendingApproval }
  /** The request was answered elsewhere, timed out or was withdrawn: close its dialog. */
  | { type: 'approval.withdrawn'; id: string }
  /** Store a secret in the OS keychain (the gateway keeps it in memory too). */
  | { type: 'secret.set'; server: string; key: string; value: string }
  /** Delete one secret, or every secret of a server when `key` is absent. */
  | { type: 'secret.delete'; server: string; key?: string }
  /** Open a remote server's sign-in page (an http(s) URL) in the system browser. */
  | { type: 'open.external'; url: string }

/** An error as a plain object for postMessage. */
export function toWireError(err: unknown): WireError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) }
  }
  return { name: 'Error', message: String(err) }
}

/** Whether a value looks like a message of this protocol (a `type` string field). */
export function isProtocolMessage(m: unknown): m is { type: string } & Record<string, unknown> {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string'
}
