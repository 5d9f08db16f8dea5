/**
 * The remote upstream: an MCP server reached over Streamable HTTP with the SDK's client
 * transport, falling back to the older HTTP+SSE transport when the server answers the first
 * POST (initialize) with a 4xx, as the SDK's own client examples do. The transport keeps the
 * session id (`Mcp-Session-Id`) and sends `MCP-Protocol-Version` once it is told the version
 * the server chose; this relay only tells it (from the initialize answer) and otherwise passes
 * messages through. Server→client requests and notifications arrive on the transport's streams
 * (the POST's SSE answer, or the GET stream opened after `notifications/initialized`).
 */
import type * as SdkStreamable from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type * as SdkSse from '@modelcontextprotocol/sdk/client/sse.js'
import type * as SdkAuth from '@modelcontextprotocol/sdk/client/auth.js'
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js'
import type { FetchLike, Transport } from '@modelcontextprotocol/sdk/shared/transport.js'
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js'
import { excerpt } from '../../shared/text'
import { isObject } from '../../node/jsonrpc'
import { DEFAULT_MAX_LINE_BYTES } from '../../node/framing/line-splitter'
import type { UpstreamHandlers, UpstreamLink } from './upstream-link'
import { NotOAuthError, SignInRequiredError } from './oauth-client'

/**
 * The SDK's client transports, loaded with the first remote upstream (not at the gateway's
 * start: idle memory). Its error classes exist only once it is loaded, and so do its errors.
 */
interface ClientSdk {
  StreamableHTTPClientTransport: typeof SdkStreamable.StreamableHTTPClientTransport
  StreamableHTTPError: typeof SdkStreamable.StreamableHTTPError
  SSEClientTransport: typeof SdkSse.SSEClientTransport
  UnauthorizedError: typeof SdkAuth.UnauthorizedError
}
let sdk: ClientSdk | undefined
async function loadClientSdk(): Promise<ClientSdk> {
  if (!sdk) {
    const [streamable, sse, auth] = await Promise.all([
      import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
      import('@modelcontextprotocol/sdk/client/sse.js'),
      import('@modelcontextprotocol/sdk/client/auth.js'),
    ])
    sdk = {
      StreamableHTTPClientTransport: streamable.StreamableHTTPClientTransport,
      StreamableHTTPError: streamable.StreamableHTTPError,
      SSEClientTransport: sse.SSEClientTransport,
      UnauthorizedError: auth.UnauthorizedError,
    }
  }
  return sdk
}
const isUnauthorized = (err: unknown): boolean =>
  sdk !== undefined && err instanceof sdk.UnauthorizedError

/** The transport a remote server turned out to speak. */
export type RemoteTransport = 'streamable-http' | 'sse'

/** What a remote upstream needs. */
export interface HttpUpstreamDeps {
  /** The server's URL (the Streamable HTTP endpoint, or the SSE endpoint of an older server). */
  url: string
  /** Headers sent with every request, secret values included. */
  headers: Record<string, string>
  /** The OAuth client of this server, when it uses OAuth. */
  authProvider?: OAuthClientProvider
  /** The fetch the transports use (the OAuth refreshes shared between connections). */
  fetch?: FetchLike
  /**
   * A request needs a person to sign in first (OAuth, no usable token): told so, it returns what
   * to tell the agent ("sign in to "x" in Airlock: …").
   */
  onSignInRequired?: () => string
  /** Told which transport answered once the server accepted initialize. */
  onTransport?: (transport: RemoteTransport) => void
  log: (msg: string) => void
  /** Messages larger than this (serialized) are dropped and reported. */
  maxMessageBytes?: number
}

/** JSON-RPC error code for a request the remote could not take (HTTP error, auth). */
const REMOTE_ERROR = -32603

/** An MCP server reached over HTTP. */
export class HttpUpstream implements UpstreamLink {
  private handlers?: UpstreamHandlers
  private transport?: Transport
  private kind: RemoteTransport = 'streamable-http'
  /** Sends run in order; an initialize holds the ones after it until it is answered. */
  private queue: Promise<void> = Promise.resolve()
  private readonly initializeIds = new Set<string | number>()
  private paused = false
  private held: Buffer[] = []
  private closed = false
  private gone = false
  private lastError = ''

  constructor(
    private readonly name: string,
    private readonly deps: HttpUpstreamDeps,
  ) {}

  start(h: UpstreamHandlers): void {
    this.handlers = h
    // Messages queue behind the SDK's load (deliver runs on this.queue).
    this.queue = loadClientSdk().then(
      (s) => {
        if (!this.closed) this.transport = this.wire(this.streamable(s))
      },
      (err: unknown) => this.serverGone(`could not be started (${describe(err)})`),
    )
  }

