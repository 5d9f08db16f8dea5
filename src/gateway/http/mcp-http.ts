/**
 * The loopback MCP endpoint: Streamable HTTP at `/mcp/<server>` on the UI server, for MCP
 * clients that speak HTTP. Each MCP session (`Mcp-Session-Id`) is one gateway Session, so HTTP
 * clients get the same server process per session, policy, approvals and audit as the shim path.
 *
 * The SDK's StreamableHTTPServerTransport only frames: each message it parses becomes one JSON
 * line into the session, and each line the session writes goes back out — a response on the
 * stream of its request; a server request or notification on the stream of the request whose
 * progress token it carries, else on the client's standalone GET stream, else on the stream of
 * the latest open request.
 *
 * The common POST (one request, or one notification or response, on a live session) is served
 * directly, not through the SDK transport: its Web Request/Response and stream conversion per
 * request cost several times the rest of a call. Its answer is plain JSON when the response is
 * the first thing for it; when a notification or a server request comes first (progress,
 * sampling), the answer becomes an SSE stream, as the SDK transport's would. Anything else
 * (initialize, batches, GET, DELETE, anything unusual) goes through the SDK transport.
 *
 * Security, with the UI server's Host and Origin checks before it (DNS rebinding): a bearer
 * token (`<home>/http-token`, compared in constant time) on every request; no CORS headers at
 * all and OPTIONS refused, so a browser page cannot use it; request bodies capped (413).
 *
 * Clients often never close their session (no DELETE), and each session holds a server process:
 * a session idle for `settings.http.sessionIdleMinutes` (default 10; idle = no POST or DELETE in
 * flight; an open GET stream does not count) is ended, and a server has at most `settings.http.maxSessionsPerServer`
 * sessions (default 32): a new one first ends the longest-idle one, with its server process.
 */
import { randomUUID } from 'node:crypto'
import { safeEqual } from '../../node/safe-equal'
import type http from 'node:http'
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js'
import { SessionRefusedError, type HttpLinkInfo } from '../gateway'
import { ErrorCode, errorLine, idKey, isId, isObject, type JsonRpcId } from '../../node/jsonrpc'
import { LineSplitter } from '../../node/framing/line-splitter'
import type { ClientLink } from '../proxy/session'

/** The gateway session an MCP HTTP session drives (a Session). */
export interface HttpGatewaySession {
  clientData(chunk: Buffer): void
  clientClosed(): Promise<void>
}

/** What the endpoint needs from the gateway. */
export interface McpHttpOptions {
  /** Starts a session of a server (Gateway.openSession); throws SessionRefusedError. */
  openSession(server: string, link: ClientLink, info: () => HttpLinkInfo): HttpGatewaySession
  /** The bearer token (see ensureUiToken with the `http-token` file). */
  token: string
  /** Largest request body accepted (default 8 MiB). */
  maxBodyBytes?: number
  /** A session with no request in flight for this long is ended (default 10 min); read per use. */
  idleTimeoutMs?: number | (() => number)
  /** Sessions per server (default 32); at the cap the longest-idle one is ended. Read per use. */
  maxSessionsPerServer?: number | (() => number)
  /** Clock, epoch ms (default Date.now). */
  now?: () => number
  log?: (msg: string) => void
}

/** The MCP endpoint as the UI server mounts it. */
export interface McpHttpEndpoint {
  /** Serves one request for `/mcp/<server>` (Host and Origin already checked). */
  handle(req: http.IncomingMessage, res: http.ServerResponse, server: string): void
  /** Number of live MCP HTTP sessions. */
  sessions(): number
  /** Ends every session (their server processes with them). */
  close(): Promise<void>
}

/** Default cap of a request body. */
export const MAX_MCP_BODY_BYTES = 8 * 1024 * 1024
/** Default idle time after which an MCP HTTP session is ended. */
export const MCP_IDLE_TIMEOUT_MS = 10 * 60 * 1000
/** Default cap of MCP HTTP sessions per server. */
export const MCP_MAX_SESSIONS_PER_SERVER = 32

/** The URL path prefix of the endpoint. */
export const MCP_PATH_PREFIX = '/mcp/'

