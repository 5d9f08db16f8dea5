/**
 * The MCP clients (Claude Desktop, Cursor, VS Code…) as the control API serves them to the
 * Clients screen: the detected clients, their servers and whether each is protected; a wrap or a
 * restore planned first (the diff the user reviews) and applied later by its id — exactly that
 * plan, refused and re-planned when a file changed in between; and the drift watcher, which
 * reports a wrapped entry that a client rewrote back to the real server.
 */
import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Config } from '../shared/contract/config'
import type {
  ClientApplyResult,
  ClientEntryView,
  ClientPlan,
  ClientsStatus,
  ClientView,
  DriftedEntry,
} from '../shared/contract/control-api'
import type { ClientAdapter, ClientEnv, ShimCommand } from './adapters/adapter'
import { DriftWatcher, nodeWatchPort, wrappedFiles, type DriftEvent, type WatchPort } from './drift'
import { ClientConfigError } from './errors'
import { nodeClientFs, type ClientFs } from './fs-port'
import { backupDir, readManifest } from './manifest'
import {
  applyRestore,
  applyWrap,
  newServers,
  planRestore,
  planWrap,
  scanClients,
  urlProblem,
  type ClientsContext,
  type RestorePlan,
  type WrapPlan,
} from './protect'
import type { WrapSecrets } from './protect'
import { clientAdapters, clientEnvFromProcess } from './adapters/registry'
import { ConfigError, readConfig } from '../node/config-store'
import { ControlError } from '../shared/contract/control-error'
import { dataDir } from '../node/paths'

/** Options of a ClientsService. */
export interface ClientsServiceOptions {
  /** Airlock's data directory: backups and manifests live in `<home>/backups/<client>/`. */
  home: string
  /** Airlock's config.json (a wrap adds the client's servers to it). */
  configFile: string
  /** Where the user's client config files are (the process's home, or a test's). */
  env: ClientEnv
  /** The command wrapped entries run; called when a wrap is planned (it may throw, saying why). */
  shim: () => ShimCommand
  /** The config in force (whether a wrapped entry's Airlock server exists). */
  config: () => Config
  /** config.json was changed by a wrap: reload it. */
  onConfigWritten: () => void
  /** A wrapped entry's protection changed, or a plan was applied. */
  onChange: (status: ClientsStatus) => void
  adapters?: readonly ClientAdapter[]
  fs?: ClientFs
  /** How files are watched (default: fs.watchFile polling). */
  watch?: WatchPort
  /** Poll interval of wrapped files (default 1000 ms; manifests are polled at twice that). */
  intervalMs?: number
  /** How long a plan may be applied after it was made (default 5 minutes). */
  planTtlMs?: number
  now?: () => number
  log?: (msg: string) => void
  /** The gateway's secret store (secret headers of wrapped URL entries). */
  secrets?: WrapSecrets
}

type StoredPlan = { view: ClientPlan; server?: string } & (
  { action: 'wrap'; plan: WrapPlan } | { action: 'restore'; plan: RestorePlan }
)

const DEFAULT_PLAN_TTL_MS = 5 * 60_000
const MAX_PLANS = 50

/** Lists, plans, applies and watches the protection of the user's MCP clients. */
export class ClientsService {
  private readonly ctx: ClientsContext
  private readonly adapters: readonly ClientAdapter[]
  private readonly port: WatchPort
  private readonly now: () => number
  private readonly log: (msg: string) => void
  private readonly plans = new Map<string, StoredPlan>()
  /** The protection of every wrapped entry, by client, file and entry name. */
  private readonly protection = new Map<string, DriftEvent>()
  private watcher?: DriftWatcher
  private readonly stops: (() => void)[] = []
  private lastSummary = ''
  private emitQueued = false

  constructor(private readonly opts: ClientsServiceOptions) {
    this.adapters = opts.adapters ?? clientAdapters
    this.ctx = {
      adapters: this.adapters,
      env: opts.env,
      fs: opts.fs ?? nodeClientFs(),
      home: opts.home,
      ...(opts.secrets ? { secrets: opts.secrets } : {}),
    }
    this.port = opts.watch ?? nodeWatchPort()
    this.now = opts.now ?? Date.now
    this.log = opts.log ?? (() => {})
  }

