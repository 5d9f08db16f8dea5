/**
 * The control API over the WebSocket of `airlock serve`, for the renderer in a browser:
 * `createApi(createWsTransport())`. Browser APIs only (no Node).
 *
 * Protocol (see src/gateway/ui-server.ts): connect to `ws://<this host>/api`, send
 * `{"type":"auth","token":"…"}` first and wait for `{"type":"auth","ok":true}`; then requests
 * `{id, method, params}` → `{id, result}` or `{id, error: {message, code?}}`, and pushed events
 * `{event, data}`. The token comes from the page URL's fragment (`#token=…`, which browsers
 * never send to the server), is kept in sessionStorage and removed from the address bar.
 *
 * Reconnects with exponential backoff (250 ms doubling to 10 s, with jitter); calls made while
 * disconnected wait for the connection (up to their timeout); calls in flight when it drops are
 * rejected, since they may or may not have run. A refused token stops reconnecting.
 */
import type {
  ControlEvent,
  ControlMethod,
  ControlTransport,
} from '../../shared/contract/control-api'

/** The connection's state, for a status indicator. After `reconnecting` → `open`, reload what is shown. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'unauthorized'

/** A control call that failed; `code` is the gateway's error code when it sent one. */
export class ControlCallError extends Error {
  override name = 'ControlCallError'
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message)
  }
}

/**
 * The connection as a React external store reads it: one object per change (the same object
 * until the next change). `opens` counts how often the connection has become `open`; each open
 * after the first is a reconnection, after which what is shown must be reloaded.
 */
export interface ConnectionSnapshot {
  readonly state: ConnectionState
  readonly detail?: string
  readonly opens: number
}

/** The WebSocket transport: the ControlTransport plus its connection state. */
export interface WsTransport extends ControlTransport {
  /** The current connection state. */
  state(): ConnectionState
  /** The current state, detail and count of opens, as one object that changes with them. */
  snapshot(): ConnectionSnapshot
  /** Subscribes to state changes; returns the unsubscribe. */
  onState(listener: (state: ConnectionState, detail?: string) => void): () => void
  /** Closes the connection for good; pending calls are rejected. */
  close(): void
}

/** The members of the browser's WebSocket this transport uses (typed here so that it also compiles outside the DOM). */
export interface WebSocketLike {
  readonly readyState: number
  onopen: ((ev: unknown) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  onclose: ((ev: { code: number; reason?: string }) => void) | null
  onerror: ((ev: unknown) => void) | null
  send(data: string): void
  close(code?: number, reason?: string): void
}

/** A WebSocket class: the browser's, or a stand-in in tests. */
export interface WebSocketConstructor {
  new (url: string): WebSocketLike
  readonly OPEN: number
}

/** The browser globals this transport reads. */
interface BrowserGlobals {
  location: { protocol: string; host: string; hash: string; pathname: string; search: string }
  sessionStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void }
  history: { state: unknown; replaceState(state: unknown, unused: string, url: string): void }
  WebSocket: WebSocketConstructor
}

const browser = (): BrowserGlobals => globalThis as unknown as BrowserGlobals

/** Options (all have browser defaults). */
export interface WsTransportOptions {
  /** Default: `ws://<location.host>/api`. */
  url?: string
  /** Default: from `#token=…`, else sessionStorage. */
  token?: string
  /** Default: the global WebSocket (a stand-in in tests). */
  WebSocket?: WebSocketConstructor
  /** How long a call may wait for its answer, connection time included (default 120 s). */
  callTimeoutMs?: number
}

const TOKEN_KEY = 'airlock.token'
const CLOSE_UNAUTHORIZED = 4401
const BACKOFF_MIN_MS = 250
const BACKOFF_MAX_MS = 10_000

/**
 * Takes the token from the URL fragment (`#token=…`) into sessionStorage and removes it from the
 * address bar; returns it, or the one stored earlier in this tab.
 */
