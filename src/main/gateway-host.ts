/**
 * Hosts the gateway in a utilityProcess: forks it (the fork function is injected), relays
 * control calls and events, hands its approval requests to the native dialogs, and restarts it
 * with backoff when it dies. Approvals pending in a dead gateway count as denied: their dialogs
 * close and the UI gets `approval.resolved` events. Nothing here imports `electron`.
 */
import type { ApprovalAnswer, PendingApproval } from '../gateway/approvals/approvals'
import {
  isProtocolMessage,
  type GatewayToHost,
  type HostToGateway,
  type WireError,
} from '../gateway/host/protocol'

/** The forked gateway process (Electron's UtilityProcess has this shape). */
export interface GatewayProcess {
  postMessage(message: HostToGateway): void
  on(event: 'message', listener: (message: unknown) => void): unknown
  on(event: 'exit', listener: (code: number) => void): unknown
  /** A fatal error in the process (Electron's utilityProcess 'error': type, location). */
  on(event: 'error', listener: (type: string, location?: string) => void): unknown
  kill(): boolean
}

/** Asks a person about an approval (the dialog queue); undefined when withdrawn or closed. */
export interface DialogApprover {
  ask(req: PendingApproval, signal: AbortSignal): Promise<ApprovalAnswer | undefined>
}

/** Where the gateway is. */
export type GatewayState =
  | { state: 'starting' }
  | { state: 'running'; pid: number; endpoint: string }
  | { state: 'restarting'; inMs: number; lastError?: string }
  | { state: 'stopped' }

/** A control call that could not reach the gateway, or that the gateway refused. */
export class GatewayCallError extends Error {
  override name = 'GatewayCallError'
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** Options for a host. */
export interface GatewayHostOptions {
  fork: () => GatewayProcess
  approver: DialogApprover
  /** A control event for the UI (windows, tray). */
  onEvent: (event: string, data: unknown) => void
  /** The gateway stored or deleted a secret: persist it in the keychain. */
  onSecret?: (op: Extract<GatewayToHost, { type: 'secret.set' | 'secret.delete' }>) => void
  /** The gateway asks to open a sign-in page in the system browser (check the URL first). */
  onOpenExternal?: (url: string) => void
  onState?: (state: GatewayState) => void
  log?: (msg: string) => void
  /** Delays before successive restarts; the last repeats. */
  backoffMs?: readonly number[]
  /** A gateway that ran this long resets the backoff. */
  stableMs?: number
  /** How long stop() waits for a clean exit before killing. */
  stopTimeoutMs?: number
  /** How long a call waits for a (re)starting gateway before it fails. */
  callWaitMs?: number
  now?: () => number
}

interface Call {
  resolve: (v: unknown) => void
  reject: (e: Error) => void
}

const DEFAULT_BACKOFF = [500, 1000, 2000, 5000, 10_000, 30_000] as const

/** The gateway as main sees it. */
export class GatewayHost {
  private proc?: GatewayProcess
  private status: GatewayState = { state: 'stopped' }
  private readonly calls = new Map<number, Call>()
  private readonly waiting: {
    method: string
    params: unknown
    call: Call
    timer: ReturnType<typeof setTimeout>
  }[] = []
  private readonly approvals = new Map<string, { req: PendingApproval; close: AbortController }>()
  private seq = 0
  private attempt = 0
  private startedAt = 0
  private restartTimer?: ReturnType<typeof setTimeout>
  private stopping?: Promise<void>
  private secrets: { values: Record<string, Record<string, string>>; refusal?: string } = {
    values: {},
  }
  private lastError?: string
  private readonly log: (msg: string) => void
  private readonly now: () => number

  constructor(private readonly opts: GatewayHostOptions) {
    this.log = opts.log ?? ((m) => console.error(`airlock: ${m}`))
    this.now = opts.now ?? Date.now
  }

  /** The gateway's state. */
  get state(): GatewayState {
    return this.status
  }

  /** Approval requests the gateway is waiting on. */
  pendingApprovals(): PendingApproval[] {
    return [...this.approvals.values()].map((a) => a.req)
  }

  /** Forks the gateway. */
  start(): void {
    if (this.proc || this.stopping) return
    this.setState({ state: 'starting' })
    const proc = this.opts.fork()
    this.proc = proc
    this.startedAt = this.now()
    proc.on('message', (m) => {
      if (this.proc === proc) this.onMessage(m)
    })
    proc.on('exit', (code) => {
      if (this.proc === proc) this.onExit(code)
    })
    // Without a listener, a fatal error in the gateway would throw ERR_UNHANDLED_ERROR in main.
    // 'exit' follows and restarts it.
    proc.on('error', (type, location) => {
      this.opts.log?.(`the gateway process failed (${type}${location ? ` at ${location}` : ''})`)
    })
    this.post({ type: 'secrets', ...this.secrets })
  }

  /**
   * Sets the secrets each (re)started gateway gets, in memory only; `refusal` says why new ones
   * cannot be stored (no keychain). A running gateway is the source of truth: its writes come
   * back through `onSecret`.
   */
  setSecrets(values: Record<string, Record<string, string>>, refusal?: string): void {
    this.secrets = { values, ...(refusal ? { refusal } : {}) }
  }

