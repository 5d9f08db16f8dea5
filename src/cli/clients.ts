/**
 * `airlock clients …`: the MCP clients on this machine (Claude Desktop, Cursor, VS Code…), their
 * servers and whether each is protected; `wrap` rewrites a client's stdio entries to run
 * `airlock connect <server>` (importing the servers into Airlock) — or, with `--http`, to reach
 * the gateway's loopback HTTP endpoint — and `restore` puts them back. `--dry-run` prints the
 * exact diff and writes nothing.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { HttpEndpoint, ShimCommand } from '../clients/adapters/adapter'
import { ClientConfigError } from '../clients/errors'
import { nodeClientFs } from '../clients/fs-port'
import {
  applyRestore,
  applyWrap,
  newServers,
  planRestore,
  planWrap,
  scanClients,
  wrapCommand,
  type ClientsContext,
  type FileReport,
  urlProblem,
} from '../clients/protect'
import { clientAdapters, clientEnvFromProcess } from '../clients/adapters/registry'
import { resolveShim } from '../clients/service'
import { TOKEN_INPUT_REF } from '../clients/shim-command'
import { ConfigError } from '../node/config-store'
import type { ServerConfig } from '../shared/contract/config'
import { FileSecretStore } from '../gateway/config/secret-store'
import { dataDir, dataPaths } from '../node/paths'
import { ensureUiToken } from '../gateway/http/ui-server'
import { configFailure, loadConfig, noExtraPositionals, parseCommandArgs, positional } from './args'
import { CliError } from './cli-error'
import { table } from './table'

const USAGE =
  'airlock clients [list] [--project DIR]... [--json] | wrap <client> [--server NAME]... [--http [--port N]] [--dry-run] [--project DIR]... | restore <client> [--server NAME]... [--dry-run]'
const WRAP_USAGE =
  'airlock clients wrap <client> [--server NAME]... [--http [--port N]] [--dry-run] [--project DIR]...'
const RESTORE_USAGE = 'airlock clients restore <client> [--server NAME]... [--dry-run]'

/** Runs `airlock clients <sub> …`; returns the exit code. */
export async function clientsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  switch (sub) {
    case undefined:
    case 'list':
    case 'ls':
      return list(sub === undefined ? argv : rest)
    case 'wrap':
      return wrap(rest)
    case 'restore':
      return restore(rest)
    default:
      if (sub.startsWith('-')) return list(argv)
      throw new CliError(`unknown subcommand "clients ${sub}"; usage: ${USAGE}`, 2)
  }
}

/** The client tools' context for this process: its user's files, `projects`' files, this data directory. */
export function context(projects: readonly string[]): ClientsContext {
  return {
    adapters: clientAdapters,
    env: clientEnvFromProcess(projects.length ? projects : [process.cwd()]),
    fs: nodeClientFs(),
    home: dataDir(),
    // As `servers add` keeps them: secrets.json (0600); the desktop app moves them to the keychain.
    secrets: new FileSecretStore(path.join(dataDir(), 'secrets.json')),
  }
}

/**
 * The shim the wrapped entries run (`resolveShim`: this node, the bin/airlock.js the CLI was run
 * as (else this install's), and
 * AIRLOCK_HOME / AIRLOCK_SOCKET_DIR when they are not the defaults).
 */
export function shimCommand(home: string, env: NodeJS.ProcessEnv = process.env): ShimCommand {
  try {
    return resolveShim({ home, env, invoked: process.argv[1] })
  } catch (err) {
    throw new CliError((err as Error).message, 1, { cause: err })
  }
}

/**
 * The HTTP endpoint wrapped entries reach: `--port`, else the port the running gateway recorded;
 * with neither, an error that says how to start one (a guessed port would leave the client
 * pointing at nothing). The token from `<home>/http-token` (created when missing).
 */
