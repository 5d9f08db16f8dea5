/**
 * Codex: `~/.codex/config.toml` (`$CODEX_HOME/config.toml`) and a trusted project's
 * `.codex/config.toml`; each server is a `[mcp_servers.<name>]` table with `command`, `args`,
 * `env` (inline or a `[mcp_servers.<name>.env]` table), `cwd`, or a `url` (Streamable HTTP) with
 * `http_headers`, `env_http_headers` and `bearer_token_env_var`.
 * Parsed with smol-toml; edited in place (values replaced, lines removed) so comments stay.
 */
import { parse as parseToml, TomlError } from 'smol-toml'
import type { ClientAdapter, ClientServerEntry, ConfigLocation } from './adapter'
import { entryFields } from './adapter'
import { defineClient, type WrappedCommand } from './define-client'
import { ClientConfigError } from '../errors'
import { pathFor, projectFiles, userFile } from '../locations'
import { shimServer } from '../shim-command'
import {
  applyEdits,
  detectEol,
  entryEdit,
  indentOf,
  previousBreak,
  type TextEdit,
} from '../formats/text-edit'
import {
  hasPrefix,
  samePath,
  scanToml,
  tomlKey,
  tomlString,
  type TomlPair,
  type TomlScan,
} from '../formats/toml-scan'

const ROOT = 'mcp_servers'

