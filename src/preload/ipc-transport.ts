/**
 * The control transport over Electron IPC, the preload's side: calls go through one
 * `invoke` channel, events arrive on one channel and are fanned out to subscribers. The
 * ipcRenderer is injected, so this is tested without Electron; the renderer never sees it.
 */
import {
  isControlEvent,
  type ControlEvent,
  type ControlMethod,
  type ControlTransport,
} from '../shared/contract/control-api'
import { CALL_CHANNEL, EVENT_CHANNEL, type CallReply } from '../shared/contract/ipc-channels'

/** The bits of `ipcRenderer` used. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown
}

/** An error answered by main or the gateway, with its name and code kept. */
export class ControlCallError extends Error {
  constructor(
    message: string,
    override readonly name: string,
    readonly code?: string,
  ) {
    super(message)
  }
}

/** Builds the transport. One IPC listener serves every subscription. */
export function createIpcTransport(ipc: IpcRendererLike): ControlTransport {
  const listeners = new Map<ControlEvent, Set<(data: unknown) => void>>()
  ipc.on(EVENT_CHANNEL, (_event, name, data) => {
    if (!isControlEvent(name)) return
    for (const l of [...(listeners.get(name) ?? [])]) {
      try {
        l(data)
      } catch (err) {
        console.error(`airlock: a listener of "${name}" threw`, err)
      }
    }
  })
  return {
    async call(method: ControlMethod, params: unknown): Promise<unknown> {
      const reply = (await ipc.invoke(CALL_CHANNEL, method, params)) as CallReply
      if (reply && reply.ok) return reply.result
      const e = reply?.error ?? { name: 'Error', message: 'no reply from Airlock' }
      throw new ControlCallError(e.message, e.name, e.code)
    },
    on(event: ControlEvent, listener: (data: unknown) => void): () => void {
      if (!isControlEvent(event))
        throw new TypeError(`unknown event "${String(event).slice(0, 64)}"`)
      const set = listeners.get(event) ?? new Set()
      listeners.set(event, set)
      set.add(listener)
      return () => {
        set.delete(listener)
      }
    },
  }
}