export function httpEndpoint(home: string, port?: string): HttpEndpoint {
  let n = port === undefined ? undefined : Number(port)
  if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > 65535))
    throw new CliError(
      `--port ${port}: expected the TCP port "airlock serve" listens on (1-65535); usage: ${WRAP_USAGE}`,
      2,
    )
  if (n === undefined) {
    try {
      const recorded = Number(fs.readFileSync(dataPaths(home).httpPort, 'utf8').trim())
      if (Number.isInteger(recorded) && recorded > 0 && recorded < 65536) n = recorded
    } catch {
      // No gateway with an HTTP server recorded its port: the default.
    }
  }
  if (n === undefined)
    throw new CliError(
      `no running Airlock gateway serves MCP over HTTP for ${home}, so there is no port to write; start one ("airlock serve", or the Airlock app) and run this again, or name the port it will use with --port N`,
      1,
    )
  const token = ensureUiToken(dataPaths(home).httpToken, 'MCP endpoint token')
  return { base: `http://127.0.0.1:${n}/mcp/`, token }
}

/** `file` with the home directory shown as `~`. */
export function tilde(file: string): string {
  const home = os.homedir()
  return home && file.startsWith(home + '/') ? `~${file.slice(home.length)}` : file
}

function clientError(err: unknown): never {
  if (err instanceof ClientConfigError)
    throw new CliError(
      err.message,
      err.code === 'NOT_FOUND' && err.file === '' ? 2 : err.code === 'MALFORMED' ? 3 : 1,
      { cause: err },
    )
  if (err instanceof ConfigError) configFailure(err)
  throw err
}

function list(argv: string[]): number {
  const { values, positionals } = parseCommandArgs('clients', argv, {
    project: { type: 'string', multiple: true },
    json: { type: 'boolean', default: false },
  })
  noExtraPositionals(positionals, 0, USAGE)
  const ctx = context(values.project ?? [])
  const config = loadConfig(dataPaths(ctx.home).config)
  let reports: FileReport[]
  try {
    reports = scanClients(ctx, undefined, config)
  } catch (err) {
    return clientError(err)
  }
  if (values.json) {
    const out = reports.map((r) => ({
      client: r.client.id,
      file: r.location.file,
      scope: r.location.scope,
      ...(r.error ? { error: r.error.message } : {}),
      servers: r.entries.map((s) => ({
        name: s.entry.name,
        scope: s.entry.scope,
        ...(s.entry.project ? { project: s.entry.project } : {}),
        route: s.entry.transport,
        protected: s.protected,
        ...(s.broken ? { broken: true } : {}),
        ...(s.entry.wrappedServer ? { airlockServer: s.entry.wrappedServer } : {}),
        ...(s.problem ? { problem: s.problem } : {}),
      })),
    }))
    process.stdout.write(JSON.stringify(out, null, 2) + '\n')
    return 0
  }
  if (reports.length === 0) {
    process.stdout.write(
      `no MCP client config files found (looked for ${clientAdapters.map((a) => a.displayName).join(', ')}); add --project DIR for a project's files\n`,
    )
    return 0
  }
  const rows: string[][] = []
  for (const r of reports) {
    if (r.error)
      rows.push([r.client.id, tilde(r.location.file), '-', '-', '?', 'unreadable (see below)'])
    else if (r.entries.length === 0)
      rows.push([r.client.id, tilde(r.location.file), '-', '-', '-', 'no servers'])
    for (const s of r.entries) {
      const name =
        s.entry.scope === 'local' && s.entry.project
          ? `${s.entry.name} (${tilde(s.entry.project)})`
          : s.entry.name
      rows.push([
        r.client.id,
        tilde(r.location.file),
        name,
        s.entry.transport,
        s.protected ? 'yes' : s.broken ? 'broken' : 'no',
        s.problem ??
          (s.entry.wrappedServer && s.entry.wrappedServer !== s.entry.name
            ? `as ${s.entry.wrappedServer}`
            : ''),
      ])
    }
  }
  process.stdout.write(
    table(['CLIENT', 'CONFIG FILE', 'SERVER', 'ROUTE', 'PROTECTED', 'NOTE'], rows),
  )
  for (const r of reports) if (r.error) process.stderr.write(`airlock: ${r.error.message}\n`)
  const open = reports.flatMap((r) =>
    r.entries
      .filter((s) => !s.protected && !s.broken && !s.entry.unsupported && !urlProblem(s.entry))
      .map(() => r.client.id),
  )
  if (open.length)
    process.stdout.write(
      `\nprotect them with: ${[...new Set(open)].map((c) => `airlock clients wrap ${c}`).join(' ; ')}\n`,
    )
  const broken = reports.flatMap((r) => {
    const names = r.entries.filter((s) => s.broken).map((s) => s.entry.name)
    return names.length ? [wrapCommand(r.client.id, r.location, names)] : []
  })
  if (broken.length)
    process.stdout.write(
      `\nbroken entries reach nothing (their node or shim path is gone); repair them with: ${broken.join(' ; ')}\n`,
    )
  return reports.some((r) => r.error) ? 1 : 0
}