/** The server name in a `/mcp/<server>` path, or undefined when the path is not one. */
export function mcpServerFromPath(urlPath: string): string | undefined {
  if (!urlPath.startsWith(MCP_PATH_PREFIX)) return undefined
  const rest = urlPath.slice(MCP_PATH_PREFIX.length).replace(/\/$/, '')
  if (rest === '' || rest.includes('/')) return undefined
  try {
    return decodeURIComponent(rest)
  } catch {
    return undefined
  }
}

/** Whether an Authorization header carries `Bearer <token>` (constant-time compare). */
export function bearerMatches(token: string, header: string | undefined): boolean {
  const given = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '')?.[1]
  return safeEqual(token, given)
}

interface HttpSession {
  id: string
  server: string
  transport: StreamableHTTPServerTransport
  gateway?: HttpGatewaySession
  /** Client requests not answered yet, in arrival order (idKey → id). */
  open: Map<string, string | number>
  /** Progress tokens of open requests (idKey of the token → request id). */
  progress: Map<string, string | number>
  /** Requests served directly (not by the SDK transport), by idKey: where their answer goes. */
  direct: Map<string, DirectReply>
  /** POST and DELETE requests in flight on this session (their SSE streams included). */
  inflight: number
  /** Standalone GET streams in flight. */
  gets: number
  idle?: NodeJS.Timeout
  /** Epoch ms of the last request's start or end. */
  lastActive: number
  closed: boolean
}

/** The HTTP response of a request served directly: JSON, or SSE once something precedes the answer. */
interface DirectReply {
  /** The request's response: the body (JSON), or the last event (SSE). */
  answer(msg: JSONRPCMessage): void
  /** A message about the request before its response: switches the reply to SSE. */
  event(msg: JSONRPCMessage): void
  /** The session ended before the answer. */
  abandon(): void
}

function sseEvent(msg: JSONRPCMessage): string {
  return `event: message\ndata: ${JSON.stringify(msg)}\n\n`
}

function directReply(res: http.ServerResponse, sessionId: string): DirectReply {
  let sse = false
  const startSse = (): void => {
    sse = true
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
      'mcp-session-id': sessionId,
    })
  }
  return {
    answer(msg) {
      if (res.writableEnded || res.destroyed) return
      if (sse) return void res.end(sseEvent(msg))
      res.writeHead(200, { 'Content-Type': 'application/json', 'mcp-session-id': sessionId })
      res.end(JSON.stringify(msg))
    },
    event(msg) {
      if (res.writableEnded || res.destroyed) return
      if (!sse) startSse()
      res.write(sseEvent(msg))
    },
    abandon() {
      if (res.writableEnded || res.destroyed) return
      if (sse) return void res.end()
      sendError(res, 404, -32001, 'Session not found: it ended before this request was answered')
    },
  }
}

/**
 * The message of a POST body when it can be served directly: one request (not initialize), one
 * notification or one response, in the plain JSON-RPC shape (only its JSON-RPC members kept, as
 * the SDK's schema keeps them). Undefined: let the SDK transport judge it.
 */
function directMessage(body: unknown): Record<string, unknown> | undefined {
  if (!isObject(body) || body.jsonrpc !== '2.0') return undefined
  const { id, method, params } = body
  if (params !== undefined && !isObject(params)) return undefined
  if (typeof method === 'string') {
    if (method === 'initialize' || 'result' in body || 'error' in body) return undefined
    if (!('id' in body))
      return params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params }
    if (typeof id !== 'string' && typeof id !== 'number') return undefined
    return params === undefined
      ? { jsonrpc: '2.0', id, method }
      : { jsonrpc: '2.0', id, method, params }
  }
  if (method !== undefined || (typeof id !== 'string' && typeof id !== 'number')) return undefined
  if ('result' in body === 'error' in body) return undefined
  if ('result' in body)
    return isObject(body.result) ? { jsonrpc: '2.0', id, result: body.result } : undefined
  const e = body.error
  if (!isObject(e) || !Number.isInteger(e.code) || typeof e.message !== 'string') return undefined
  return { jsonrpc: '2.0', id, error: e }
}

/**
 * The SDK's server transport and protocol versions, loaded with the first session: the SDK is
 * not loaded at the gateway's start (idle memory).
 */
