/**
 * Signing in to remote servers that use OAuth: one sign-in at a time per server, started by a
 * person (the Servers card's Sign in, `airlock servers login`) or, without opening anything, when
 * an agent's request finds the server needs it (then the link is logged: `airlock serve` prints
 * it). The SDK's `auth()` makes the authorization URL (dynamic client registration, PKCE); the
 * browser comes back to a loopback callback, `/oauth/callback` on Airlock's own HTTP server or,
 * when the gateway runs without one, on a listener that lives as long as the sign-in. The
 * callback's `state` must be the sign-in's own (compared in constant time, usable once, for
 * {@link SIGN_IN_TTL_MS}); then `auth()` exchanges the code and the tokens go to the secret store.
 */
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type * as SdkAuth from '@modelcontextprotocol/sdk/client/auth.js'
import { safeEqual } from '../../node/safe-equal'
import { excerpt } from '../../shared/text'
import type { SecretStore } from '../config/secret-store'
import {
  NotOAuthError,
  OAUTH_KEYS,
  RefreshOnce,
  StoredOAuthProvider,
  storedAuth,
} from './oauth-client'
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js'

/** The callback's path, on the HTTP front or on a sign-in's own listener. */
export const OAUTH_CALLBACK_PATH = '/oauth/callback'

/** The SDK's OAuth client, loaded with the first sign-in (not at the gateway's start). */
const loadAuth = (): Promise<typeof SdkAuth> => import('@modelcontextprotocol/sdk/client/auth.js')
/** How long a sign-in link stays usable. */
export const SIGN_IN_TTL_MS = 10 * 60_000
/** How long the probe for the server's `WWW-Authenticate` may take. */
const PROBE_TIMEOUT_MS = 10_000

/** A remote server's sign-in state, as the Servers card shows it. */
export type SignInState = 'signed-in' | 'needs-sign-in' | 'signing-in'

/** What starting a sign-in gave. */
export type SignInResult =
  { status: 'signed-in'; message: string } | { status: 'redirect'; url: string; message: string }

