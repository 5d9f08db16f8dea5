/**
 * Builds a ClientAdapter from a format-specific spec (where the files are, how to parse, which
 * text edits wrap an entry) and adds the checks every wrap and restore must pass before a byte
 * is written: the new text parses with the client's own rules, nothing outside the touched
 * entries changed, every wrapped entry now runs the shim and kept its other keys.
 */
import type {
  ClientAdapter,
  ClientEnv,
  ClientServerEntry,
  ConfigLocation,
  DirLister,
  EntryRecord,
  HttpEndpoint,
  RestoreResult,
  ShimCommand,
  WrapTarget,
} from './adapter'
import { ClientConfigError } from '../errors'
import { httpTarget, shimArgs } from '../shim-command'
import { applyEdits, type TextEdit } from '../formats/text-edit'

/** The command line a wrapped entry gets. */
export interface WrappedCommand {
  command: string
  args: string[]
  /** Env for the shim (AIRLOCK_HOME); undefined removes the entry's env. */
  env?: Record<string, string>
  /** Leave the entry's `cwd` as it is (a repair); otherwise it is removed. */
  keepCwd?: boolean
}

/** What an entry wrapped onto the HTTP endpoint gets. */
export interface WrappedHttp {
  url: string
  headers: Record<string, string>
}

/** What a format module provides; defineClient adds the checks. */
export interface ClientSpec {
  id: string
  displayName: string
  format: 'json' | 'toml' | 'yaml'
  configFiles(env: ClientEnv, dirs: DirLister): ConfigLocation[]
  parse(text: string, file: string): unknown
  entries(text: string, location: ConfigLocation): ClientServerEntry[]
  /** Text edits (inside the entry's range) that make `entry` run `wrapped`. */
  wrapEdits(text: string, entry: ClientServerEntry, wrapped: WrappedCommand): TextEdit[]
  /** Entry keys a wrap replaces or removes; every other key must come through unchanged. */
  movedKeys: readonly string[]
  /**
   * Entry keys a wrap of a URL entry (a remote server: Airlock keeps its URL and headers)
   * replaces or removes. `wrapEdits` handles such entries too: they run the shim afterwards.
   */
  urlMovedKeys: readonly string[]
  /** For clients that speak Streamable HTTP: the edits that point an entry at the endpoint, and the keys they move. */
  http?: {
    edits(text: string, entry: ClientServerEntry, target: WrappedHttp): TextEdit[]
    movedKeys: readonly string[]
    /**
     * The client resolves `${input:airlock-token}` in headers (VS Code): entries get the
     * reference, and this adds the input to the file (its top-level `inputs`) when missing.
     */
    addTokenInput?(text: string): string
  }
  /** An extra acceptance rule for a rewritten text; returns why it is refused. */
  refuse?(before: string, after: string): string | undefined
}

/** A ClientAdapter whose wrap and restore verify their output. */
export function defineClient(spec: ClientSpec): ClientAdapter {
  return {
    id: spec.id,
    displayName: spec.displayName,
    format: spec.format,
    supportsHttp: spec.http !== undefined,
    configFiles: (env, dirs) => spec.configFiles(env, dirs),
    detect: (env, dirs) => detect(spec.configFiles(env, dirs), dirs),
    parse: (text, file) => spec.parse(text, file),
    read: (text, location) => spec.entries(text, location),
    wrap: (text, targets, shim, location, http) =>
      wrapChecked(spec, text, targets, shim, location, http),
    restore: (text, records, location) => restoreChecked(spec, text, records, location),
  }
}

function detect(locations: readonly ConfigLocation[], dirs: DirLister): ConfigLocation[] {
  const seen = new Set<string>()
  return locations.filter((l) => {
    if (seen.has(l.file)) return false
    seen.add(l.file)
    const sep = Math.max(l.file.lastIndexOf('/'), l.file.lastIndexOf('\\'))
    return dirs.list(l.file.slice(0, Math.max(sep, 1))).includes(l.file.slice(sep + 1))
  })
}

