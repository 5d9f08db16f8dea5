/**
 * The client end of the control connection on the agent socket (role "control", after the mutual
 * challenge–response): a transport of the control API (src/shared/contract/control-api.ts). The
 * CLI and tests call it through `api`, the same named, typed methods the UI uses; a refused
 * request rejects with the gateway's ControlError. Wire format: ./control-wire.ts.
 */
import fs from 'node:fs'
import net from 'node:net'
import {
  createApi,
  type AirlockApi,
  type ControlEvent,
  type ControlMethod,
  type ControlTransport,
} from '../shared/contract/control-api'
import { newChallenge, proof, proofMatches, readSecret } from './handshake'
import { dataPaths, socketPath } from './paths'
import { LineSplitter } from './framing/line-splitter'
import {
  fromWireError,
  HAND_OVER_METHOD,
  SUBSCRIBE_METHOD,
  UNSUBSCRIBE_METHOD,
} from './control-wire'

/** Largest answer line read (an audit export is up to 64 MiB of text, escaped in JSON). */
const ANSWER_LINE_MAX_BYTES = 256 * 1024 * 1024

/** The endpoint for a data directory (socket path, or the named pipe on Windows). */
export function endpointFor(home: string): string {
  if (process.platform !== 'win32') return socketPath(home)
  return fs.readFileSync(dataPaths(home).pipeName, 'utf8').trim()
}

/** A connected control client. */
export class ControlClient implements ControlTransport {
  /** The control API over this connection: `await client.api.status.get()`. */
  readonly api: AirlockApi
  private nextId = 1
  private readonly waiting = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >()
  private readonly listeners = new Map<ControlEvent, Set<(data: unknown) => void>>()
  /** Events the gateway sends us (or was asked to), by name: the subscribe request's promise. */
  private readonly subscribed = new Map<ControlEvent, Promise<void>>()
  private readonly closeListeners: (() => void)[] = []

  private constructor(private readonly socket: net.Socket) {
    this.api = createApi(this)
  }

  /** Connects and authenticates; rejects with a clear message when no gateway answers. */
  static connect(home: string): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      let secret: Buffer
      try {
        secret = readSecret(dataPaths(home).secret)
      } catch (err) {
        return reject(
          new Error(
            `no Airlock gateway has run for ${home} yet (${(err as Error).message}); start one with "airlock serve"`,
          ),
        )
      }
      const socket = net.connect(endpointFor(home))
      const client = new ControlClient(socket)
      let stage = 0
      const mine = newChallenge()
      socket.once('error', (err) =>
        reject(
          new Error(
            `the Airlock gateway is not running for ${home} (${(err as NodeJS.ErrnoException).code ?? err.message}); start it with "airlock serve"`,
          ),
        ),
      )
      socket.on('close', () => {
        for (const w of client.waiting.values())
          w.reject(new Error('the gateway closed the connection'))
        client.waiting.clear()
        for (const f of client.closeListeners.splice(0)) f()
        if (stage < 2) reject(new Error('the gateway closed the connection during the handshake'))
      })
      const splitter = new LineSplitter(
        (line) => {
          let msg: Record<string, unknown>
          try {
            msg = JSON.parse(line.toString('utf8')) as Record<string, unknown>
          } catch {
            return socket.destroy()
          }
          if (stage === 0) {
            stage = 1
            socket.write(
              JSON.stringify({
                airlock: 1,
                role: 'control',
                proof: proof(secret, 'peer', String(msg.challenge)),
                challenge: mine,
              }) + '\n',
            )
          } else if (stage === 1) {
            if (msg.ok !== true)
              return reject(new Error(`the gateway refused the connection: ${String(msg.error)}`))
            if (!proofMatches(proof(secret, 'gateway', mine), msg.proof))
              return reject(new Error('the gateway did not prove the secret'))
            stage = 2
            resolve(client)
          } else if (typeof msg.event === 'string') {
            for (const l of client.listeners.get(msg.event as ControlEvent) ?? []) l(msg.data)
          } else {
            const w = client.waiting.get(msg.id as number)
            client.waiting.delete(msg.id as number)
            if (!w) return
            if ('error' in msg) w.reject(fromWireError(msg.error))
            else w.resolve(msg.result)
          }
        },
        () => socket.destroy(),
        ANSWER_LINE_MAX_BYTES,
      )
      socket.on('data', (c: Buffer) => splitter.push(c))
    })
  }

  /** Runs one control request (prefer `api`, which types params and result). */
  call(method: ControlMethod, params: unknown): Promise<unknown> {
    return this.send(method, params ?? {})
  }

  /**
   * Listens to a control event; returns the unsubscribe. The first listener of an event asks the
   * gateway to send it (await `subscribe` first when the subscription must be in force).
   */
  on(event: ControlEvent, listener: (data: unknown) => void): () => void {
    let set = this.listeners.get(event)
    if (!set) this.listeners.set(event, (set = new Set()))
    set.add(listener)
    this.subscribe(event).catch(() => undefined)
    return () => {
      set.delete(listener)
      if (set.size || !this.subscribed.has(event)) return
      this.subscribed.delete(event)
      if (!this.socket.destroyed)
        this.send(UNSUBSCRIBE_METHOD, { events: [event] }).catch(() => undefined)
    }
  }

  /**
   * Asks the gateway to send these events; resolves once it does. Subscribing to
   * `approval.requested` makes this connection an approver while it stays open.
   */
  subscribe(...events: ControlEvent[]): Promise<void> {
    const fresh = events.filter((e) => !this.subscribed.has(e))
    if (fresh.length) {
      const p = this.send(SUBSCRIBE_METHOD, { events: fresh }).then(() => undefined)
      for (const e of fresh) this.subscribed.set(e, p)
    }
    return Promise.all(events.map((e) => this.subscribed.get(e))).then(() => undefined)
  }

  /**
   * Asks this gateway to hand the data directory over to `to` (pid `pid`): a socket-only request
   * that a headless gateway accepts and the desktop app's refuses. Resolves with its pid.
   */
  async handOver(req: { to: string; pid: number }): Promise<{ pid: number }> {
    const answer = (await this.send(HAND_OVER_METHOD, req)) as { pid?: unknown }
    if (typeof answer?.pid !== 'number') throw new Error('the gateway answered without its pid')
    return { pid: answer.pid }
  }

  /** Calls `listener` once the connection is closed (by either side). */
  onClose(listener: () => void): void {
    if (this.socket.destroyed) listener()
    else this.closeListeners.push(listener)
  }

  /** Closes the connection. */
  close(): void {
    this.socket.destroy()
  }

  private send(method: string, params: unknown): Promise<unknown> {
    if (this.socket.destroyed)
      return Promise.reject(new Error('the control connection to the gateway is closed'))
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject })
      this.socket.write(JSON.stringify({ id, method, params }) + '\n')
    })
  }
}
