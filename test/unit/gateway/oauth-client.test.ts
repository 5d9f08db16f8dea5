import { describe, expect, it } from 'vitest'
import type { SecretStore } from '../../../src/gateway/config/secret-store'
import {
  NotOAuthError,
  OAUTH_KEYS,
  RefreshOnce,
  SignInRequiredError,
  StoredOAuthProvider,
} from '../../../src/gateway/proxy/oauth-client'

/** A SecretStore in memory. */
function memoryStore(): SecretStore & { all: Map<string, string> } {
  const all = new Map<string, string>()
  return {
    all,
    set: (server, key, value) => void all.set(`${server}/${key}`, value),
    get: (server, key) => all.get(`${server}/${key}`),
    delete: (server, key) => {
      for (const k of [...all.keys()])
        if (key === undefined ? k.startsWith(`${server}/`) : k === `${server}/${key}`) all.delete(k)
    },
  }
}

const REDIRECT = 'http://127.0.0.1:4310/oauth/callback'

describe('StoredOAuthProvider', () => {
  it('passive (a connection): hands out stored tokens, never registers or starts a sign-in', () => {
    const store = memoryStore()
    const p = new StoredOAuthProvider({ server: 'r', store, redirectUrl: REDIRECT })
    expect(p.tokens()).toBeUndefined()
    expect(() => p.clientInformation()).toThrow(SignInRequiredError)
    expect(() => p.saveClientInformation({ client_id: 'x' })).toThrow(SignInRequiredError)
    expect(() => p.state()).toThrow(SignInRequiredError)
    expect(() => p.saveCodeVerifier('v')).toThrow(SignInRequiredError)
    expect(() => p.redirectToAuthorization(new URL('https://as.example/authorize'))).toThrow(
      SignInRequiredError,
    )
    expect(store.all.size).toBe(0)
    // A refresh saves the new tokens (in the store, with when) and reads them back without it.
    store.set('r', OAUTH_KEYS.client, JSON.stringify({ client_id: 'c' }))
    expect(p.clientInformation()).toEqual({ client_id: 'c' })
    p.saveTokens({ access_token: 'a2', token_type: 'bearer', refresh_token: 'r2' })
    expect(JSON.parse(store.get('r', OAUTH_KEYS.tokens)!)).toHaveProperty('saved_at')
    expect(p.tokens()).toEqual({ access_token: 'a2', token_type: 'bearer', refresh_token: 'r2' })
    p.invalidateCredentials('tokens')
    expect(p.tokens()).toBeUndefined()
    expect(p.clientInformation()).toEqual({ client_id: 'c' })
  })

  it('a refresh refused because another connection rotated the token meanwhile keeps the new tokens', () => {
    const store = memoryStore()
    store.set('r', OAUTH_KEYS.client, JSON.stringify({ client_id: 'c' }))
    store.set('r', OAUTH_KEYS.tokens, JSON.stringify({ access_token: 'a1', token_type: 'bearer' }))
    const slow = new StoredOAuthProvider({ server: 'r', store, redirectUrl: REDIRECT })
    const fast = new StoredOAuthProvider({ server: 'r', store, redirectUrl: REDIRECT })
    expect(slow.tokens()?.access_token).toBe('a1')
    expect(fast.tokens()?.access_token).toBe('a1')
    fast.saveTokens({ access_token: 'a2', token_type: 'bearer' })
    slow.invalidateCredentials('tokens') // its refresh was refused (invalid_grant)
    expect(slow.tokens()?.access_token).toBe('a2')
    // Refused with the tokens it read last: they are dropped.
    slow.invalidateCredentials('tokens')
    expect(slow.tokens()).toBeUndefined()
  })

  it('stops at discovery when the server publishes no protected-resource metadata', () => {
    const p = new StoredOAuthProvider({ server: 'r', store: memoryStore(), redirectUrl: REDIRECT })
    expect(() => p.saveDiscoveryState({ authorizationServerUrl: 'http://h/' })).toThrow(
      NotOAuthError,
    )
  })

  it('a sign-in: registers again for another callback, and keeps the verifier with its state', () => {
    const store = memoryStore()
    const opened: string[] = []
    const flow = (state: string, redirectUrl = REDIRECT): StoredOAuthProvider =>
      new StoredOAuthProvider({
        server: 'r',
        store,
        redirectUrl,
        flow: { state, onRedirect: (u) => opened.push(u.href) },
      })
    const p = flow('s1')
    expect(p.clientMetadata.redirect_uris).toEqual([REDIRECT])
    expect(p.clientMetadata.token_endpoint_auth_method).toBe('none')
    p.saveClientInformation({ client_id: 'c', redirect_uris: [REDIRECT] } as never)
    expect(p.clientInformation()).toMatchObject({ client_id: 'c' })
    expect(flow('s2', 'http://127.0.0.1:5555/oauth/callback').clientInformation()).toBeUndefined()
    p.saveCodeVerifier('verifier-1')
    expect(p.codeVerifier()).toBe('verifier-1')
    // Another sign-in's state does not get this verifier.
    expect(() => flow('s2').codeVerifier()).toThrow(/no longer the current one/)
    p.redirectToAuthorization(new URL('https://as.example/authorize?state=s1'))
    expect(opened).toEqual(['https://as.example/authorize?state=s1'])
    // Garbage in the store reads as absent.
    store.set('r', OAUTH_KEYS.tokens, '{not json')
    expect(p.tokens()).toBeUndefined()
  })
})