  /** Starts watching the wrapped files (and the manifests, for wraps made by the CLI meanwhile). */
  start(): void {
    if (this.watcher) return
    const interval = this.opts.intervalMs ?? 1000
    this.watcher = new DriftWatcher({
      adapters: this.adapters,
      files: [],
      port: this.port,
      intervalMs: interval,
      exists: (file) => this.ctx.fs.stat(file) !== undefined,
      onChange: (ev) => {
        this.protection.set(key(ev), ev)
        this.queueEmit()
      },
    })
    this.refreshWatch()
    for (const a of this.adapters) {
      const manifest = path.join(backupDir(this.opts.home, a.id), 'manifest.json')
      this.stops.push(this.port.watch(manifest, interval * 2, () => this.refreshWatch()))
    }
  }

  /** Stops every watch and forgets the plans. */
  close(): void {
    this.watcher?.stop()
    this.watcher = undefined
    for (const stop of this.stops.splice(0)) stop()
    this.plans.clear()
  }

  /** The protection summary: wrapped entries that drifted or broke, and how many are watched. */
  status(): ClientsStatus {
    const drifted: DriftedEntry[] = []
    for (const ev of this.protection.values()) {
      // A config file that is gone protects nothing, but reaches nothing directly either.
      if (ev.protected || !fs.existsSync(ev.file)) continue
      drifted.push({
        client: ev.client,
        clientName: this.adapters.find((a) => a.id === ev.client)?.displayName ?? ev.client,
        file: ev.file,
        server: ev.server,
        airlockServer: ev.airlockServer,
        ...(ev.broken !== undefined ? { broken: ev.broken } : {}),
      })
    }
    return { drifted, watched: this.protection.size }
  }

  /** The detected clients, their config files and entries, in the adapters' order. */
  list(): ClientView[] {
    const reports = this.run(() => scanClients(this.ctx, undefined, this.opts.config()))
    const out: ClientView[] = []
    const recorded = new Map<string, Set<string>>()
    for (const r of reports) {
      let view = out.find((c) => c.id === r.client.id)
      if (!view) {
        view = { id: r.client.id, name: r.client.displayName, files: [] }
        out.push(view)
        try {
          for (const f of readManifest(this.ctx.fs, this.opts.home, r.client.id).files)
            recorded.set(
              `${r.client.id}\0${f.file}`,
              new Set(f.entries.map((e) => e.key.join('\0'))),
            )
        } catch (err) {
          this.log(`clients: ${(err as Error).message}`)
        }
      }
      const keys = recorded.get(`${r.client.id}\0${r.location.file}`)
      view.files.push({
        file: r.location.file,
        scope: r.location.scope,
        ...(r.location.project ? { project: r.location.project } : {}),
        ...(r.error ? { error: r.error.message } : {}),
        entries: r.entries.map(
          ({ entry, protected: isProtected, broken, problem }): ClientEntryView => {
            const wrappedByAirlock = keys?.has(entry.key.join('\0')) ?? false
            return {
              name: entry.name,
              scope: entry.scope,
              ...(entry.project ? { project: entry.project } : {}),
              route: entry.transport,
              target:
                entry.transport === 'stdio'
                  ? commandLine(entry.command ?? '', entry.args)
                  : (entry.url ?? ''),
              protected: isProtected,
              ...(entry.wrappedServer ? { airlockServer: entry.wrappedServer } : {}),
              drifted: wrappedByAirlock && !entry.wrapped,
              ...(broken ? { broken: true } : {}),
              canProtect: !isProtected && !entry.unsupported && !urlProblem(entry),
              canRestore: wrappedByAirlock,
              ...(problem ? { problem } : {}),
            }
          },
        ),
      })
    }
    return out
  }

  /** Plans a wrap or a restore of `client` (all its servers, or the entries named `server`); writes nothing. */
  plan(client: string, action: 'wrap' | 'restore', server?: string): ClientPlan {
    this.prune()
    const stored =
      action === 'wrap' ? this.planWrap(client, server) : this.planRestore(client, server)
    this.plans.set(stored.view.planId, stored)
    while (this.plans.size > MAX_PLANS) this.plans.delete(this.plans.keys().next().value as string)
    return stored.view
  }