interface ServerSdk {
  StreamableHTTPServerTransport: typeof StreamableHTTPServerTransport
  versions: readonly string[]
}
let serverSdk: ServerSdk | undefined
async function loadServerSdk(): Promise<ServerSdk> {
  if (!serverSdk) {
    const [{ StreamableHTTPServerTransport: T }, { SUPPORTED_PROTOCOL_VERSIONS }] =
      await Promise.all([
        import('@modelcontextprotocol/sdk/server/streamableHttp.js'),
        import('@modelcontextprotocol/sdk/types.js'),
      ])
    serverSdk = { StreamableHTTPServerTransport: T, versions: SUPPORTED_PROTOCOL_VERSIONS }
  }
  return serverSdk
}

/** Whether a POST's headers are what the SDK transport asks of every POST after initialize. */
function plainPostHeaders(req: http.IncomingMessage, versions: readonly string[]): boolean {
  const accept = req.headers.accept
  if (!accept?.includes('application/json') || !accept.includes('text/event-stream')) return false
  const type = req.headers['content-type']?.split(';', 1)[0]?.trim().toLowerCase()
  if (type !== 'application/json') return false
  const version = req.headers['mcp-protocol-version']
  return version === undefined || (typeof version === 'string' && versions.includes(version))
}

const JSON_HEADERS = {
  'Content-Type': 'application/json',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
}

function sendError(
  res: http.ServerResponse,
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  res.writeHead(status, { ...JSON_HEADERS, ...headers })
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }))
}

/** How much of a refused body is read and dropped before the connection is closed instead. */
const DISCARD_MAX = 64 * 1024 * 1024

/** Reads a body up to `max` bytes; undefined (after answering 413) when it is larger. */
function readBody(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  max: number,
): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const tooLarge = (): void => {
      // The connection stays open while the rest of the body is read and dropped: a server that
      // closes with unread bytes sends a reset, and the reset can reach the client before the
      // answer does (it then sees "socket hang up", not the 413). A body far past the cap is not
      // read to its end: the connection is closed once DISCARD_MAX bytes have been dropped.
      const declared = Number(req.headers['content-length'])
      const hopeless = Number.isFinite(declared) && declared > DISCARD_MAX
      sendError(
        res,
        413,
        ErrorCode.InvalidRequest,
        `Payload Too Large: an MCP request body must not exceed ${max} bytes`,
        hopeless ? { Connection: 'close' } : {},
      )
      let dropped = 0
      req.on('data', (c: Buffer) => {
        dropped += c.length
        if (dropped > DISCARD_MAX) req.socket.destroy()
      })
      req.resume()
      resolve(undefined)
    }
    if (Number(req.headers['content-length']) > max) return tooLarge()
    const chunks: Buffer[] = []
    let size = 0
    const onData = (c: Buffer): void => {
      size += c.length
      if (size > max) {
        req.off('data', onData)
        req.off('end', onEnd)
        return tooLarge()
      }
      chunks.push(c)
    }
    const onEnd = (): void => resolve(Buffer.concat(chunks))
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', reject)
  })
}

function isInitialize(body: unknown): boolean {
  const msgs = Array.isArray(body) ? body : [body]
  return msgs.some((m) => isObject(m) && m.method === 'initialize' && 'id' in m)
}

/** A server response in the exact shape the SDK transport recognises as one (extra keys dropped). */
function responseOf(msg: Record<string, unknown>, id: string | number): JSONRPCMessage {
  if ('error' in msg) {
    const e = isObject(msg.error) ? msg.error : {}
    const code =
      typeof e.code === 'number' && Number.isInteger(e.code) ? e.code : ErrorCode.InternalError
    const message =
      typeof e.message === 'string' ? e.message : 'the server answered with a malformed error'
    return {
      jsonrpc: '2.0',
      id,
      error: { code, message, ...(e.data !== undefined ? { data: e.data } : {}) },
    }
  }
  if (!isObject(msg.result))
    return {
      jsonrpc: '2.0',
      id,
      error: {
        code: ErrorCode.InternalError,
        message: 'the server answered with a result that is not an object',
      },
    }
  return { jsonrpc: '2.0', id, result: msg.result }
}

