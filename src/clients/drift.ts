/**
 * Drift: a client (or a person) may rewrite a wrapped entry back to the real server, and the
 * client then reaches it without Airlock. The watcher polls each wrapped file (fs.watchFile by
 * default; the poll is injected) and reports every change of an entry's protection as
 * `{ client, file, server, protected }`, for the tray and the Clients screen.
 */
import fs from 'node:fs'
import type { ClientAdapter, ConfigLocation } from './adapters/adapter'
import type { ClientFs } from './fs-port'
import { readManifest } from './manifest'
import { brokenShim } from './shim-command'

/** A change in the protection of one wrapped entry (`server` is the client's entry name). */
export interface DriftEvent {
  client: string
  file: string
  server: string
  /** The Airlock server the entry was wrapped onto. */
  airlockServer: string
  protected: boolean
  /** Why the wrapped entry reaches nothing (its node or shim is gone); it is then not protected. */
  broken?: string
}

/** A wrapped file and its wrapped entries, as the manifests record them. */
export interface WrappedFile {
  location: ConfigLocation
  entries: { key: string[]; name: string; server: string }[]
}

/** How the watcher notices file changes: a poll per file, and a read. */
export interface WatchPort {
  /** Calls `onChange` when the file may have changed; returns a function that stops watching. */
  watch(file: string, intervalMs: number, onChange: () => void): () => void
  /** The file's text, or undefined when it is gone or unreadable. */
  read(file: string): string | undefined
}

/** The WatchPort over fs.watchFile (stat polling: works on every platform and for replaced files). */
export function nodeWatchPort(): WatchPort {
  return {
    watch(file, intervalMs, onChange) {
      const listener = (curr: fs.Stats, prev: fs.Stats): void => {
        if (curr.mtimeMs !== prev.mtimeMs || curr.size !== prev.size || curr.ino !== prev.ino)
          onChange()
      }
      fs.watchFile(file, { interval: intervalMs, persistent: false }, listener)
      return () => fs.unwatchFile(file, listener)
    },
    read(file) {
      try {
        return fs.readFileSync(file, 'utf8')
      } catch {
        return undefined
      }
    },
  }
}

/** The wrapped files of every client, from the manifests in `<home>/backups/`. Damaged manifests are skipped. */
export function wrappedFiles(
  clientFs: ClientFs,
  home: string,
  adapters: readonly ClientAdapter[],
): WrappedFile[] {
  const out: WrappedFile[] = []
  for (const a of adapters) {
    let manifest
    try {
      manifest = readManifest(clientFs, home, a.id)
    } catch {
      continue
    }
    for (const f of manifest.files) {
      out.push({
        location: {
          client: a.id,
          file: f.file,
          scope: f.scope,
          ...(f.project ? { project: f.project } : {}),
        },
        entries: f.entries.map((e) => ({ key: e.key, name: e.name, server: e.server })),
      })
    }
  }
  return out
}

/** The protection of each wrapped entry of `file` given its current text (undefined: the file is gone). */
export function checkWrappedFile(
  adapter: ClientAdapter,
  file: WrappedFile,
  text: string | undefined,
  exists: (file: string) => boolean = fs.existsSync,
): DriftEvent[] {
  return inspectWrappedFile(adapter, file, text, exists).events
}

/** The protection of each wrapped entry, and the node and shim files the wrapped entries run. */
function inspectWrappedFile(
  adapter: ClientAdapter,
  file: WrappedFile,
  text: string | undefined,
  exists: (file: string) => boolean,
): { events: DriftEvent[]; runs: string[] } {
  let current: Map<string, ReturnType<ClientAdapter['read']>[number]> = new Map()
  if (text !== undefined) {
    try {
      current = new Map(adapter.read(text, file.location).map((e) => [e.key.join('\u0000'), e]))
    } catch {
      // A file the client cannot parse protects nothing.
    }
  }
  const runs: string[] = []
  const events = file.entries.map((e): DriftEvent => {
    const now = current.get(e.key.join('\u0000'))
    const wrapped = now !== undefined && now.wrapped && now.wrappedServer === e.server
    const broken =
      wrapped && now.transport === 'stdio'
        ? brokenShim(now.command, now.args, (f) => {
            runs.push(f)
            return exists(f)
          })
        : undefined
    return {
      client: file.location.client,
      file: file.location.file,
      server: e.name,
      airlockServer: e.server,
      protected: wrapped && broken === undefined,
      ...(broken !== undefined ? { broken } : {}),
    }
  })
  return { events, runs }
}