  send(messages: Buffer[]): boolean {
    for (const raw of messages) {
      let msg: unknown
      try {
        msg = JSON.parse(raw.toString('utf8'))
      } catch {
        continue // the session forwards only what it parsed
      }
      for (const m of Array.isArray(msg) && this.kind === 'sse' ? msg : [msg]) {
        const message = m as JSONRPCMessage
        if (isObject(m) && m.method === 'initialize' && isId(m.id)) this.initializeIds.add(m.id)
        this.queue = this.queue.then(() => this.deliver(message))
      }
    }
    return true
  }

  pause(): void {
    this.paused = true
  }

  resume(): void {
    this.paused = false
    const held = this.held
    this.held = []
    for (const m of held) if (!this.closed) this.handlers?.onmessage(m)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const t = this.transport
    this.transport = undefined
    if (!t) return
    // Spec: a client that no longer needs its session ends it with a DELETE (best effort).
    if (sdk && t instanceof sdk.StreamableHTTPClientTransport && t.sessionId !== undefined)
      await t.terminateSession().catch(() => undefined)
    await t.close().catch(() => undefined)
  }

  // ── internals ────────────────────────────────────────────────────────────

  private streamable(s: ClientSdk): Transport {
    return new s.StreamableHTTPClientTransport(new URL(this.deps.url), {
      requestInit: { headers: this.deps.headers },
      ...(this.deps.authProvider ? { authProvider: this.deps.authProvider } : {}),
      ...(this.deps.fetch ? { fetch: this.deps.fetch } : {}),
      // A dropped stream is not resumed (a relay cannot replay what the agent already saw
      // partially); pending requests are answered by the session when the server goes away.
      reconnectionOptions: {
        maxRetries: 2,
        initialReconnectionDelay: 500,
        maxReconnectionDelay: 5000,
        reconnectionDelayGrowFactor: 2,
      },
    })
  }

  private sse(s: ClientSdk): Transport {
    return new s.SSEClientTransport(new URL(this.deps.url), {
      requestInit: { headers: this.deps.headers },
      ...(this.deps.authProvider ? { authProvider: this.deps.authProvider } : {}),
      ...(this.deps.fetch ? { fetch: this.deps.fetch } : {}),
    })
  }

  private wire(t: Transport): Transport {
    t.onmessage = (m) => {
      if (this.closed || this.transport !== t) return
      this.fromServer(m)
    }
    t.onerror = (err) => {
      if (this.closed || this.transport !== t) return
      const text = describe(err)
      if (text !== this.lastError) this.deps.log(`${this.name}: ${this.deps.url}: ${text}`)
      this.lastError = text
    }
    t.onclose = () => {
      if (this.closed || this.transport !== t) return
      this.serverGone(`closed the connection (${this.deps.url})`)
    }
    return t
  }

  private fromServer(m: JSONRPCMessage): void {
    // Tell the transport the version the server chose, so that it sends MCP-Protocol-Version.
    const o = m as unknown as Record<string, unknown>
    if (isId(o.id) && this.initializeIds.has(o.id) && !('method' in o)) {
      this.initializeIds.delete(o.id)
      const version = isObject(o.result) ? o.result.protocolVersion : undefined
      if (typeof version === 'string' && version.length < 64)
        this.transport?.setProtocolVersion?.(version)
      if (isObject(o.result)) this.deps.onTransport?.(this.kind)
    }
    const bytes = Buffer.from(JSON.stringify(m))
    if (bytes.length > (this.deps.maxMessageBytes ?? DEFAULT_MAX_LINE_BYTES)) {
      this.handlers?.onoversize(bytes.length)
      return
    }
    if (this.paused) this.held.push(bytes)
    else this.handlers?.onmessage(bytes)
  }

  private async deliver(message: JSONRPCMessage): Promise<void> {
    const t = this.transport
    if (this.closed || this.gone || !t) return
    const initialize = (message as { method?: unknown }).method === 'initialize'
    const sending = t.send(message)
    if (!initialize) {
      // Later messages need not wait for this one's answer (a long tool call answered as JSON).
      sending.catch((err: unknown) => this.failed(message, err))
      return
    }
    try {
      await sending
    } catch (err) {
      if (this.kind === 'streamable-http' && fallsBackToSse(err)) {
        await this.fallBack(message, err)
        return
      }
      this.failed(message, err)
    }
  }