/** Creates the endpoint. Sessions start on `initialize` and end on DELETE, idleness, or their server's exit. */
export function createMcpHttpEndpoint(opts: McpHttpOptions): McpHttpEndpoint {
  const log = opts.log ?? (() => {})
  const maxBody = opts.maxBodyBytes ?? MAX_MCP_BODY_BYTES
  const now = opts.now ?? Date.now
  const setting = (v: number | (() => number) | undefined, fallback: number): (() => number) =>
    typeof v === 'function' ? v : () => v ?? fallback
  const idleMs = setting(opts.idleTimeoutMs, MCP_IDLE_TIMEOUT_MS)
  const maxPerServer = setting(opts.maxSessionsPerServer, MCP_MAX_SESSIONS_PER_SERVER)
  /** By Mcp-Session-Id, once initialized. */
  const sessions = new Map<string, HttpSession>()
  /** Every live session, initialized or not (the cap counts them all). */
  const live = new Set<HttpSession>()

  /** Ends a session once: its streams, then its gateway session (the server's process tree). */
  const end = async (s: HttpSession, why: string): Promise<void> => {
    if (s.closed) return
    s.closed = true
    if (s.idle) clearTimeout(s.idle)
    sessions.delete(s.id)
    live.delete(s)
    log(`MCP HTTP session of "${s.server}" ended (${why})`)
    for (const reply of s.direct.values()) reply.abandon()
    s.direct.clear()
    await s.transport.close().catch(() => undefined)
    await s.gateway?.clientClosed()
  }

  const idleFor = (ms: number): string =>
    ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`

  const armIdle = (s: HttpSession): void => {
    if (s.idle) clearTimeout(s.idle)
    const ms = idleMs()
    s.idle = setTimeout(() => void end(s, `idle for ${idleFor(ms)}`), ms)
    s.idle.unref()
  }

  /**
   * Makes room for one more session of `server`: while it has `maxSessionsPerServer` or more,
   * ends the longest-idle one (sessions with a request in flight last, oldest activity first).
   */
  const makeRoom = async (server: string): Promise<void> => {
    const max = maxPerServer()
    for (;;) {
      const mine = [...live].filter((x) => x.server === server && !x.closed)
      if (mine.length < max) return
      mine.sort(
        (a, b) =>
          (a.inflight > 0 ? 1 : 0) - (b.inflight > 0 ? 1 : 0) || a.lastActive - b.lastActive,
      )
      const victim = mine[0] as HttpSession
      await end(
        victim,
        `"${server}" has ${mine.length} HTTP sessions, the most allowed (settings.http.maxSessionsPerServer = ${max}); closed the longest idle (${idleFor(Math.max(0, now() - victim.lastActive))})`,
      )
    }
  }

  /**
   * Counts a request as in flight until its response closes; the idle timer runs only between
   * requests. A standalone GET stream is not activity: clients keep one open for as long as they
   * live, so it would hold a forgotten session (and its server process) forever.
   */
  const track = (s: HttpSession, res: http.ServerResponse, get: boolean): void => {
    if (get) s.gets++
    else s.inflight++
    s.lastActive = now()
    if (!get && s.idle) clearTimeout(s.idle)
    res.once('close', () => {
      if (get) {
        s.gets--
        return
      }
      s.inflight--
      s.lastActive = now()
      if (s.inflight === 0 && !s.closed) armIdle(s)
    })
  }

  /** A message from the client (already validated by the transport): into the session as a line. */
  const fromClient = (s: HttpSession, msg: JSONRPCMessage): void => {
    const m = msg as Record<string, unknown>
    if (typeof m.method === 'string' && isId(m.id) && m.id !== null) {
      s.open.set(idKey(m.id), m.id)
      const meta = isObject(m.params) && isObject(m.params._meta) ? m.params._meta : undefined
      if (meta && isId(meta.progressToken) && meta.progressToken !== null)
        s.progress.set(idKey(meta.progressToken), m.id)
    } else if (
      m.method === 'notifications/cancelled' &&
      isObject(m.params) &&
      isId(m.params.requestId)
    ) {
      forget(s, idKey(m.params.requestId))
    }
    s.gateway?.clientData(Buffer.from(JSON.stringify(msg) + '\n'))
  }

  const forget = (s: HttpSession, key: string): void => {
    const id = s.open.get(key)
    s.open.delete(key)
    if (id === undefined) return
    for (const [token, reqId] of s.progress) if (reqId === id) s.progress.delete(token)
  }

  /** A message from the session (the server's, or the gateway's own answer): out to the client. */
  const toClient = (s: HttpSession, msg: unknown): void => {
    if (!isObject(msg)) return log(`${s.server}: dropped a non-object message to an HTTP client`)
    const send = (out: JSONRPCMessage, related?: string | number): void => {
      s.transport
        .send(out, related === undefined ? undefined : { relatedRequestId: related })
        .catch((err: unknown) =>
          log(
            `${s.server}: could not deliver a message to the HTTP client (${(err as Error).message})`,
          ),
        )
    }
    if (typeof msg.method !== 'string') {
      const id: JsonRpcId | undefined = isId(msg.id) ? msg.id : undefined
      const key = id === undefined || id === null ? undefined : idKey(id)
      if (key === undefined || id === undefined || id === null || !s.open.has(key)) {
        return log(
          `${s.server}: dropped a response the HTTP client is not waiting for (id ${JSON.stringify(msg.id ?? null).slice(0, 40)})`,
        )
      }
      forget(s, key)
      const direct = s.direct.get(key)
      if (direct) {
        s.direct.delete(key)
        return direct.answer(responseOf(msg, id))
      }
      return send(responseOf(msg, id))
    }
    let related: string | number | undefined
    if (
      msg.method === 'notifications/progress' &&
      isObject(msg.params) &&
      isId(msg.params.progressToken) &&
      msg.params.progressToken !== null
    ) {
      related = s.progress.get(idKey(msg.params.progressToken))
    }
    if (related === undefined && s.gets === 0) related = [...s.open.values()].at(-1)
    if (related === undefined && s.gets === 0 && 'id' in msg && isId(msg.id) && msg.id !== null) {
      // A server request nobody can receive: answer it, so that the server does not wait forever.
      s.gateway?.clientData(
        Buffer.from(
          errorLine(
            msg.id,
            ErrorCode.InternalError,
            'the HTTP client has no open stream to receive server requests',
          ),
        ),
      )
      return
    }
    const direct = related === undefined ? undefined : s.direct.get(idKey(related))
    if (direct) return direct.event(msg as JSONRPCMessage)
    send(msg as JSONRPCMessage, related)
  }

  const startSession = (
    server: string,
    sdk: ServerSdk,
  ): HttpSession | { status: number; message: string } => {
    const transport = new sdk.StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      // Registered before the initialize response leaves, so that the client's next request finds it.
      onsessioninitialized: (id) => {
        s.id = id
        if (!s.closed) sessions.set(id, s)
      },
    })
    const s: HttpSession = {
      id: '',
      server,
      transport,
      open: new Map(),
      progress: new Map(),
      direct: new Map(),
      inflight: 0,
      gets: 0,
      lastActive: now(),
      closed: false,
    }
    const lines = new LineSplitter((line) => {
      let msg: unknown
      try {
        msg = JSON.parse(line.toString('utf8'))
      } catch {
        return log(`${server}: dropped an unparseable line to an HTTP client`)
      }
      if (Array.isArray(msg)) for (const m of msg) toClient(s, m)
      else toClient(s, msg)
    })
    const link: ClientLink = {
      write: (chunks) => {
        for (const c of chunks) lines.push(typeof c === 'string' ? Buffer.from(c) : c)
        return true
      },
      onDrain: () => undefined,
      pause: () => undefined,
      resume: () => undefined,
      end: () => void end(s, 'the gateway ended it'),
    }
    try {
      s.gateway = opts.openSession(server, link, () => ({
        lastActive: s.lastActive,
        active: s.inflight > 0,
      }))
      live.add(s)
    } catch (err) {
      if (err instanceof SessionRefusedError)
        return { status: err.code === 'NO_SERVER' ? 404 : 403, message: err.message }
      throw err
    }
    transport.onmessage = (msg) => fromClient(s, msg)
    transport.onclose = () => void end(s, 'closed by the client')
    transport.onerror = (err) => log(`${server}: MCP HTTP: ${err.message}`)
    return s
  }

  const serve = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    server: string,
  ): Promise<void> => {
    if (req.method === 'OPTIONS') {
      // No CORS: a preflight is refused, so a browser never sends the request itself.
      return sendError(
        res,
        405,
        ErrorCode.InvalidRequest,
        'Method not allowed: the Airlock MCP endpoint does not serve browsers',
        { Allow: 'GET, POST, DELETE' },
      )
    }
    if (!bearerMatches(opts.token, req.headers.authorization)) {
      log(`refused an MCP HTTP request for "${server.slice(0, 64)}" without the right bearer token`)
      return sendError(
        res,
        401,
        -32001,
        'Unauthorized: send "Authorization: Bearer <token>" with the token from the http-token file in the Airlock data directory ("airlock clients wrap <client> --http" writes it for you)',
        { 'WWW-Authenticate': 'Bearer realm="airlock"' },
      )
    }
    if (req.method !== 'GET' && req.method !== 'POST' && req.method !== 'DELETE') {
      return sendError(
        res,
        405,
        ErrorCode.InvalidRequest,
        'Method not allowed: use POST, GET or DELETE',
        { Allow: 'GET, POST, DELETE' },
      )
    }
    const sid = req.headers['mcp-session-id']
    let s: HttpSession | undefined
    if (typeof sid === 'string') {
      s = sessions.get(sid)
      if (!s || s.server !== server)
        return sendError(
          res,
          404,
          -32001,
          'Session not found: it ended (DELETE, idle timeout, or the server exited); send initialize again',
        )
    }
    let body: unknown
    if (req.method === 'POST') {
      const raw = await readBody(req, res, maxBody)
      if (!raw) return
      try {
        body = JSON.parse(raw.toString('utf8'))
      } catch {
        return sendError(res, 400, ErrorCode.ParseError, 'Parse error: the body is not JSON')
      }
    }
    if (!s) {
      if (req.method !== 'POST' || !isInitialize(body)) {
        return sendError(
          res,
          400,
          -32000,
          'Bad Request: Mcp-Session-Id header is required; start a session with an initialize request',
        )
      }
      const sdk = await loadServerSdk()
      await makeRoom(server)
      const started = startSession(server, sdk)
      if (!('transport' in started)) return sendError(res, started.status, -32001, started.message)
      track(started, res, false)
      await started.transport.handleRequest(req, res, body)
      if (!started.id) await end(started, 'its initialize request was refused')
      return
    }
    track(s, res, req.method === 'GET')
    if (req.method === 'POST' && serveDirect(s, req, res, body)) return
    await s.transport.handleRequest(req, res, body)
  }

  /**
   * Serves a POST of one plain message on an initialized session without the SDK transport;
   * false when it is anything else (the transport then judges it, errors included).
   */
  const serveDirect = (
    s: HttpSession,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: unknown,
  ): boolean => {
    // A session exists, so the SDK is loaded.
    if (!s.id || s.closed || !serverSdk || !plainPostHeaders(req, serverSdk.versions)) return false
    const msg = directMessage(body)
    if (!msg) return false
    if (typeof msg.method !== 'string' || !('id' in msg)) {
      // A notification or a response (a server request's answer): accepted, nothing to wait for.
      res.writeHead(202).end()
      fromClient(s, msg as JSONRPCMessage)
      return true
    }
    const key = idKey(msg.id as string | number)
    if (s.open.has(key)) return false // an id in flight: as the transport handles it
    const reply = directReply(res, s.id)
    s.direct.set(key, reply)
    res.once('close', () => {
      if (s.direct.get(key) === reply) s.direct.delete(key)
    })
    fromClient(s, msg as JSONRPCMessage)
    return true
  }

  return {
    handle(req, res, server) {
      serve(req, res, server).catch((err: unknown) => {
        log(`MCP HTTP: ${(err as Error).message}`)
        sendError(res, 500, ErrorCode.InternalError, 'Internal error in the Airlock MCP endpoint')
      })
    },
    sessions: () => sessions.size,
    close: async () => {
      await Promise.all([...live].map((s) => end(s, 'Airlock is stopping')))
    },
  }
}
