/**
 * `airlock servers …`: add, list, remove, enable and disable the MCP servers in config.json.
 * Every change is a read-modify-write through the config store: an invalid config.json is
 * reported (exit 3) and never overwritten. A running gateway picks changes up by itself.
 */
import fs from 'node:fs'
import path from 'node:path'
import { FileSecretStore } from '../gateway/config/secret-store'
import { dataDir, dataPaths } from '../node/paths'
import {
  headerSecretKey,
  isHttpUrl,
  serverConfigSchema,
  splitSecretHeaders,
  type Config,
  type ServerConfig,
} from '../shared/contract/config'
import { excerpt } from '../shared/text'
import {
  changeConfig,
  findServer,
  loadConfig,
  noExtraPositionals,
  parseCommandArgs,
  parsePairs,
  positional,
} from './args'
import { CliError } from './cli-error'
import { table } from './table'
import { readPolicyFile } from './policy'
import { loginCommand, logoutCommand } from './server-login'

const ADD_USAGE =
  'airlock servers add <name> [--env K=V]... [--secret-env K=V]... [--cwd DIR] [--policy FILE] [--disabled] -- <command> [args...]\n' +
  '       airlock servers add <name> --url <http(s)://…> [--header "Name: value"]... [--secret-header Name]... [--policy FILE] [--disabled]'
const USAGE = `airlock servers add <name> … -- <command> [args...] | add <name> --url <URL> [--header "Name: value"]… | list [--json] | remove <name> | enable <name> | disable <name> | login <name> | logout <name>`

/** Runs `airlock servers <sub> …`; returns the exit code. */
export async function serversCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  const home = dataDir()
  const file = dataPaths(home).config
  switch (sub) {
    case 'add':
      return add(file, rest)
    case 'list':
    case 'ls':
      return list(file, rest)
    case 'remove':
    case 'rm':
      return remove(file, rest)
    case 'enable':
      return setEnabled(file, rest, true)
    case 'disable':
      return setEnabled(file, rest, false)
    case 'login':
      return loginCommand(rest)
    case 'logout':
      return logoutCommand(rest)
    case undefined:
      throw new CliError(`missing a subcommand; usage: ${USAGE}`, 2)
    default:
      throw new CliError(`unknown subcommand "servers ${sub}"; usage: ${USAGE}`, 2)
  }
}

function add(file: string, argv: string[]): number {
  // Everything after the first "--" is the server's command line, verbatim (its own flags included).
  const split = argv.indexOf('--')
  const own = split < 0 ? argv : argv.slice(0, split)
  const commandLine = split < 0 ? [] : argv.slice(split + 1)
  const { values, positionals } = parseCommandArgs('servers add', own, {
    env: { type: 'string', multiple: true },
    'secret-env': { type: 'string', multiple: true },
    cwd: { type: 'string' },
    policy: { type: 'string' },
    disabled: { type: 'boolean', default: false },
    url: { type: 'string' },
    header: { type: 'string', multiple: true },
    'secret-header': { type: 'string', multiple: true },
  })
  const name = positional(positionals, 0, 'the server name', ADD_USAGE)
  if (values.url !== undefined) {
    if (commandLine.length > 0 || values.env || values['secret-env'] || values.cwd !== undefined)
      throw new CliError(
        `--url adds a remote server, which Airlock connects to and never starts: give either --url or a command after "--" (with --env/--secret-env/--cwd), not both`,
        2,
      )
    return addRemote(file, name, positionals, values.url, values)
  }
  if (values.header || values['secret-header'])
    throw new CliError(
      `--header and --secret-header are for a remote server: add --url <http(s)://…>; usage: ${ADD_USAGE}`,
      2,
    )
  if (positionals.length > 1) {
    throw new CliError(
      `unexpected argument "${positionals[1] ?? ''}" before "--"; put the server's command after "--": ${ADD_USAGE}`,
      2,
    )
  }
  const [command, ...args] = commandLine
  if (command === undefined || command === '') {
    throw new CliError(
      `missing the command that starts the server after "--"; e.g. airlock servers add ${name} -- npx -y @modelcontextprotocol/server-memory`,
      2,
    )
  }

  const env = parsePairs('env', values.env)
  const secrets = parsePairs('secret-env', values['secret-env'])
  for (const key of Object.keys(secrets)) {
    if (key in env)
      throw new CliError(`"${key}" is given with both --env and --secret-env; give it once`, 3)
  }
  let cwd: string | undefined
  if (values.cwd !== undefined) {
    cwd = path.resolve(values.cwd)
    if (!isDirectory(cwd))
      throw new CliError(
        `--cwd ${values.cwd}: no such directory (${cwd}); create it or give another one`,
        3,
      )
  }
  const policy = values.policy === undefined ? undefined : readPolicyFile(values.policy).path

  const candidate = {
    name,
    command,
    args,
    env,
    secretEnv: Object.keys(secrets),
    ...(cwd === undefined ? {} : { cwd }),
    enabled: !values.disabled,
    ...(policy === undefined ? {} : { policy }),
  }
  const server = validServer(name, candidate)
  insertServer(file, server)
  // Secret values stay out of config.json: the headless store is secrets.json (0600); the
  // desktop app moves them into the OS keychain.
  const store = new FileSecretStore(path.join(path.dirname(file), 'secrets.json'))
  for (const [key, value] of Object.entries(secrets)) store.set(server.name, key, value)
  process.stdout.write(
    `added server "${server.name}": ${commandText(server)}${server.enabled ? '' : ' (disabled)'}\n`,
  )
  process.stdout.write(`  policy: ${policyText(server, undefined)}\n`)
  if (server.secretEnv.length > 0) {
    process.stdout.write(
      `  secret env ${server.secretEnv.join(', ')}: stored in ${path.join(path.dirname(file), 'secrets.json')} (mode 0600), not in config.json; the desktop app moves them to the OS keychain\n`,
    )
  }
  process.stdout.write(`  MCP clients connect with: airlock connect ${server.name}\n`)
  return 0
}