function wrapChecked(
  spec: ClientSpec,
  text: string,
  targets: readonly WrapTarget[],
  shim: ShimCommand,
  location: ConfigLocation,
  http?: HttpEndpoint,
): string {
  const file = location.file
  const viaHttp = http ? spec.http : undefined
  if (http && !viaHttp) {
    throw new ClientConfigError(
      `${file}: ${spec.displayName} cannot reach MCP servers over Streamable HTTP with headers, so Airlock cannot wrap its entries onto the HTTP endpoint; wrap without --http (its entries then run "airlock connect").`,
      'UNSUPPORTED_LAYOUT',
      file,
    )
  }
  const before = spec.parse(text, file)
  const edits: TextEdit[] = []
  for (const { entry, server, repair } of targets) {
    const remote = entry.transport !== 'stdio'
    if (
      (remote && (repair || http || entry.url === undefined)) ||
      entry.unsupported ||
      (repair ? entry.wrappedServer !== server || http : entry.wrapped)
    ) {
      throw new Error(
        `internal: entry "${entry.name}" of ${file} cannot be ${repair ? 'repaired' : 'wrapped'} (${entry.unsupported ?? entry.transport})`,
      )
    }
    const env = repair ? repairedEnv(entry.env, shim.env) : shim.env
    const wrapped: WrappedCommand = {
      command: shim.node,
      args: shimArgs(shim, server),
      ...(env && Object.keys(env).length ? { env } : {}),
      ...(repair ? { keepCwd: true } : {}),
    }
    const entryEdits =
      viaHttp && http
        ? viaHttp.edits(text, entry, httpTarget(http, server, !!viaHttp.addTokenInput))
        : spec.wrapEdits(text, entry, wrapped)
    for (const e of entryEdits) {
      if (e.start < entry.range.start || e.end > entry.range.end) {
        throw new Error(`internal: an edit of "${entry.name}" in ${file} reaches outside the entry`)
      }
      edits.push(e)
    }
  }
  let after = applyEdits(text, edits)
  if (viaHttp?.addTokenInput) after = viaHttp.addTokenInput(after)
  const afterDoc = accept(spec, text, after, file, 'wrapping')
  mustOnlyChange(
    before,
    afterDoc,
    [...targets.map((t) => t.entry.path), ...(viaHttp?.addTokenInput ? [['inputs']] : [])],
    file,
    'wrapping',
  )
  const now = new Map(spec.entries(after, location).map((e) => [e.key.join('\u0000'), e]))
  for (const { entry, server } of targets) {
    const got = now.get(entry.key.join('\u0000'))
    const ok = http
      ? got?.transport === 'http' && got.url === httpTarget(http, server).url
      : got?.command === shim.node
    if (!got || !got.wrapped || got.wrappedServer !== server || !ok) {
      refuseWrite(
        file,
        'wrapping',
        http
          ? `entry "${entry.name}" would not reach ${httpTarget(http, server).url}`
          : `entry "${entry.name}" would not run "airlock connect ${server}"`,
      )
    }
    const moved =
      entry.transport !== 'stdio' ? spec.urlMovedKeys : (viaHttp?.movedKeys ?? spec.movedKeys)
    const lost = changedKeys(entry.value, got.value, moved)
    if (lost.length)
      refuseWrite(
        file,
        'wrapping',
        `entry "${entry.name}" would change its ${lost.map((k) => `"${k}"`).join(', ')}`,
      )
  }
  return after
}

/**
 * The env of a repaired entry: the entry's own (its AIRLOCK_HOME names the data directory its
 * server is configured in), plus what the current shim needs besides AIRLOCK_HOME (e.g.
 * ELECTRON_RUN_AS_NODE when the app binary runs the shim).
 */
function repairedEnv(
  current: Readonly<Record<string, string>>,
  shimEnv: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const out = { ...current }
  for (const [k, v] of Object.entries(shimEnv ?? {})) if (k !== 'AIRLOCK_HOME') out[k] = v
  return out
}

