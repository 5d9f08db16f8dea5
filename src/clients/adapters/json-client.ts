/**
 * The JSON family of clients (Claude Desktop, Claude Code, Cursor, VS Code, Windsurf, Gemini
 * CLI, Cline, Zed): server maps keyed by name, each entry `{ command, args, env, cwd }` or a
 * URL. One builder; each adapter says where its files are, its JSON dialect, and where the
 * server maps sit in the document.
 */
import type {
  ClientAdapter,
  ClientEnv,
  ClientServerEntry,
  ConfigLocation,
  DirLister,
  Transport,
} from './adapter'
import { entryFields } from './adapter'
import { defineClient, type WrappedCommand, type WrappedHttp } from './define-client'
import { ClientConfigError, lineColumn } from '../errors'
import { applyEdits as applyJsonEdits, format, modify } from 'jsonc-parser'
import { removeMember, renderJson, setMember } from '../formats/json-edit'
import {
  formattingOf,
  isStrictJson,
  JsonSyntaxError,
  member,
  members,
  nodeValue,
  objectAt,
  parseJsonTree,
  type JsonDialect,
  type JsonNode,
} from '../formats/jsonc'
import { httpServer, shimServer, TOKEN_INPUT_ID } from '../shim-command'
import { detectEol, lineStartOf, type TextEdit } from '../formats/text-edit'

/** A server map in a document and the scope of its entries. */
export interface ServerMap {
  path: string[]
  scope?: 'user' | 'project' | 'local'
  project?: string
}

/** What a JSON-family adapter declares. */
export interface JsonClientOptions {
  id: string
  displayName: string
  dialect: JsonDialect
  configFiles(env: ClientEnv, dirs: DirLister): ConfigLocation[]
  /** The server maps in a document (default: `mcpServers`). */
  serverMaps?(root: JsonNode, location: ConfigLocation): ServerMap[]
  /** The transport of a URL entry, by the key holding the URL. */
  urlTransport?(key: string, url: string): Transport
  /** Why an entry (a parsed object) cannot be wrapped, beyond the common reasons. */
  unsupported?(value: Record<string, unknown>): string | undefined
  /**
   * How the client writes a Streamable HTTP entry with headers, when it can: the key of the
   * URL and the `type` it needs (if any). Absent: wrap refuses to route it over HTTP.
   */
  httpEntry?: { urlKey: UrlKey; type?: string; tokenInput?: boolean }
}

const URL_KEYS = ['url', 'serverUrl', 'httpUrl'] as const
type UrlKey = (typeof URL_KEYS)[number]
const STDIO_KEYS = ['command', 'args', 'env', 'cwd'] as const
/** Keys that declare an entry's transport, in the clients' several spellings. */
const TYPE_KEYS = ['type', 'transport', 'transportType'] as const

/** Builds the adapter of a JSON-family client. */
export function jsonClient(o: JsonClientOptions): ClientAdapter {
  const parseTree = (text: string, file: string): JsonNode | undefined => {
    if (text.trim() === '' || text === '\ufeff') return undefined
    let tree: JsonNode
    try {
      tree = parseJsonTree(text, o.dialect)
    } catch (err) {
      if (!(err instanceof JsonSyntaxError)) throw err
      const { line, column } = lineColumn(text, err.offset)
      throw new ClientConfigError(
        `${file}:${line}:${column}: ${err.message}. ${o.displayName} cannot read the file like this either: fix it (or put back a backup) and run again; nothing was changed.`,
        'MALFORMED',
        file,
        { cause: err },
      )
    }
    if (tree.type !== 'object') {
      throw new ClientConfigError(
        `${file}: expected a JSON object at the top, found ${tree.type}; fix the file and run again; nothing was changed.`,
        'MALFORMED',
        file,
      )
    }
    return tree
  }

  const entries = (text: string, location: ConfigLocation): ClientServerEntry[] => {
    const tree = parseTree(text, location.file)
    if (!tree) return []
    const out: ClientServerEntry[] = []
    for (const map of o.serverMaps?.(tree, location) ?? [{ path: ['mcpServers'] }]) {
      const obj = objectAt(tree, map.path)
      if (!obj) continue
      const props = members(obj)
      props.forEach(({ key, value: node }, i) => {
        if (props.slice(i + 1).some((q) => q.key === key)) return // a later duplicate wins
        if (node.type !== 'object') return
        const value = nodeValue(node) as Record<string, unknown>
        out.push({
          key: [...map.path, key],
          path: [...map.path, key],
          name: key,
          scope: map.scope ?? location.scope,
          ...((map.project ?? location.project)
            ? { project: map.project ?? location.project }
            : {}),
          range: { start: node.offset, end: node.offset + node.length },
          value,
          ...describe(value, o),
        })
      })
    }
    return out
  }

  const httpEntry = o.httpEntry
  return defineClient({
    id: o.id,
    displayName: o.displayName,
    format: 'json',
    configFiles: o.configFiles,
    parse: (text, file) => {
      const tree = parseTree(text, file)
      return tree ? nodeValue(tree) : {}
    },
    entries,
    movedKeys: STDIO_KEYS,
    urlMovedKeys: [...STDIO_KEYS, ...TYPE_KEYS, ...URL_KEYS, 'headers'],
    wrapEdits: (text, entry, wrapped) => wrapEntry(text, entry, wrapped),
    ...(httpEntry
      ? {
          http: {
            edits: (text: string, entry: ClientServerEntry, target: WrappedHttp) =>
              wrapEntryHttp(text, entry, target, httpEntry),
            movedKeys: [...STDIO_KEYS, 'type', httpEntry.urlKey, 'headers'],
            ...(httpEntry.tokenInput ? { addTokenInput: addTokenInput } : {}),
          },
        }
      : {}),
    refuse: (before, after) =>
      o.dialect !== 'json' && isStrictJson(before) && !isStrictJson(after)
        ? 'would no longer be plain JSON'
        : undefined,
  })
}

