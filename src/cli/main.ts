/**
 * The `airlock` command line. Each command lives in its own module; this file only dispatches.
 * Exit codes: 0 ok, 1 failure (or a "deny" from `policy eval`), 2 usage / needs approval, 3 invalid input.
 */
import { dataDir, dataDirProblem, DataDirError, isDataDirError } from '../node/paths'
import { CliError } from './cli-error'
import { serveCommand } from './serve'
import { serversCommand } from './servers'
import { policyCommand } from './policy'
import { auditCommand } from './audit'
import { statusCommand } from './status'
import { clientsCommand } from './clients'
import { settingsCommand } from './settings'
import { openCommand } from './open'
import { toolsCommand } from './tools'
import { pauseCommand } from './pause'

const USAGE = `airlock — an MCP gateway: every tool call passes a policy and lands in an audit log

Usage:
  airlock serve [--background]               run the gateway headless (approvals answered in this terminal)
  airlock connect <server>                   the stdio proxy MCP clients run (see README)
  airlock status [--json]                    is the gateway running; sessions; pending approvals; the web UI link
  airlock pause | resume                     deny every tool call until resumed (saved: holds after a restart)
  airlock open [--print]                     open the web UI of "airlock serve" (with its token) and print the link
  airlock servers add <name> [--env K=V]... [--secret-env K=V]... [--cwd DIR] [--policy FILE] -- <command> [args...]
  airlock servers add <name> --url <http(s)://…> [--header "Name: value"]... [--secret-header Name]... [--policy FILE]
  airlock servers list | remove <name> | enable <name> | disable <name>
  airlock servers login <name> [--no-wait] | logout <name>   sign in to (or out of) a remote server that uses OAuth
  airlock policy set <server> <file.yaml|json>
  airlock policy show <server>
  airlock policy check <file>
  airlock policy eval --policy FILE --tool NAME [--args JSON] [--client NAME]
  airlock policy replay --policy FILE [--server S] [--since 7d]   recorded calls decided again by a draft (exit 1: something changes)
  airlock tools list <server> [--json]         the pinned tool definitions: changed, new, as pinned
  airlock tools diff <server> [tool] [--json]   what changed since a tool was pinned, old and new side by side
                                               (exit 0 nothing differs, 1 a tool differs from its pin, 3 cannot compare)
  airlock tools accept <server> [tool]        accept a changed (or new) tool: its definition becomes the pin
  airlock settings [show] | set <key> <value>  e.g. "airlock settings set riskFloor high" (critical | high | off)
  airlock audit tail [-n N] [-f]
  airlock audit query [--server S] [--tool T] [--decision D[,D…]|blocked] [--client C] [--since TIME] [--text T] [--limit N] [--json]
  airlock audit export --format csv|jsonl [filters as for query] [--out FILE]
  airlock audit verify
  airlock clients [--project DIR]... [--json]  MCP clients found here, their servers, protected or not
  airlock clients wrap <client> [--server NAME]... [--http [--port N]] [--dry-run] [--project DIR]...
  airlock clients restore <client> [--server NAME]... [--dry-run]
  airlock doctor [--client ID] [--project DIR]... [--json]   run each client entry as its client would: protected? working?

AIRLOCK_HOME sets the data directory (default: the platform's app-data directory for "Airlock").
`

/**
 * A reader that goes away (`airlock audit query | head -1`) is not a failure: a command ends
 * quietly with exit 0. `serve` keeps running (its terminal output is not its job).
 */
function quietOnClosedPipe(exit: boolean): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err
      if (exit) process.exit(0)
    })
  }
}

/** Runs the CLI with the given arguments (without node and script). */
export async function run(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  quietOnClosedPipe(cmd !== 'serve')
  switch (cmd) {
    case 'serve':
      return serveCommand(rest)
    case 'servers':
      return serversCommand(rest)
    case 'policy':
      return policyCommand(rest)
    case 'audit':
      return auditCommand(rest)
    case 'status':
      return statusCommand(rest)
    case 'clients':
      return clientsCommand(rest)
    case 'doctor':
      // The doctor runs the MCP SDK's client: loaded for it only.
      return (await import('./doctor')).doctorCommand(rest)
    case 'settings':
      return settingsCommand(rest)
    case 'tools':
      return toolsCommand(rest)
    case 'open':
      return openCommand(rest)
    case 'pause':
      return pauseCommand(true, rest)
    case 'resume':
      return pauseCommand(false, rest)
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE)
      return cmd === undefined ? 2 : 0
    default:
      throw new CliError(`unknown command "${cmd}"; run "airlock help" for the list`, 2)
  }
}

run(process.argv.slice(2)).then(
  (code) => {
    if (code !== -1) process.exitCode = code
  },
  (err: unknown) => {
    if (err instanceof CliError) {
      process.stderr.write(`airlock: ${err.message}\n`)
      process.exitCode = err.exitCode
    } else if (err instanceof DataDirError || isDataDirError(dataDir(), err)) {
      // Any command that writes the data directory: one line naming it and what to do.
      const problem = err instanceof DataDirError ? err : dataDirProblem(dataDir(), err)
      process.stderr.write(`airlock: ${problem.message}\n`)
      process.exitCode = 1
    } else {
      process.stderr.write(`airlock: ${(err as Error).stack ?? String(err)}\n`)
      process.exitCode = 1
    }
  },
)
