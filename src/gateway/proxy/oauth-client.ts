/**
 * Airlock's side of the MCP SDK's OAuth client (`auth()` in `@modelcontextprotocol/sdk/client/auth`):
 * an {@link OAuthClientProvider} whose client registration, tokens and PKCE verifier live in
 * the secret store (secrets.json 0600 headless, the OS keychain in the app), never in
 * config.json. The SDK does the protocol: discovery, dynamic client registration, the
 * authorization code + PKCE flow and the refresh of an expired access token.
 *
 * A provider runs in one of two modes. Passive (`flow` absent) serves the gateway's connections
 * to the server: it hands out the stored token and lets the SDK refresh it, but it never starts
 * a sign-in, since an agent's request must not register clients or open browsers: where the SDK
 * would need a person, it throws {@link SignInRequiredError}. Interactive (`flow` given) is one
 * sign-in started by a person (see oauth-sign-in.ts): it may register, and it owns the flow's
 * `state` and verifier.
 */
import type {
  OAuthClientProvider,
  OAuthDiscoveryState,
} from '@modelcontextprotocol/sdk/client/auth.js'
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js'
import { createHash } from 'node:crypto'
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js'
import type { SecretStore } from '../config/secret-store'

/** The secret-store keys of a server's OAuth state (next to its `header:` and env secrets). */
export const OAUTH_KEYS = {
  /** The client registration (RFC 7591 answer, with the `issuer` it was made with). */
  client: 'oauth:client',
  /** The tokens (access, refresh), with the `issuer` and when they were saved. */
  tokens: 'oauth:tokens',
  /** The sign-in under way: its `state` and PKCE verifier. */
  pending: 'oauth:pending',
} as const

/** A server's request needs a person to sign in first (no token, or the refresh was refused). */
export class SignInRequiredError extends Error {
  override name = 'SignInRequiredError'
  readonly code = 'SIGN_IN_REQUIRED'
}

/** The server answered 401 but advertises no OAuth protected-resource metadata. */
export class NotOAuthError extends Error {
  override name = 'NotOAuthError'
  readonly code = 'NOT_OAUTH'
}

/** Options of a {@link StoredOAuthProvider}. */
export interface StoredOAuthOptions {
  /** The server's name: its entry in the secret store. */
  server: string
  store: SecretStore
  /** The loopback callback this client registers and is redirected to. */
  redirectUrl: string
  /** Set for a sign-in a person started: its state, and where to send the authorization URL. */
  flow?: { state: string; onRedirect: (url: URL) => void }
  now?: () => number
  /** Told when the stored tokens or registration change (the UI's auth state). */
  onChange?: () => void
}

interface StoredTokens extends OAuthTokens {
  saved_at?: number
}

/** The OAuth client of one remote server, its state in the secret store. */
export class StoredOAuthProvider implements OAuthClientProvider {
  /** What discovery found, for the caller (the resource metadata URL to finish the flow with). */
  discovered?: OAuthDiscoveryState
  /** The stored tokens as this provider last handed them out (to tell a newer refresh apart). */
  private tokensSeen?: string

  constructor(private readonly opts: StoredOAuthOptions) {}

  get redirectUrl(): string {
    return this.opts.redirectUrl
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'Airlock (MCP gateway)',
      redirect_uris: [this.opts.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      // A public client on the user's machine: PKCE, no secret to keep.
      token_endpoint_auth_method: 'none',
    }
  }

  state(): string {
    if (!this.opts.flow) throw this.signInRequired()
    return this.opts.flow.state
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    const info = this.read<OAuthClientInformationMixed & { redirect_uris?: unknown }>(
      OAUTH_KEYS.client,
    )
    if (!this.opts.flow) {
      // Passive: a refresh needs the registration, and only a person may make a new one.
      if (!info) throw this.signInRequired()
      return info
    }
    // A sign-in must come back to this callback: a registration for another one is made again.
    const uris = info?.redirect_uris
    if (info && Array.isArray(uris) && !uris.includes(this.opts.redirectUrl)) return undefined
    return info
  }

  saveClientInformation(info: OAuthClientInformationMixed): void {
    if (!this.opts.flow) throw this.signInRequired()
    this.write(OAUTH_KEYS.client, info)
  }

  tokens(): OAuthTokens | undefined {
    this.tokensSeen = this.opts.store.get(this.opts.server, OAUTH_KEYS.tokens)
    const t = this.read<StoredTokens>(OAUTH_KEYS.tokens)
    if (!t) return undefined
    const tokens: StoredTokens = { ...t }
    delete tokens.saved_at
    return tokens
  }

  saveTokens(tokens: OAuthTokens): void {
    this.write(OAUTH_KEYS.tokens, { ...tokens, saved_at: (this.opts.now ?? Date.now)() })
    this.opts.onChange?.()
  }

  redirectToAuthorization(url: URL): void {
    if (!this.opts.flow) throw this.signInRequired()
    this.opts.flow.onRedirect(url)
  }

  saveCodeVerifier(codeVerifier: string): void {
    if (!this.opts.flow) throw this.signInRequired()
    this.write(OAUTH_KEYS.pending, { state: this.opts.flow.state, verifier: codeVerifier })
  }