/** What an added server runs, or the remote it reaches and where its secret headers went. */
function serverLine(s: ServerConfig): string {
  if (s.url === undefined) return [s.command, ...s.args].join(' ')
  const secret = s.secretHeaders ?? []
  return `${s.url}${secret.length ? `; ${secret.join(', ')} kept in the secret store, not config.json` : ''}`
}

function wrap(argv: string[]): number {
  const { values, positionals } = parseCommandArgs('clients wrap', argv, {
    server: { type: 'string', multiple: true },
    'dry-run': { type: 'boolean', default: false },
    project: { type: 'string', multiple: true },
    http: { type: 'boolean', default: false },
    port: { type: 'string' },
  })
  const clientId = positional(positionals, 0, 'the client (e.g. claude-desktop)', WRAP_USAGE)
  noExtraPositionals(positionals, 1, WRAP_USAGE)
  if (values.port !== undefined && !values.http)
    throw new CliError(`--port only goes with --http; usage: ${WRAP_USAGE}`, 2)
  const ctx = context(values.project ?? [])
  const configFile = dataPaths(ctx.home).config
  const config = loadConfig(configFile)
  const dry = values['dry-run']
  try {
    const http = values.http ? httpEndpoint(ctx.home, values.port) : undefined
    const shim = shimCommand(ctx.home)
    const plan = planWrap(ctx, clientId, {
      ...(values.server ? { servers: values.server } : {}),
      shim,
      existing: config.servers,
      ...(http ? { http } : {}),
    })
    const out = process.stdout
    if (plan.files.length === 0 && plan.skipped.length === 0 && plan.errors.length === 0) {
      const looked = plan.client.configFiles(ctx.env, ctx.fs).map((l) => `  ${tilde(l.file)}`)
      throw new CliError(
        `no ${plan.client.displayName} config file found; looked in:\n${looked.join('\n')}`,
        1,
      )
    }
    for (const f of plan.files) if (dry) out.write(f.diff)
    const add = newServers(plan)
    let written: string[] = []
    let errors = plan.errors
    if (!dry && plan.files.length) {
      const result = applyWrap(ctx, plan, configFile)
      written = result.written
      errors = [...errors, ...result.errors]
    }
    if (add.length)
      out.write(
        `${dry ? 'would add' : 'added'} to Airlock: ${add.map((s) => `${s.name} (${serverLine(s)})`).join(', ')}\n`,
      )
    for (const f of plan.files) {
      const names = f.targets
        .filter((t) => !t.repair)
        .map((t) => (t.server === t.entry.name ? t.entry.name : `${t.entry.name} → ${t.server}`))
      const repaired = f.targets
        .filter((t) => t.repair)
        .map((t) => `${t.entry.name} (${t.repair ?? ''})`)
      const ok = dry || written.includes(f.location.file)
      if (ok && names.length)
        out.write(
          `${dry ? 'would wrap' : 'wrapped'} in ${tilde(f.location.file)}: ${names.join(', ')}\n`,
        )
      if (ok && repaired.length)
        out.write(
          `${dry ? 'would repair' : 'repaired'} in ${tilde(f.location.file)} (now ${`${shim.node} ${shim.script}`}): ${repaired.join(', ')}\n`,
        )
      if (ok && http && f.after.includes(TOKEN_INPUT_REF))
        out.write(
          `note: ${tilde(f.location.file)} ${dry ? 'would reference' : 'references'} the token as ${TOKEN_INPUT_REF}: ${plan.client.displayName} asks for it once and keeps it in its secret storage; paste the contents of ${tilde(dataPaths(ctx.home).httpToken)}\n`,
        )
      if (ok && f.holdsToken)
        out.write(
          `note: ${tilde(f.location.file)} ${dry ? 'would hold' : 'now holds'} the Airlock HTTP token (${plan.client.displayName} takes no reference to a secret it can resolve), so Airlock ${dry ? 'would make' : 'made'} it readable by you only (0600)\n`,
        )
    }
    for (const s of plan.skipped)
      out.write(`left alone: ${s.name} in ${tilde(s.location.file)}: ${s.reason}\n`)
    for (const w of plan.imports.flatMap((i) => i.warnings.map((m) => `${i.entry.name}: ${m}`)))
      out.write(`note: ${w}\n`)
    if (dry) out.write('dry run: nothing was written\n')
    else if (written.length) {
      if (http)
        out.write(
          `the entries reach ${http.base}<server> with the token of ${tilde(dataPaths(ctx.home).httpToken)}: keep "airlock serve" running on that port (airlock serve --port ${new URL(http.base).port})\n`,
        )
      out.write(
        `restart ${plan.client.displayName} to apply; "airlock clients restore ${plan.client.id}" undoes this (backups in ${tilde(ctx.home)}/backups/${plan.client.id})\n`,
      )
    } else if (plan.files.length === 0 && errors.length === 0)
      out.write(`nothing to wrap in ${plan.client.displayName}\n`)
    for (const e of errors) process.stderr.write(`airlock: ${e.message}\n`)
    return errors.length ? (errors.some((e) => e.code === 'MALFORMED') ? 3 : 1) : 0
  } catch (err) {
    return clientError(err)
  }
}

