/**
 * Importing client entries as Airlock servers: the command, args, env and cwd move into
 * Airlock's config (placeholders such as `${VAR}` and `${input:id}` kept as written), under a
 * name `airlock connect` accepts. A server already configured with the same command, args, env
 * and cwd is reused, whatever its name; a name taken by another server gets the client's id as a
 * prefix.
 */
import path from 'node:path'
import {
  headerSecretKey,
  serverNameSchema,
  splitSecretHeaders,
  type ServerConfig,
} from '../shared/contract/config'
import type { ClientServerEntry } from './adapters/adapter'
import { placeholders } from './shim-command'

/** One entry's Airlock server: new (to add to config.json) or an identical one already there. */
export interface ImportedServer {
  entry: ClientServerEntry
  server: ServerConfig
  /** The server is already configured with this command; nothing is added. */
  reuse: boolean
  warnings: string[]
  /**
   * Secret values a new server needs in the secret store (a URL entry's Authorization and other
   * secret-looking headers), by store key. Never written to config.json.
   */
  secrets: Record<string, string>
}

const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH|PAT)$/i

/** `name` made into a valid Airlock server name (letters, digits, ".", "_", "-"; at most 64). */
export function airlockName(name: string): string {
  const n = name
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/-+$/, '')
    .slice(0, 64)
  return serverNameSchema.safeParse(n).success ? n : 'server'
}

/**
 * Whether two servers are the same: the same process (command, args, env, cwd), or the same
 * remote (URL, plain headers, names of the secret ones).
 */
export function sameServer(a: ServerConfig, b: ServerConfig): boolean {
  if (a.url !== undefined || b.url !== undefined) {
    const sorted = (h: Record<string, string> | undefined): string =>
      JSON.stringify(Object.entries(h ?? {}).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
    return (
      a.url === b.url &&
      sorted(a.headers) === sorted(b.headers) &&
      JSON.stringify([...(a.secretHeaders ?? [])].sort()) ===
        JSON.stringify([...(b.secretHeaders ?? [])].sort())
    )
  }
  const env = (s: ServerConfig): string =>
    JSON.stringify(Object.entries(s.env).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
  return (
    a.command === b.command &&
    JSON.stringify(a.args) === JSON.stringify(b.args) &&
    env(a) === env(b) &&
    (a.cwd ?? '') === (b.cwd ?? '')
  )
}

/**
 * The Airlock server config for a URL entry (not yet named uniquely), and the values of its
 * secret headers (for the secret store).
 */
export function remoteFromEntry(
  entry: ClientServerEntry & { url: string },
  name: string,
): { server: ServerConfig; secrets: Record<string, string> } {
  const { plain, secret } = splitSecretHeaders(entry.headers ?? {})
  const secrets: Record<string, string> = {}
  for (const [k, v] of Object.entries(secret)) secrets[headerSecretKey(k)] = v
  return {
    server: {
      name,
      url: entry.url,
      args: [],
      env: {},
      secretEnv: [],
      ...(Object.keys(plain).length ? { headers: plain } : {}),
      ...(Object.keys(secret).length ? { secretHeaders: Object.keys(secret) } : {}),
      enabled: true,
    },
    secrets,
  }
}

/** The Airlock server config for a stdio entry (not yet named uniquely). */
export function serverFromEntry(entry: ClientServerEntry, name: string): ServerConfig {
  let cwd = entry.cwd
  // Project-scoped entries run in their project directory; a relative cwd is relative to it.
  if (entry.project && (cwd === undefined || (!path.isAbsolute(cwd) && !cwd.startsWith('$'))))
    cwd = cwd ? path.resolve(entry.project, cwd) : entry.project
  return {
    name,
    command: entry.command ?? '',
    args: [...entry.args],
    env: { ...entry.env },
    secretEnv: Object.keys(entry.env).filter((k) => SECRET_NAME.test(k)),
    ...(cwd !== undefined ? { cwd } : {}),
    enabled: true,
  }
}

/**
 * Names and configs for the entries of `client`, given the servers already configured. Entries
 * are named in order; later entries see the names earlier ones took.
 */
export function importServers(
  entries: readonly ClientServerEntry[],
  client: string,
  existing: readonly ServerConfig[],
  /**
   * A configured server's stored secret (store key, e.g. `header:Authorization`). A remote entry
   * is routed to an existing server only when its secret header values are the same ones: the
   * same URL with another token is another account. Absent: such entries get a server of their own.
   */
  storedSecret?: (server: string, key: string) => string | undefined,
): ImportedServer[] {
  const taken = [...existing]
  const planned = new Map<string, Record<string, string>>()
  const out: ImportedServer[] = []
  for (const entry of entries) {
    const base = airlockName(entry.name)
    const remote =
      entry.transport !== 'stdio' && entry.url !== undefined
        ? remoteFromEntry({ ...entry, url: entry.url }, base)
        : undefined
    const candidate = remote ? remote.server : serverFromEntry(entry, base)
    const secrets = remote?.secrets ?? {}
    const same = (s: ServerConfig): boolean =>
      sameServer(s, candidate) &&
      Object.entries(secrets).every(
        ([k, v]) => (planned.get(s.name)?.[k] ?? storedSecret?.(s.name, k)) === v,
      )
    // A server already configured with this very command, args, env and cwd (or URL and
    // headers) is the same server, whatever it is called: the entry is routed to it and its policy.
    let chosen: ServerConfig | undefined = taken.find(same)
    let reuse = chosen !== undefined
    for (let n = 0; n < 1000 && !chosen; n++) {
      const name =
        n === 0
          ? base
          : airlockName(`${client}-${base}`.slice(0, n === 1 ? 64 : 60) + (n === 1 ? '' : `-${n}`))
      const other = taken.find((s) => s.name === name)
      if (!other) chosen = { ...candidate, name }
      else if (same(other)) {
        chosen = other
        reuse = true
      }
    }
    if (!chosen) throw new Error(`internal: no free Airlock name for "${entry.name}"`)
    if (!reuse) {
      taken.push(chosen)
      planned.set(chosen.name, secrets)
    }
    const warnings = [...entry.notes]
    const marks = placeholders([
      entry.command,
      ...entry.args,
      ...Object.values(entry.env),
      entry.cwd,
      ...(remote ? [entry.url, ...Object.values(entry.headers ?? {})] : []),
    ])
    if (marks.length) {
      if (remote)
        warnings.push(
          `${marks.join(', ')} ${marks.length === 1 ? 'is' : 'are'} filled in by the client; Airlock sends ${marks.length === 1 ? 'it' : 'them'} to "${chosen.name}" as written. Give the real value in Airlock (airlock servers remove ${chosen.name}, then airlock servers add ${chosen.name} --url <URL> --header "Name: value").`,
        )
      else
        warnings.push(
          `${marks.join(', ')} ${marks.length === 1 ? 'is' : 'are'} filled in by the client when it starts a server; Airlock passes ${marks.length === 1 ? 'it' : 'them'} to "${chosen.name}" as written. Put the real value in Airlock's config if the server needs it (airlock servers remove ${chosen.name}, then airlock servers add ${chosen.name} --env K=V … -- <command>).`,
        )
    }
    out.push({
      entry,
      server: chosen,
      reuse,
      warnings,
      secrets: reuse ? {} : (remote?.secrets ?? {}),
    })
  }
  return out
}