/** A sign-in could not start or finish; the message says why and what to do. */
export class SignInError extends Error {
  override name = 'SignInError'
  constructor(
    message: string,
    readonly code: 'NOT_FOUND' | 'NOT_OAUTH' | 'SIGN_IN_FAILED',
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** What the sign-in manager needs. */
export interface OAuthSignInDeps {
  store: SecretStore
  /** The remote server's URL, or undefined when no remote server has that name. */
  serverUrl: (name: string) => string | undefined
  log: (msg: string) => void
  now?: () => number
  /** Opens a URL in the system browser (the desktop app); absent headless. */
  openExternal?: (url: string) => void
}

interface Flow {
  server: string
  state: string
  url: string
  serverUrl: string
  redirectUrl: string
  resourceMetadataUrl?: URL
  expiresAt: number
  timer: NodeJS.Timeout
  listener?: http.Server
}

/** Sign-ins to remote servers. Event `changed` (server name): its sign-in state changed. */
export class OAuthSignIn extends EventEmitter {
  private callbackBase?: string
  private readonly flows = new Map<string, Flow>()
  private readonly starting = new Map<string, Promise<SignInResult>>()
  /** Servers whose requests were refused for want of a sign-in. */
  private readonly needs = new Set<string>()
  private readonly now: () => number
  private readonly refreshes: RefreshOnce

  constructor(private readonly deps: OAuthSignInDeps) {
    super()
    this.now = deps.now ?? Date.now
    this.refreshes = new RefreshOnce(this.now)
  }

  /** The fetch a connection to `server` uses: its refreshes are shared with its other connections. */
  fetch(server: string): FetchLike {
    return this.refreshes.fetchFor(server)
  }

  /** The HTTP front's origin (`http://127.0.0.1:<port>`), or undefined when it stops. */
  useCallbackBase(base: string | undefined): void {
    this.callbackBase = base
  }

  /** The provider a connection to `server` uses: stored tokens, refreshed; never a new sign-in. */
  provider(server: string): StoredOAuthProvider {
    return new StoredOAuthProvider({
      server,
      store: this.deps.store,
      redirectUrl: `${this.callbackBase ?? 'http://127.0.0.1'}${OAUTH_CALLBACK_PATH}`,
      now: this.now,
      onChange: () => this.changed(server),
    })
  }

  /** The sign-in state of `server`, with the link of a sign-in under way; undefined: not OAuth (as far as known). */
  state(server: string): { state: SignInState; url?: string } | undefined {
    const flow = this.liveFlow(server)
    if (flow) return { state: 'signing-in', url: flow.url }
    const stored = storedAuth(this.deps.store, server)
    if (this.needs.has(server)) return { state: 'needs-sign-in' }
    if (stored.signedIn) return { state: 'signed-in' }
    if (stored.registered) return { state: 'needs-sign-in' }
    return undefined
  }

  /**
   * An agent's request to `server` needs a sign-in: remember it for the UI and prepare a sign-in
   * whose link is logged (nothing is opened). Returns what to tell the agent.
   */
  requireSignIn(server: string): string {
    const first = !this.needs.has(server)
    this.needs.add(server)
    if (first) this.changed(server)
    if (!this.liveFlow(server) && !this.starting.has(server))
      this.signIn(server, { open: false }).catch((err: unknown) =>
        this.deps.log(`${server}: ${(err as Error).message}`),
      )
    // Never the link itself: its state would let whoever holds it sign Airlock in to an account
    // of their choosing (the agent, and the audit log, are not the person).
    return `sign in to "${server}" in Airlock: click Sign in on its card in the Servers screen, or run "airlock servers login ${server}"; then retry`
  }

  /**
   * Starts a sign-in (or returns the one under way): the authorization URL to open, opened in the
   * system browser when `open` and the host can. Resolves `signed-in` when the stored refresh
   * token was enough.
   */
  signIn(server: string, opts: { open: boolean }): Promise<SignInResult> {
    const flow = this.liveFlow(server)
    if (flow) {
      if (opts.open) this.open(flow.url)
      return Promise.resolve({ status: 'redirect', url: flow.url, message: this.openText(flow) })
    }
    const pending = this.starting.get(server)
    if (pending) return pending
    const p = this.begin(server, opts).finally(() => this.starting.delete(server))
    this.starting.set(server, p)
    return p
  }

  /** Forgets the server's tokens and registration (and any sign-in under way). */
  signOut(server: string): void {
    this.drop(server)
    for (const key of Object.values(OAUTH_KEYS)) this.deps.store.delete(server, key)
    this.needs.delete(server)
    this.changed(server)
  }

  /** Serves the callback (GET `/oauth/callback?code&state`) with a small page for the browser. */
  handleCallback(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.method !== 'GET') {
      res.setHeader('Allow', 'GET')
      return page(res, 405, 'Method not allowed', 'The sign-in callback takes GET only.')
    }
    const params = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams
    this.complete(params).then(
      (a) => page(res, a.status, a.title, a.message),
      (err: unknown) => page(res, 500, 'Sign-in failed', excerpt((err as Error).message, 300)),
    )
  }

  /** Ends every sign-in under way (their listeners close). */
  close(): void {
    for (const server of [...this.flows.keys()]) this.drop(server)
  }

  // ── internals ────────────────────────────────────────────────────────────

  private async begin(server: string, opts: { open: boolean }): Promise<SignInResult> {
    const serverUrl = this.deps.serverUrl(server)
    if (serverUrl === undefined)
      throw new SignInError(
        `no remote server named "${server}" is configured; add it with "airlock servers add ${server} --url <URL>"`,
        'NOT_FOUND',
      )
    let listener: http.Server | undefined
    let base = this.callbackBase
    if (base === undefined) {
      listener = await this.listen()
      base = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`
    }
    const redirectUrl = `${base}${OAUTH_CALLBACK_PATH}`
    const state = randomBytes(24).toString('base64url')
    let authorizationUrl: URL | undefined
    const provider = new StoredOAuthProvider({
      server,
      store: this.deps.store,
      redirectUrl,
      now: this.now,
      flow: { state, onRedirect: (u) => (authorizationUrl = u) },
      onChange: () => this.changed(server),
    })
    try {
      const challenge = await probe(serverUrl)
      const { auth } = await loadAuth()
      const result = await auth(provider, {
        serverUrl,
        ...(challenge.resourceMetadataUrl
          ? { resourceMetadataUrl: challenge.resourceMetadataUrl }
          : {}),
        ...(challenge.scope ? { scope: challenge.scope } : {}),
      })
      if (result === 'AUTHORIZED') {
        listener?.close()
        this.needs.delete(server)
        this.changed(server)
        return { status: 'signed-in', message: `Signed in to "${server}" (its token was renewed).` }
      }
      const url = authorizationUrl
      if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:'))
        throw new SignInError(
          `the authorization server of "${server}" gave no usable sign-in link (${excerpt(String(url), 100)})`,
          'SIGN_IN_FAILED',
        )
      const flow: Flow = {
        server,
        state,
        url: url.href,
        serverUrl,
        redirectUrl,
        ...(challenge.resourceMetadataUrl
          ? { resourceMetadataUrl: challenge.resourceMetadataUrl }
          : {}),
        expiresAt: this.now() + SIGN_IN_TTL_MS,
        timer: setTimeout(() => this.expire(server, state), SIGN_IN_TTL_MS),
        ...(listener ? { listener } : {}),
      }
      flow.timer.unref()
      this.drop(server)
      this.flows.set(server, flow)
      this.changed(server)
      this.deps.log(`${server}: ${this.openText(flow)}`)
      if (opts.open) this.open(flow.url)
      return { status: 'redirect', url: flow.url, message: this.openText(flow) }
    } catch (err) {
      listener?.close()
      if (err instanceof SignInError) throw err
      if (err instanceof NotOAuthError)
        throw new SignInError(
          `"${server}" does not offer an OAuth sign-in (it publishes no OAuth protected-resource metadata); if it takes a token, add it with --header "Authorization: Bearer …"`,
          'NOT_OAUTH',
          { cause: err },
        )
      throw new SignInError(
        `could not start the sign-in to "${server}" at ${serverUrl}: ${excerpt((err as Error).message, 300)}`,
        'SIGN_IN_FAILED',
        { cause: err },
      )
    }
  }

  private async complete(
    params: URLSearchParams,
  ): Promise<{ status: number; title: string; message: string }> {
    const given = params.get('state')
    const flow = [...this.flows.values()].find((f) => safeEqual(f.state, given))
    if (!flow || flow.expiresAt <= this.now())
      return {
        status: 400,
        title: 'Unknown sign-in',
        message:
          'This sign-in link is unknown, was used already, or has expired. Start the sign-in again from Airlock.',
      }
    const { server } = flow
    this.drop(server) // usable once, whatever follows
    const error = params.get('error')
    const code = params.get('code')
    if (error !== null || code === null || code === '') {
      const why =
        error === null
          ? 'the callback carried no authorization code'
          : `the authorization server said ${excerpt(error, 100)}${params.get('error_description') ? `: ${excerpt(params.get('error_description'), 200)}` : ''}`
      this.deps.log(`${server}: the sign-in did not complete (${why})`)
      this.changed(server)
      return {
        status: 400,
        title: 'Sign-in not completed',
        message: `The sign-in to "${server}" did not complete: ${why}. Start it again from Airlock.`,
      }
    }
    const provider = new StoredOAuthProvider({
      server,
      store: this.deps.store,
      redirectUrl: flow.redirectUrl,
      now: this.now,
      flow: { state: flow.state, onRedirect: () => undefined },
    })
    try {
      const { auth } = await loadAuth()
      const result = await auth(provider, {
        serverUrl: flow.serverUrl,
        authorizationCode: code,
        ...(flow.resourceMetadataUrl ? { resourceMetadataUrl: flow.resourceMetadataUrl } : {}),
      })
      if (result !== 'AUTHORIZED') throw new Error('the authorization server did not issue a token')
    } catch (err) {
      const why = excerpt((err as Error).message, 300)
      this.deps.log(`${server}: the sign-in failed: ${why}`)
      this.changed(server)
      return {
        status: 502,
        title: 'Sign-in failed',
        message: `Airlock could not finish the sign-in to "${server}": ${why}. Start it again from Airlock.`,
      }
    } finally {
      this.deps.store.delete(server, OAUTH_KEYS.pending)
    }
    this.needs.delete(server)
    this.deps.log(`${server}: signed in; its agents can retry now`)
    this.changed(server)
    return {
      status: 200,
      title: 'Signed in',
      message: `Airlock is signed in to "${server}". You can close this tab.`,
    }
  }

  private liveFlow(server: string): Flow | undefined {
    const f = this.flows.get(server)
    return f && f.expiresAt > this.now() ? f : undefined
  }

  private openText(flow: Flow): string {
    return `sign in to "${flow.server}" in your browser: ${flow.url} (the link works for ${Math.round(SIGN_IN_TTL_MS / 60_000)} minutes)`
  }

  private open(url: string): void {
    try {
      this.deps.openExternal?.(url)
    } catch (err) {
      this.deps.log(`could not open the browser: ${(err as Error).message}`)
    }
  }

  private expire(server: string, state: string): void {
    if (this.flows.get(server)?.state !== state) return
    this.drop(server)
    this.deps.store.delete(server, OAUTH_KEYS.pending)
    this.changed(server)
  }

  private drop(server: string): void {
    const f = this.flows.get(server)
    if (!f) return
    this.flows.delete(server)
    clearTimeout(f.timer)
    // Let the browser's page go out first; then the listener is done.
    if (f.listener) {
      const l = f.listener
      setImmediate(() => l.close())
    }
  }

  private changed(server: string): void {
    this.emit('changed', server)
  }

  /** A loopback listener for one sign-in's callback (when the gateway has no HTTP front). */
  private async listen(): Promise<http.Server> {
    const server = http.createServer((req, res) => {
      const p = (req.url ?? '/').split(/[?#]/, 1)[0]
      if (p !== OAUTH_CALLBACK_PATH) return page(res, 404, 'Not found', 'Nothing here.')
      this.handleCallback(req, res)
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    server.unref()
    return server
  }
}

/**
 * The server's answer to a request without a token: its `WWW-Authenticate` names where its
 * protected-resource metadata is (and the scope). Nothing when it does not answer 401.
 */
async function probe(serverUrl: string): Promise<{ resourceMetadataUrl?: URL; scope?: string }> {
  try {
    const res = await fetch(serverUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'ping' }),
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      redirect: 'manual',
    })
    await res.body?.cancel().catch(() => undefined)
    return res.status === 401 ? (await loadAuth()).extractWWWAuthenticateParams(res) : {}
  } catch {
    return {} // discovery tries the well-known places
  }
}

/** The page the browser shows after the callback: plain, escaped, not cached, never referred. */
function page(res: http.ServerResponse, status: number, title: string, message: string): void {
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Airlock: ${html(title)}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40em; margin: 4em auto; line-height: 1.5">
<h1>${html(title)}</h1>
<p>${html(message)}</p>
</body></html>
`
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
  })
  res.end(body)
}

function html(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  )
}