describe('RefreshOnce', () => {
  const refresh = (token: string): RequestInit => ({
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }),
  })

  it('sends a refresh once for the connections that race it; everything else passes through', async () => {
    let now = 0
    const sent: string[] = []
    const once = new RefreshOnce(
      () => now,
      async (url, init) => {
        const body = init?.body instanceof URLSearchParams ? init.body.toString() : ''
        sent.push(`${String(url)} ${body}`)
        await new Promise((r) => setImmediate(r))
        return Response.json({ access_token: `new-${sent.length}`, token_type: 'bearer' })
      },
    )
    const f = once.fetchFor('r')
    const answers = await Promise.all([
      f('https://as.example/token', refresh('R1')),
      f('https://as.example/token', refresh('R1')),
      f('https://as.example/token', refresh('R1')),
    ])
    const bodies = await Promise.all(answers.map((a) => a.json() as Promise<unknown>))
    expect(bodies).toEqual(Array(3).fill({ access_token: 'new-1', token_type: 'bearer' }))
    expect(sent).toHaveLength(1)
    // A late one within the minute gets the same answer; another token, or later, is sent.
    await f('https://as.example/token', refresh('R1'))
    expect(sent).toHaveLength(1)
    await f('https://as.example/token', refresh('R2'))
    expect(sent).toHaveLength(2)
    now = 61_000
    await f('https://as.example/token', refresh('R1'))
    expect(sent).toHaveLength(3)
    // Another server's connections do not share it; MCP requests pass unchanged.
    await once.fetchFor('other')('https://as.example/token', refresh('R2'))
    expect(sent).toHaveLength(4)
    await f('https://mcp.example/mcp', { method: 'POST', body: '{"jsonrpc":"2.0"}' })
    await f('https://mcp.example/mcp', { method: 'POST', body: '{"jsonrpc":"2.0"}' })
    expect(sent).toHaveLength(6)
  })

  it('a refresh that got no answer is tried again by the next one', async () => {
    let calls = 0
    const once = new RefreshOnce(Date.now, () => {
      calls++
      return calls === 1
        ? Promise.reject(new TypeError('fetch failed'))
        : Promise.resolve(Response.json({}))
    })
    const f = once.fetchFor('r')
    await expect(f('https://as.example/token', refresh('R1'))).rejects.toThrow('fetch failed')
    expect((await f('https://as.example/token', refresh('R1'))).status).toBe(200)
    expect(calls).toBe(2)
  })
})