function restoreChecked(
  spec: ClientSpec,
  text: string,
  records: readonly EntryRecord[],
  location: ConfigLocation,
): RestoreResult {
  const file = location.file
  const before = spec.parse(text, file)
  const current = new Map(spec.entries(text, location).map((e) => [e.key.join('\u0000'), e]))
  const edits: TextEdit[] = []
  const paths: (string | number)[][] = []
  const restored: string[] = []
  const missing: string[] = []
  for (const r of records) {
    const entry = current.get(r.key.join('\u0000'))
    if (!entry) {
      missing.push(r.name)
      continue
    }
    edits.push({ start: entry.range.start, end: entry.range.end, text: r.original })
    paths.push(entry.path)
    restored.push(r.name)
  }
  const after = applyEdits(text, edits)
  const afterDoc = accept(spec, text, after, file, 'restoring')
  mustOnlyChange(before, afterDoc, paths, file, 'restoring')
  return { text: after, restored, missing }
}

function accept(
  spec: ClientSpec,
  before: string,
  after: string,
  file: string,
  doing: string,
): unknown {
  let doc: unknown
  try {
    doc = spec.parse(after, file)
  } catch (err) {
    refuseWrite(file, doing, `the new text would not parse (${(err as Error).message})`)
  }
  const why = spec.refuse?.(before, after)
  if (why) refuseWrite(file, doing, why)
  return doc
}

function refuseWrite(file: string, doing: string, why: string): never {
  throw new ClientConfigError(
    `${file}: not written — ${doing} it ${why}, which the client could reject. The file is unchanged; please report this as an Airlock bug (with the file's layout, not its secrets).`,
    'WOULD_BREAK_FILE',
    file,
  )
}

function mustOnlyChange(
  before: unknown,
  after: unknown,
  paths: readonly (string | number)[][],
  file: string,
  doing: string,
): void {
  let expected = clone(before)
  for (const p of paths) expected = setAt(expected, p, getAt(after, p))
  if (!sameValue(expected, after))
    refuseWrite(file, doing, 'would change something outside the server entries it touches')
}

/** Keys (other than `moved`) whose values differ between two entry objects. */
function changedKeys(before: unknown, after: unknown, moved: readonly string[]): string[] {
  if (!isRecord(before) || !isRecord(after)) return []
  const keys = new Set([...Object.keys(before), ...Object.keys(after)])
  return [...keys].filter((k) => !moved.includes(k) && !sameValue(before[k], after[k]))
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Deep equality of parsed documents (plain objects, arrays, scalars; anything else by string). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((x, i) => sameValue(x, b[i]))
    )
  }
  if (isPlain(a) && isPlain(b)) {
    const ka = Object.keys(a)
    const kb = Object.keys(b)
    return (
      ka.length === kb.length &&
      ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameValue(a[k], b[k]))
    )
  }
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b)
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null)
    return String(a) === String(b)
  return false
}

function isPlain(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

function clone(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clone)
  if (isPlain(v)) {
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(v))
      Object.defineProperty(out, k, {
        value: clone(v[k]),
        enumerable: true,
        writable: true,
        configurable: true,
      })
    return out
  }
  return v
}

/** The value at `path` (undefined when absent). */
export function getAt(doc: unknown, path: readonly (string | number)[]): unknown {
  let v = doc
  for (const k of path) {
    if (typeof v !== 'object' || v === null) return undefined
    v = (v as Record<string | number, unknown>)[k]
  }
  return v
}

function setAt(doc: unknown, path: readonly (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value
  const [k, ...rest] = path as [string | number, ...(string | number)[]]
  if (typeof doc !== 'object' || doc === null) return doc
  const holder = doc as Record<string | number, unknown>
  Object.defineProperty(holder, k, {
    value: setAt(holder[k], rest, value),
    enumerable: true,
    writable: true,
    configurable: true,
  })
  return doc
}