  /**
   * Applies the plan `planId` as it was shown, once. When a file it changes was modified since,
   * nothing is written and the answer carries a fresh plan to review instead.
   */
  apply(planId: string): ClientApplyResult {
    this.prune()
    const stored = this.plans.get(planId)
    if (!stored) {
      throw new ControlError(
        'this plan has expired or was already applied; review the changes again (Protect or Restore) before applying',
        'NOT_FOUND',
      )
    }
    this.plans.delete(planId)
    const changed = this.changedSince(stored)
    if (changed.length) {
      const fresh = this.plan(stored.view.client, stored.action, stored.server)
      return {
        applied: false,
        written: [],
        backups: [],
        notes: [
          `${changed.join(', ')} changed since these changes were shown, so nothing was written. Review the new changes and apply them again.`,
        ],
        errors: [],
        plan: fresh,
      }
    }
    const before = this.backups(stored.view.client)
    let result: { written: string[]; errors: ClientConfigError[] }
    const notes: string[] = []
    if (stored.action === 'wrap') {
      const adds = newServers(stored.plan)
      try {
        result = applyWrap(this.ctx, stored.plan, this.opts.configFile)
      } catch (err) {
        if (err instanceof ConfigError)
          throw new ControlError(
            `${err.message}; nothing was written`,
            err.code === 'CONFIG_CONFLICT' ? 'CONFLICT' : 'INVALID',
            { cause: err },
          )
        throw err
      }
      if (adds.length && stored.plan.files.length) this.opts.onConfigWritten()
      if (result.written.length)
        notes.push(
          `Restart ${stored.view.clientName} so that it starts these servers through Airlock.`,
        )
    } else {
      const plan = stored.plan
      result = this.run(() => applyRestore(this.ctx, plan))
      if (result.written.length)
        notes.push(
          `Restart ${stored.view.clientName} to apply. The servers stay in Airlock's config (remove them on the Servers screen).`,
        )
    }
    const after = this.backups(stored.view.client)
    this.refreshWatch(true)
    return {
      applied: true,
      written: result.written,
      backups: after.filter((b) => !before.includes(b)),
      notes,
      errors: result.errors.map((e) => e.message),
    }
  }

  // ── plans ────────────────────────────────────────────────────────────────

