/**
 * The gateway's side of the link with the Electron main process: control calls in, results and
 * events out, and an approver that asks main's native dialog. Plain Node: the port is
 * `process.parentPort` in a utilityProcess, a fake in tests.
 */
import { ANSWER_LABELS } from '../../shared/approval-answers'
import type {
  ApprovalAnswer,
  ApprovalCenter,
  Approver,
  PendingApproval,
} from '../approvals/approvals'
import { isProtocolMessage, toWireError, type GatewayToHost, type HostToGateway } from './protocol'

/** The message port to main (Electron's `parentPort`: messages arrive as `{ data }`). */
export interface HostPort {
  postMessage(message: GatewayToHost): void
  on(event: 'message', listener: (e: { data: unknown }) => void): unknown
}

/** What the bridge serves: the control API (a ControlService) and its events. */
export interface ControlHandler {
  call(method: string, params: unknown): Promise<unknown>
  /** Subscribes to every control event; returns the unsubscribe. */
  subscribe(listener: (event: string, data: unknown) => void): () => void
}

/** What the bridge does with other messages from main. */
export interface BridgeHooks {
  onSecrets?: (values: Record<string, Record<string, string>>, refusal?: string) => void
  onShutdown?: () => void
}

/** The answers the native dialog gives (the card's, from one shared list). */
const ANSWERS: readonly string[] = ANSWER_LABELS.map((a) => a.answer)

/**
 * Wires a port to a control handler and registers main's dialog as an approver. The dialog's
 * answer is recorded as decided "by dialog"; a withdrawn request tells main to close it.
 */
export class HostBridge {
  private readonly asks = new Map<string, (answer: ApprovalAnswer | undefined) => void>()
  private readonly detach: (() => void)[] = []

  constructor(
    private readonly port: HostPort,
    private readonly control: ControlHandler,
    approvals: Pick<ApprovalCenter, 'addApprover' | 'decide'>,
    private readonly hooks: BridgeHooks = {},
  ) {
    port.on('message', (e) => this.onMessage(e.data))
    this.detach.push(control.subscribe((event, data) => this.post({ type: 'event', event, data })))
    const approver: Approver = { name: 'dialog', ask: (req, signal) => this.ask(req, signal) }
    this.detach.push(approvals.addApprover(approver))
  }

  /** Tells main the gateway listens. */
  ready(home: string, endpoint: string): void {
    this.post({ type: 'ready', home, endpoint, pid: process.pid })
  }

  /** Tells main the gateway cannot start. */
  fatal(err: unknown): void {
    this.post({ type: 'fatal', error: toWireError(err) })
  }

  /** Stops relaying events and asking main. */
  close(): void {
    for (const d of this.detach.splice(0)) d()
    for (const resolve of this.asks.values()) resolve(undefined)
    this.asks.clear()
  }

  private ask(req: PendingApproval, signal: AbortSignal): Promise<ApprovalAnswer | undefined> {
    if (signal.aborted) return Promise.resolve(undefined)
    return new Promise((resolve) => {
      const done = (answer: ApprovalAnswer | undefined): void => {
        if (!this.asks.delete(req.id)) return
        signal.removeEventListener('abort', onAbort)
        resolve(answer)
      }
      const onAbort = (): void => {
        if (!this.asks.has(req.id)) return
        done(undefined)
        this.post({ type: 'approval.withdrawn', id: req.id })
      }
      this.asks.set(req.id, done)
      signal.addEventListener('abort', onAbort, { once: true })
      this.post({ type: 'approval.ask', request: req })
    })
  }

  private onMessage(raw: unknown): void {
    if (!isProtocolMessage(raw)) return
    const msg = raw as HostToGateway
    switch (msg.type) {
      case 'call': {
        const id = msg.id
        this.control.call(msg.method, msg.params).then(
          (result) => this.post({ type: 'result', id, ok: true, result }),
          (err: unknown) => this.post({ type: 'result', id, ok: false, error: toWireError(err) }),
        )
        return
      }
      case 'approval.answer': {
        const done = this.asks.get(msg.id)
        if (!done) return // answered elsewhere first, or withdrawn: late answers are ignored
        done(msg.answer !== null && ANSWERS.includes(msg.answer) ? msg.answer : undefined)
        return
      }
      case 'secrets':
        this.hooks.onSecrets?.(msg.values, msg.refusal)
        return
      case 'shutdown':
        this.hooks.onShutdown?.()
        return
    }
  }

  /** Posts a message to main (results that cannot be cloned become errors). */
  post(msg: GatewayToHost): void {
    try {
      this.port.postMessage(msg)
    } catch (err) {
      // A result that cannot be cloned must still answer its call.
      if (msg.type === 'result')
        this.port.postMessage({ type: 'result', id: msg.id, ok: false, error: toWireError(err) })
    }
  }
}