/** Options of a DriftWatcher. */
export interface DriftWatcherOptions {
  adapters: readonly ClientAdapter[]
  files: readonly WrappedFile[]
  port?: WatchPort
  /** Poll interval of each file (default 2000 ms). */
  intervalMs?: number
  /** Whether a file exists: the node and shim a wrapped entry runs (default: the real file system). */
  exists?: (file: string) => boolean
  /** Called for each change of an entry's protection (and for each entry first seen unprotected). */
  onChange(event: DriftEvent): void
}

/**
 * Watches wrapped files and reports entries whose protection changes. It also watches the node
 * and shim files the wrapped entries run: when one disappears (Node upgraded, Airlock moved) the
 * entries that run it are reported unprotected (broken) without their config file changing.
 */
export class DriftWatcher {
  private readonly port: WatchPort
  private readonly state = new Map<string, boolean>()
  private readonly stops = new Map<string, () => void>()
  /** The node and shim files each wrapped config file's entries run. */
  private readonly runs = new Map<string, string[]>()
  private files: readonly WrappedFile[]

  constructor(private readonly opts: DriftWatcherOptions) {
    this.port = opts.port ?? nodeWatchPort()
    this.files = opts.files
  }

  /** Checks every file once (reporting unprotected entries), then watches them. Returns the current status. */
  start(): DriftEvent[] {
    const all = this.files.flatMap((f) => this.checkOne(f))
    this.watchAll()
    return all
  }

  /** Re-checks one file (or all) now; reports changes; returns the current status. */
  check(file?: string): DriftEvent[] {
    return this.files
      .filter((f) => file === undefined || f.location.file === file)
      .flatMap((f) => this.checkOne(f))
  }

  /** Replaces the watched set (after a wrap or a restore); new entries are checked as on start. */
  setFiles(files: readonly WrappedFile[]): DriftEvent[] {
    this.files = files
    const keep = new Set(files.flatMap((f) => f.entries.map((e) => this.id(f, e.key))))
    for (const k of [...this.state.keys()]) if (!keep.has(k)) this.state.delete(k)
    const configs = new Set(files.map((f) => f.location.file))
    for (const k of [...this.runs.keys()]) if (!configs.has(k)) this.runs.delete(k)
    this.watchAll()
    return files.flatMap((f) => this.checkOne(f))
  }

  /** Stops every watch. */
  stop(): void {
    for (const stop of this.stops.values()) stop()
    this.stops.clear()
  }

  private id(f: WrappedFile, key: string[]): string {
    return `${f.location.client}\u0000${f.location.file}\u0000${key.join('\u0000')}`
  }

  private watchAll(): void {
    const wanted = new Set(this.files.map((f) => f.location.file))
    for (const f of this.files)
      for (const run of this.runs.get(f.location.file) ?? []) wanted.add(run)
    for (const [file, stop] of this.stops) {
      if (!wanted.has(file)) {
        stop()
        this.stops.delete(file)
      }
    }
    for (const file of wanted) {
      if (!this.stops.has(file))
        this.stops.set(
          file,
          this.port.watch(file, this.opts.intervalMs ?? 2000, () => void this.changed(file)),
        )
    }
  }

  /** A watched file changed: re-check it, or every config file whose entries run it. */
  private changed(file: string): void {
    const configs = this.files.filter(
      (f) => f.location.file === file || this.runs.get(f.location.file)?.includes(file),
    )
    for (const f of configs) this.checkOne(f)
  }

  private checkOne(f: WrappedFile): DriftEvent[] {
    const adapter = this.opts.adapters.find((a) => a.id === f.location.client)
    if (!adapter) return []
    const { events, runs } = inspectWrappedFile(
      adapter,
      f,
      this.port.read(f.location.file),
      this.opts.exists ?? fs.existsSync,
    )
    const before = this.runs.get(f.location.file) ?? []
    this.runs.set(f.location.file, [...new Set(runs)])
    if (runs.some((r) => !before.includes(r)) || before.some((r) => !runs.includes(r)))
      this.watchAll()
    events.forEach((ev, i) => {
      const key = this.id(f, f.entries[i]?.key ?? [])
      const before = this.state.get(key)
      this.state.set(key, ev.protected)
      if (before === undefined ? !ev.protected : before !== ev.protected) this.opts.onChange(ev)
    })
    return events
  }
}
