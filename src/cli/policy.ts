/**
 * `airlock policy …`: attach a policy file to a server (validated first), show it, check a file
 * with every problem located (`file:line:col: path: expected …`), and evaluate one tool call
 * offline, exiting with the decision's code so scripts and CI can test policies.
 */
import fs from 'node:fs'
import path from 'node:path'
import { policyPath } from '../node/config-store'
import { ToolCatalog } from '../gateway/proxy/tool-catalog'
import { classifyTool } from '../shared/risk'
import { dataDir, dataPaths } from '../node/paths'
import { replayAudit } from '../gateway/audit'
import type { ReplayReport } from '../shared/policy/replay'
import { parseTime } from './audit'
import type { Config, ServerConfig } from '../shared/contract/config'
import {
  CounterStore,
  decide,
  describeDecision,
  exitCodeFor,
  validatePolicy,
} from '../shared/policy'
import type { Decision, Policy, PolicyIssue } from '../shared/policy'
import { SERVER_REQUEST_KINDS } from '../shared/policy/types'
import {
  changeConfig,
  findServer,
  loadConfig,
  noExtraPositionals,
  parseCommandArgs,
  positional,
} from './args'
import { terminalText } from '../shared/text'
import { CliError } from './cli-error'
import {
  describeProtection,
  toolVerdict,
  type Protection,
  type ToolVerdict,
} from '../shared/protection'

const USAGE =
  'airlock policy set <server> <file> | show <server> | check <file> | replay --policy FILE [--server S] [--since 7d] [--json] | eval --policy FILE --tool NAME [--args JSON] [--session ID] [--client NAME] [--client-version V] [--risk-floor critical|high|off]'
const EVAL_USAGE =
  'airlock policy eval --policy FILE --tool NAME [--args \'{"key":"value"}\'] [--session ID] [--client NAME] [--client-version V] [--risk-floor critical|high|off]'

/** Runs `airlock policy <sub> …`; returns the exit code (for `eval`, the decision's). */
export async function policyCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  switch (sub) {
    case 'set':
      return set(rest)
    case 'show':
      return show(rest)
    case 'check':
      return check(rest)
    case 'eval':
      return evaluate(rest)
    case 'replay':
      return replay(rest)
    case undefined:
      throw new CliError(`missing a subcommand; usage: ${USAGE}`, 2)
    default:
      throw new CliError(`unknown subcommand "policy ${sub}"; usage: ${USAGE}`, 2)
  }
}

/** A problem as `file:line:col: path: expected …` (line and column when known). */
export function formatLocated(issue: PolicyIssue): string {
  const where =
    issue.line === undefined ? issue.file : `${issue.file}:${issue.line}:${issue.column ?? 1}`
  return issue.path === ''
    ? `${where}: expected ${issue.expected}`
    : `${where}: ${issue.path}: expected ${issue.expected}`
}

/**
 * Reads and validates a policy file. Returns its absolute path and the parsed policy; an
 * unreadable or invalid file is exit 3 with every problem located; `consequence` says what did
 * not happen because of it.
 */
export function readPolicyFile(
  file: string,
  consequence = 'nothing was written',
): { path: string; policy: Policy; text: string } {
  const abs = path.resolve(file)
  const text = readText(abs, file)
  const result = validatePolicy(text, file)
  if (!result.ok) {
    const n = result.errors.length
    throw new CliError(
      `${file} is not a valid policy (${n} problem${n === 1 ? '' : 's'}); ${consequence}:\n${result.errors.map((e) => `  ${formatLocated(e)}`).join('\n')}\nFix the file ("airlock policy check ${file}" lists the problems) and try again.`,
      3,
    )
  }
  return { path: abs, policy: result.policy, text }
}

