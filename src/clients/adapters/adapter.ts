/**
 * The client-adapter port: one adapter per MCP client (Claude Desktop, Cursor, VS Code…) knows
 * where that client keeps its MCP servers, reads them, and rewrites stdio entries to run
 * `airlock connect <server>` — or, for clients that speak HTTP, to reach the gateway's loopback
 * endpoint `/mcp/<server>` — splicing text so that comments, key order and formatting stay.
 * Adapters are pure text-in, text-out; the file system comes in through `ClientFs`.
 */

/** How a client reaches a server. */
export type Transport = 'stdio' | 'http' | 'sse'

/** Where the current user's files are (tests point these at temp dirs). */
export interface ClientEnv {
  home: string
  platform: NodeJS.Platform
  /** `%APPDATA%` (Roaming) on Windows. */
  appData: string
  /** `%LOCALAPPDATA%` on Windows. */
  localAppData: string
  /** `$XDG_CONFIG_HOME`, else `~/.config`. */
  xdgConfig: string
  cwd: string
  /** Project directories whose project-scoped files (`.mcp.json`, `.vscode/mcp.json`…) to include. */
  projects: readonly string[]
  /** Environment variables that move a client's files (e.g. `CODEX_HOME`). */
  vars: Readonly<Record<string, string | undefined>>
}

/** The few file-system reads adapters need to find their files (globs over a directory). */
export interface DirLister {
  /** Names in `dir`, or [] when it does not exist. */
  list(dir: string): string[]
}

/** A config file a client reads. */
export interface ConfigLocation {
  client: string
  file: string
  scope: 'user' | 'project'
  /** The project directory of a project-scoped file. */
  project?: string
}

/** One MCP server entry in a client config file. */
export interface ClientServerEntry {
  /** Identity of the entry within its file, e.g. `['mcpServers', 'github']`. */
  key: string[]
  /** Where the entry's value sits in the parsed document. */
  path: (string | number)[]
  /** The client's name for the server. */
  name: string
  /** `local` is Claude Code's per-project entries inside `~/.claude.json`. */
  scope: 'user' | 'project' | 'local'
  project?: string
  transport: Transport
  command?: string
  args: string[]
  env: Record<string, string>
  cwd?: string
  url?: string
  /** The headers a URL entry sends (string values only). */
  headers?: Record<string, string>
  /** The entry's text: `text.slice(range.start, range.end)`. */
  range: { start: number; end: number }
  /** Whether the entry already runs `airlock connect`, or points at Airlock's HTTP endpoint with its token. */
  wrapped: boolean
  /** The Airlock server a wrapped entry names. */
  wrappedServer?: string
  /** Why Airlock cannot wrap this entry (managed by an extension, a layout it does not edit…). */
  unsupported?: string
  /** What an import cannot carry over (an `envFile`, pass-through env names…). */
  notes: string[]
  /** The entry's parsed value. */
  value: unknown
}

/** The command a wrapped entry runs: `node <script> connect <server>`, with optional env. */
export interface ShimCommand {
  /** Absolute path of the node executable. */
  node: string
  /** Absolute path of `bin/airlock.js`. */
  script: string
  /** Variables the shim needs (AIRLOCK_HOME when it is not the default). */
  env?: Record<string, string>
}

/** The gateway's loopback Streamable HTTP endpoint, for wrapping entries of clients that speak HTTP. */
export interface HttpEndpoint {
  /** `http://127.0.0.1:<port>/mcp/`; the server name is appended. */
  base: string
  /** The bearer token (`<home>/http-token`), sent as `Authorization: Bearer <token>`. */
  token: string
}

/** An entry to wrap and the Airlock server it is to name. */
export interface WrapTarget {
  entry: ClientServerEntry
  server: string
  /**
   * A wrapped entry whose node or shim path broke (what is missing): only its command and args
   * are rewritten to the current shim; its env (plus what the shim needs) and cwd stay.
   */
  repair?: string
}

/** What a wrap changed in one entry, kept in the backup manifest to restore it. */
export interface EntryRecord {
  key: string[]
  name: string
  server: string
  /** The entry's text before the wrap. */
  original: string
  /** The entry's text after the wrap. */
  wrapped: string
}

/** What a restore did. */
export interface RestoreResult {
  text: string
  restored: string[]
  /** Entries no longer in the file (left out). */
  missing: string[]
}

/** One MCP client. */
export interface ClientAdapter {
  readonly id: string
  readonly displayName: string
  readonly format: 'json' | 'toml' | 'yaml'
  /** Whether wrap can point this client's entries at the HTTP endpoint (the client speaks Streamable HTTP). */
  readonly supportsHttp: boolean
  /** Every file this client may read, user and project scopes (existing or not). */
  configFiles(env: ClientEnv, dirs: DirLister): ConfigLocation[]
  /** The config files of this client that exist (no duplicates): the client is set up here. */
  detect(env: ClientEnv, dirs: DirLister): ConfigLocation[]
  /** Parses a file's text; throws ClientConfigError (MALFORMED) naming the line and column. */
  parse(text: string, file: string): unknown
  /** The MCP server entries in a file's text. */
  read(text: string, location: ConfigLocation): ClientServerEntry[]
  /**
   * The text with each target rewritten to run the shim — or, given `http`, to reach the HTTP
   * endpoint (ClientConfigError UNSUPPORTED_LAYOUT when the client cannot); checked to parse and
   * to change nothing else.
   */
  wrap(
    text: string,
    targets: readonly WrapTarget[],
    shim: ShimCommand,
    location: ConfigLocation,
    http?: HttpEndpoint,
  ): string
  /** The text with the recorded entries put back as they were; checked like wrap. */
  restore(text: string, records: readonly EntryRecord[], location: ConfigLocation): RestoreResult
}

/** What an entry runs, as the adapters read it (optional fields absent when not given). */
export interface EntryFacts {
  transport: Transport
  command?: string
  args: string[]
  env: Record<string, string>
  cwd?: string
  url?: string
  headers?: Record<string, string>
  wrappedServer?: string
  unsupported?: string
  notes: string[]
}

/** The descriptive fields of a {@link ClientServerEntry}, shared by every adapter. */
export function entryFields(
  f: EntryFacts,
): Pick<
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
> {
  return {
    transport: f.transport,
    ...(f.command !== undefined ? { command: f.command } : {}),
    args: f.args,
    env: f.env,
    ...(f.cwd !== undefined ? { cwd: f.cwd } : {}),
    ...(f.url !== undefined ? { url: f.url } : {}),
    ...(f.headers !== undefined ? { headers: f.headers } : {}),
    wrapped: f.wrappedServer !== undefined,
    ...(f.wrappedServer !== undefined ? { wrappedServer: f.wrappedServer } : {}),
    ...(f.unsupported ? { unsupported: f.unsupported } : {}),
    notes: f.notes,
  }
}
