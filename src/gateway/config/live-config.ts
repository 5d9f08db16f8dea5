/**
 * The gateway's live view of config.json and the policy files: reloaded when a file changes
 * (polled every 200 ms, robust to editors that replace files), keeping the last good state
 * when an edit is invalid. Sessions read it on every call, so a change applies to the next one.
 */
import fs from 'node:fs'
import { configSchema, type Config, type ServerConfig } from '../../shared/contract/config'
import type { Policy } from '../../shared/policy/types'
import { loadServerPolicy, policyPath, readConfig } from '../../node/config-store'
import { dataPaths } from '../../node/paths'

/** What changed in a reload, for notifying connected clients. */
export interface ReloadResult {
  /** Servers whose hide set changed (their clients get tools/list_changed). */
  hideChanged: string[]
  errors: string[]
}

/** Policy state for one server: the last good policy and the last load error, if any. */
interface PolicySlot {
  policy?: Policy
  error?: string
  hideKey: string
}

/** Live config + policies with hot reload. */
export class LiveConfig {
  config: Config = configSchema.parse({})
  private readonly slots = new Map<string, PolicySlot>()
  private readonly watched = new Set<string>()
  private configError: string | undefined
  /** Whether a valid config was ever read (otherwise there is no "last good" one to keep). */
  private loadedOnce = false
  private readonly file: string

  constructor(
    private readonly home: string,
    private readonly log: (msg: string) => void,
    private readonly onReload: (r: ReloadResult) => void = () => {},
    private readonly pollMs = 200,
  ) {
    this.file = dataPaths(home).config
  }

  /** Re-reads the config and every policy; invalid files keep the last good state. */
  reload(): ReloadResult {
    const result: ReloadResult = { hideChanged: [], errors: [] }
    try {
      this.config = readConfig(this.file)
      this.configError = undefined
      this.loadedOnce = true
    } catch (err) {
      // One line, whatever zod said; and only claim a last good config when there is one.
      const why = (err as Error).message.split('\n').join('; ')
      const msg = this.loadedOnce
        ? `config refused, the last good config stays: ${why}`
        : `${this.file} is invalid, so no servers are served until it is fixed (Airlock reloads it when it changes): ${why}`
      if (this.configError !== msg) this.log(msg)
      this.configError = msg
      result.errors.push(msg)
    }
    for (const server of this.config.servers) {
      const slot = this.slots.get(server.name) ?? { hideKey: '' }
      try {
        const policy = loadServerPolicy(this.home, server, this.config)
        const hideKey = JSON.stringify(policy.hide)
        if (slot.policy && hideKey !== slot.hideKey) result.hideChanged.push(server.name)
        slot.policy = policy
        slot.hideKey = hideKey
        slot.error = undefined
      } catch (err) {
        const msg = (err as Error).message
        if (slot.error !== msg)
          this.log(
            `policy of "${server.name}" refused${slot.policy ? ', the last good policy stays' : ''}: ${msg}`,
          )
        slot.error = msg
        result.errors.push(msg)
      }
      this.slots.set(server.name, slot)
    }
    this.rewatch()
    return result
  }

  /** A configured server by name. */
  server(name: string): ServerConfig | undefined {
    return this.config.servers.find((s) => s.name === name)
  }

  /**
   * The policy in force for a server, or an error text when it never loaded (fail closed:
   * the session then denies every call with that text).
   */
  policyFor(name: string): { policy: Policy } | { error: string } {
    const slot = this.slots.get(name)
    if (slot?.policy) return { policy: slot.policy }
    return { error: slot?.error ?? `no policy loaded for "${name}"` }
  }

  /** Last load errors (config and policies), for status displays. */
  errors(): string[] {
    const out = this.configError ? [this.configError] : []
    for (const [name, slot] of this.slots) if (slot.error) out.push(`${name}: ${slot.error}`)
    return out
  }

  /** Starts polling the config and policy files. */
  watch(): void {
    this.rewatch(true)
  }

  /** Stops polling. */
  close(): void {
    for (const f of this.watched) fs.unwatchFile(f)
    this.watched.clear()
    this.watching = false
  }

  private watching = false
  private readonly onFileChange = (): void => {
    this.onReload(this.reload())
  }

  private rewatch(start = false): void {
    if (start) this.watching = true
    if (!this.watching) return
    const want = new Set([this.file])
    for (const s of this.config.servers) {
      const p = policyPath(this.home, s)
      if (p) want.add(p)
    }
    for (const f of this.watched) {
      if (!want.has(f)) {
        fs.unwatchFile(f, this.onFileChange)
        this.watched.delete(f)
      }
    }
    for (const f of want) {
      if (!this.watched.has(f)) {
        fs.watchFile(f, { interval: this.pollMs, persistent: false }, this.onFileChange)
        this.watched.add(f)
      }
    }
  }
}