/** `servers add <name> --url …`: a remote server, its secret headers kept out of config.json. */
function addRemote(
  file: string,
  name: string,
  positionals: string[],
  url: string,
  values: { header?: string[]; 'secret-header'?: string[]; policy?: string; disabled?: boolean },
): number {
  if (positionals.length > 1)
    throw new CliError(`unexpected argument "${positionals[1] ?? ''}"; usage: ${ADD_USAGE}`, 2)
  if (!isHttpUrl(url))
    throw new CliError(
      `--url "${url}": expected an http:// or https:// URL of the remote MCP server (e.g. https://mcp.example.com/mcp)`,
      3,
    )
  const headers = parseHeaders(values.header)
  const marked = values['secret-header'] ?? []
  const given = new Set(Object.keys(headers).map((h) => h.toLowerCase()))
  for (const h of marked) {
    if (!given.has(h.toLowerCase()))
      throw new CliError(
        `--secret-header ${h}: no --header "${h}: …" gives its value; add one (the value then goes to the secret store)`,
        3,
      )
  }
  const { plain, secret } = splitSecretHeaders(headers, marked)
  const policy = values.policy === undefined ? undefined : readPolicyFile(values.policy).path
  const candidate = {
    name,
    url,
    ...(Object.keys(plain).length ? { headers: plain } : {}),
    ...(Object.keys(secret).length ? { secretHeaders: Object.keys(secret) } : {}),
    enabled: !values.disabled,
    ...(policy === undefined ? {} : { policy }),
  }
  const server = validServer(name, candidate)
  insertServer(file, server)
  const store = new FileSecretStore(path.join(path.dirname(file), 'secrets.json'))
  for (const [key, value] of Object.entries(secret))
    store.set(server.name, headerSecretKey(key), value)
  process.stdout.write(
    `added remote server "${server.name}": ${url}${server.enabled ? '' : ' (disabled)'}\n`,
  )
  process.stdout.write(`  policy: ${policyText(server, undefined)}\n`)
  if (Object.keys(secret).length > 0) {
    process.stdout.write(
      `  secret header ${Object.keys(secret).join(', ')}: stored in ${path.join(path.dirname(file), 'secrets.json')} (mode 0600), not in config.json; the desktop app moves them to the OS keychain\n`,
    )
  }
  process.stdout.write(`  MCP clients connect with: airlock connect ${server.name}\n`)
  return 0
}

/** `--header "Name: value"` options into a record; a malformed one is an invalid input (exit 3). */
function parseHeaders(options: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const option of options ?? []) {
    const colon = option.indexOf(':')
    const name = colon < 0 ? '' : option.slice(0, colon).trim()
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/.test(name))
      throw new CliError(
        `--header "${excerpt(option, 60)}": expected "Name: value" (e.g. --header "X-Team: search")`,
        3,
      )
    const value = option.slice(colon + 1).trim()
    if (/[\r\n\0]/.test(value))
      throw new CliError(`--header ${name}: a header value cannot contain line breaks`, 3)
    if (Object.keys(out).some((k) => k.toLowerCase() === name.toLowerCase()))
      throw new CliError(`--header ${name} is given twice; give it once`, 3)
    out[name] = value
  }
  return out
}