type Described = Pick<
  ClientServerEntry,
  | 'transport'
  | 'command'
  | 'args'
  | 'env'
  | 'cwd'
  | 'url'
  | 'headers'
  | 'wrapped'
  | 'wrappedServer'
  | 'unsupported'
  | 'notes'
>

function describe(value: Record<string, unknown>, o: JsonClientOptions): Described {
  const notes: string[] = []
  const nested = isRecord(value.command) ? value.command : undefined
  const source = nested ?? value
  const command =
    typeof (nested ? nested.path : value.command) === 'string'
      ? ((nested ? nested.path : value.command) as string)
      : undefined
  const argsRaw = source.args
  const envRaw = source.env
  const args = Array.isArray(argsRaw)
    ? argsRaw.filter((a): a is string => typeof a === 'string')
    : []
  const env: Record<string, string> = {}
  if (isRecord(envRaw))
    for (const [k, v] of Object.entries(envRaw)) if (typeof v === 'string') env[k] = v
  const cwd = typeof value.cwd === 'string' ? value.cwd : undefined

  const declared = [value.type, value.transport, value.transportType].find(
    (t): t is string => typeof t === 'string',
  )
  let headers: Record<string, string> | undefined
  if (isRecord(value.headers)) {
    headers = {}
    for (const [k, v] of Object.entries(value.headers)) if (typeof v === 'string') headers[k] = v
  }
  const urlKey = URL_KEYS.find((k) => typeof value[k] === 'string')
  const url = urlKey ? (value[urlKey] as string) : undefined
  let transport: Transport = 'stdio'
  const kind = declared?.toLowerCase().replace(/[-_]/g, '')
  if (kind === 'sse') transport = 'sse'
  else if (kind === 'http' || kind === 'streamablehttp') transport = 'http'
  else if (kind !== 'stdio' && urlKey && url !== undefined)
    transport = httpServer(url, headers)
      ? 'http' // Airlock's own endpoint is Streamable HTTP, whatever its server is called.
      : (o.urlTransport?.(urlKey, url) ??
        (urlKey === 'httpUrl' ? 'http' : /\/sse\/?(\?.*)?$/.test(url) ? 'sse' : 'http'))

  let unsupported = o.unsupported?.(value)
  if (!unsupported && transport === 'stdio') {
    if (command === undefined) unsupported = 'it has no command (it is managed elsewhere)'
    else if (argsRaw !== undefined && (!Array.isArray(argsRaw) || args.length !== argsRaw.length))
      unsupported = '"args" is not a list of strings'
    else if (
      envRaw !== undefined &&
      (!isRecord(envRaw) || Object.keys(env).length !== Object.keys(envRaw).length)
    )
      unsupported = '"env" is not a map of strings'
  }
  if (typeof value.envFile === 'string')
    notes.push(
      `its envFile ${value.envFile} is not imported: add those variables to the Airlock server (airlock servers add --env)`,
    )
  const wrappedServer =
    transport === 'stdio'
      ? shimServer(command, args)
      : transport === 'http'
        ? httpServer(url, headers)
        : undefined
  return entryFields({
    transport,
    command,
    args,
    env,
    cwd,
    url,
    headers,
    wrappedServer,
    unsupported,
    notes,
  })
}

/**
 * Rewrites one entry object. The edits run on the entry's own text (a JSON value parses on its
 * own), padded to its column so that new lines are indented like their neighbours.
 */
