/**
 * A client for the gateway's control connection (role "control"): requests and events over
 * the agent socket, after the mutual challenge–response. Used by the CLI and by tests.
 */
import { EventEmitter } from 'node:events'
import fs from 'node:fs'
import net from 'node:net'
import { newChallenge, proof, proofMatches, readSecret } from './handshake'
import { dataPaths, socketPath } from './paths'
import { LineSplitter } from './framing/line-splitter'

/** The endpoint for a data directory (socket path, or the named pipe on Windows). */
export function endpointFor(home: string): string {
  if (process.platform !== 'win32') return socketPath(home)
  return fs.readFileSync(dataPaths(home).pipeName, 'utf8').trim()
}

/** A connected control client. Events: every gateway event name (e.g. `approval.requested`). */
export class ControlClient extends EventEmitter {
  private nextId = 1
  private readonly waiting = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >()

  private constructor(private readonly socket: net.Socket) {
    super()
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
        client.emit('close')
        if (stage < 2) reject(new Error('the gateway closed the connection during the handshake'))
      })
      const splitter = new LineSplitter((line) => {
        const msg = JSON.parse(line.toString('utf8')) as Record<string, unknown>
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
          client.emit(msg.event, msg.data)
        } else {
          const w = client.waiting.get(msg.id as number)
          client.waiting.delete(msg.id as number)
          if (!w) return
          if ('error' in msg) w.reject(new Error(String(msg.error)))
          else w.resolve(msg.result)
        }
      })
      socket.on('data', (c: Buffer) => splitter.push(c))
    })
  }

  /** Sends a request and resolves with its result. */
  request<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.socket.write(JSON.stringify({ id, method, params }) + '\n')
    })
  }

  /** Closes the connection. */
  close(): void {
    this.socket.destroy()
  }
}