  /** Sends a control call; waits while the gateway (re)starts; rejects if it dies meanwhile. */
  call(method: string, params: unknown): Promise<unknown> {
    if (this.stopping || this.status.state === 'stopped') {
      return Promise.reject(
        new GatewayCallError('the gateway is not running (Airlock is quitting)', 'GATEWAY_STOPPED'),
      )
    }
    return new Promise((resolve, reject) => {
      const call = { resolve, reject }
      if (this.status.state === 'running') return this.send(method, params, call)
      const timer = setTimeout(() => {
        const i = this.waiting.findIndex((w) => w.call === call)
        if (i !== -1) this.waiting.splice(i, 1)
        const why =
          this.status.state === 'restarting' && this.status.lastError
            ? ` (${this.status.lastError})`
            : ''
        reject(
          new GatewayCallError(
            `the gateway is not running${why}; Airlock keeps restarting it`,
            'GATEWAY_UNAVAILABLE',
          ),
        )
      }, this.opts.callWaitMs ?? 15_000)
      this.waiting.push({ method, params, call, timer })
    })
  }

  /** Asks the gateway to close cleanly; kills it after the timeout. No restart follows. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping
    clearTimeout(this.restartTimer)
    const proc = this.proc
    this.stopping = new Promise<void>((resolve) => {
      if (!proc) return resolve()
      const timer = setTimeout(() => {
        proc.kill()
        resolve()
      }, this.opts.stopTimeoutMs ?? 5000)
      proc.on('exit', () => {
        clearTimeout(timer)
        resolve()
      })
      this.post({ type: 'shutdown' })
    }).then(() => {
      this.proc = undefined
      this.failAll('the gateway stopped (Airlock is quitting)', 'GATEWAY_STOPPED')
      this.setState({ state: 'stopped' })
    })
    return this.stopping
  }

  private send(method: string, params: unknown, call: Call): void {
    const id = ++this.seq
    this.calls.set(id, call)
    this.post({ type: 'call', id, method, params })
  }

  private post(msg: HostToGateway): void {
    try {
      this.proc?.postMessage(msg)
    } catch (err) {
      this.log(`cannot message the gateway: ${(err as Error).message}`)
    }
  }

  private onMessage(raw: unknown): void {
    if (!isProtocolMessage(raw)) return
    const msg = raw as GatewayToHost
    switch (msg.type) {
      case 'ready':
        this.setState({ state: 'running', pid: msg.pid, endpoint: msg.endpoint })
        for (const w of this.waiting.splice(0)) {
          clearTimeout(w.timer)
          this.send(w.method, w.params, w.call)
        }
        return
      case 'fatal':
        this.log(`the gateway cannot start: ${msg.error.message}`)
        this.lastError = msg.error.message
        return
      case 'result': {
        const call = this.calls.get(msg.id)
        if (!call) return
        this.calls.delete(msg.id)
        if (msg.ok) call.resolve(msg.result)
        else call.reject(fromWire(msg.error))
        return
      }
      case 'event':
        this.opts.onEvent(msg.event, msg.data)
        return
      case 'approval.ask':
        this.onAsk(msg.request)
        return
      case 'approval.withdrawn':
        this.closeDialog(msg.id)
        return
      case 'secret.set':
      case 'secret.delete':
        this.opts.onSecret?.(msg)
        return
      case 'open.external':
        if (typeof msg.url === 'string') this.opts.onOpenExternal?.(msg.url)
        return
    }
  }

  private onAsk(req: PendingApproval): void {
    if (this.approvals.has(req.id)) return
    const close = new AbortController()
    this.approvals.set(req.id, { req, close })
    const proc = this.proc
    this.opts.approver.ask(req, close.signal).then(
      (answer) => {
        // Only the gateway that asked hears the answer; a restarted one never asked.
        if (this.proc !== proc || !this.approvals.delete(req.id)) return
        this.post({ type: 'approval.answer', id: req.id, answer: answer ?? null })
      },
      (err: unknown) => this.log(`approval dialog failed: ${(err as Error).message}`),
    )
  }

  private closeDialog(id: string): void {
    const a = this.approvals.get(id)
    if (!a) return
    this.approvals.delete(id)
    a.close.abort()
  }

  private onExit(code: number): void {
    this.proc = undefined
    if (this.stopping) return
    const reason = `the gateway exited (code ${code})${this.lastError ? `: ${this.lastError}` : ''}`
    this.log(`${reason}; restarting it`)
    // Its held calls died with it: their approvals count as denied.
    for (const [id, a] of [...this.approvals]) {
      this.approvals.delete(id)
      a.close.abort()
      this.opts.onEvent('approval.resolved', {
        id,
        outcome: { answer: 'deny', by: 'gateway exited' },
      })
    }
    this.opts.onEvent('sessions.changed', [])
    this.failAll(`${reason}; it is restarting, try again`, 'GATEWAY_EXITED')
    const ranMs = this.now() - this.startedAt
    if (ranMs >= (this.opts.stableMs ?? 60_000)) this.attempt = 0
    const backoff = this.opts.backoffMs ?? DEFAULT_BACKOFF
    const inMs = backoff[Math.min(this.attempt, backoff.length - 1)] ?? 1000
    this.attempt++
    this.setState({ state: 'restarting', inMs, lastError: this.lastError ?? `exit code ${code}` })
    this.lastError = undefined
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined
      this.start()
    }, inMs)
  }

  private failAll(message: string, code: string): void {
    for (const call of this.calls.values()) call.reject(new GatewayCallError(message, code))
    this.calls.clear()
    // Calls queued for a start are kept across a restart; only a stop fails them.
    if (code !== 'GATEWAY_STOPPED') return
    for (const w of this.waiting.splice(0)) {
      clearTimeout(w.timer)
      w.call.reject(new GatewayCallError(message, code))
    }
  }

  private setState(s: GatewayState): void {
    this.status = s
    this.opts.onState?.(s)
  }
}

function fromWire(e: WireError): Error {
  const err = new GatewayCallError(e.message, e.code ?? 'CONTROL_ERROR')
  if (e.name && e.name !== 'Error') err.name = e.name
  return err
}
