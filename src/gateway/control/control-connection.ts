/**
 * A control connection on the agent socket (role "control", after the same handshake as agents):
 * the third transport of the control API, beside Electron IPC and the web UI's WebSocket. It
 * serves the host's ControlService — the same method table, params schemas, results, errors and
 * events — and adds only what belongs to the socket: event subscriptions and the hand-over
 * (wire format: src/node/control-wire.ts). Who may connect is the handshake's business: whoever
 * proves the data directory's secret may call every control method, as the UI may.
 */
import type net from 'node:net'
import type { EventEmitter } from 'node:events'
import { LineSplitter } from '../../node/framing/line-splitter'
import { isObject } from '../../node/jsonrpc'
import {
  HAND_OVER_METHOD,
  REQUEST_LINE_MAX_BYTES,
  SUBSCRIBE_METHOD,
  toWireError,
  UNSUBSCRIBE_METHOD,
} from '../../node/control-wire'
import { isControlEvent, type ControlEvent } from '../../shared/contract/control-api'
import { ControlError } from '../../shared/contract/control-error'
import { HAND_OVER_EVENT, parseHandOver } from '../host/hand-over'

/** Who a control-connection request is recorded as (e.g. the approver of a decision). */
export const CONTROL_CALLER = 'control'

/** The control API as a host serves it (a ControlService). */
export interface ControlEndpoint {
  call(method: string, params: unknown, ctx: { by?: string }): Promise<unknown>
  subscribe(listener: (event: ControlEvent, data: unknown) => void): () => void
}

/**
 * What a control connection needs of the gateway (the `Gateway` implements it). Its own interface,
 * so that this module does not import gateway.ts, which imports it.
 */
export interface ControlHost extends EventEmitter {
  readonly approvals: { attachUi(): () => void }
  /** The control API this gateway serves (set by its host); without one every method is refused. */
  control?: ControlEndpoint
}

/** One control client. */
export class ControlConnection {
  private readonly splitter: LineSplitter
  private readonly events = new Set<ControlEvent>()
  private unsubscribe?: () => void
  private detachApprover?: () => void

  constructor(
    private readonly gw: ControlHost,
    private readonly socket: net.Socket,
  ) {
    this.splitter = new LineSplitter(
      (line) => this.onLine(line),
      () => socket.destroy(),
      REQUEST_LINE_MAX_BYTES,
    )
    socket.on('data', (c: Buffer) => this.splitter.push(c))
    socket.on('close', () => {
      this.unsubscribe?.()
      this.detachApprover?.()
    })
  }

  /** Feeds bytes that arrived with the handshake. */
  data(chunk: Buffer): void {
    this.splitter.push(chunk)
  }

  private send(obj: unknown): void {
    if (!this.socket.destroyed) this.socket.write(JSON.stringify(obj) + '\n')
  }

  private onLine(line: Buffer): void {
    let msg: unknown
    try {
      msg = JSON.parse(line.toString('utf8'))
    } catch {
      return this.refuse(null, 'expected a JSON line {id, method, params}')
    }
    const id =
      isObject(msg) && (typeof msg.id === 'number' || typeof msg.id === 'string') ? msg.id : null
    if (!isObject(msg) || typeof msg.method !== 'string')
      return this.refuse(id, 'expected {id, method, params}')
    const params = msg.params ?? {}
    let answer: Promise<unknown>
    try {
      answer = Promise.resolve(this.handle(msg.method, params))
    } catch (err) {
      answer = Promise.reject(err as Error)
    }
    answer.then(
      (result) => this.send({ id, result }),
      (err: unknown) => this.send({ id, error: toWireError(err) }),
    )
  }

  private refuse(id: number | string | null, message: string): void {
    this.send({ id, error: toWireError(new ControlError(message, 'INVALID_PARAMS')) })
  }

  private handle(method: string, params: unknown): unknown {
    switch (method) {
      case SUBSCRIBE_METHOD:
        for (const e of eventList(method, params)) this.events.add(e)
        this.listen()
        return true
      case UNSUBSCRIBE_METHOD:
        for (const e of eventList(method, params)) this.events.delete(e)
        this.listen()
        return true
      case HAND_OVER_METHOD:
        return this.handOver(params)
    }
    const control = this.gw.control
    if (!control)
      throw new ControlError(
        `this gateway serves no control API (its host did not attach one), so "${method.slice(0, 64)}" cannot run; use "airlock serve" or the desktop app`,
        'UNSUPPORTED',
      )
    return control.call(method, params, { by: CONTROL_CALLER })
  }

  /** Follows the subscribed events; a client that takes approval requests is an approver. */
  private listen(): void {
    const control = this.gw.control
    if (this.events.size && !this.unsubscribe && control)
      this.unsubscribe = control.subscribe((event, data) => {
        if (this.events.has(event)) this.send({ event, data })
      })
    else if (!this.events.size && this.unsubscribe) {
      this.unsubscribe()
      this.unsubscribe = undefined
    }
    if (this.events.has('approval.requested')) this.detachApprover ??= this.gw.approvals.attachUi()
    else if (this.detachApprover) {
      this.detachApprover()
      this.detachApprover = undefined
    }
  }

  private handOver(params: unknown): { pid: number } {
    let req
    try {
      req = parseHandOver(isObject(params) ? params : {})
    } catch (err) {
      throw new ControlError((err as Error).message, 'INVALID_PARAMS')
    }
    // Only a host that can stop cleanly (airlock serve) listens; the desktop app never hands over.
    if (!this.gw.listenerCount(HAND_OVER_EVENT))
      throw new ControlError(
        `this gateway (pid ${process.pid}) does not hand over: it is the desktop app's`,
        'UNSUPPORTED',
      )
    setImmediate(() => this.gw.emit(HAND_OVER_EVENT, req))
    return { pid: process.pid }
  }
}

/** The `events` of a (un)subscribe request: control-event names. */
function eventList(method: string, params: unknown): ControlEvent[] {
  const events = isObject(params) ? params.events : undefined
  if (!Array.isArray(events) || events.length === 0 || events.length > 64)
    throw new ControlError(`${method}: expected {events: [event names]}`, 'INVALID_PARAMS')
  for (const e of events)
    if (!isControlEvent(e))
      throw new ControlError(
        `${method}: unknown event ${JSON.stringify(String(e).slice(0, 64))}; the events are those of src/shared/contract/control-api.ts`,
        'INVALID_PARAMS',
      )
  return events as ControlEvent[]
}
