/**
 * Protecting a client in one step, and undoing it: list a client's servers and whether each is
 * protected; plan a wrap (import the servers, the rewritten text, the diff) without writing;
 * apply it (backup, manifest, Airlock's config, then an atomic same-mode write); plan and apply
 * a restore (the backup byte for byte when the file is as Airlock left it, else the original
 * entries spliced back). Used by `airlock clients` and, later, the Clients screen.
 */
import fs from 'node:fs'
import path from 'node:path'
import { isHttpUrl, type Config, type ServerConfig } from '../shared/contract/config'
import { proposePolicy } from '../shared/risk'
import { ConfigError, updateConfig } from '../node/config-store'
import type {
  ClientAdapter,
  ClientEnv,
  ClientServerEntry,
  ConfigLocation,
  EntryRecord,
  HttpEndpoint,
  ShimCommand,
  WrapTarget,
} from './adapters/adapter'
import { unifiedDiff } from './formats/diff'
import { brokenShim, maskBearer } from './shim-command'
import { ClientConfigError } from './errors'
import type { ClientFs } from './fs-port'
import { importServers, sameServer, type ImportedServer } from './import'
import {
  readManifest,
  sha256,
  writeBackup,
  writeManifest,
  type ClientManifest,
  type FileRecord,
} from './manifest'
import { writeFileAtomic } from '../node/atomic-write'

/** What the client tools work with. */
export interface ClientsContext {
  adapters: readonly ClientAdapter[]
  env: ClientEnv
  fs: ClientFs
  /** The Airlock data directory; backups live in `<home>/backups/<client>/`. */
  home: string
  now?: () => Date
  /** Where the secret header values of wrapped URL entries go (never config.json). */
  secrets?: WrapSecrets
}

/** Where a wrap puts secret values (the gateway's secret store port, or secrets.json). */
export interface WrapSecrets {
  set(server: string, key: string, value: string): void
  /** A stored value (to tell whether a URL entry's headers are those of a configured server). */
  get(server: string, key: string): string | undefined
}

/** An entry and whether its client reaches the server only through Airlock. */
export interface EntryStatus {
  entry: ClientServerEntry
  protected: boolean
  /**
   * A wrapped entry whose node or shim path no longer exists: the client reaches nothing (not
   * protected); `problem` says what is missing and the wrap command that repairs it.
   */
  broken?: boolean
  /** Why it is not protected, or what is wrong with its protection. */
  problem?: string
}

/** One config file of one client. */
export interface FileReport {
  client: ClientAdapter
  location: ConfigLocation
  entries: EntryStatus[]
  /** The file could not be read or parsed (it is listed, nothing else). */
  error?: ClientConfigError
}

/** The rewrite of one file. */
export interface WrapFilePlan {
  location: ConfigLocation
  before: Buffer
  after: string
  mode: number
  targets: WrapTarget[]
  /** Bearer tokens masked (`Bearer ••••1a2b`). */
  diff: string
  /**
   * The new text holds the HTTP endpoint's bearer token (no client format here takes a
   * reference the client resolves by itself): the file is written 0600 whatever its mode was.
   */
  holdsToken: boolean
}

/** An entry a wrap leaves alone, and why. */
export interface SkippedEntry {
  location: ConfigLocation
  name: string
  reason: string
}

/** Everything a wrap would do, computed without writing. */
export interface WrapPlan {
  client: ClientAdapter
  files: WrapFilePlan[]
  imports: ImportedServer[]
  skipped: SkippedEntry[]
  errors: ClientConfigError[]
}

/** The restore of one file. */
export interface RestoreFilePlan {
  record: FileRecord
  location: ConfigLocation
  before: Buffer
  after: Buffer
  mode: number
  /** `backup`: the file is as Airlock left it, so its backup comes back byte for byte. */
  method: 'backup' | 'splice'
  restored: string[]
  missing: string[]
  diff: string
  note?: string
}

/** Everything a restore would do. */
export interface RestorePlan {
  client: ClientAdapter
  files: RestoreFilePlan[]
  /** Records of files that no longer exist (dropped from the manifest on apply). */
  gone: FileRecord[]
  errors: ClientConfigError[]
}

