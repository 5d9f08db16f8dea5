import { describe, expect, it } from 'vitest'
import type { SecretStore } from '../../../src/gateway/config/secret-store'
import {
  NotOAuthError,
  OAUTH_KEYS,
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
