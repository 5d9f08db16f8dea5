/**
 * Server secrets (environment values marked secret) encrypted with Electron's safeStorage —
 * the OS keychain (Keychain, DPAPI, libsecret/KWallet) — and stored base64 in electron-store.
 * When no keychain is available a secret is refused, never written in plain text.
 * safeStorage and the store are injected; nothing here imports `electron`.
 */
import type { SecretStore } from '../gateway/config/secret-store'
import type { KeyValueStore } from './settings-store'

/** The bits of Electron's safeStorage used. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean
  encryptString(plain: string): Buffer
  decryptString(encrypted: Buffer): string
  /** Linux only: 'basic_text' means a hard-coded key, i.e. no real protection. */
  getSelectedStorageBackend?(): string
}

/** A secret could not be stored or read. */
export class SecretStoreError extends Error {
  override name = 'SecretStoreError'
  constructor(
    message: string,
    readonly code: 'KEYCHAIN_UNAVAILABLE' | 'SECRET_UNREADABLE',
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

type Stored = Record<string, Record<string, string>>

const KEY = 'secrets'

/** The gateway's SecretStore port over safeStorage: server → env name → encrypted value. */
export class KeychainSecretStore implements SecretStore {
  constructor(
    private readonly store: KeyValueStore,
    private readonly safe: SafeStorageLike,
    private readonly platform: NodeJS.Platform = process.platform,
  ) {}

  /** Why secrets cannot be kept safely here, or undefined when they can. */
  unavailableReason(): string | undefined {
    if (!this.safe.isEncryptionAvailable()) {
      return 'the OS keychain is not available'
    }
    if (this.platform === 'linux') {
      const backend = this.safe.getSelectedStorageBackend?.()
      if (backend === 'basic_text' || backend === 'unknown')
        return `no keyring is running (Electron's safeStorage backend is "${backend}")`
    }
    return undefined
  }

  /** Throws KEYCHAIN_UNAVAILABLE, naming the secret and what to do, when secrets cannot be kept safely. */
  assertAvailable(server: string, key: string): void {
    const why = this.unavailableReason()
    if (!why) return
    throw new SecretStoreError(
      `cannot store secret "${key}" of server "${server}": ${why}, and Airlock does not write secrets in plain text. ` +
        (this.platform === 'linux'
          ? 'Install and unlock a keyring (GNOME Keyring or KWallet), then restart Airlock.'
          : 'Unlock the OS keychain and try again.'),
      'KEYCHAIN_UNAVAILABLE',
    )
  }

  /** Encrypts and stores a secret. Throws KEYCHAIN_UNAVAILABLE rather than store it in plain text. */
  set(server: string, key: string, value: string): void {
    this.assertAvailable(server, key)
    const all = this.all()
    all[server] = {
      ...(all[server] ?? {}),
      [key]: this.safe.encryptString(value).toString('base64'),
    }
    this.store.set(KEY, all)
  }

  /** The decrypted secret, or undefined when none is stored. */
  get(server: string, key: string): string | undefined {
    const enc = this.all()[server]?.[key]
    if (enc === undefined) return undefined
    try {
      return this.safe.decryptString(Buffer.from(enc, 'base64'))
    } catch (err) {
      throw new SecretStoreError(
        `cannot decrypt secret "${key}" of server "${server}" (the keychain changed?); enter it again`,
        'SECRET_UNREADABLE',
        { cause: err },
      )
    }
  }

  /** Removes one secret, or every secret of a server when `key` is omitted. */
  delete(server: string, key?: string): void {
    const all = this.all()
    if (!all[server]) return
    if (key === undefined) delete all[server]
    else {
      delete all[server][key]
      if (Object.keys(all[server]).length === 0) delete all[server]
    }
    this.store.set(KEY, all)
  }

  /** Names of the stored secrets per server (no values). */
  keys(): Record<string, string[]> {
    return Object.fromEntries(Object.entries(this.all()).map(([s, v]) => [s, Object.keys(v)]))
  }

  /** The decrypted secrets of one server. */
  entries(server: string): Record<string, string> {
    const out: Record<string, string> = {}
    for (const k of this.keys()[server] ?? []) {
      const v = this.get(server, k)
      if (v !== undefined) out[k] = v
    }
    return out
  }

  /** Every secret decrypted, for the gateway's memory; unreadable ones are skipped and reported. */
  decryptAll(
    onError: (err: SecretStoreError) => void = () => {},
  ): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {}
    for (const [server, keys] of Object.entries(this.keys())) {
      for (const key of keys) {
        try {
          const v = this.get(server, key)
          if (v !== undefined) (out[server] ??= {})[key] = v
        } catch (err) {
          onError(err as SecretStoreError)
        }
      }
    }
    return out
  }

  private all(): Stored {
    const raw = this.store.get(KEY)
    if (typeof raw !== 'object' || raw === null) return {}
    const out: Stored = {}
    for (const [s, v] of Object.entries(raw as Record<string, unknown>)) {
      if (typeof v !== 'object' || v === null) continue
      const entries = Object.entries(v as Record<string, unknown>).filter(
        (e): e is [string, string] => typeof e[1] === 'string',
      )
      if (entries.length) out[s] = Object.fromEntries(entries)
    }
    return out
  }
}