function wrapEntry(text: string, entry: ClientServerEntry, wrapped: WrappedCommand): TextEdit[] {
  const { start, end } = entry.range
  const pad = text.slice(lineStartOf(text, start), start).replace(/[^\t]/g, ' ')
  const eol = detectEol(text)
  const nested = isRecord(entry.value) && isRecord(entry.value.command)
  const at = nested ? ['command'] : []
  const cmdKey = nested ? 'path' : 'command'
  let sub = pad + text.slice(start, end)
  const remote = entry.transport !== 'stdio' && isRecord(entry.value) ? entry.value : undefined
  if (remote) {
    // A URL entry declares stdio and runs the shim; Airlock keeps the URL and headers (removed
    // below, once the command is in, so that the entry keeps its layout).
    for (const k of TYPE_KEYS)
      if (typeof remote[k] === 'string')
        sub = setMember(sub, [], k, () => JSON.stringify('stdio'), [], eol)
  }
  sub = setMember(sub, at, cmdKey, () => JSON.stringify(wrapped.command), [], eol)
  sub = setMember(
    sub,
    at,
    'args',
    (like, t) => renderJson(t, wrapped.args, eol, like),
    [cmdKey],
    eol,
  )
  const env = wrapped.env
  sub = env
    ? setMember(sub, at, 'env', (like, t) => renderJson(t, env, eol, like), ['args', cmdKey], eol)
    : removeMember(sub, at, 'env')
  if (nested) sub = removeMember(sub, [], 'env')
  if (!wrapped.keepCwd) sub = removeMember(sub, [], 'cwd')
  if (remote) for (const k of [...URL_KEYS, 'headers']) sub = removeMember(sub, [], k)
  return [{ start, end, text: sub.slice(pad.length) }]
}

/**
 * Points one stdio entry at the HTTP endpoint: `type` (when the client needs one), the URL and
 * the Authorization header, in place of `command`; `args`, `env` and `cwd` go (they live in
 * Airlock's server config now). Every other key stays.
 */
function wrapEntryHttp(
  text: string,
  entry: ClientServerEntry,
  target: WrappedHttp,
  how: { urlKey: UrlKey; type?: string },
): TextEdit[] {
  const { start, end } = entry.range
  const pad = text.slice(lineStartOf(text, start), start).replace(/[^\t]/g, ' ')
  const eol = detectEol(text)
  let sub = pad + text.slice(start, end)
  const type = how.type
  if (type !== undefined)
    sub = setMember(sub, [], 'type', () => JSON.stringify(type), ['command'], eol)
  sub = setMember(sub, [], how.urlKey, () => JSON.stringify(target.url), ['type', 'command'], eol)
  sub = setMember(
    sub,
    [],
    'headers',
    (like, t) => renderJson(t, target.headers, eol, like),
    [how.urlKey],
    eol,
  )
  for (const k of STDIO_KEYS) sub = removeMember(sub, [], k)
  return [{ start, end, text: sub.slice(pad.length) }]
}

/** The input VS Code prompts for once (a password field) and keeps in its secret storage. */
const TOKEN_INPUT = {
  type: 'promptString',
  id: TOKEN_INPUT_ID,
  description:
    'Airlock MCP endpoint token: the contents of the http-token file in the Airlock data directory',
  password: true,
}

/**
 * Adds the token input to the top-level `inputs` array (created after `servers` when missing);
 * the text is returned unchanged when an input of that id is there already. In a file laid out
 * over lines, jsonc-parser lays out the new text alone, in the file's indentation.
 */
function addTokenInput(text: string): string {
  const root = parseJsonTree(text, 'jsonc')
  const inputs = member(root, 'inputs')?.value
  if (inputs && inputs.type !== 'array')
    throw new Error(
      '"inputs" is not a list, so Airlock cannot add the input that holds its token; fix "inputs", or wrap without --http',
    )
  if (
    inputs &&
    (nodeValue(inputs) as unknown[]).some((v) => isRecord(v) && v.id === TOKEN_INPUT_ID)
  )
    return text
  const keys = members(root).map((m) => m.key)
  const after = keys.includes('servers') ? keys.indexOf('servers') + 1 : keys.length
  const [edit, ...rest] = inputs
    ? modify(text, ['inputs', -1], TOKEN_INPUT, { isArrayInsertion: true })
    : modify(text, ['inputs'], [TOKEN_INPUT], { getInsertionIndex: () => after })
  if (!edit || rest.length > 0) throw new Error('internal: one edit expected for the token input')
  const raw = applyJsonEdits(text, [edit])
  const at = inputs ?? root
  if (!text.slice(at.offset, at.offset + at.length).includes('\n')) return raw
  // From the character before: a first item moves to its own line too.
  const range = { offset: edit.offset - 1, length: edit.content.length + 1 }
  return applyJsonEdits(raw, format(raw, range, formattingOf(text)))
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
