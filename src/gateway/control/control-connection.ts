/**
 * A control connection on the agent socket (role "control", after the same handshake): the CLI
 * and scripted approvers use it to list and answer approvals, pause, and follow events.
 * Newline-delimited JSON: requests `{id, method, params}` → `{id, result}` or `{id, error}`;
 * events `{event, data}` once subscribed. Methods of the control API (src/shared/control-api.ts)
 * that are not handled here go to the host's control service (`gateway.controlHandler`).
 */
import type net from 'node:net'
import type { ApprovalAnswer, ApprovalCenter } from '../approvals/approvals'
import type { EventEmitter } from 'node:events'
import type { Grants } from '../approvals/grants'
import { LineSplitter } from '../../node/framing/line-splitter'
import { isObject } from '../../node/jsonrpc'
import { isControlMethod } from '../../shared/contract/control-api'
import { HAND_OVER_EVENT, HAND_OVER_METHOD, parseHandOver } from '../host/hand-over'

const ANSWERS: readonly ApprovalAnswer[] = [
  'allow_once',
  'allow_session',
  'allow_hour',
  'allow_always',
  'deny',
]

/**
 * What a control connection needs of the gateway (the `Gateway` implements it). Its own interface,
 * so that this module does not import gateway.ts, which imports it.
 */
export interface ControlHost extends EventEmitter {
  readonly home: string
  readonly paused: boolean
  setPaused(paused: boolean): void
  sessionList(): unknown[]
  readonly live: { errors(): string[] }
  readonly approvals: ApprovalCenter
  readonly grants: Grants
  /** Serves the typed control methods this connection does not handle itself. */
  controlHandler?: (method: string, params: unknown) => Promise<unknown>
}

/** One control client. */
export class ControlConnection {
  private readonly splitter: LineSplitter
  private readonly cleanups: (() => void)[] = []

  constructor(
    private readonly gw: ControlHost,
    private readonly socket: net.Socket,
  ) {
    this.splitter = new LineSplitter(
      (line) => this.onLine(line),
      () => socket.destroy(),
      1024 * 1024,
    )
    socket.on('data', (c: Buffer) => this.splitter.push(c))
    socket.on('close', () => this.cleanups.forEach((f) => f()))
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
      return this.send({ id: null, error: 'expected a JSON line' })
    }
    if (!isObject(msg) || typeof msg.method !== 'string')
      return this.send({ id: null, error: 'expected {id, method, params}' })
    const id = msg.id ?? null
    try {
      const result = this.handle(msg.method, isObject(msg.params) ? msg.params : {})
      if (result instanceof Promise) {
        result.then(
          (r: unknown) => this.send({ id, result: r }),
          (err: unknown) => this.send({ id, error: (err as Error).message }),
        )
      } else {
        this.send({ id, result })
      }
    } catch (err) {
      this.send({ id, error: (err as Error).message })
    }
  }

  private handle(method: string, params: Record<string, unknown>): unknown {
    const gw = this.gw
    switch (method) {
      case 'status':
        return {
          pid: process.pid,
          home: gw.home,
          paused: gw.paused,
          sessions: gw.sessionList(),
          pending: gw.approvals.list(),
          errors: gw.live.errors(),
        }
      case 'approvals.list':
        return gw.approvals.list()
      case 'approvals.subscribe': {
        // This client answers approvals: while it is connected the gateway has an approver.
        this.cleanups.push(gw.approvals.attachUi())
        const onReq = (req: unknown): void => this.send({ event: 'approval.requested', data: req })
        const onRes = (res: unknown): void => this.send({ event: 'approval.resolved', data: res })
        gw.approvals.on('requested', onReq)
        gw.approvals.on('resolved', onRes)
        this.cleanups.push(
          () => gw.approvals.off('requested', onReq),
          () => gw.approvals.off('resolved', onRes),
        )
        return { pending: gw.approvals.list() }
      }
      case 'approvals.decide': {
        const answer = params.answer as ApprovalAnswer
        if (typeof params.id !== 'string' || !ANSWERS.includes(answer))
          throw new Error(`expected {id, answer: ${ANSWERS.join('|')}, message?}`)
        if (params.message !== undefined && typeof params.message !== 'string')
          throw new Error('expected "message" to be a string (sent to the agent with a deny)')
        return gw.approvals.decide(
          params.id,
          answer,
          typeof params.by === 'string' ? params.by.slice(0, 64) : 'control',
          params.message,
        )
      }
      case 'audit.subscribe': {
        const onAudit = (rec: unknown): void => this.send({ event: 'audit.appended', data: rec })
        gw.on('audit', onAudit)
        this.cleanups.push(() => gw.off('audit', onAudit))
        return true
      }
      case 'grants.list':
        return gw.grants.list()
      case 'grants.revoke':
        if (typeof params.id !== 'string') throw new Error('expected {id}')
        return gw.grants.revoke(params.id)
      case 'pause':
        gw.setPaused(true)
        return true
      case 'resume':
        gw.setPaused(false)
        return true
      case HAND_OVER_METHOD: {
        // Only a host that can stop cleanly (airlock serve) listens; the desktop app never hands over.
        const req = parseHandOver(params)
        if (!gw.listenerCount(HAND_OVER_EVENT))
          throw new Error(
            `this gateway (pid ${process.pid}) does not hand over: it is the desktop app's`,
          )
        setImmediate(() => gw.emit(HAND_OVER_EVENT, req))
        return { pid: process.pid }
      }
      default:
        if (gw.controlHandler && isControlMethod(method)) return gw.controlHandler(method, params)
        throw new Error(`unknown method "${method.slice(0, 64)}"`)
    }
  }
}