/** The adapter `id`, or a ClientConfigError (NOT_FOUND) naming the known ones. */
export function adapterFor(ctx: ClientsContext, id: string): ClientAdapter {
  const adapter = ctx.adapters.find((a) => a.id === id.toLowerCase())
  if (!adapter) {
    throw new ClientConfigError(
      `unknown client "${id}"; known clients: ${ctx.adapters.map((a) => a.id).join(', ')}`,
      'NOT_FOUND',
      '',
    )
  }
  return adapter
}

function decode(file: string, bytes: Buffer): string {
  const text = bytes.toString('utf8')
  if (!Buffer.from(text, 'utf8').equals(bytes)) {
    throw new ClientConfigError(
      `${file}: not UTF-8 text; Airlock only edits UTF-8 files. Save it as UTF-8 and run again; nothing was changed.`,
      'MALFORMED',
      file,
    )
  }
  return text
}

function asConfigError(err: unknown, file: string): ClientConfigError {
  if (err instanceof ClientConfigError) return err
  return new ClientConfigError(`${file}: ${(err as Error).message}`, 'UNREADABLE', file, {
    cause: err,
  })
}

/** A word a shell takes as one argument: quoted when it holds anything but plain characters. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}

/** The command that repairs (or wraps) the entries `names` of `client` found in `location`. */
export function wrapCommand(
  client: string,
  location: ConfigLocation,
  names: string | readonly string[],
): string {
  const servers = (typeof names === 'string' ? [names] : names)
    .map((n) => ` --server ${shellWord(n)}`)
    .join('')
  const project = location.project ? ` --project ${shellWord(location.project)}` : ''
  return `airlock clients wrap ${client}${servers}${project}`
}

/** Whether the file exists (a path the client tools can stat). */
function existsIn(fs: ClientFs): (file: string) => boolean {
  return (file) => fs.stat(file) !== undefined
}

/** Why a wrapped stdio entry reaches nothing (its node or shim is gone), or undefined. */
function brokenProblem(entry: ClientServerEntry, fs: ClientFs): string | undefined {
  return entry.wrapped && entry.transport === 'stdio'
    ? brokenShim(entry.command, entry.args, existsIn(fs))
    : undefined
}

function status(
  entry: ClientServerEntry,
  drifted: boolean,
  config: Config | undefined,
  location: ConfigLocation,
  fs: ClientFs,
): EntryStatus {
  if (entry.wrapped) {
    const broken = brokenProblem(entry, fs)
    if (broken)
      return {
        entry,
        protected: false,
        broken: true,
        problem: `broken: ${broken}; "${wrapCommand(location.client, location, entry.name)}" repairs it`,
      }
    const known = config === undefined || config.servers.some((s) => s.name === entry.wrappedServer)
    return known
      ? { entry, protected: true }
      : {
          entry,
          protected: true,
          problem: `runs "airlock connect ${entry.wrappedServer ?? ''}", which is not configured in Airlock`,
        }
  }
  if (entry.transport !== 'stdio') {
    const why = urlProblem(entry)
    return {
      entry,
      protected: false,
      problem: `${entry.transport.toUpperCase()} endpoint: the client connects to it directly${
        drifted ? ' (rewritten since it was wrapped: wrap it again)' : ''
      }${why ? `; ${why}` : ''}`,
    }
  }
  if (entry.unsupported)
    return { entry, protected: false, problem: `cannot wrap: ${entry.unsupported}` }
  return {
    entry,
    protected: false,
    problem: drifted ? 'rewritten since it was wrapped (drift): wrap it again' : 'not wrapped',
  }
}

/**
 * Why a URL entry cannot become an Airlock remote server, or undefined when it can: it needs an
 * http(s) URL Airlock can reach as written (one the client fills in from a placeholder cannot).
 */
export function urlProblem(entry: ClientServerEntry): string | undefined {
  if (entry.transport === 'stdio') return undefined
  if (entry.unsupported) return `cannot wrap: ${entry.unsupported}`
  if (entry.url === undefined) return 'it has no URL'
  if (!isHttpUrl(entry.url))
    return `its URL "${entry.url}" is not an http(s) URL Airlock can reach as written (the client fills it in); add the server with "airlock servers add <name> --url <URL>" and point the entry at "airlock connect <name>"`
  return undefined
}

