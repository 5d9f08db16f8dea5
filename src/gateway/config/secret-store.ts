/**
 * Where the values of a server's secret environment entries (`secretEnv`) live, outside
 * config.json. The desktop host implements the port with Electron's safeStorage (the OS
 * keychain); the headless host, which has no keychain, falls back to `secrets.json` in the data
 * directory (mode 0600, written atomically). The gateway merges the values into the server's
 * environment when it spawns the server.
 */
import fs from 'node:fs'
import path from 'node:path'
import { writeFileAtomic } from '../../node/atomic-write'

/** The secret store port. */
export interface SecretStore {
  /** Where the values are kept, in words for the UI ("the OS keychain", a file's path). */
  readonly where?: string
  /** Stores one value. */
  set(server: string, key: string, value: string): void
  /** One value, or undefined when none is stored. */
  get(server: string, key: string): string | undefined
  /** Deletes one value (`key` given) or every value of a server. */
  delete(server: string, key?: string): void
}

type SecretFile = Record<string, Record<string, string>>

/**
 * The headless fallback: a 0600 JSON file `{ "<server>": { "<KEY>": "<value>" } }`. Re-read on
 * every `get` so that a second process (the CLI) sees fresh values; an unreadable file is
 * reported once and treated as empty, and never overwritten by a partial write.
 */
export class FileSecretStore implements SecretStore {
  /** The file, and that only its owner may read it. */
  get where(): string {
    return `${this.file} (readable only by you, mode 0600), not config.json`
  }

  constructor(
    readonly file: string,
    private readonly log: (msg: string) => void = () => {},
  ) {}

  /** Stores one value (atomically rewrites the file, mode 0600). */
  set(server: string, key: string, value: string): void {
    const all = this.read(true)
    all[server] = { ...(all[server] ?? {}), [key]: value }
    this.write(all)
  }

  /** One value, or undefined. */
  get(server: string, key: string): string | undefined {
    const v = this.read(false)[server]?.[key]
    return typeof v === 'string' ? v : undefined
  }

  /** Deletes one value, or every value of a server. */
  delete(server: string, key?: string): void {
    const all = this.read(true)
    if (!(server in all)) return
    if (key === undefined) delete all[server]
    else {
      const entry = { ...all[server] }
      delete entry[key]
      all[server] = entry
    }
    this.write(all)
  }

  private read(forWrite: boolean): SecretFile {
    let text: string
    try {
      text = fs.readFileSync(this.file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
      throw new Error(
        `${this.file}: cannot read the secret store (${(err as Error).message}); check its permissions`,
        { cause: err },
      )
    }
    try {
      const parsed = JSON.parse(text) as unknown
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
        return parsed as SecretFile
    } catch {
      // Reported below.
    }
    const msg = `${this.file}: the secret store is not a JSON object; fix or remove it (secret values in it are not used)`
    if (forWrite) throw new Error(msg)
    this.log(msg)
    return {}
  }

  private write(all: SecretFile): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 })
    writeFileAtomic(this.file, JSON.stringify(all, null, 2) + '\n')
  }
}
