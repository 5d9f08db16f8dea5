/**
 * The headless host's UI server: loopback HTTP that serves the built renderer (`out/renderer`),
 * and the control API over a WebSocket at `/api`.
 *
 * Security, in order: it binds 127.0.0.1 only; every request must name this server in `Host`
 * (`127.0.0.1:<port>` or `localhost:<port>`) and, when it has an `Origin`, come from this
 * server's own origin — which defeats DNS rebinding and cross-site WebSockets; a WebSocket
 * must authenticate with the token from `<home>/ui-token` (0600) in its first message,
 * `{"type":"auth","token":"…"}`, before anything else is read or any event is sent. The token
 * never travels in a URL the server sees: `airlock serve` prints it in the URL's fragment, which
 * browsers do not send. Messages are capped at 1 MiB. Static files are served only from inside
 * the renderer directory, with a strict CSP.
 */
import { randomBytes } from 'node:crypto'
import { safeEqual } from '../../node/safe-equal'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import zlib from 'node:zlib'
import { WebSocketServer, type WebSocket } from 'ws'
import type { ControlEvent } from '../../shared/contract/control-api'
import { mcpServerFromPath, MCP_PATH_PREFIX, type McpHttpEndpoint } from './mcp-http'
import { writeFileAtomic } from '../../node/atomic-write'
import { OAUTH_CALLBACK_PATH } from '../proxy/oauth-sign-in'

/** The control API as the UI server needs it (a ControlService). */
export interface UiControl {
  call(method: string, params: unknown, ctx?: { by?: string }): Promise<unknown>
  subscribe(listener: (event: ControlEvent, data: unknown) => void): () => void
}

/** Options of {@link startUiServer}. */
export interface UiServerOptions {
  control: UiControl
  /** Counts a connected UI as an approver; returns its detach (ApprovalCenter.attachUi). */
  attachUi: () => () => void
  /** The auth token (see {@link ensureUiToken}). */
  token: string
  /** TCP port on 127.0.0.1; 0 picks a free one. Default 4310. */
  port?: number
  /** The built renderer (index.html and assets). */
  rendererDir: string
  log?: (msg: string) => void
  /** How long a new WebSocket may take to authenticate (default 5 s). */
  authTimeoutMs?: number
  /** The loopback MCP endpoint, served at `/mcp/<server>` (see mcp-http.ts). */
  mcp?: McpHttpEndpoint
  /** Serve the web UI and its control WebSocket (default true); false serves MCP only. */
  ui?: boolean
  /** Serves a remote server's OAuth sign-in callback at {@link OAUTH_CALLBACK_PATH} (even with `ui` false). */
  oauthCallback?: (req: http.IncomingMessage, res: http.ServerResponse) => void
}

/** A running UI server. */
export interface UiServer {
  port: number
  /** The URL to open, token in the fragment. */
  url: string
  /** `http://127.0.0.1:<port>/mcp/` when the MCP endpoint is served (append the server name). */
  mcpBase?: string
  /** Number of authenticated WebSocket clients. */
  clients(): number
  close(): Promise<void>
}

/** Default port of the headless UI. */
export const DEFAULT_UI_PORT = 4310
/** Largest WebSocket message accepted. */
export const MAX_MESSAGE_BYTES = 1024 * 1024
/** Close code sent when authentication fails. */
export const CLOSE_UNAUTHORIZED = 4401
/** A client that falls this far behind on events is dropped (it reconnects and reloads). */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
}