function parse(text: string, file: string): Record<string, unknown> {
  try {
    return parseToml(text) as Record<string, unknown>
  } catch (err) {
    const where = err instanceof TomlError ? `:${err.line}:${err.column}` : ''
    const why = ((err as Error).message.split('\n')[0] ?? '').replace(
      /^Invalid TOML document: /,
      '',
    )
    throw new ClientConfigError(
      `${file}${where}: ${why}. Codex cannot read the file like this either: fix it (or put back a backup) and run again; nothing was changed.`,
      'MALFORMED',
      file,
      { cause: err },
    )
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** The entry's layout in the text and its range, or why it cannot be edited. */
function layout(
  scan: TomlScan,
  name: string,
): { range: { start: number; end: number }; unsupported?: string } {
  const base = [ROOT, name]
  const headers = scan.headers.filter((h) => hasPrefix(h.path, base))
  const own = scan.pairs.filter((p) => p.parent === -1 && hasPrefix(p.path, base))
  const inline = own.find((p) => samePath(p.path, base))
  if (inline) return { range: { start: inline.keyStart, end: inline.lineEnd } }
  const items = [
    ...headers.map((h) => ({ start: h.start, end: h.lineEnd })),
    ...own.map((p) => ({ start: p.keyStart, end: p.lineEnd })),
  ]
  if (items.length === 0)
    return {
      range: { start: 0, end: 0 },
      unsupported: 'it is not written as a [mcp_servers.<name>] table',
    }
  const start = Math.min(...items.map((x) => x.start))
  const end = Math.max(...items.map((x) => x.end))
  const foreign =
    scan.headers.some((h) => !hasPrefix(h.path, base) && h.start > start && h.start < end) ||
    scan.pairs.some(
      (p) => p.parent === -1 && !hasPrefix(p.path, base) && p.keyStart > start && p.keyStart < end,
    )
  if (foreign)
    return {
      range: { start, end },
      unsupported:
        'its keys are spread between other tables; move them into one [mcp_servers.<name>] table',
    }
  const first = headers.find((h) => h.start === start)
  if (
    headers.length > 0 &&
    (!first || !samePath(first.path, base)) &&
    !own.some((p) => p.keyStart === start)
  ) {
    return {
      range: { start, end },
      unsupported: `its [${ROOT}.${name}.…] tables come before [${ROOT}.${name}]; put that table first`,
    }
  }
  return { range: { start, end } }
}

function entries(text: string, location: ConfigLocation): ClientServerEntry[] {
  const doc = parse(text, location.file)
  const servers = doc[ROOT]
  if (!isRecord(servers)) return []
  const scan = scanToml(text)
  const out: ClientServerEntry[] = []
  for (const [name, value] of Object.entries(servers)) {
    if (!isRecord(value)) continue
    const command = typeof value.command === 'string' ? value.command : undefined
    const args = Array.isArray(value.args)
      ? value.args.filter((a): a is string => typeof a === 'string')
      : []
    const env: Record<string, string> = {}
    if (isRecord(value.env))
      for (const [k, v] of Object.entries(value.env)) if (typeof v === 'string') env[k] = v
    const url = typeof value.url === 'string' ? value.url : undefined
    const transport = url !== undefined && command === undefined ? 'http' : 'stdio'
    const headers = transport === 'http' ? urlHeaders(value) : undefined
    const { range, unsupported: layoutProblem } = layout(scan, name)
    let unsupported = layoutProblem
    if (!unsupported && transport === 'stdio' && command === undefined)
      unsupported = 'it has no command'
    if (
      !unsupported &&
      value.args !== undefined &&
      (!Array.isArray(value.args) || args.length !== value.args.length)
    )
      unsupported = '"args" is not a list of strings'
    const notes: string[] = []
    if (Array.isArray(value.env_vars) && value.env_vars.length) {
      notes.push(
        `env_vars (${value.env_vars.join(', ')}) are passed from Codex's environment: once wrapped they reach the shim, not the server; add them to the Airlock server (airlock servers add --env)`,
      )
    }
    const wrappedServer = transport === 'stdio' ? shimServer(command, args) : undefined
    out.push({
      key: [ROOT, name],
      path: [ROOT, name],
      name,
      scope: location.scope,
      ...(location.project ? { project: location.project } : {}),
      ...entryFields({
        transport,
        command,
        args,
        env,
        cwd: typeof value.cwd === 'string' ? value.cwd : undefined,
        url,
        ...(headers && Object.keys(headers).length ? { headers } : {}),
        wrappedServer,
        unsupported,
        notes,
      }),
      range,
      value,
    })
  }
  return out
}

/** Keys of a URL entry that say what it sends; a wrap moves them to Airlock with the URL. */
const URL_KEYS = ['url', 'bearer_token_env_var', 'http_headers', 'env_http_headers'] as const

/**
 * The headers a URL entry sends, as Airlock keeps them: `http_headers` as written, and the
 * values Codex takes from its environment (`env_http_headers`, `bearer_token_env_var`) as
 * `${VAR}` placeholders, which the import names so that the real value is given to Airlock.
 */
function urlHeaders(value: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  if (isRecord(value.http_headers))
    for (const [k, v] of Object.entries(value.http_headers)) if (typeof v === 'string') out[k] = v
  if (isRecord(value.env_http_headers))
    for (const [k, v] of Object.entries(value.env_http_headers))
      if (typeof v === 'string') out[k] = `\${${v}}`
  if (typeof value.bearer_token_env_var === 'string')
    out.Authorization = `Bearer \${${value.bearer_token_env_var}}`
  return out
}

function findPair(
  text: string,
  path: readonly string[],
): { scan: TomlScan; pair: TomlPair | undefined } {
  const scan = scanToml(text)
  return { scan, pair: scan.pairs.find((p) => samePath(p.path, path)) }
}

/** Removes one pair: its whole line at the top level, or the member (and a comma) inside an inline table. */
function removePair(text: string, scan: TomlScan, pair: TomlPair): string {
  if (pair.parent === -1) {
    const brk = previousBreak(text, pair.keyStart)
    return applyEdits(text, [{ start: brk < 0 ? pair.keyStart : brk, end: pair.lineEnd, text: '' }])
  }
  const siblings = scan.pairs
    .filter((p) => p.parent === pair.parent && p.path.length === pair.path.length)
    .sort((a, b) => a.keyStart - b.keyStart)
  const k = siblings.indexOf(pair)
  const next = siblings[k + 1]
  const prev = siblings[k - 1]
  if (next) return applyEdits(text, [{ start: pair.keyStart, end: next.keyStart, text: '' }])
  if (prev) return applyEdits(text, [{ start: prev.valueEnd, end: pair.valueEnd, text: '' }])
  return applyEdits(text, [
    {
      start: pair.keyStart,
      end: pair.comma !== undefined ? pair.comma + 1 : pair.valueEnd,
      text: '',
    },
  ])
}

/** Inserts `key = value` after `anchor`: a new line at the top level, `, key = value` in an inline table. */
function insertAfter(
  text: string,
  anchor: TomlPair,
  key: string,
  value: string,
  eol: string,
): string {
  if (anchor.parent !== -1)
    return applyEdits(text, [
      { start: anchor.valueEnd, end: anchor.valueEnd, text: `, ${key} = ${value}` },
    ])
  const written = text.slice(anchor.keyStart, anchor.keyEnd)
  const last = anchor.path[anchor.path.length - 1] ?? ''
  const prefix = written.endsWith(last)
    ? written.slice(0, written.length - last.length)
    : written.replace(/("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)$/, '')
  return applyEdits(text, [
    {
      start: anchor.lineEnd,
      end: anchor.lineEnd,
      text: `${eol}${indentOf(text, anchor.keyStart)}${prefix}${key} = ${value}`,
    },
  ])
}

function wrapEdits(text: string, entry: ClientServerEntry, wrapped: WrappedCommand): TextEdit[] {
  const base = [ROOT, entry.name]
  const eol = detectEol(text)
  const array = `[${wrapped.args.map(tomlString).join(', ')}]`
  let t = text
  const set = (key: string, value: string, after: string): void => {
    const { pair } = findPair(t, [...base, key])
    if (pair) {
      t = applyEdits(t, [{ start: pair.valueStart, end: pair.valueEnd, text: value }])
      return
    }
    const anchor = findPair(t, [...base, after]).pair
    if (!anchor) throw new Error(`internal: no "${after}" to insert "${key}" after`)
    t = insertAfter(t, anchor, key, value, eol)
  }
  const remove = (key: string): void => {
    for (;;) {
      const scan = scanToml(t)
      const header = scan.headers.find((h) => hasPrefix(h.path, [...base, key]))
      if (header) {
        // A [mcp_servers.<name>.env] table: from the end of the content above it to its last pair.
        const inside = scan.pairs.filter(
          (p) => p.parent === -1 && hasPrefix(p.path, header.path) && p.keyStart > header.start,
        )
        const end = Math.max(header.lineEnd, ...inside.map((p) => p.lineEnd))
        let start = header.start
        while (start > 0 && /\s/.test(t[start - 1] ?? '')) start--
        t = applyEdits(t, [{ start, end, text: '' }])
        continue
      }
      const pair = scan.pairs.find(
        (p) =>
          hasPrefix(p.path, [...base, key]) &&
          (p.parent === -1 || samePath(p.path, [...base, key])),
      )
      if (!pair) return
      t = removePair(t, scan, pair)
    }
  }
  if (entry.transport !== 'stdio') {
    // A URL entry: its `url` line becomes the command; what it sent is Airlock's now.
    const { pair } = findPair(t, [...base, 'url'])
    if (!pair) throw new Error(`internal: URL entry "${entry.name}" has no url`)
    const written = t.slice(pair.keyStart, pair.keyEnd)
    const prefix = written.slice(
      0,
      written.length - (written.match(/("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)$/)?.[0].length ?? 0),
    )
    t = applyEdits(t, [
      {
        start: pair.keyStart,
        end: pair.valueEnd,
        text: `${prefix}command = ${tomlString(wrapped.command)}`,
      },
    ])
    for (const k of URL_KEYS) remove(k)
  }
  set('command', tomlString(wrapped.command), 'command')
  set('args', array, 'command')
  remove('env')
  if (wrapped.env) {
    const inline = `{ ${Object.entries(wrapped.env)
      .map(([k, v]) => `${tomlKey(k)} = ${tomlString(v)}`)
      .join(', ')} }`
    set('env', inline, 'args')
  }
  if (!wrapped.keepCwd) remove('cwd')
  return [entryEdit(text, t, entry.range)]
}

/** The Codex adapter. */
export const codex: ClientAdapter = defineClient({
  id: 'codex',
  displayName: 'Codex',
  format: 'toml',
  configFiles(env) {
    const p = pathFor(env)
    const home = env.vars.CODEX_HOME || p.join(env.home, '.codex')
    return [
      userFile('codex', p.join(home, 'config.toml')),
      ...projectFiles('codex', env, '.codex', 'config.toml'),
    ]
  },
  parse,
  entries,
  movedKeys: ['command', 'args', 'env', 'cwd'],
  urlMovedKeys: ['command', 'args', 'env', 'cwd', ...URL_KEYS],
  wrapEdits,
})