function readText(abs: string, shown: string): string {
  try {
    return fs.readFileSync(abs, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message
    const hint =
      code === 'ENOENT'
        ? 'check the path'
        : code === 'EISDIR'
          ? 'give a policy file, not a directory'
          : 'check its permissions'
    throw new CliError(`cannot read the policy file ${shown} (${code}); ${hint}`, 3, { cause: err })
  }
}

function set(argv: string[]): number {
  const usage = 'airlock policy set <server> <file.yaml|json>'
  const { positionals } = parseCommandArgs('policy set', argv, {})
  const name = positional(positionals, 0, 'the server name', usage)
  const file = positional(positionals, 1, 'the policy file', usage)
  noExtraPositionals(positionals, 2, usage)
  const configFile = dataPaths(dataDir()).config
  // Check the server first: the file may well be right, and the name is the cheaper mistake.
  findServer(loadConfig(configFile), name)
  const { path: abs, policy } = readPolicyFile(file)
  changeConfig(configFile, (config) => {
    findServer(config, name)
    return {
      ...config,
      servers: config.servers.map((s) => (s.name === name ? { ...s, policy: abs } : s)),
    }
  })
  process.stdout.write(`policy of "${name}" set to ${abs} (${summaryLine(policy)})\n`)
  process.stdout.write(
    `A running gateway applies it to the next call; edits to the file apply too.\n`,
  )
  return 0
}

function show(argv: string[]): number {
  const usage = 'airlock policy show <server>'
  const { positionals } = parseCommandArgs('policy show', argv, {})
  const name = positional(positionals, 0, 'the server name', usage)
  noExtraPositionals(positionals, 1, usage)
  const home = dataDir()
  const config = loadConfig(dataPaths(home).config)
  const server = findServer(config, name)
  const file = policyPath(home, server)
  if (file === undefined) {
    // The text goes to stdout (so it can be saved and edited), the explanation to stderr.
    const inline = effectiveInline(server, config)
    process.stdout.write(JSON.stringify(inline, null, 2) + '\n')
    process.stderr.write(
      server.policy === undefined
        ? `(no policy file for "${name}": the default posture "${config.settings.defaultPosture}" applies; set one with "airlock policy set ${name} <file>")\n`
        : `(inline policy of "${name}" in ${dataPaths(home).config})\n`,
    )
    const v = validatePolicy(JSON.stringify(inline), 'policy')
    if (v.ok)
      process.stderr.write(
        floorSummary(home, config, name, v.policy) + serverRequestsLine(v.policy),
      )
    return 0
  }
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message
    throw new CliError(
      `cannot read ${file}, the policy of "${name}" (${code}); the gateway denies its calls until you restore the file or run "airlock policy set ${name} <file>"`,
      1,
      { cause: err },
    )
  }
  process.stdout.write(text.endsWith('\n') || text === '' ? text : `${text}\n`)
  process.stderr.write(`(policy of "${name}": ${file})\n`)
  const result = validatePolicy(text, file)
  if (!result.ok) {
    process.stderr.write(
      `warning: this file is not a valid policy; the gateway keeps the last good one (or denies every call):\n${result.errors.map((e) => `  ${formatLocated(e)}`).join('\n')}\n`,
    )
  } else
    process.stderr.write(
      floorSummary(home, config, name, result.policy) + serverRequestsLine(result.policy),
    )
  return 0
}

/** What the policy does with requests the server sends the client (server_requests). */
export function serverRequestsLine(policy: Policy): string {
  const kinds = SERVER_REQUEST_KINDS.map((k) => `${k} ${policy.serverRequests?.[k] ?? 'allow'}`)
  return `Requests the server sends the client (server_requests): ${kinds.join(', ')}.\n`
}

/**
 * What the risk floor adds to a policy, from the tools the server listed last: the tools that
 * wait for a person although the policy does not ask, and what the rest of the policy does.
 */
export function floorSummary(home: string, config: Config, server: string, policy: Policy): string {
  const floor = config.settings.riskFloor
  const tools = new ToolCatalog(path.join(home, 'tools')).tools(server)
  if (floor === 'off') {
    const verdicts = tools.map((t) =>
      toolVerdict(policy, t.name, classifyTool(t), floor, Date.now()),
    )
    return `Risk floor: off (setting riskFloor): only this policy decides which calls wait for you.\n${protectionOf(config, server, policy, verdicts).summary}\n`
  }
  const head = `Risk floor: ${floor} (setting riskFloor) — ${floor === 'high' ? 'high and critical' : 'critical'} tools wait for your approval unless this policy decides them.\n`
  if (tools.length === 0)
    return `${head}  "${server}" has not listed its tools yet: tools are judged by their names until it does (start a session, or open Tools & policy).\n${protectionOf(config, server, policy, []).summary}\n`
  const verdicts = tools.map((t) => toolVerdict(policy, t.name, classifyTool(t), floor, Date.now()))
  const guarded = verdicts
    .filter((v) => v.floor !== undefined)
    .map((v) => `  ${v.name.slice(0, 80)}  ${v.floor}`)
  const lines = [head]
  lines.push(
    guarded.length
      ? `Guarded by the floor (${guarded.length} of ${tools.length} listed tools):\n${guarded.join('\n')}\n`
      : `No listed tool is guarded by the floor (${tools.length} listed).\n`,
  )
  // The same words as the Servers and Clients screens (src/shared/protection.ts).
  lines.push(`${protectionOf(config, server, policy, verdicts).summary}\n`)
  return lines.join('')
}

/** The protection summary of `server` (see describeProtection), as every screen says it. */
function protectionOf(
  config: Config,
  server: string,
  policy: Policy,
  verdicts: ToolVerdict[],
): Protection {
  return describeProtection({
    ownPolicy: config.servers.find((s) => s.name === server)?.policy !== undefined,
    posture: policy.default,
    riskFloor: config.settings.riskFloor,
    tools: verdicts,
  })
}