export function takeTokenFromLocation(): string | undefined {
  const w = browser()
  let token: string | undefined
  try {
    const hash = new URLSearchParams(w.location.hash.replace(/^#/, ''))
    const fromHash = hash.get('token')
    if (fromHash) {
      token = fromHash
      w.sessionStorage.setItem(TOKEN_KEY, fromHash)
      hash.delete('token')
      const rest = hash.toString()
      w.history.replaceState(
        w.history.state,
        '',
        `${w.location.pathname}${w.location.search}${rest ? `#${rest}` : ''}`,
      )
    }
  } catch {
    // No sessionStorage (privacy mode): the token lives in memory only.
  }
  if (token) return token
  try {
    return w.sessionStorage.getItem(TOKEN_KEY) ?? undefined
  } catch {
    return undefined
  }
}

interface Waiting {
  resolve: (v: unknown) => void
  reject: (e: Error) => void
  timer: ReturnType<typeof setTimeout>
}

/** Creates the transport and starts connecting. */
export function createWsTransport(opts: WsTransportOptions = {}): WsTransport {
  const Ws = opts.WebSocket ?? browser().WebSocket
  const url =
    opts.url ??
    `${browser().location.protocol === 'https:' ? 'wss' : 'ws'}://${browser().location.host}/api`
  const token = opts.token ?? takeTokenFromLocation()
  const callTimeoutMs = opts.callTimeoutMs ?? 120_000
  const listeners = new Map<string, Set<(data: unknown) => void>>()
  const stateListeners = new Set<(state: ConnectionState, detail?: string) => void>()
  const inFlight = new Map<number, Waiting>()
  const queue: { id: number; text: string }[] = []
  let nextId = 1
  let ws: WebSocketLike | undefined
  let authed = false
  let current: ConnectionState = 'connecting'
  let snap: ConnectionSnapshot = { state: current, opens: 0 }
  let attempt = 0
  let closed = false
  let retry: ReturnType<typeof setTimeout> | undefined

  const setState = (s: ConnectionState, detail?: string): void => {
    current = s
    snap = { state: s, detail, opens: snap.opens + (s === 'open' ? 1 : 0) }
    for (const l of [...stateListeners]) l(s, detail)
  }

  const failAll = (why: string, includeQueued: boolean): void => {
    for (const [id, w] of [...inFlight]) {
      const queued = queue.some((q) => q.id === id)
      if (queued && !includeQueued) continue
      clearTimeout(w.timer)
      inFlight.delete(id)
      w.reject(new ControlCallError(why, 'DISCONNECTED'))
    }
    if (includeQueued) queue.length = 0
  }

  const connect = (): void => {
    if (closed) return
    if (!token) {
      setState(
        'unauthorized',
        'no access token: open the URL that "airlock serve" printed (it ends with #token=…)',
      )
      failAll('no access token: open the URL that "airlock serve" printed', true)
      return
    }
    authed = false
    let socket: WebSocketLike
    try {
      socket = new Ws(url)
    } catch (err) {
      scheduleReconnect((err as Error).message)
      return
    }
    ws = socket
    socket.onopen = () => socket.send(JSON.stringify({ type: 'auth', token }))
    socket.onmessage = (e) => {
      let msg: Record<string, unknown>
      try {
        msg = JSON.parse(String(e.data)) as Record<string, unknown>
      } catch {
        return
      }
      if (msg.type === 'auth') {
        if (msg.ok === true) {
          authed = true
          attempt = 0
          setState('open')
          for (const q of queue.splice(0)) socket.send(q.text)
        }
        return
      }
      if (typeof msg.event === 'string') {
        for (const l of [...(listeners.get(msg.event) ?? [])]) l(msg.data)
        return
      }
      if (typeof msg.id === 'number') {
        const w = inFlight.get(msg.id)
        if (!w) return
        inFlight.delete(msg.id)
        clearTimeout(w.timer)
        if ('error' in msg) {
          const err = (msg.error ?? {}) as { message?: unknown; code?: unknown }
          w.reject(
            new ControlCallError(
              typeof err.message === 'string' ? err.message : 'the gateway refused the call',
              typeof err.code === 'string' ? err.code : undefined,
            ),
          )
        } else {
          w.resolve(msg.result)
        }
      }
    }
    socket.onclose = (e) => {
      if (ws !== socket) return
      ws = undefined
      authed = false
      if (e.code === CLOSE_UNAUTHORIZED) {
        closed = true
        setState(
          'unauthorized',
          'the gateway refused the access token: open the URL that "airlock serve" printed',
        )
        failAll('the gateway refused the access token', true)
        return
      }
      // Calls already sent may or may not have run: they fail; queued ones wait for the next connection.
      failAll('the connection to the Airlock gateway was lost; try again', false)
      scheduleReconnect()
    }
    socket.onerror = () => undefined // followed by onclose
  }

  const scheduleReconnect = (detail?: string): void => {
    if (closed) return
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt)
    attempt++
    setState('reconnecting', detail)
    retry = setTimeout(connect, delay / 2 + Math.random() * (delay / 2))
  }

  connect()

  return {
    call(method: ControlMethod, params: unknown): Promise<unknown> {
      if (closed) {
        return Promise.reject(
          new ControlCallError(
            current === 'unauthorized'
              ? 'not connected: the access token is missing or was refused'
              : 'the transport is closed',
            'DISCONNECTED',
          ),
        )
      }
      const id = nextId++
      const text = JSON.stringify({ id, method, params })
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          inFlight.delete(id)
          const i = queue.findIndex((q) => q.id === id)
          if (i !== -1) queue.splice(i, 1)
          reject(
            new ControlCallError(
              `${method}: no answer from the Airlock gateway within ${Math.round(callTimeoutMs / 1000)} s`,
              'TIMEOUT',
            ),
          )
        }, callTimeoutMs)
        inFlight.set(id, { resolve, reject, timer })
        if (ws && authed && ws.readyState === Ws.OPEN) ws.send(text)
        else queue.push({ id, text })
      })
    },
    on(event: ControlEvent, listener: (data: unknown) => void): () => void {
      let set = listeners.get(event)
      if (!set) listeners.set(event, (set = new Set()))
      set.add(listener)
      return () => {
        set.delete(listener)
      }
    },
    state: () => current,
    snapshot: () => snap,
    onState(listener) {
      stateListeners.add(listener)
      return () => {
        stateListeners.delete(listener)
      }
    },
    close() {
      closed = true
      if (retry) clearTimeout(retry)
      failAll('the transport is closed', true)
      ws?.close()
      ws = undefined
    },
  }
}
