/**
 * Routes checked control calls from the windows (and the tray) to the gateway. A call that
 * carries secret values is refused up front when the OS keychain cannot keep them — before the
 * gateway changes anything — since secrets are never written in plain text. (The gateway's
 * SecretStore forwards the values to main, which encrypts them: see host-secret-store.ts.)
 * Start at login is main's own setting: `app.getStartAtLogin`/`app.setStartAtLogin` are answered
 * here and never reach the gateway.
 */
import type { ControlMethod, ParamsOf, StartAtLogin } from '../shared/contract/control-api'
import type { KeychainSecretStore } from './secrets'
import { headerSecretKey, isSecretHeaderName } from '../shared/contract/config'

/** Where calls go (the GatewayHost). */
export interface GatewayCalls {
  call(method: string, params: unknown): Promise<unknown>
}

/** Main's start-at-login setting (applied with login-item.ts, kept in the settings store). */
export interface LoginItem {
  get(): boolean
  /** Applies and saves the setting (and tells the tray and windows); throws when it cannot. */
  set(enabled: boolean): void
  /** What the system says when the login item will not start as set (see loginItemNote). */
  note?(): string | undefined
}

/** A masked value the UI shows for a stored secret: sending it back means "unchanged". */
export function isMasked(value: string): boolean {
  return /^\*{3,}$/.test(value)
}

/** The secret keys a servers.add/servers.update call would store. */
export function secretKeysOf(params: ParamsOf<'servers.add'>): string[] {
  const secret = new Set(params.server.secretEnv ?? [])
  const keys = new Set<string>()
  for (const [k, v] of Object.entries(params.server.env ?? {}))
    if (secret.has(k) && !isMasked(v)) keys.add(k)
  const secretHeaders = new Set(params.server.secretHeaders ?? [])
  for (const [k, v] of Object.entries(params.server.headers ?? {}))
    if ((secretHeaders.has(k) || isSecretHeaderName(k)) && !isMasked(v))
      keys.add(headerSecretKey(k))
  for (const [k, v] of Object.entries(params.secretValues ?? {})) if (!isMasked(v)) keys.add(k)
  return [...keys]
}

/** The control API as main serves it. */
export class ControlRouter {
  constructor(
    private readonly gateway: GatewayCalls,
    private readonly secrets: Pick<KeychainSecretStore, 'assertAvailable'>,
    private readonly loginItem?: LoginItem,
  ) {}

  /** Relays a parsed call; refuses secrets that could not be kept encrypted. */
  call(method: ControlMethod, params: unknown): Promise<unknown> {
    if (this.loginItem && (method === 'app.getStartAtLogin' || method === 'app.setStartAtLogin')) {
      const item = this.loginItem
      try {
        if (method === 'app.setStartAtLogin')
          item.set((params as ParamsOf<'app.setStartAtLogin'>).enabled)
        const note = item.note?.()
        const result: StartAtLogin = {
          supported: true,
          enabled: item.get(),
          ...(note ? { note } : {}),
        }
        return Promise.resolve(result)
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)))
      }
    }
    if (method === 'servers.add' || method === 'servers.update') {
      const p = params as ParamsOf<'servers.add'>
      try {
        for (const key of secretKeysOf(p)) this.secrets.assertAvailable(p.server.name, key)
      } catch (err) {
        return Promise.reject(err)
      }
    }
    return this.gateway.call(method, params)
  }
}