  private planWrap(client: string, server: string | undefined): StoredPlan {
    let shim: ShimCommand
    try {
      shim = this.opts.shim()
    } catch (err) {
      throw new ControlError((err as Error).message, 'INVALID', { cause: err })
    }
    let existing: Config['servers']
    try {
      existing = readConfig(this.opts.configFile).servers
    } catch (err) {
      throw new ControlError(
        `${(err as Error).message}\nNothing was planned: a wrap adds servers to config.json; fix the file first`,
        'INVALID',
        { cause: err },
      )
    }
    const plan = this.run(() =>
      planWrap(this.ctx, client, { ...(server ? { servers: [server] } : {}), shim, existing }),
    )
    const missing = plan.errors.find((e) => e.code === 'NOT_FOUND' && e.file === '')
    if (missing) throw new ControlError(missing.message, 'NOT_FOUND', { cause: missing })
    const notes: string[] = []
    for (const s of newServers(plan))
      notes.push(
        `Adds "${s.name}" to Airlock's servers: ${s.url ?? commandLine(s.command ?? '', s.args)}${
          s.secretHeaders?.length
            ? ` (${s.secretHeaders.join(', ')} kept in Airlock's secret store, not config.json)`
            : ''
        }`,
      )
    for (const f of plan.files)
      for (const t of f.targets)
        if (t.repair)
          notes.push(`Repairs ${t.entry.name}: ${t.repair}; it will run the current Airlock`)
        else if (t.server !== t.entry.name)
          notes.push(`${t.entry.name} connects to the Airlock server "${t.server}"`)
    for (const i of plan.imports) for (const w of i.warnings) notes.push(`${i.entry.name}: ${w}`)
    for (const s of plan.skipped) notes.push(`Left alone: ${s.name} (${s.reason})`)
    if (plan.files.length)
      notes.push(
        `Each file is backed up first (in ${backupDir(this.opts.home, plan.client.id)}); Restore puts it back.`,
      )
    else if (plan.errors.length === 0)
      notes.unshift(`Nothing to protect in ${plan.client.displayName}.`)
    return {
      action: 'wrap',
      plan,
      ...(server ? { server } : {}),
      view: this.view(plan.client, 'wrap', server, {
        diff: plan.files.map((f) => f.diff).join(''),
        files: plan.files.map((f) => ({
          file: f.location.file,
          servers: f.targets.map((t) => t.entry.name),
        })),
        notes,
        errors: plan.errors.map((e) => e.message),
      }),
    }
  }

  private planRestore(client: string, server: string | undefined): StoredPlan {
    const plan = this.run(() => planRestore(this.ctx, client, server ? { servers: [server] } : {}))
    const notes: string[] = []
    for (const f of plan.files) {
      notes.push(
        f.method === 'backup'
          ? `${f.location.file} comes back from its backup, byte for byte.`
          : `The original entries go back into ${f.location.file}: ${f.restored.join(', ') || '(none)'}.`,
      )
      if (f.note) notes.push(f.note)
      if (f.missing.length) notes.push(`No longer in the file, left out: ${f.missing.join(', ')}`)
    }
    for (const g of plan.gone) notes.push(`${g.file} no longer exists; Airlock forgets it.`)
    if (plan.files.length === 0 && plan.gone.length === 0 && plan.errors.length === 0)
      notes.push(
        `Nothing to restore: Airlock has not wrapped ${server ? `${server} of ` : ''}${plan.client.displayName}.`,
      )
    return {
      action: 'restore',
      plan,
      ...(server ? { server } : {}),
      view: this.view(plan.client, 'restore', server, {
        diff: plan.files.map((f) => f.diff).join(''),
        files: plan.files.map((f) => ({ file: f.location.file, servers: f.restored })),
        notes,
        errors: plan.errors.map((e) => e.message),
      }),
    }
  }

  private view(
    client: ClientAdapter,
    action: 'wrap' | 'restore',
    server: string | undefined,
    rest: Pick<ClientPlan, 'diff' | 'files' | 'notes' | 'errors'>,
  ): ClientPlan {
    return {
      planId: randomUUID(),
      client: client.id,
      clientName: client.displayName,
      action,
      ...(server ? { server } : {}),
      ...rest,
      expiresAt: this.now() + (this.opts.planTtlMs ?? DEFAULT_PLAN_TTL_MS),
    }
  }

  /** The files of a plan whose bytes are no longer those the plan was made from. */
  private changedSince(stored: StoredPlan): string[] {
    const files =
      stored.action === 'wrap'
        ? stored.plan.files.map((f) => ({ file: f.location.file, before: f.before }))
        : stored.plan.files.map((f) => ({ file: f.record.file, before: f.before }))
    return files
      .filter(({ file, before }) => {
        try {
          const now = this.ctx.fs.read(file)
          return !now || !now.equals(before)
        } catch {
          return true
        }
      })
      .map((f) => f.file)
  }

  private prune(): void {
    const now = this.now()
    for (const [id, p] of this.plans) if (p.view.expiresAt <= now) this.plans.delete(id)
  }

  private backups(client: string): string[] {
    try {
      return fs
        .readdirSync(backupDir(this.opts.home, client))
        .filter((n) => n !== 'manifest.json' && !n.endsWith('.tmp'))
        .map((n) => path.join(backupDir(this.opts.home, client), n))
    } catch {
      return []
    }
  }

  /** Runs an adapter operation; its refusals become ControlErrors. */
  private run<T>(fn: () => T): T {
    try {
      return fn()
    } catch (err) {
      if (err instanceof ClientConfigError)
        throw new ControlError(err.message, err.code === 'NOT_FOUND' ? 'NOT_FOUND' : 'INVALID', {
          cause: err,
        })
      throw err
    }
  }

  // ── drift ────────────────────────────────────────────────────────────────

  /** Re-reads the manifests into the watcher; emits when the summary changed (or `always`). */
  private refreshWatch(always = false): void {
    if (!this.watcher) return
    const events = this.watcher.setFiles(wrappedFiles(this.ctx.fs, this.opts.home, this.adapters))
    this.protection.clear()
    for (const ev of events) this.protection.set(key(ev), ev)
    if (always) this.lastSummary = ''
    this.queueEmit()
  }

  /** Emits `clients.changed` once per burst of changes (a rewritten file reports each entry). */
  private queueEmit(): void {
    if (this.emitQueued) return
    this.emitQueued = true
    queueMicrotask(() => {
      this.emitQueued = false
      const status = this.status()
      const summary = JSON.stringify(status)
      if (summary === this.lastSummary) return
      this.lastSummary = summary
      this.opts.onChange(status)
    })
  }
}

function key(ev: DriftEvent): string {
  return `${ev.client}\0${ev.file}\0${ev.server}`
}

/** A command line for display, quoting words that need it. */
function commandLine(command: string, args: readonly string[]): string {
  return [command, ...args]
    .map((w) => (/^[\w@%+=:,./~\\-]+$/.test(w) ? w : JSON.stringify(w)))
    .join(' ')
}

/**
 * Where the host's user keeps client configs: this process's home and environment, or the
 * directory `AIRLOCK_CLIENTS_HOME` names (a Linux-style home with no project directories; tests
 * and demos use it so that no real client config is touched).
 */
export function clientEnvFromHost(env: NodeJS.ProcessEnv = process.env): ClientEnv {
  const override = env.AIRLOCK_CLIENTS_HOME
  if (!override) return clientEnvFromProcess([], env)
  const home = path.resolve(override)
  return {
    home,
    platform: process.platform,
    appData: path.join(home, 'AppData', 'Roaming'),
    localAppData: path.join(home, 'AppData', 'Local'),
    xdgConfig: path.join(home, '.config'),
    cwd: home,
    projects: [],
    vars: {},
  }
}

/** What `resolveShim` looks at (defaults: this process). */
export interface ShimLookup {
  /** Airlock's data directory (written into the entries when it is not the default one). */
  home: string
  env?: NodeJS.ProcessEnv
  /** This process's executable: node, except in Electron. */
  execPath?: string
  /** Whether this process is Electron (its executable is then not node). */
  electron?: boolean
  /** The `bin/airlock.js` this process was started as (the CLI's argv[1]); used when it exists. */
  invoked?: string
  /** The directory to search upwards from for `bin/airlock.js` (default: this module's). */
  from?: string
  platform?: NodeJS.Platform
  isFile?: (file: string) => boolean
  /** Copies the shim out of an AppImage's temporary mount (default: into `<home>/shim`). */
  copyShim?: (script: string, home: string) => string
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

/**
 * The command wrapped entries run: node and the absolute path of this install's `bin/airlock.js`.
 * Node is this process's executable under plain Node; in the Electron app (whose executable is
 * Electron, not node) it is `AIRLOCK_NODE`, else the first `node` on PATH or in the usual install
 * directories — and when there is none, the app's own binary run as Node
 * (`ELECTRON_RUN_AS_NODE=1`; `$APPIMAGE` rather than the AppImage's temporary mount). In a
 * packaged app the script inside `app.asar` is mapped to `app.asar.unpacked` (electron-builder's
 * `asarUnpack`), which a system node can read.
 */
export function resolveShim(lookup: ShimLookup): ShimCommand {
  const env = lookup.env ?? process.env
  const exists = lookup.isFile ?? isFile
  const platform = lookup.platform ?? process.platform
  const p = platform === 'win32' ? path.win32 : path.posix
  let script: string | undefined
  // The CLI writes the entry it was run as (`npx airlock`, a global install's bin): that file.
  if (lookup.invoked && /airlock\.js$/.test(lookup.invoked) && exists(lookup.invoked))
    script = p.resolve(lookup.invoked)
  let dir = lookup.from ?? path.dirname(fileURLToPath(import.meta.url))
  // From src/gateway, out/cli, out/main or out/main/chunks: the checkout's bin/ is a few levels up.
  for (let i = 0; i < 5 && !script; i++) {
    const candidate = p.join(dir, 'bin', 'airlock.js')
    if (exists(candidate)) script = candidate
    dir = p.dirname(dir)
  }
  if (!script)
    throw new Error(
      'cannot find bin/airlock.js of this Airlock install, so there is no command to write into the client config; run Airlock from its checkout',
    )
  script = unpackedPath(script)
  // An AppImage runs from a temporary mount (/tmp/.mount_*, a new one each start): a script
  // there breaks wrapped entries whenever the app is not running. Its copy in the data directory
  // stays; it starts the app (desktop-app.json) when no gateway answers.
  if (env.APPIMAGE && env.APPDIR && isInside(script, env.APPDIR, p)) {
    script = (lookup.copyShim ?? copyShimOut)(script, path.resolve(lookup.home))
  }
  const shimEnv: Record<string, string> = {}
  const electron = lookup.electron ?? process.versions.electron !== undefined
  let node: string | undefined
  if (!electron) node = lookup.execPath ?? process.execPath
  else {
    const exe = platform === 'win32' ? 'node.exe' : 'node'
    const userHome = env.HOME ?? env.USERPROFILE ?? ''
    const candidates = [
      env.AIRLOCK_NODE,
      ...(env.PATH ?? env.Path ?? '')
        .split(platform === 'win32' ? ';' : ':')
        .filter(Boolean)
        .map((d) => p.join(d, exe)),
      // A desktop app started from the Dock or a menu may not get the shell's PATH.
      ...(platform === 'win32'
        ? [p.join(env.ProgramFiles ?? 'C:\\Program Files', 'nodejs', exe)]
        : [
            '/opt/homebrew/bin/node',
            '/usr/local/bin/node',
            '/usr/bin/node',
            userHome && p.join(userHome, '.volta', 'bin', 'node'),
          ]),
    ]
    node = candidates.find((c): c is string => !!c && p.isAbsolute(c) && exists(c))
    if (!node) {
      // No Node.js on this machine: the app's own binary runs the shim as Node (the RunAsNode
      // fuse stays on for this). An AppImage runs from a temporary mount: use the image itself.
      node =
        env.APPIMAGE && p.isAbsolute(env.APPIMAGE)
          ? env.APPIMAGE
          : (lookup.execPath ?? process.execPath)
      shimEnv.ELECTRON_RUN_AS_NODE = '1'
    }
  }
  const home = path.resolve(lookup.home)
  if (home !== dataDir({ ...env, AIRLOCK_HOME: undefined })) shimEnv.AIRLOCK_HOME = home
  if (env.AIRLOCK_SOCKET_DIR) shimEnv.AIRLOCK_SOCKET_DIR = path.resolve(env.AIRLOCK_SOCKET_DIR)
  return { node, script, ...(Object.keys(shimEnv).length ? { env: shimEnv } : {}) }
}

function isInside(file: string, dir: string, p: typeof path.posix): boolean {
  const rel = p.relative(dir, file)
  return rel !== '' && !rel.startsWith('..') && !p.isAbsolute(rel)
}

/** The files `airlock connect` runs from (bin/airlock.js loads out/shim/connect.cjs). */
const SHIM_FILES = [
  ['bin', 'airlock.js'],
  ['bin', 'package.json'],
  ['out', 'shim', 'connect.cjs'],
] as const

/**
 * Copies the shim (`bin/airlock.js` and the bundle it loads) out of an install that will go away
 * into `<data dir>/shim/`, rewriting only files that changed (an app update brings a new shim).
 * Returns the copy's `bin/airlock.js`.
 */
export function copyShimOut(script: string, home: string): string {
  const root = path.dirname(path.dirname(script))
  const target = path.join(home, 'shim')
  for (const parts of SHIM_FILES) {
    const from = path.join(root, ...parts)
    const to = path.join(target, ...parts)
    const bytes = fs.readFileSync(from)
    let same = false
    try {
      same = fs.readFileSync(to).equals(bytes)
    } catch {
      // Not copied yet.
    }
    if (same) continue
    fs.mkdirSync(path.dirname(to), { recursive: true, mode: 0o700 })
    const tmp = `${to}.${process.pid}.tmp`
    fs.writeFileSync(tmp, bytes, { mode: 0o644 })
    fs.renameSync(tmp, to)
  }
  return path.join(target, 'bin', 'airlock.js')
}

/**
 * A path inside a packaged app's `app.asar` mapped to `app.asar.unpacked`, where
 * electron-builder puts the files listed in `asarUnpack` (the shim and CLI bundles): Electron
 * reads inside the archive, a system node cannot.
 */
export function unpackedPath(file: string): string {
  return file.replace(/([\\/])app\.asar(?=[\\/])/, '$1app.asar.unpacked')
}
