/**
 * The gateway's SecretStore in the desktop app: values live in memory, filled by main from the
 * OS keychain at start; writes go to main, which encrypts them with safeStorage. Nothing is
 * written to disk here. When main has no keychain, writes are refused with its reason.
 */
import type { GatewayToHost } from './protocol'
import type { SecretStore } from '../config/secret-store'

/** A secret could not be stored safely. */
export class SecretRefusedError extends Error {
  override name = 'SecretRefusedError'
  readonly code = 'KEYCHAIN_UNAVAILABLE'
}

/** In-memory secrets whose writes are persisted by the host. */
export class HostSecretStore implements SecretStore {
  readonly where = 'the OS keychain (encrypted by the desktop app), not config.json'
  private values = new Map<string, Map<string, string>>()
  private refusal?: string

  constructor(private readonly post: (m: GatewayToHost) => void) {}

  /** Replaces everything with main's snapshot. */
  load(values: Record<string, Record<string, string>>, refusal?: string): void {
    this.values = new Map(Object.entries(values).map(([s, kv]) => [s, new Map(Object.entries(kv))]))
    this.refusal = refusal
  }

  /** Stores a value; throws SecretRefusedError when the host cannot keep it encrypted. */
  set(server: string, key: string, value: string): void {
    if (this.refusal) {
      throw new SecretRefusedError(
        `cannot store secret "${key}" of server "${server}": ${this.refusal}`,
      )
    }
    const m = this.values.get(server) ?? new Map<string, string>()
    m.set(key, value)
    this.values.set(server, m)
    this.post({ type: 'secret.set', server, key, value })
  }

  /** One value, or undefined. */
  get(server: string, key: string): string | undefined {
    return this.values.get(server)?.get(key)
  }

  /** Deletes one value or all of a server's. */
  delete(server: string, key?: string): void {
    if (key === undefined) this.values.delete(server)
    else this.values.get(server)?.delete(key)
    this.post({ type: 'secret.delete', server, ...(key === undefined ? {} : { key }) })
  }
}