  codeVerifier(): string {
    const p = this.read<{ state?: unknown; verifier?: unknown }>(OAUTH_KEYS.pending)
    if (!this.opts.flow || !p || p.state !== this.opts.flow.state || typeof p.verifier !== 'string')
      throw new SignInRequiredError(
        `the sign-in to "${this.opts.server}" is no longer the current one; start it again`,
      )
    return p.verifier
  }

  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    // Two connections refreshing the same token at once: the server rotates the refresh token,
    // so the slower one is refused. The tokens the faster one saved meanwhile are good: keep them
    // (the SDK then tries again with them).
    if (
      (scope === 'tokens' || scope === 'all') &&
      this.tokensSeen !== undefined &&
      this.opts.store.get(this.opts.server, OAUTH_KEYS.tokens) !== this.tokensSeen
    )
      return
    const drop = (key: string): void => this.opts.store.delete(this.opts.server, key)
    if (scope === 'all' || scope === 'client') drop(OAUTH_KEYS.client)
    if (scope === 'all' || scope === 'tokens') drop(OAUTH_KEYS.tokens)
    if (scope === 'all' || scope === 'verifier') drop(OAUTH_KEYS.pending)
    if (scope !== 'discovery' && scope !== 'verifier') this.opts.onChange?.()
  }

  /**
   * Called by `auth()` after discovery. A server without protected-resource metadata does not
   * use OAuth as MCP specifies it: stop before anything is registered anywhere.
   */
  saveDiscoveryState(state: OAuthDiscoveryState): void {
    if (!state.resourceMetadata)
      throw new NotOAuthError(
        `"${this.opts.server}" answered 401 without OAuth protected-resource metadata`,
      )
    this.discovered = state
  }

  private signInRequired(): SignInRequiredError {
    return new SignInRequiredError(`"${this.opts.server}" needs you to sign in`)
  }

  private read<T>(key: string): T | undefined {
    const text = this.opts.store.get(this.opts.server, key)
    if (text === undefined) return undefined
    try {
      const v = JSON.parse(text) as unknown
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as T) : undefined
    } catch {
      return undefined // unreadable: as if absent (a sign-in writes it again)
    }
  }

  private write(key: string, value: unknown): void {
    this.opts.store.set(this.opts.server, key, JSON.stringify(value))
  }
}

/** Whether OAuth state of a server is stored (a registration or tokens). */
export function storedAuth(
  store: SecretStore,
  server: string,
): { registered: boolean; signedIn: boolean } {
  const has = (key: string): boolean => {
    try {
      return store.get(server, key) !== undefined
    } catch {
      return false
    }
  }
  return { registered: has(OAUTH_KEYS.client), signedIn: has(OAUTH_KEYS.tokens) }
}

/** How long the answer to a refresh is kept for the connections that raced it. */
const REFRESH_MEMO_MS = 60_000

interface RefreshAnswer {
  status: number
  headers: [string, string][]
  body: string
}

/**
 * One refresh per refresh token. Every connection of a server refreshes on its own 401, and a
 * server that rotates refresh tokens refuses all but the first use; connections whose tokens
 * expired together would then lose their sign-in. This fetch (given to the SDK transports, through
 * which `auth()` reaches the token endpoint) sends a refresh once and hands its answer to every
 * request for the same token within {@link REFRESH_MEMO_MS}. Everything else passes unchanged.
 */
export class RefreshOnce {
  private readonly answers = new Map<string, { at: number; answer: Promise<RefreshAnswer> }>()

  constructor(
    private readonly now: () => number = Date.now,
    private readonly base: FetchLike = (url, init) => fetch(url, init),
  ) {}

  /** The fetch for server `server`'s connections. */
  fetchFor(server: string): FetchLike {
    return async (url, init) => {
      const token = refreshTokenOf(init)
      if (token === undefined) return this.base(url, init)
      const now = this.now()
      for (const [k, v] of this.answers) if (now - v.at > REFRESH_MEMO_MS) this.answers.delete(k)
      const key = createHash('sha256')
        .update(`${server}\n${String(url)}\n${token}`)
        .digest('hex')
      let entry = this.answers.get(key)
      if (!entry) {
        const answer = this.base(url, init).then(async (r) => ({
          status: r.status,
          headers: [...r.headers],
          body: await r.text(),
        }))
        entry = { at: now, answer }
        this.answers.set(key, entry)
        answer.catch(() => this.answers.delete(key)) // not answered: the next one tries again
      }
      const a = await entry.answer
      return new Response(a.body, { status: a.status, headers: a.headers })
    }
  }
}

/** The refresh token a token-endpoint request carries, if it is a refresh. */
function refreshTokenOf(init: RequestInit | undefined): string | undefined {
  if (init?.method !== 'POST') return undefined
  const body =
    init.body instanceof URLSearchParams
      ? init.body
      : typeof init.body === 'string'
        ? new URLSearchParams(init.body)
        : undefined
  if (body?.get('grant_type') !== 'refresh_token') return undefined
  return body.get('refresh_token') ?? undefined
}