  /** The server refused the Streamable HTTP initialize with a 4xx: try the HTTP+SSE transport. */
  private async fallBack(initialize: JSONRPCMessage, first: unknown): Promise<void> {
    this.deps.log(
      `${this.name}: ${this.deps.url} refused Streamable HTTP (${describe(first)}); trying the HTTP+SSE transport`,
    )
    const old = this.transport
    this.kind = 'sse'
    const t = this.wire(this.sse(await loadClientSdk()))
    this.transport = t
    if (old) {
      old.onclose = undefined
      void old.close().catch(() => undefined)
    }
    try {
      await t.start()
      await t.send(initialize)
    } catch (err) {
      this.failed(initialize, err, first)
    }
  }

  /**
   * A send failed. Unreachable → the server is gone (the session answers what is pending and
   * reconnects on the next request); a session the server no longer knows (404) → the same,
   * so the next request starts a new one; any other HTTP answer → that request gets an error.
   */
  private failed(message: JSONRPCMessage, err: unknown, first?: unknown): void {
    if (this.closed || this.gone) return
    const status = statusOf(err)
    if (unreachable(err)) {
      this.serverGone(`could not be reached at ${this.deps.url} (${describe(err)})`)
      return
    }
    const t = this.transport
    if (
      status === 404 &&
      (this.kind === 'sse' || (t as SdkStreamable.StreamableHTTPClientTransport)?.sessionId)
    ) {
      this.serverGone(`ended its session at ${this.deps.url} (HTTP 404)`)
      return
    }
    const o = message as unknown as Record<string, unknown>
    const id = typeof o.method === 'string' && isId(o.id) ? o.id : undefined
    const what =
      err instanceof SignInRequiredError
        ? `Airlock: remote MCP server "${this.name}" needs you to sign in (OAuth): ${this.deps.onSignInRequired?.() ?? `sign in to "${this.name}" in Airlock`}`
        : err instanceof NotOAuthError
          ? `remote MCP server "${this.name}" at ${this.deps.url} answered HTTP 401 and offers no OAuth sign-in${advice(401, err)}`
          : `remote MCP server "${this.name}" at ${this.deps.url} answered ${httpText(err, first)}${advice(status, err)}`
    this.deps.log(`${this.name}: ${what}`)
    if (id === undefined) return
    const reply = { jsonrpc: '2.0', id, error: { code: REMOTE_ERROR, message: what } }
    this.fromServer(reply as JSONRPCMessage)
  }

  private serverGone(what: string): void {
    if (this.closed || this.gone) return
    this.gone = true
    this.handlers?.onclose(what, '')
  }
}

function isId(v: unknown): v is string | number {
  return typeof v === 'string' || typeof v === 'number'
}

/** The HTTP status behind a transport error, if it carries one. */
function statusOf(err: unknown): number | undefined {
  if (!(err instanceof Error)) return undefined
  // StreamableHTTPError and SseError carry it as `code`; the SSE transport's POST only says it.
  const code = (err as { code?: unknown }).code
  if (typeof code === 'number' && code >= 100 && code < 600) return code
  const m = /\(HTTP (\d{3})\)/.exec(err.message)
  return m ? Number(m[1]) : undefined
}

/** Whether nothing answered at all (refused, reset, DNS, TLS): no HTTP status to speak of. */
function unreachable(err: unknown): boolean {
  if (isUnauthorized(err) || statusOf(err) !== undefined) return false
  if (sdk && err instanceof sdk.StreamableHTTPError) return false // an answer it could not use
  if (err instanceof Error && err.message === 'Not connected') return true
  return err instanceof TypeError || (err instanceof Error && err.name === 'SseError')
}

/** Whether a failed Streamable HTTP initialize means "try HTTP+SSE" (4xx, but not auth). */
function fallsBackToSse(err: unknown): boolean {
  const s = statusOf(err)
  return s !== undefined && s >= 400 && s < 500 && s !== 401 && s !== 403
}

function httpText(err: unknown, first?: unknown): string {
  const s = statusOf(err)
  const detail = excerpt(describe(err), 300)
  const before = first === undefined ? '' : `; before that, Streamable HTTP: ${describe(first)}`
  return `${s === undefined ? 'with an error' : `HTTP ${s}`}: ${detail}${before}`
}

function advice(status: number | undefined, err: unknown): string {
  if (status === 401 || status === 403 || isUnauthorized(err))
    return '; check the credentials Airlock sends (airlock servers remove, then add it again with --header "Authorization: Bearer …")'
  return ''
}

/** One line about an error, with its cause (fetch hides ECONNREFUSED there). */
export function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const cause = (err as { cause?: unknown }).cause
  const why = cause instanceof Error ? `: ${cause.message}` : ''
  return excerpt(`${err.message}${why}`.replace(/\s+/g, ' '), 400)
}