/** The existing config files of the clients (all, or `clientId`) with their entries and protection. */
export function scanClients(ctx: ClientsContext, clientId?: string, config?: Config): FileReport[] {
  const adapters = clientId ? [adapterFor(ctx, clientId)] : ctx.adapters
  const out: FileReport[] = []
  for (const client of adapters) {
    let manifest: ClientManifest | undefined
    try {
      manifest = readManifest(ctx.fs, ctx.home, client.id)
    } catch {
      manifest = undefined
    }
    for (const location of client.detect(ctx.env, ctx.fs)) {
      let bytes: Buffer | undefined
      try {
        bytes = ctx.fs.read(location.file)
        if (!bytes) continue
        const entries = client.read(decode(location.file, bytes), location)
        const record = manifest?.files.find((f) => f.file === location.file)
        const wrappedKeys = new Set(record?.entries.map((e) => e.key.join('\u0000')))
        out.push({
          client,
          location,
          entries: entries.map((e) =>
            status(e, wrappedKeys.has(e.key.join('\u0000')), config, location, ctx.fs),
          ),
        })
      } catch (err) {
        if (bytes === undefined && !(err instanceof ClientConfigError)) throw err
        out.push({ client, location, entries: [], error: asConfigError(err, location.file) })
      }
    }
  }
  return out
}

/**
 * Plans a wrap of a client's entries (all, or those named in `servers`); writes nothing. A stdio
 * entry's command and a URL entry's URL and headers become an Airlock server (secret headers go
 * to the secret store on apply), and the entry runs the shim.
 * With `http` the entries are pointed at the gateway's HTTP endpoint instead of running the
 * shim (route "http"); a client that cannot speak HTTP gets one UNSUPPORTED_LAYOUT error.
 */
export function planWrap(
  ctx: ClientsContext,
  clientId: string,
  opts: {
    servers?: readonly string[]
    shim: ShimCommand
    existing: readonly ServerConfig[]
    http?: HttpEndpoint
  },
): WrapPlan {
  const client = adapterFor(ctx, clientId)
  const plan: WrapPlan = { client, files: [], imports: [], skipped: [], errors: [] }
  if (opts.http && !client.supportsHttp) {
    const able = ctx.adapters.filter((a) => a.supportsHttp).map((a) => a.id)
    plan.errors.push(
      new ClientConfigError(
        `${client.displayName} cannot reach MCP servers over Streamable HTTP with an Authorization header, so --http is not available for it; wrap it without --http (its entries then run "airlock connect"). --http works for: ${able.join(', ')}.`,
        'UNSUPPORTED_LAYOUT',
        '',
      ),
    )
    return plan
  }
  const wanted = opts.servers && opts.servers.length ? new Set(opts.servers) : undefined
  const seen = new Set<string>()
  for (const location of client.detect(ctx.env, ctx.fs)) {
    try {
      const before = ctx.fs.read(location.file)
      if (!before) continue
      const text = decode(location.file, before)
      const entries = client.read(text, location).filter((e) => !wanted || wanted.has(e.name))
      const candidates: ClientServerEntry[] = []
      const repairs: WrapTarget[] = []
      for (const entry of entries) {
        seen.add(entry.name)
        const skip = (reason: string): void =>
          void plan.skipped.push({ location, name: entry.name, reason })
        const broken = brokenProblem(entry, ctx.fs)
        if (broken && entry.wrappedServer !== undefined) {
          if (opts.http)
            skip(
              `broken (${broken}); "${wrapCommand(client.id, location, entry.name)}" (without --http) repairs it`,
            )
          else repairs.push({ entry, server: entry.wrappedServer, repair: broken })
        } else if (entry.wrapped)
          skip(`already protected (airlock connect ${entry.wrappedServer ?? ''})`)
        else if (entry.transport !== 'stdio' && opts.http)
          skip(
            `${entry.transport.toUpperCase()} endpoint: wrap it without --http (it then runs "airlock connect", and Airlock keeps its URL and headers)`,
          )
        else if (entry.transport !== 'stdio' && urlProblem(entry))
          skip(`${entry.transport.toUpperCase()} endpoint: not protected; ${urlProblem(entry)}`)
        else if (entry.unsupported) skip(`cannot wrap: ${entry.unsupported}`)
        else candidates.push(entry)
      }
      if (candidates.length === 0 && repairs.length === 0) continue
      if (!ctx.fs.writable(location.file)) {
        throw new ClientConfigError(
          `${location.file}: read-only; Airlock leaves read-only files alone. To protect ${client.displayName}'s servers, make it writable (chmod u+w "${location.file}") and run again.`,
          'READ_ONLY',
          location.file,
        )
      }
      const taken = [...opts.existing, ...plan.imports.filter((i) => !i.reuse).map((i) => i.server)]
      const imports = importServers(
        candidates,
        client.id,
        taken,
        (server, key) =>
          plan.imports.find((i) => !i.reuse && i.server.name === server)?.secrets[key] ??
          ctx.secrets?.get(server, key),
      )
      const targets: WrapTarget[] = [
        ...imports.map((i) => ({ entry: i.entry, server: i.server.name })),
        ...repairs,
      ]
      const after = client.wrap(text, targets, opts.shim, location, opts.http)
      const holdsToken = opts.http !== undefined && after.includes(opts.http.token)
      const mode = ctx.fs.stat(location.file)?.mode ?? 0o600
      plan.imports.push(...imports)
      plan.files.push({
        location,
        before,
        after,
        // A file holding the token is readable and writable by its owner only.
        mode: holdsToken ? 0o600 : mode,
        targets,
        diff: maskBearer(unifiedDiff(text, after, location.file, `${location.file} (wrapped)`)),
        holdsToken,
      })
    } catch (err) {
      plan.errors.push(asConfigError(err, location.file))
    }
  }
  for (const name of wanted ?? []) {
    if (!seen.has(name))
      plan.errors.push(
        new ClientConfigError(
          `no server named "${name}" in ${client.displayName}'s config files; "airlock clients" lists them`,
          'NOT_FOUND',
          '',
        ),
      )
  }
  return plan
}