function restore(argv: string[]): number {
  const { values, positionals } = parseCommandArgs('clients restore', argv, {
    server: { type: 'string', multiple: true },
    'dry-run': { type: 'boolean', default: false },
  })
  const clientId = positional(positionals, 0, 'the client (e.g. claude-desktop)', RESTORE_USAGE)
  noExtraPositionals(positionals, 1, RESTORE_USAGE)
  const ctx = context([])
  const dry = values['dry-run']
  try {
    const plan = planRestore(ctx, clientId, values.server ? { servers: values.server } : {})
    const out = process.stdout
    if (plan.files.length === 0 && plan.errors.length === 0) {
      out.write(
        `nothing to restore: Airlock has not wrapped ${values.server ? `${values.server.join(', ')} of ` : ''}${plan.client.displayName}${plan.gone.length ? ` (its wrapped files are gone: ${plan.gone.map((g) => tilde(g.file)).join(', ')})` : ''}\n`,
      )
      if (!dry && plan.gone.length) applyRestore(ctx, plan)
      return 0
    }
    for (const f of plan.files) if (dry) out.write(f.diff)
    let written: string[] = []
    let errors = plan.errors
    if (!dry) {
      const result = applyRestore(ctx, plan)
      written = result.written
      errors = [...errors, ...result.errors]
    }
    for (const f of plan.files) {
      if (!dry && !written.includes(f.location.file)) continue
      const how = f.method === 'backup' ? 'the backup, byte for byte' : 'the original entries'
      out.write(
        `${dry ? 'would restore' : 'restored'} ${tilde(f.location.file)} from ${how}: ${f.restored.join(', ') || '(nothing)'}\n`,
      )
      if (f.note) out.write(`note: ${f.note}\n`)
      if (f.missing.length)
        out.write(`note: no longer in the file, left out: ${f.missing.join(', ')}\n`)
    }
    if (dry) out.write('dry run: nothing was written\n')
    else if (written.length)
      out.write(
        `restart ${plan.client.displayName} to apply; the servers stay in Airlock's config ("airlock servers remove <name>" removes one)\n`,
      )
    for (const e of errors) process.stderr.write(`airlock: ${e.message}\n`)
    return errors.length ? 1 : 0
  } catch (err) {
    return clientError(err)
  }
}
