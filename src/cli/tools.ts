/**
 * `airlock tools list|diff|accept <server> [tool]`: the pinned tool definitions of a server,
 * what changed since they were pinned (old and new side by side), and accepting a change. Through
 * the running gateway's control API when one answers, else on the data directory's pin files.
 */
import { dataDir, dataPaths } from '../node/paths'
import type { PinView, ToolDefinition } from '../shared/tool-pins'
import { definitionChanges, fieldText, pinDate, sideBySide } from '../shared/tool-pins'
import { PinError, PinStore } from '../gateway/proxy/tool-pins'
import { findServer, loadConfig, noExtraPositionals, parseCommandArgs, positional } from './args'
import { CliError, cliErrors } from './cli-error'
import { runningGateway } from './gateway-client'
import { terminalText } from '../shared/text'

const USAGE =
  'airlock tools list <server> | diff <server> [tool] (exit 0 same, 1 differs, 3 cannot compare) | accept <server> [tool]'

/** `tools diff` exit codes, as `git diff --exit-code` and `policy replay` use them. */
const DIFF_SAME = 0
const DIFF_DIFFERS = 1
const DIFF_FAILED = 3

/** Where pins are read and accepted: the running gateway, or the pin files. */
interface PinSource {
  list(server: string): Promise<PinView[]>
  accept(server: string, tool?: string): Promise<string[]>
  close(): void
}

/** Runs `airlock tools <sub> …`. */
export async function toolsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  switch (sub) {
    case 'list':
      return withSource(rest, 'tools list', 1, async (src, server, _tool, json) => {
        const pins = await src.list(server)
        if (json) process.stdout.write(JSON.stringify(pins, null, 2) + '\n')
        else process.stdout.write(listText(server, pins))
        return 0
      })
    case 'diff':
      return withSource(rest, 'tools diff', 2, diffCommand).catch((err: unknown) => {
        // Exit 1 means "something differs", so a failure to compare must not exit 1 too.
        if (err instanceof CliError && err.exitCode === 1)
          throw new CliError(err.message, DIFF_FAILED, { cause: err })
        throw err
      })
    case 'accept':
      return withSource(rest, 'tools accept', 2, async (src, server, tool) => {
        const accepted = await src.accept(server, tool)
        if (accepted.length === 0) {
          process.stdout.write(
            tool === undefined
              ? `Nothing to accept: no tool of "${server}" changed or is new.\n`
              : `Nothing to accept: "${tool}" on "${server}" is as it was pinned.\n`,
          )
          return 0
        }
        for (const name of accepted)
          process.stdout.write(
            `Accepted "${terminalText(name, 256)}" on "${server}": the definition it lists now is its pin.\n`,
          )
        return 0
      })
    case undefined:
      throw new CliError(`missing a subcommand; usage: ${USAGE}`, 2)
    default:
      throw new CliError(`unknown subcommand "tools ${sub}"; usage: ${USAGE}`, 2)
  }
}

/**
 * `airlock tools diff <server> [tool]`: each changed tool's fields, pinned and current side by
 * side; new tools (pinned on sight) are listed too. Exit 0 when no tool differs from its pin, 1
 * when one does (only new ones: 0), 3 when it could not compare (no such server or tool, the
 * gateway refused), 2 for a usage error.
 */
async function diffCommand(
  src: PinSource,
  server: string,
  tool: string | undefined,
  json: boolean,
): Promise<number> {
  const pins = await src.list(server)
  if (tool !== undefined && !pins.some((p) => p.name === tool))
    throw new CliError(noTool(server, tool, pins), DIFF_FAILED)
  const shown = pins.filter((p) => p.state !== 'pinned' && (tool === undefined || p.name === tool))
  const code = shown.some((p) => p.state === 'changed') ? DIFF_DIFFERS : DIFF_SAME
  if (json) {
    process.stdout.write(JSON.stringify(shown, null, 2) + '\n')
    return code
  }
  if (shown.length === 0) {
    process.stdout.write(
      tool === undefined
        ? `No tool of "${server}" changed since it was pinned, and none is new.\n`
        : `"${tool}" on "${server}" is as it was pinned on ${pinDate(pins.find((p) => p.name === tool)?.pinnedAt ?? '')}.\n`,
    )
    return code
  }
  const width = Math.max(60, Math.min(200, process.stdout.columns ?? 120))
  for (const p of shown) process.stdout.write(diffText(server, p, width))
  process.stdout.write(
    `Accept with "airlock tools accept ${server}${tool === undefined ? '' : ` ${tool}`}" once you have read it.\n`,
  )
  return code
}

async function withSource(
  argv: string[],
  command: string,
  maxPositionals: number,
  fn: (src: PinSource, server: string, tool: string | undefined, json: boolean) => Promise<number>,
): Promise<number> {
  const { values, positionals } = parseCommandArgs(command, argv, {
    json: { type: 'boolean', default: false },
  })
  const usage = `airlock ${command} <server>${maxPositionals > 1 ? ' [tool]' : ''} [--json]`
  const server = positional(positionals, 0, 'the server', usage)
  noExtraPositionals(positionals, maxPositionals, usage)
  const tool = positionals[1]
  const src = await openSource()
  try {
    return await fn(src, server, tool, values.json === true)
  } finally {
    src.close()
  }
}