/**
 * A new server with the policy Airlock proposes written to `<home>/policies/<name>.yaml` (never
 * over an existing file): the user's default posture, critical tools behind approval (the risk
 * floor guards them too). Labelled in the file as proposed by Airlock.
 */
function withProposedPolicy(home: string, server: ServerConfig, config: Config): ServerConfig {
  if (server.policy !== undefined) return server
  const file = path.join(home, 'policies', `${server.name}.yaml`)
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
    writeFileAtomic(file, proposePolicy([], config.settings.defaultPosture))
  }
  return { ...server, policy: file }
}

/** The servers a wrap adds to Airlock's config (new ones, not those reused). */
export function newServers(plan: WrapPlan): ServerConfig[] {
  return plan.imports.filter((i) => !i.reuse).map((i) => i.server)
}

/**
 * Applies a wrap plan: adds the imported servers to config.json, then for each file takes a
 * backup, records it in the manifest, and writes the new text atomically with the same mode.
 * A file that changed since the plan is left alone (reported in the result's errors).
 */
export function applyWrap(
  ctx: ClientsContext,
  plan: WrapPlan,
  configFile: string,
): { written: string[]; errors: ClientConfigError[] } {
  const now = ctx.now?.() ?? new Date()
  const add = newServers(plan)
  if (add.length && plan.files.length) {
    // Secret header values of URL entries go to the secret store first: config.json names them only.
    const secrets = plan.imports.filter((i) => !i.reuse && Object.keys(i.secrets).length)
    if (secrets.length && !ctx.secrets)
      throw new ClientConfigError(
        `${secrets.map((i) => i.entry.name).join(', ')}: secret headers need Airlock's secret store, which this command cannot reach; nothing was changed`,
        'UNREADABLE',
        '',
      )
    for (const i of secrets)
      for (const [key, value] of Object.entries(i.secrets))
        ctx.secrets?.set(i.server.name, key, value)
    updateConfig(configFile, (config) => {
      const servers = [...config.servers]
      for (const s of add) {
        const other = servers.find((o) => o.name === s.name)
        if (!other) servers.push(withProposedPolicy(ctx.home, s, config))
        else if (!sameServer(other, s)) {
          throw new ConfigError(
            `${configFile}: a server named "${s.name}" was added while wrapping; run the command again`,
            'CONFIG_CONFLICT',
          )
        }
      }
      return { ...config, servers }
    })
  }
  const written: string[] = []
  const errors: ClientConfigError[] = []
  for (const f of plan.files) {
    const file = f.location.file
    try {
      const current = ctx.fs.read(file)
      if (!current || !current.equals(f.before)) {
        throw new ClientConfigError(
          `${file}: changed while Airlock was preparing it (is ${plan.client.displayName} saving it?); nothing was written — run the command again`,
          'CHANGED_DURING_WRITE',
          file,
        )
      }
      const backup = writeBackup(ctx.fs, ctx.home, plan.client.id, file, current, now)
      const manifest = readManifest(ctx.fs, ctx.home, plan.client.id)
      const previous = structuredClone(manifest)
      const afterEntries = new Map(
        plan.client.read(f.after, f.location).map((e) => [e.key.join('\u0000'), e]),
      )
      const text = f.before.toString('utf8')
      const rec = manifest.files.find((r) => r.file === file)
      const records: EntryRecord[] = []
      for (const { entry, server, repair } of f.targets) {
        const key = entry.key.join('\u0000')
        const now = afterEntries.get(key)
        const wrapped = now ? f.after.slice(now.range.start, now.range.end) : ''
        if (repair) {
          // The record keeps the entry as it was before Airlock first wrapped it, so that a
          // restore gives back the user's original, not the broken wrapped one. An entry
          // wrapped by hand (no record) has no original to give back.
          const known = rec?.entries.find((e) => e.key.join('\u0000') === key)
          if (known) records.push({ ...known, wrapped })
          continue
        }
        records.push({
          key: entry.key,
          name: entry.name,
          server,
          original: text.slice(entry.range.start, entry.range.end),
          wrapped,
        })
      }
      const hashBefore = sha256(current)
      const hashAfter = sha256(Buffer.from(f.after, 'utf8'))
      if (rec) {
        rec.byteRestore = rec.byteRestore && rec.wrappedHash === hashBefore
        rec.backups.push(backup)
        rec.wrappedHash = hashAfter
        rec.wrappedAt = now.toISOString()
        for (const r of records) {
          const i = rec.entries.findIndex((e) => e.key.join('\u0000') === r.key.join('\u0000'))
          if (i >= 0) rec.entries[i] = r
          else rec.entries.push(r)
        }
      } else if (records.length) {
        manifest.files.push({
          file,
          scope: f.location.scope,
          ...(f.location.project ? { project: f.location.project } : {}),
          backup,
          backups: [backup],
          originalHash: hashBefore,
          wrappedHash: hashAfter,
          byteRestore: true,
          wrappedAt: now.toISOString(),
          entries: records,
        })
      }
      writeManifest(ctx.fs, ctx.home, manifest)
      try {
        ctx.fs.writeAtomic(file, f.after, f.mode)
      } catch (err) {
        writeManifest(ctx.fs, ctx.home, previous)
        throw err
      }
      written.push(file)
    } catch (err) {
      errors.push(asConfigError(err, file))
    }
  }
  return { written, errors }
}

