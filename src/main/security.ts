/**
 * The window's security as small pure predicates (tested without Electron): where the UI may
 * come from, which file a request may read, the CSP, the web preferences. The UI is served
 * from the app's own files through the `app://airlock/` protocol; the adapter in index.ts wires
 * these into Electron.
 */
import path from 'node:path'

/** The custom scheme and host the UI is served from. */
export const APP_SCHEME = 'app'
export const APP_HOST = 'airlock'
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`
/** The UI's entry page. */
export const APP_ENTRY = `${APP_ORIGIN}/index.html`

/** Where the UI may be loaded from: our protocol, and in development the dev server's origin. */
export interface UiOrigins {
  /** electron-vite's dev server URL (ELECTRON_RENDERER_URL), development only. */
  devServer?: string
}

function parse(url: string): URL | undefined {
  try {
    return new URL(url)
  } catch {
    return undefined
  }
}

/** Whether `url` is one of our UI's pages (our protocol, or the dev server in development). */
export function isAppUrl(url: string, origins: UiOrigins = {}): boolean {
  const u = parse(url)
  if (!u) return false
  if (u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST && !u.username && !u.password)
    return true
  if (origins.devServer) {
    const dev = parse(origins.devServer)
    if (
      dev &&
      (dev.hostname === 'localhost' || dev.hostname === '127.0.0.1' || dev.hostname === '[::1]') &&
      u.origin === dev.origin
    )
      return true
  }
  return false
}

/**
 * Whether a navigation of our window may proceed: only to our own pages (a reload, an in-app
 * link). Everything else — remote sites, file://, javascript:, data: — is refused.
 */
export function isAllowedNavigation(url: string, origins: UiOrigins = {}): boolean {
  return isAppUrl(url, origins)
}

/** The answer to every new-window request: refused. */
export function windowOpenDecision(): { action: 'deny' } {
  return { action: 'deny' }
}

/**
 * Whether the gateway may have main open `url` in the system browser (a remote server's sign-in
 * page): http or https only, no credentials in it, a sane length. Anything else is refused.
 */
export function isExternalSignInUrl(url: string): boolean {
  if (url.length > 8192) return false
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return false
  }
  return (u.protocol === 'https:' || u.protocol === 'http:') && !u.username && !u.password
}

/** Whether a permission (camera, notifications, clipboard…) is granted to web content: never. */
export function isPermissionGranted(_permission: string): boolean {
  return false
}

/**
 * Maps an `app://airlock/...` request to a file under `root` (the built renderer), or undefined
 * when it is not ours or escapes the root (`..`, encoded separators, absolute paths, NUL).
 * `/` and extension-less paths (client-side routes) serve index.html.
 */
export function resolveAppFile(root: string, url: string): string | undefined {
  const u = parse(url)
  if (!u || u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return undefined
  let pathname: string
  try {
    pathname = decodeURIComponent(u.pathname)
  } catch {
    return undefined
  }
  if (pathname.includes('\0') || pathname.includes('\\')) return undefined
  const segments = pathname.split('/').filter(Boolean)
  if (segments.some((s) => s === '..' || s === '.' || s.includes(':'))) return undefined
  if (segments.length === 0 || !path.posix.extname(segments[segments.length - 1] as string))
    segments.splice(0, segments.length, 'index.html')
  const base = path.resolve(root)
  const file = path.resolve(base, ...segments)
  const rel = path.relative(base, file)
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return undefined
  return file
}

/** MIME types of the files the renderer build contains. */
export function mimeType(file: string): string {
  switch (path.extname(file).toLowerCase()) {
    case '.html':
      return 'text/html; charset=utf-8'
    case '.js':
    case '.mjs':
      return 'text/javascript; charset=utf-8'
    case '.css':
      return 'text/css; charset=utf-8'
    case '.json':
      return 'application/json'
    case '.svg':
      return 'image/svg+xml'
    case '.png':
      return 'image/png'
    case '.ico':
      return 'image/x-icon'
    case '.woff2':
      return 'font/woff2'
    case '.woff':
      return 'font/woff'
    default:
      return 'application/octet-stream'
  }
}

/**
 * The Content-Security-Policy for the UI: our own scripts only, no inline script, no eval, no
 * remote connections, no plugins, no framing. The dev server needs inline styles and its
 * websocket for hot reload.
 */
export function contentSecurityPolicy(origins: UiOrigins = {}): string {
  const dev = origins.devServer ? parse(origins.devServer) : undefined
  const directives = [
    "default-src 'none'",
    `script-src 'self'`,
    dev ? `style-src 'self' 'unsafe-inline'` : `style-src 'self'`,
    `img-src 'self' data:`,
    `font-src 'self'`,
    dev ? `connect-src 'self' ws://${dev.host}` : `connect-src 'self'`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "frame-src 'none'",
    "worker-src 'self'",
  ]
  return directives.join('; ')
}

/** Adds the CSP (and friends) to a response's headers, replacing any the response had. */
export function withSecurityHeaders(
  headers: Record<string, string[] | string> | undefined,
  csp: string,
): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (
      k.toLowerCase() === 'content-security-policy' ||
      k.toLowerCase() === 'x-content-type-options'
    )
      continue
    out[k] = Array.isArray(v) ? v : [v]
  }
  out['Content-Security-Policy'] = [csp]
  out['X-Content-Type-Options'] = ['nosniff']
  return out
}

/** The web preferences of every Airlock window. */
export function secureWebPreferences(preload: string) {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    spellcheck: false,
  } as const
}