/** The candidate checked against the config schema, or exit 3 listing what is wrong. */
function validServer(name: string, candidate: unknown): ServerConfig {
  const parsed = serverConfigSchema.safeParse(candidate)
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (i) => `  ${i.path.length ? i.path.join('.') : '(server)'}: ${i.message}`,
    )
    throw new CliError(`cannot add server "${name}":\n${lines.join('\n')}`, 3)
  }
  return parsed.data
}

/** Appends a server to config.json; a name in use is refused (exit 1). */
function insertServer(file: string, server: ServerConfig): void {
  changeConfig(file, (config) => {
    if (config.servers.some((s) => s.name === server.name)) {
      throw new CliError(
        `a server named "${server.name}" already exists; run "airlock servers remove ${server.name}" first, or pick another name`,
        1,
      )
    }
    return { ...config, servers: [...config.servers, server] }
  })
}

function list(file: string, argv: string[]): number {
  const { values, positionals } = parseCommandArgs('servers list', argv, {
    json: { type: 'boolean', default: false },
  })
  noExtraPositionals(positionals, 0, 'airlock servers list [--json]')
  const config = loadConfig(file)
  const servers = config.servers.map(maskSecrets)
  if (values.json) {
    process.stdout.write(JSON.stringify(servers, null, 2) + '\n')
    return 0
  }
  if (servers.length === 0) {
    process.stdout.write(
      `no servers yet; add one with: airlock servers add <name> -- <command> [args...]\n`,
    )
    return 0
  }
  const rows = servers.map((s) => [
    s.name,
    s.enabled ? 'yes' : 'no',
    commandText(s),
    policyText(s, config),
  ])
  process.stdout.write(table(['NAME', 'ENABLED', 'COMMAND', 'POLICY'], rows))
  return 0
}

function remove(file: string, argv: string[]): number {
  const usage = 'airlock servers remove <name>'
  const { positionals } = parseCommandArgs('servers remove', argv, {})
  const name = positional(positionals, 0, 'the server name', usage)
  noExtraPositionals(positionals, 1, usage)
  changeConfig(file, (config) => {
    findServer(config, name)
    return { ...config, servers: config.servers.filter((s) => s.name !== name) }
  })
  new FileSecretStore(path.join(path.dirname(file), 'secrets.json')).delete(name)
  process.stdout.write(`removed server "${name}" (its policy file, if any, was left in place)\n`)
  return 0
}

function setEnabled(file: string, argv: string[], enabled: boolean): number {
  const verb = enabled ? 'enable' : 'disable'
  const usage = `airlock servers ${verb} <name>`
  const { positionals } = parseCommandArgs(`servers ${verb}`, argv, {})
  const name = positional(positionals, 0, 'the server name', usage)
  noExtraPositionals(positionals, 1, usage)
  let already = false
  changeConfig(file, (config) => {
    already = findServer(config, name).enabled === enabled
    return {
      ...config,
      servers: config.servers.map((s) => (s.name === name ? { ...s, enabled } : s)),
    }
  })
  process.stdout.write(`server "${name}" ${already ? `was already ${verb}d` : `${verb}d`}\n`)
  return 0
}

function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory()
  } catch {
    return false
  }
}

function maskSecrets(server: ServerConfig): ServerConfig {
  const secretHeaders = server.secretHeaders ?? []
  if (server.secretEnv.length === 0 && secretHeaders.length === 0) return server
  const env = { ...server.env }
  for (const key of server.secretEnv) env[key] = '********'
  if (secretHeaders.length === 0) return { ...server, env }
  const headers = { ...server.headers }
  for (const key of secretHeaders) headers[key] = '********'
  return { ...server, env, headers }
}

/** The command line as a shell would show it (words with spaces or quotes quoted), or the URL. */
function commandText(server: ServerConfig): string {
  if (server.command === undefined) return server.url ?? ''
  return [server.command, ...server.args].map(shellWord).join(' ')
}

function shellWord(word: string): string {
  return word !== '' && /^[A-Za-z0-9_@%+=:,./~-]+$/.test(word)
    ? word
    : `'${word.replace(/'/g, `'\\''`)}'`
}

function policyText(server: ServerConfig, config: Config | undefined): string {
  if (typeof server.policy === 'string') return server.policy
  if (server.policy !== undefined) return '(inline in config.json)'
  return config
    ? `(none: default ${config.settings.defaultPosture})`
    : '(none: the default posture applies; set one with "airlock policy set")'
}