function locationOf(client: ClientAdapter, rec: FileRecord): ConfigLocation {
  return {
    client: client.id,
    file: rec.file,
    scope: rec.scope,
    ...(rec.project ? { project: rec.project } : {}),
  }
}

/** Plans restoring a client's wrapped entries (all, or those named in `servers`); writes nothing. */
export function planRestore(
  ctx: ClientsContext,
  clientId: string,
  opts: { servers?: readonly string[] } = {},
): RestorePlan {
  const client = adapterFor(ctx, clientId)
  const plan: RestorePlan = { client, files: [], gone: [], errors: [] }
  const manifest = readManifest(ctx.fs, ctx.home, client.id)
  const wanted = opts.servers && opts.servers.length ? new Set(opts.servers) : undefined
  for (const record of manifest.files) {
    const location = locationOf(client, record)
    const file = record.file
    try {
      const before = ctx.fs.read(file)
      if (!before) {
        plan.gone.push(record)
        continue
      }
      const records = record.entries.filter((e) => !wanted || wanted.has(e.name))
      if (records.length === 0) continue
      const text = decode(file, before)
      const all = records.length === record.entries.length
      let after: Buffer | undefined
      let method: RestoreFilePlan['method'] = 'splice'
      let note: string | undefined
      let restored = records.map((r) => r.name)
      let missing: string[] = []
      if (all && record.byteRestore && sha256(before) === record.wrappedHash) {
        const backup = ctx.fs.read(record.backup)
        if (backup && sha256(backup) === record.originalHash) {
          after = backup
          method = 'backup'
        } else {
          note = `the backup ${record.backup} is missing or changed, so the entries were put back one by one`
        }
      } else if (sha256(before) !== record.wrappedHash) {
        note =
          'the file changed since it was wrapped: only the wrapped entries were put back, its other changes were kept'
      }
      if (!after) {
        const result = client.restore(text, records, location)
        after = Buffer.from(result.text, 'utf8')
        restored = result.restored
        missing = result.missing
      }
      if (!after.equals(before) && !ctx.fs.writable(file)) {
        throw new ClientConfigError(
          `${file}: read-only; Airlock leaves read-only files alone. Make it writable (chmod u+w "${file}") and run the restore again.`,
          'READ_ONLY',
          file,
        )
      }
      plan.files.push({
        record,
        location,
        before,
        after,
        mode: ctx.fs.stat(file)?.mode ?? 0o600,
        method,
        restored,
        missing,
        diff: maskBearer(unifiedDiff(text, after.toString('utf8'), `${file} (wrapped)`, file)),
        ...(note ? { note } : {}),
      })
    } catch (err) {
      plan.errors.push(asConfigError(err, file))
    }
  }
  return plan
}