function effectiveInline(server: ServerConfig, config: Config): Record<string, unknown> {
  if (server.policy !== undefined && typeof server.policy === 'object') return server.policy
  return { version: '1', default: config.settings.defaultPosture }
}

function check(argv: string[]): number {
  const usage = 'airlock policy check <file>'
  const { positionals } = parseCommandArgs('policy check', argv, {})
  const file = positional(positionals, 0, 'the policy file', usage)
  noExtraPositionals(positionals, 1, usage)
  const text = readText(path.resolve(file), file)
  const result = validatePolicy(text, file)
  if (!result.ok) {
    for (const e of result.errors) process.stdout.write(`${formatLocated(e)}\n`)
    const n = result.errors.length
    process.stderr.write(
      `${file}: ${n} problem${n === 1 ? '' : 's'}; the gateway refuses this policy until ${n === 1 ? 'it is' : 'they are'} fixed\n`,
    )
    return 3
  }
  const p = result.policy
  const rules = p.tools.flatMap((t) => t.rules)
  const count = (pred: (r: (typeof rules)[number]) => boolean): number => rules.filter(pred).length
  const limited = count((r) => r.rateLimit !== undefined || r.state !== undefined)
  const approval = count((r) => r.action === 'require_approval')
  const denies = count((r) => r.action === 'deny')
  process.stdout.write(
    `ok: ${file} is a valid policy\n` +
      (p.description ? `  description: ${p.description.trim().split('\n')[0] ?? ''}\n` : '') +
      `  default:     ${p.default}\n` +
      `  hidden:      ${p.hide.length ? p.hide.join(', ') : '(none)'}\n` +
      `  tools:       ${p.tools.length} tool entr${p.tools.length === 1 ? 'y' : 'ies'}\n` +
      `  rules:       ${rules.length} (${denies} deny, ${approval} require approval, ${limited} with rate limits or counters)\n`,
  )
  return 0
}

function summaryLine(p: Policy): string {
  const rules = p.tools.reduce((n, t) => n + t.rules.length, 0)
  return `default ${p.default}, ${p.hide.length} hidden, ${p.tools.length} tool entr${p.tools.length === 1 ? 'y' : 'ies'}, ${rules} rule${rules === 1 ? '' : 's'}`
}

function evaluate(argv: string[]): number {
  const { values, positionals } = parseCommandArgs('policy eval', argv, {
    policy: { type: 'string' },
    tool: { type: 'string' },
    args: { type: 'string' },
    session: { type: 'string' },
    client: { type: 'string' },
    'client-version': { type: 'string' },
    'risk-floor': { type: 'string' },
  })
  noExtraPositionals(positionals, 0, EVAL_USAGE)
  const floor = values['risk-floor'] ?? 'critical'
  if (floor !== 'critical' && floor !== 'high' && floor !== 'off')
    throw new CliError(
      `--risk-floor "${floor}": expected critical, high or off (the gateway's setting riskFloor; default critical)`,
      3,
    )
  if (values.policy === undefined || values.policy === '')
    throw new CliError(
      `missing --policy FILE (the policy to evaluate against); usage: ${EVAL_USAGE}`,
      3,
    )
  if (values.tool === undefined || values.tool === '')
    throw new CliError(`missing --tool NAME (the tool being called); usage: ${EVAL_USAGE}`, 3)
  const args = parseCallArgs(values.args)
  const { policy } = readPolicyFile(values.policy, 'nothing was evaluated')
  const decision = decide(
    policy,
    {
      tool: values.tool,
      args,
      sessionId: values.session ?? 'cli',
      client: { name: values.client, version: values['client-version'] },
    },
    new CounterStore(),
    Date.now(),
    { riskFloor: floor },
  )
  process.stdout.write(`${describeDecision(decision)}\n`)
  const why = explain(decision, policy, values.tool)
  if (why) process.stdout.write(`  reason: ${why}\n`)
  return exitCodeFor(decision)
}

function parseCallArgs(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new CliError(
      `--args is not valid JSON (${(err as Error).message}); quote it for your shell, e.g. --args '{"path":"/tmp/x"}'`,
      3,
      { cause: err },
    )
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError(
      `--args must be a JSON object of the tool's arguments (got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}), e.g. --args '{"path":"/tmp/x"}'`,
      3,
    )
  }
  return value as Record<string, unknown>
}

