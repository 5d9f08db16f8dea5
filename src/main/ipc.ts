/**
 * The control API over Electron IPC, main's side. `ipcMain` is wrapped once (injected): one
 * `handle` channel for calls. Every call is checked before it is relayed: the sender must be
 * the top frame of one of our windows showing our UI, the method must be in the contract and
 * the params must parse with its schema (errors name the field). Events go to our windows only.
 */
import {
  controlRequests,
  isControlMethod,
  type ControlMethod,
} from '../shared/contract/control-api'
import { CALL_CHANNEL, EVENT_CHANNEL, type CallReply } from '../shared/contract/ipc-channels'

/** The bits of an IPC event the sender check reads (Electron's IpcMainInvokeEvent). */
export interface IpcSender {
  sender: { id: number }
  senderFrame: { url: string; parent: unknown } | null
}

/** The bits of `ipcMain` used. */
export interface IpcMainLike {
  handle(
    channel: string,
    listener: (event: IpcSender, ...args: unknown[]) => Promise<unknown>,
  ): void
  removeHandler(channel: string): void
}

/** A window that receives events. */
export interface EventTarget {
  id: number
  send(channel: string, ...args: unknown[]): void
}

/** Why a call was refused before it reached the gateway. */
export class ControlRefusedError extends Error {
  override name = 'ControlRefusedError'
  constructor(
    message: string,
    readonly code: 'FOREIGN_SENDER' | 'UNKNOWN_METHOD' | 'INVALID_PARAMS',
  ) {
    super(message)
  }
}

/** Our windows and our UI's URLs, as the sender check sees them. */
export interface SenderPolicy {
  /** webContents ids of our windows. */
  windowIds(): Iterable<number>
  /** Whether a URL is our UI. */
  isAppUrl(url: string): boolean
}

/**
 * Whether a call comes from us: the top frame of one of our windows, showing our UI. A
 * subframe, another webContents or a page navigated elsewhere is refused.
 */
export function checkSender(event: IpcSender, policy: SenderPolicy): string | undefined {
  const frame = event.senderFrame
  if (!frame) return 'the sending frame is gone'
  if (frame.parent) return 'calls from subframes are refused'
  if (![...policy.windowIds()].includes(event.sender.id))
    return 'the sender is not an Airlock window'
  if (!policy.isAppUrl(frame.url))
    return `the sending page (${frame.url.slice(0, 100)}) is not the Airlock UI`
  return undefined
}

/** Parses a call's method and params against the contract; throws ControlRefusedError. */
export function parseCall(
  method: unknown,
  params: unknown,
): { method: ControlMethod; params: unknown } {
  if (!isControlMethod(method)) {
    throw new ControlRefusedError(
      `unknown control method ${JSON.stringify(String(method).slice(0, 64))}`,
      'UNKNOWN_METHOD',
    )
  }
  const parsed = controlRequests[method].params.safeParse(params ?? {})
  if (!parsed.success) {
    const detail = parsed.error.issues
      .map((i) => `${i.path.length ? i.path.join('.') : '(params)'}: ${i.message}`)
      .join('; ')
    throw new ControlRefusedError(`${method}: ${detail}`, 'INVALID_PARAMS')
  }
  return { method, params: parsed.data }
}

/** Where checked calls go: the gateway host, with main's own handlers first. */
export interface CallTarget {
  call(method: ControlMethod, params: unknown): Promise<unknown>
}

function reply(err: unknown): CallReply {
  const e = err instanceof Error ? err : new Error(String(err))
  const code = (e as { code?: unknown }).code
  return {
    ok: false,
    error: { name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}) },
  }
}

/** The control API's IPC endpoint in main. */
export class IpcBridge {
  private readonly targets = new Set<EventTarget>()

  constructor(
    private readonly ipc: IpcMainLike,
    private readonly policy: SenderPolicy,
    private readonly target: CallTarget,
    private readonly log: (msg: string) => void = () => {},
  ) {
    ipc.handle(CALL_CHANNEL, (event, method, params) => this.onCall(event, method, params))
  }

  /** Adds a window that receives events; returns its removal. */
  addWindow(target: EventTarget): () => void {
    this.targets.add(target)
    return () => this.targets.delete(target)
  }

  /** Sends a control event to our windows. */
  broadcast(event: string, data: unknown): void {
    for (const t of this.targets) {
      try {
        t.send(EVENT_CHANNEL, event, data)
      } catch {
        // A window being destroyed: it stops receiving.
        this.targets.delete(t)
      }
    }
  }

  /** Stops answering calls. */
  close(): void {
    this.ipc.removeHandler(CALL_CHANNEL)
    this.targets.clear()
  }

  private async onCall(event: IpcSender, method: unknown, params: unknown): Promise<CallReply> {
    const refused = checkSender(event, this.policy)
    if (refused) {
      this.log(`refused a control call: ${refused}`)
      return reply(new ControlRefusedError(refused, 'FOREIGN_SENDER'))
    }
    try {
      const call = parseCall(method, params)
      return { ok: true, result: await this.target.call(call.method, call.params) }
    } catch (err) {
      return reply(err)
    }
  }
}