/** The running gateway when one answers; else the pin files of the data directory. */
async function openSource(): Promise<PinSource> {
  const home = dataDir()
  // No gateway: work on the files.
  const c = await runningGateway(home)
  if (c) {
    return {
      list: (server) => cliErrors(c.api.pins.list({ server })),
      accept: async (server, tool) =>
        (await cliErrors(c.api.pins.accept({ server, ...(tool === undefined ? {} : { tool }) })))
          .accepted,
      close: () => c.close(),
    }
  }
  const config = loadConfig(dataPaths(home).config)
  const store = new PinStore(dataPaths(home).pins, Date.now, (m) =>
    process.stderr.write(`airlock: ${m}\n`),
  )
  return {
    list: (server) => {
      findServer(config, server)
      return Promise.resolve(store.view(server))
    },
    accept: (server, tool) => {
      findServer(config, server)
      try {
        return Promise.resolve(store.accept(server, tool))
      } catch (err) {
        if (err instanceof PinError) throw new CliError(err.message, 1, { cause: err })
        throw err
      }
    },
    close: () => undefined,
  }
}

function noTool(server: string, tool: string, pins: PinView[]): string {
  const known = pins
    .slice(0, 20)
    .map((p) => p.name)
    .join(', ')
  return `server "${server}" has no pinned tool "${tool}"${known ? ` (its tools: ${known})` : ' (it has listed no tools yet)'}; see "airlock tools list ${server}"`
}

/** `tools list`: one line per tool, changed and new ones first. */
export function listText(server: string, pins: PinView[]): string {
  if (pins.length === 0)
    return `No tool of "${server}" is pinned yet: its tools are pinned the first time an agent lists them.\n`
  const w = Math.min(40, Math.max(...pins.map((p) => terminalText(p.name, 40).length)))
  const lines = pins.map((p) => {
    const name = terminalText(p.name, 40).padEnd(w)
    const when = `pinned ${pinDate(p.pinnedAt)}`
    switch (p.state) {
      case 'changed':
        return `  ${name}  CHANGED  ${when}; differs since ${pinDate(p.seenAt ?? '')}: airlock tools diff ${server} ${p.name}`
      case 'new':
        return `  ${name}  new      ${when} (appeared after the first list)`
      default:
        return `  ${name}  pinned   ${when}  sha256:${p.hash.slice(0, 12)}`
    }
  })
  const changed = pins.filter((p) => p.state === 'changed').length
  const added = pins.filter((p) => p.state === 'new').length
  const head =
    changed || added
      ? `Tools of "${server}": ${changed} changed, ${added} new (review with "airlock tools diff ${server}")\n`
      : `Tools of "${server}": all as pinned\n`
  return head + lines.join('\n') + '\n'
}

/** `tools diff` for one tool: each changed field, old and new side by side. */
export function diffText(server: string, p: PinView, width: number): string {
  const col = Math.floor((width - 3) / 2)
  const out: string[] = []
  if (p.state === 'new') {
    out.push(
      `"${terminalText(p.name, 256)}" on "${server}" is NEW: first listed ${pinDate(p.pinnedAt)}, after the server's first list`,
    )
  } else {
    out.push(
      `"${terminalText(p.name, 256)}" on "${server}" CHANGED: pinned ${pinDate(p.pinnedAt)}, different since ${pinDate(p.seenAt ?? '')}`,
    )
  }
  const before: ToolDefinition = p.state === 'new' ? { name: p.name } : p.pinned
  const after: ToolDefinition = p.state === 'new' ? p.pinned : (p.current ?? p.pinned)
  for (const change of definitionChanges(before, after)) {
    out.push('')
    out.push(`${pad(`${change.field} (pinned)`, col)} | ${change.field} (now)`)
    out.push(`${'-'.repeat(col)}-+-${'-'.repeat(col)}`)
    for (const row of sideBySide(fieldText(before, change.field), fieldText(after, change.field))) {
      const left = wrap(terminalText(row.left), col)
      const right = wrap(terminalText(row.right), col)
      const mark =
        row.kind === 'same' ? ' ' : row.kind === 'removed' ? '<' : row.kind === 'added' ? '>' : '|'
      for (let i = 0; i < Math.max(left.length, right.length); i++)
        out.push(`${pad(left[i] ?? '', col)} ${i === 0 ? mark : ' '} ${right[i] ?? ''}`)
    }
  }
  return out.join('\n') + '\n\n'
}

function pad(text: string, n: number): string {
  return text.length >= n ? text : text + ' '.repeat(n - text.length)
}

function wrap(text: string, n: number): string[] {
  if (text === '') return ['']
  const out: string[] = []
  for (let i = 0; i < text.length; i += n) out.push(text.slice(i, i + n))
  return out
}