/** A second line for decisions whose description does not already say why. */
function explain(d: Decision, policy: Policy, tool: string): string | undefined {
  switch (d.kind) {
    case 'allow':
      return d.rule !== undefined
        ? `rule "${d.rule}" allows this call`
        : `no rule stopped "${tool}" and the policy's default is ${policy.default}`
    case 'hidden':
      return `"${tool}" matches the policy's hide list (${policy.hide.join(', ')})`
    case 'deny':
    case 'rate_limited':
    case 'needs_approval':
      if (d.kind === 'needs_approval' && d.floor)
        return `no rule of the policy decides "${tool}", and Airlock's risk floor asks a person for ${d.floor.risk}-risk tools (setting riskFloor)`
      // With a rule, the description already names it and its reason.
      return d.rule !== undefined
        ? undefined
        : `no rule decided "${tool}"; the policy's default is ${policy.default}`
    default: {
      const never: never = d
      return String(never)
    }
  }
}

const REPLAY_USAGE =
  'airlock policy replay --policy FILE [--server S] [--since 7d|ISO time] [--json]'

/**
 * `airlock policy replay`: the recorded calls (audit log) decided again by a draft policy. Prints,
 * per tool, what was decided then → what the draft would decide, with counts and a few examples.
 * Exit 0 when nothing would change, 1 when something would, 3 when the draft is not a valid policy.
 */
function replay(argv: string[]): number {
  const { values, positionals } = parseCommandArgs('policy replay', argv, {
    policy: { type: 'string' },
    server: { type: 'string' },
    since: { type: 'string' },
    json: { type: 'boolean' },
  })
  noExtraPositionals(positionals, 0, REPLAY_USAGE)
  if (values.policy === undefined || values.policy === '')
    throw new CliError(
      `missing --policy FILE (the draft to replay the recorded calls against); usage: ${REPLAY_USAGE}`,
      3,
    )
  const now = Date.now()
  const sinceMs = values.since === undefined ? undefined : parseTime('since', values.since, now)
  const { policy } = readPolicyFile(values.policy, 'nothing was replayed')
  const home = dataDir()
  const paths = dataPaths(home)
  const config = loadConfig(paths.config)
  const catalog = new ToolCatalog(path.join(home, 'tools'))
  const report = replayAudit(
    paths.audit,
    policy,
    { server: values.server, sinceMs },
    { riskFloor: config.settings.riskFloor, toolClass: (s, t) => catalog.classOf(s, t) },
  )
  if (values.json === true) process.stdout.write(JSON.stringify(report, null, 2) + '\n')
  else process.stdout.write(formatReplay(report, values.policy, values.server, values.since))
  return report.changed > 0 ? 1 : 0
}

/** The human report of a replay. Text from the log (tool names, arguments) is escaped. */
export function formatReplay(
  report: ReplayReport,
  draft: string,
  server: string | undefined,
  since: string | undefined,
): string {
  const scope = `${server === undefined ? 'every server' : `server "${terminalText(server)}"`}${since === undefined ? '' : `, since ${since}`}`
  if (report.calls === 0)
    return `No recorded calls to replay (${scope}${report.skipped ? `; ${report.skipped} records were no policy decision` : ''}). Nothing would change.\n`
  const lines = [
    `Replayed ${report.calls} recorded call${report.calls === 1 ? '' : 's'} (${scope}, ${report.from} … ${report.to}) against ${draft}:`,
  ]
  for (const t of report.tools) {
    const name = `${terminalText(t.tool)} (${terminalText(t.server)})`
    if (t.changes.length === 0) {
      lines.push(`  ${name}: ${t.calls} call${t.calls === 1 ? '' : 's'}, no change`)
      continue
    }
    const changed = t.calls - t.unchanged
    lines.push(`  ${name}: ${changed} of ${t.calls} call${t.calls === 1 ? '' : 's'} would change`)
    for (const c of t.changes) {
      lines.push(`    ${c.was} → ${c.wouldBe}: ${c.count}`)
      for (const e of c.examples) {
        const who = e.client === undefined ? '' : ` ${terminalText(e.client)}`
        const why = e.reason === undefined ? '' : ` — ${terminalText(e.reason)}`
        lines.push(`      #${e.seq} ${e.ts}${who} ${terminalText(e.args)}${why}`)
      }
    }
    if (t.unchanged > 0) lines.push(`    unchanged: ${t.unchanged}`)
  }
  const tools = report.tools.filter((t) => t.changes.length > 0).length
  lines.push(
    report.changed === 0
      ? `Nothing would change.`
      : `${report.changed} of ${report.calls} calls would be decided differently (${tools} tool${tools === 1 ? '' : 's'}).`,
  )
  if (report.skipped > 0)
    lines.push(
      `(${report.skipped} record${report.skipped === 1 ? ' was' : 's were'} no policy decision — paused, malformed, or the policy unavailable — and not replayed.)`,
    )
  return lines.join('\n') + '\n'
}