/** Reads the token (UI, or `what`) from `file`, creating it (32 random bytes, hex, mode 0600) when missing or malformed. */
export function ensureUiToken(file: string, what = 'UI token'): string {
  try {
    const text = fs.readFileSync(file, 'utf8').trim()
    if (/^[0-9a-f]{64}$/.test(text)) {
      if (process.platform !== 'win32' && (fs.statSync(file).mode & 0o077) !== 0)
        fs.chmodSync(file, 0o600)
      return text
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new Error(
        `${file}: cannot read the ${what} (${(err as Error).message}); check its permissions or delete it`,
        { cause: err },
      )
  }
  const token = randomBytes(32).toString('hex')
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  writeFileAtomic(file, token + '\n')
  return token
}

/** Whether a Host header names this server (loopback name and our port): DNS-rebinding defence. */
export function isAllowedHost(host: string | undefined, port: number): boolean {
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`
}

/** Whether an Origin header (when present) is this server's own origin. */
export function isAllowedOrigin(origin: string | undefined, port: number): boolean {
  return (
    origin === undefined ||
    origin === `http://127.0.0.1:${port}` ||
    origin === `http://localhost:${port}`
  )
}

/** Whether two tokens are equal, in constant time. */
export function tokenMatches(expected: string, given: unknown): boolean {
  return safeEqual(expected, given)
}

