/**
 * Continue: `~/.continue/config.yaml` and the block files in `~/.continue/mcpServers/` and a
 * workspace's `.continue/mcpServers/` (`*.yaml`), each with an `mcpServers:` list of
 * `{ name, type, command, args, env, cwd, url, requestOptions: { headers } }`. Edited in place through the `yaml` package's
 * source ranges, so comments, quoting and layout stay; `${{ secrets.X }}` stays as written.
 */
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseDocument,
  visit,
  type Document,
  type Node,
  type Pair,
  type YAMLMap,
} from 'yaml'
import type {
  ClientAdapter,
  ClientEnv,
  ClientServerEntry,
  ConfigLocation,
  DirLister,
  Transport,
} from './adapter'
import { entryFields } from './adapter'
import { defineClient, type WrappedCommand } from './define-client'
import { ClientConfigError } from '../errors'
import { pathFor, userFile } from '../locations'
import { shimServer } from '../shim-command'
import {
  applyEdits,
  detectEol,
  entryEdit,
  lineStartOf,
  previousBreak,
  startsLine,
  trimEnd,
  type TextEdit,
} from '../formats/text-edit'

const LIST = 'mcpServers'
const STDIO_KEYS = ['command', 'args', 'env', 'cwd']
/** Keys of a URL entry that say where it goes and what it sends; a wrap moves them to Airlock. */
const URL_KEYS = ['url', 'requestOptions']

function parseDoc(text: string, file: string): Document.Parsed {
  const doc = parseDocument(text, { prettyErrors: true })
  const err = doc.errors[0]
  if (err) {
    const pos = err.linePos?.[0]
    const where = pos ? `:${pos.line}:${pos.col}` : ''
    throw new ClientConfigError(
      `${file}${where}: ${err.message.split('\n')[0] ?? err.code}. Continue cannot read the file like this either: fix it (or put back a backup) and run again; nothing was changed.`,
      'MALFORMED',
      file,
      { cause: err },
    )
  }
  return doc
}

function parse(text: string, file: string): unknown {
  return parseDoc(text, file).toJS() as unknown
}

function list(doc: Document.Parsed): Node[] {
  const seq = doc.get(LIST, true)
  return isSeq(seq) ? (seq.items as Node[]) : []
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function usesAliases(node: Node): boolean {
  let found = false
  visit(node, {
    Alias() {
      found = true
      return visit.BREAK
    },
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.value === '<<') {
        found = true
        return visit.BREAK
      }
      return undefined
    },
  })
  return found || isAlias(node)
}

function entries(text: string, location: ConfigLocation): ClientServerEntry[] {
  const doc = parseDoc(text, location.file)
  const js = doc.toJS() as unknown
  const values = isRecord(js) && Array.isArray(js[LIST]) ? (js[LIST] as unknown[]) : []
  const out: ClientServerEntry[] = []
  list(doc).forEach((node, i) => {
    const value = values[i]
    if (!isMap(node) || !isRecord(value) || !node.range) return
    const name = typeof value.name === 'string' ? value.name : `#${i + 1}`
    const command = typeof value.command === 'string' ? value.command : undefined
    const args = Array.isArray(value.args)
      ? value.args.filter((a): a is string => typeof a === 'string')
      : []
    const env: Record<string, string> = {}
    if (isRecord(value.env))
      for (const [k, v] of Object.entries(value.env)) if (typeof v === 'string') env[k] = v
    const url = typeof value.url === 'string' ? value.url : undefined
    const type = typeof value.type === 'string' ? value.type : undefined
    const transport: Transport =
      type === 'sse'
        ? 'sse'
        : type === 'streamable-http' || type === 'http'
          ? 'http'
          : type === undefined && url !== undefined
            ? 'http'
            : 'stdio'
    const options = isRecord(value.requestOptions) ? value.requestOptions : undefined
    let headers: Record<string, string> | undefined
    const notes: string[] = []
    if (transport !== 'stdio' && options) {
      headers = {}
      if (isRecord(options.headers))
        for (const [k, v] of Object.entries(options.headers))
          if (typeof v === 'string') headers[k] = v
      const other = Object.keys(options).filter((k) => k !== 'headers')
      if (other.length)
        notes.push(
          `its requestOptions ${other.join(', ')} are not carried over: Airlock reaches the server with its own settings`,
        )
    }
    let unsupported: string | undefined
    if (value.uses !== undefined) unsupported = 'it refers to a Continue Hub block (uses:)'
    else if (usesAliases(node)) unsupported = 'it uses YAML anchors or aliases'
    else if (transport === 'stdio' && command === undefined) unsupported = 'it has no command'
    else if (
      value.args !== undefined &&
      (!Array.isArray(value.args) || args.length !== value.args.length)
    )
      unsupported = '"args" is not a list of strings'
    const wrappedServer = transport === 'stdio' ? shimServer(command, args) : undefined
    out.push({
      key: [LIST, name],
      path: [LIST, i],
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
      range: { start: node.range[0], end: trimEnd(text, node.range[0], node.range[1]) },
      value,
    })
  })
  return out
}

interface Found {
  map: YAMLMap
  pair?: Pair<Node, Node | null>
  index: number
}

function find(text: string, item: number, key: string): Found {
  const node = list(parseDocument(text))[item]
  if (!isMap(node)) throw new Error(`internal: mcpServers[${item}] is not a map`)
  const map = node as YAMLMap
  const pairs = map.items as Pair<Node, Node | null>[]
  const index = pairs.findIndex((p) => isPair(p) && isScalar(p.key) && p.key.value === key)
  const pair = pairs[index]
  return pair ? { map, pair, index } : { map, index }
}