/**
 * Applies a restore plan: for each file, a safety backup of its current bytes, the atomic
 * same-mode write, and the manifest updated (restored entries dropped; a file with none left
 * dropped). Airlock's config keeps the imported servers.
 */
export function applyRestore(
  ctx: ClientsContext,
  plan: RestorePlan,
): { written: string[]; errors: ClientConfigError[] } {
  const now = ctx.now?.() ?? new Date()
  const written: string[] = []
  const errors: ClientConfigError[] = []
  const manifest = readManifest(ctx.fs, ctx.home, plan.client.id)
  const goneFiles = new Set(plan.gone.map((r) => r.file))
  manifest.files = manifest.files.filter((r) => !goneFiles.has(r.file))
  for (const f of plan.files) {
    const file = f.record.file
    try {
      const current = ctx.fs.read(file)
      if (!current || !current.equals(f.before)) {
        throw new ClientConfigError(
          `${file}: changed while Airlock was preparing the restore; nothing was written — run the command again`,
          'CHANGED_DURING_WRITE',
          file,
        )
      }
      if (!f.after.equals(current)) {
        const safety = writeBackup(ctx.fs, ctx.home, plan.client.id, file, current, now)
        ctx.fs.writeAtomic(file, f.after, f.mode)
        const rec = manifest.files.find((r) => r.file === file)
        rec?.backups.push(safety)
      }
      const done = new Set([...f.restored, ...f.missing])
      const rec = manifest.files.find((r) => r.file === file)
      if (rec) {
        rec.entries = rec.entries.filter((e) => !done.has(e.name))
        if (rec.entries.length === 0) manifest.files = manifest.files.filter((r) => r !== rec)
        else {
          // Entries were spliced back exactly; the chain to the first backup holds if it held before.
          rec.byteRestore = rec.byteRestore && rec.wrappedHash === sha256(f.before)
          rec.wrappedHash = sha256(f.after)
        }
      }
      written.push(file)
    } catch (err) {
      errors.push(asConfigError(err, file))
    }
  }
  writeManifest(ctx.fs, ctx.home, manifest)
  return { written, errors }
}