/** The CSP of every page: own scripts only, WebSocket to this server only. */
export function contentSecurityPolicy(port: number): string {
  return [
    "default-src 'self'",
    `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
    "img-src 'self' data:",
    "style-src 'self' 'unsafe-inline'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
}

/**
 * Resolves a URL path to a file inside `root`, or null: no NUL, no `..` escape, no symlink out of
 * the directory, regular files only. `/` and extension-less paths (client-side routes) are
 * `index.html`.
 */
export function resolveStatic(root: string, urlPath: string): string | null {
  let decoded: string
  try {
    decoded = decodeURIComponent(urlPath)
  } catch {
    return null
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null
  const segments = decoded.split('/')
  if (segments.some((s) => s === '..')) return null
  let rel = path.posix.normalize(decoded).replace(/^\/+/, '')
  if (rel === '' || rel.endsWith('/') || path.posix.extname(rel) === '') rel = 'index.html'
  let realRoot: string
  try {
    realRoot = fs.realpathSync(root)
  } catch {
    return null
  }
  const candidate = path.resolve(realRoot, rel)
  if (!candidate.startsWith(realRoot + path.sep)) return null
  try {
    const real = fs.realpathSync(candidate)
    if (!real.startsWith(realRoot + path.sep)) return null
    return fs.statSync(real).isFile() ? real : null
  } catch {
    return null
  }
}

/** The app's icon (the page links it inline); `/favicon.ico` answers with it rather than a 404. */
export const FAVICON_SVG =
  "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'><rect x='3' y='3' width='26' height='26' rx='7' fill='#2563eb'/><path d='M10 22 16 9l6 13' fill='none' stroke='white' stroke-width='3' stroke-linecap='round' stroke-linejoin='round'/></svg>\n"

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Airlock</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40em; margin: 4em auto; line-height: 1.5">
<h1>Airlock</h1>
<p>The gateway is running, but the user interface has not been built yet.</p>
<p>Run <code>npm run build</code> in the Airlock directory, then reload this page.</p>
</body></html>
`

/** Starts the UI server on 127.0.0.1. Rejects when the port is taken (the message says what to do). */
export async function startUiServer(opts: UiServerOptions): Promise<UiServer> {
  const log = opts.log ?? (() => {})
  const authTimeoutMs = opts.authTimeoutMs ?? 5000
  let port = opts.port ?? DEFAULT_UI_PORT
  const authed = new Set<WebSocket>()

  const securityHeaders = (): Record<string, string> => ({
    'Content-Security-Policy': contentSecurityPolicy(port),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  })

  const refuse = (res: http.ServerResponse, status: number, text: string): void => {
    res.writeHead(status, {
      ...securityHeaders(),
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-store',
    })
    res.end(text + '\n')
  }

  const server = http.createServer((req, res) => {
    if (!isAllowedHost(req.headers.host, port))
      return refuse(res, 421, `Airlock only answers as 127.0.0.1:${port} or localhost:${port}`)
    const reqPath = (req.url ?? '/').split(/[?#]/, 1)[0] as string
    if (reqPath.startsWith(MCP_PATH_PREFIX) || reqPath === '/mcp') {
      if (!isAllowedOrigin(req.headers.origin, port)) {
        log(
          `refused an MCP request from origin ${JSON.stringify(String(req.headers.origin).slice(0, 100))}`,
        )
        return refuse(res, 403, 'forbidden origin: the MCP endpoint does not serve web pages')
      }
      const name = mcpServerFromPath(reqPath)
      if (!opts.mcp || name === undefined)
        return refuse(res, 404, `not found: the MCP endpoint is ${MCP_PATH_PREFIX}<server>`)
      return opts.mcp.handle(req, res, name)
    }
    // The browser coming back from a sign-in: no UI token (the state is the sign-in's own secret).
    if (reqPath === OAUTH_CALLBACK_PATH && opts.oauthCallback) return opts.oauthCallback(req, res)
    if (opts.ui === false)
      return refuse(
        res,
        404,
        'the web UI is off here (airlock serve --no-ui); MCP is at /mcp/<server>',
      )
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD')
      return refuse(res, 405, 'method not allowed')
    }
    const urlPath = (req.url ?? '/').split(/[?#]/, 1)[0] as string
    if (urlPath === '/api')
      return refuse(res, 426, 'the control API is a WebSocket: connect with ws://')
    if (urlPath === '/favicon.ico') {
      res.writeHead(200, {
        ...securityHeaders(),
        'Content-Type': 'image/svg+xml',
        'Cache-Control': 'max-age=86400',
      })
      res.end(req.method === 'HEAD' ? undefined : FAVICON_SVG)
      return
    }
    const indexPath = path.join(opts.rendererDir, 'index.html')
    if (!fs.existsSync(indexPath)) {
      if (urlPath !== '/' && urlPath !== '/index.html') return refuse(res, 404, 'not found')
      res.writeHead(200, {
        ...securityHeaders(),
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-store',
      })
      res.end(req.method === 'HEAD' ? undefined : NOT_BUILT)
      return
    }
    const file = resolveStatic(opts.rendererDir, urlPath)
    if (!file) return refuse(res, 404, 'not found')
    const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream'
    const stream = fs.createReadStream(file)
    // Text (the ~1 MB bundle) goes compressed when the browser accepts it: brotli at a fast
    // quality (compressed per request, never cached on disk), else gzip.
    const accepts = String(req.headers['accept-encoding'] ?? '')
    const text = /^(text\/|application\/(javascript|json)|image\/svg)/.test(type)
    const encoding = !text
      ? undefined
      : /\bbr\b/.test(accepts)
        ? 'br'
        : /\bgzip\b/.test(accepts)
          ? 'gzip'
          : undefined
    stream.once('open', () => {
      res.writeHead(200, {
        ...securityHeaders(),
        'Content-Type': type,
        'Cache-Control': path.basename(file) === 'index.html' ? 'no-store' : 'no-cache',
        ...(text ? { Vary: 'Accept-Encoding' } : {}),
        ...(encoding ? { 'Content-Encoding': encoding } : {}),
      })
      if (req.method === 'HEAD') {
        stream.destroy()
        res.end()
      } else if (encoding === 'br') {
        stream
          .pipe(zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 } }))
          .pipe(res)
      } else if (encoding === 'gzip') {
        stream.pipe(zlib.createGzip()).pipe(res)
      } else {
        stream.pipe(res)
      }
    })
    stream.once('error', () => {
      if (!res.headersSent) refuse(res, 404, 'not found')
      else res.destroy()
    })
  })

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES })

  server.on('upgrade', (req, socket, head) => {
    if (opts.ui === false) return void socket.destroy()
    const reject = (status: number, text: string): void => {
      socket.end(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
      )
    }
    const urlPath = (req.url ?? '').split(/[?#]/, 1)[0]
    if (urlPath !== '/api') return reject(404, 'not found')
    if (!isAllowedHost(req.headers.host, port)) {
      log(`refused a WebSocket with Host ${JSON.stringify(String(req.headers.host).slice(0, 100))}`)
      return reject(421, 'wrong host')
    }
    if (!isAllowedOrigin(req.headers.origin, port)) {
      log(
        `refused a WebSocket from origin ${JSON.stringify(String(req.headers.origin).slice(0, 100))}`,
      )
      return reject(403, 'forbidden origin')
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws))
  })

  const send = (ws: WebSocket, msg: unknown): void => {
    if (ws.readyState !== ws.OPEN) return
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      log('dropped a UI connection that stopped reading events')
      ws.terminate()
      return
    }
    ws.send(JSON.stringify(msg))
  }

  const onConnection = (ws: WebSocket): void => {
    let detachUi: (() => void) | undefined
    let unsubscribe: (() => void) | undefined
    const timer = setTimeout(
      () => ws.close(CLOSE_UNAUTHORIZED, 'authentication timed out'),
      authTimeoutMs,
    )
    ws.on('error', () => undefined)
    ws.on('close', () => {
      clearTimeout(timer)
      authed.delete(ws)
      unsubscribe?.()
      detachUi?.()
    })
    ws.on('message', (data, isBinary) => {
      let msg: unknown
      try {
        if (isBinary) throw new Error('binary')
        msg = JSON.parse(data.toString())
      } catch {
        if (!authed.has(ws))
          return ws.close(CLOSE_UNAUTHORIZED, 'expected {"type":"auth","token":"…"}')
        return send(ws, {
          id: null,
          error: { message: 'expected a JSON text message {id, method, params}' },
        })
      }
      const m = typeof msg === 'object' && msg !== null ? (msg as Record<string, unknown>) : {}
      if (!authed.has(ws)) {
        clearTimeout(timer)
        if (m.type !== 'auth' || !tokenMatches(opts.token, m.token)) {
          log('refused a UI connection with a wrong or missing token')
          send(ws, {
            type: 'auth',
            ok: false,
            error:
              'wrong or missing token: open the URL that "airlock serve" printed (it holds the token)',
          })
          ws.close(CLOSE_UNAUTHORIZED, 'unauthorized')
          return
        }
        authed.add(ws)
        detachUi = opts.attachUi()
        unsubscribe = opts.control.subscribe((event, payload) => send(ws, { event, data: payload }))
        send(ws, { type: 'auth', ok: true })
        return
      }
      const id = typeof m.id === 'string' || typeof m.id === 'number' ? m.id : null
      if (typeof m.method !== 'string')
        return send(ws, { id, error: { message: 'expected {id, method, params}' } })
      opts.control.call(m.method, m.params ?? {}, { by: 'web UI' }).then(
        (result) => send(ws, { id, result }),
        (err: unknown) => {
          const code = (err as { code?: unknown }).code
          send(ws, {
            id,
            error: {
              message: (err as Error).message,
              ...(typeof code === 'string' ? { code } : {}),
            },
          })
        },
      )
    })
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(
              `port ${port} on 127.0.0.1 is in use (another "airlock serve"?); choose another with --port N, or --port 0 for any free port`,
              { cause: err },
            )
          : err,
      )
    }
    server.once('error', onError)
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError)
      resolve()
    })
  })
  port = (server.address() as AddressInfo).port
  server.on('error', (err) => log(`UI server: ${err.message}`))

  return {
    port,
    url: `http://127.0.0.1:${port}/#token=${opts.token}`,
    ...(opts.mcp ? { mcpBase: `http://127.0.0.1:${port}${MCP_PATH_PREFIX}` } : {}),
    clients: () => authed.size,
    close: async () => {
      await opts.mcp?.close()
      for (const ws of wss.clients) ws.terminate()
      wss.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/**
 * Where the built renderer is: `out/renderer` of the package that holds this module (found by
 * walking up to its package.json, so that it works from the bundle and from the sources).
 */
export function defaultRendererDir(moduleDir: string): string {
  let dir = moduleDir
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'out', 'renderer')
    const up = path.dirname(dir)
    if (up === dir) return path.join(moduleDir, '..', 'renderer')
    dir = up
  }
}