/** The end of a pair's text (its value, or its key's colon when the value is empty). */
function pairEnd(text: string, pair: Pair<Node, Node | null>): number {
  const v = pair.value
  if (v?.range) return trimEnd(text, v.range[0], v.range[1])
  const k = pair.key.range
  if (!k) throw new Error('internal: a YAML key without a range')
  return text.indexOf(':', k[1]) + 1
}

function columnPad(text: string, offset: number): string {
  return text.slice(lineStartOf(text, offset), offset).replace(/[^\t]/g, ' ')
}

function wrapEdits(text: string, entry: ClientServerEntry, wrapped: WrappedCommand): TextEdit[] {
  const item = entry.path[1] as number
  const eol = detectEol(text)
  let t = text
  const flowArray = `[${wrapped.args.map((a) => JSON.stringify(a)).join(', ')}]`

  const replaceValue = (
    pair: Pair<Node, Node | null>,
    render: (v: Node | null) => string,
  ): void => {
    const v = pair.value
    const start = v?.range ? v.range[0] : pairEnd(t, pair)
    const lead = v?.range ? '' : ' '
    t = applyEdits(t, [{ start, end: pairEnd(t, pair), text: lead + render(v) }])
  }
  const set = (
    key: string,
    render: (v: Node | null) => string,
    flowText: string,
    after: string,
  ): void => {
    const found = find(t, item, key)
    if (found.pair) return replaceValue(found.pair, render)
    const anchor = find(t, item, after).pair
    if (!anchor?.key.range) throw new Error(`internal: no "${after}" to insert "${key}" after`)
    const at = pairEnd(t, anchor)
    const text = found.map.flow
      ? `, ${key}: ${flowText}`
      : `${eol}${columnPad(t, anchor.key.range[0])}${key}: ${flowText}`
    t = applyEdits(t, [{ start: at, end: at, text }])
  }
  const remove = (key: string): void => {
    const { map, pair, index } = find(t, item, key)
    if (!pair?.key.range) return
    const pairs = map.items as Pair<Node, Node | null>[]
    const keyStart = pair.key.range[0]
    const end = pairEnd(t, pair)
    if (map.flow) {
      const next = pairs[index + 1]
      const prev = pairs[index - 1]
      if (next?.key.range)
        t = applyEdits(t, [{ start: keyStart, end: next.key.range[0], text: '' }])
      else if (prev) t = applyEdits(t, [{ start: pairEnd(t, prev), end, text: '' }])
      else t = applyEdits(t, [{ start: keyStart, end, text: '' }])
    } else if (startsLine(t, keyStart)) {
      t = applyEdits(t, [{ start: previousBreak(t, keyStart), end, text: '' }])
    } else if (pairs[index + 1]?.key.range) {
      // The first key of a list item ("- url: …"): the next key moves up behind the "-".
      const next = pairs[index + 1]?.key.range?.[0] ?? end
      t = applyEdits(t, [{ start: keyStart, end: next, text: '' }])
    } else {
      // The first key of a list item ("- env: …"): removing its line would drop the "-".
      replaceValue(pair, () => '{}')
    }
  }

  const remote = entry.transport !== 'stdio'
  if (remote && find(t, item, 'type').pair) set('type', () => 'stdio', 'stdio', 'type')
  set(
    'command',
    () => JSON.stringify(wrapped.command),
    JSON.stringify(wrapped.command),
    remote ? 'url' : 'command',
  )
  set(
    'args',
    (v) => {
      if (isSeq(v) && !v.flow && v.range) {
        const pad = columnPad(t, v.range[0])
        return wrapped.args.map((a) => `- ${JSON.stringify(a)}`).join(eol + pad)
      }
      return flowArray
    },
    flowArray,
    'command',
  )
  remove('env')
  const env = wrapped.env
  if (env) {
    const flow = `{ ${Object.entries(env)
      .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
      .join(', ')} }`
    set('env', () => flow, flow, 'args')
  }
  if (!wrapped.keepCwd) remove('cwd')
  // A URL entry: Airlock keeps the URL and headers now.
  if (remote) for (const k of URL_KEYS) remove(k)
  return [entryEdit(text, t, entry.range)]
}

function blockFiles(
  dirs: DirLister,
  dir: string,
  env: ClientEnv,
  scope: 'user' | 'project',
  project?: string,
): ConfigLocation[] {
  const p = pathFor(env)
  return dirs
    .list(dir)
    .filter((f) => /\.ya?ml$/i.test(f))
    .sort()
    .map((f) => ({
      client: 'continue',
      file: p.join(dir, f),
      scope,
      ...(project ? { project } : {}),
    }))
}

/** The Continue adapter. */
export const continueDev: ClientAdapter = defineClient({
  id: 'continue',
  displayName: 'Continue',
  format: 'yaml',
  configFiles(env, dirs) {
    const p = pathFor(env)
    const home = p.join(env.home, '.continue')
    return [
      userFile('continue', p.join(home, 'config.yaml')),
      ...blockFiles(dirs, p.join(home, 'mcpServers'), env, 'user'),
      ...env.projects.flatMap((project) =>
        blockFiles(dirs, p.join(project, '.continue', 'mcpServers'), env, 'project', project),
      ),
    ]
  },
  parse,
  entries,
  movedKeys: STDIO_KEYS,
  urlMovedKeys: [...STDIO_KEYS, 'type', ...URL_KEYS],
  wrapEdits,
})
