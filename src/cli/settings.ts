/**
 * `airlock settings`: print the settings, or set one (`airlock settings set riskFloor high`).
 * A value is checked against the config schema before anything is written; a running gateway
 * picks the change up from config.json.
 */
import { settingsSchema, type Settings } from '../shared/contract/config'
import { dataDir, dataPaths } from '../node/paths'
import { changeConfig, loadConfig, noExtraPositionals, parseCommandArgs, positional } from './args'
import { CliError } from './cli-error'

const USAGE = 'airlock settings [show] | set <key> <value>   (keys: airlock settings show)'

/** What each settable key means, for `settings show`. */
const HELP: Record<string, string> = {
  riskFloor:
    'critical | high | off: tools of this risk class or above need your approval unless the policy decides them',
  pinning:
    'block | approve | off: a tool whose definition changed since it was pinned is refused, needs your approval, or is not checked',
  approvalTimeoutSeconds: 'how long a call waits for an approval before it is denied',
  defaultPosture: 'allow | deny | require_approval: the default of proposed policies',
  paused: 'true | false: deny every tool call',
  'audit.retentionDays': 'days of audit log kept',
  'audit.maxFileBytes': 'size at which an audit file is rotated',
  'audit.durability': 'group | strict: fsync per batch or per record',
  'audit.argsMaxBytes': 'the size of the arguments kept per record',
  'audit.redactKeys': 'argument keys whose values are redacted (JSON list)',
  'audit.resultExcerpts': 'true | false: keep an excerpt of each result',
  'http.sessionIdleMinutes': 'an idle MCP-over-HTTP session closes after this',
  'http.maxSessionsPerServer': 'MCP-over-HTTP sessions per server',
}

/** Runs `airlock settings …`. */
export function settingsCommand(argv: string[]): number {
  const [sub, ...rest] = argv
  switch (sub) {
    case undefined:
    case 'show':
      return show(rest)
    case 'set':
      return set(rest)
    default:
      throw new CliError(`unknown settings command "${sub}"; usage: ${USAGE}`, 2)
  }
}

function show(argv: string[]): number {
  const { positionals } = parseCommandArgs('settings show', argv, {})
  noExtraPositionals(positionals, 0, USAGE)
  const settings = loadConfig(dataPaths(dataDir()).config).settings
  for (const key of Object.keys(HELP)) {
    const value = read(settings, key)
    process.stdout.write(`${key.padEnd(24)} ${JSON.stringify(value).padEnd(12)} ${HELP[key]}\n`)
  }
  return 0
}

function set(argv: string[]): number {
  const usage = 'airlock settings set <key> <value>'
  const { positionals } = parseCommandArgs('settings set', argv, {})
  const key = positional(positionals, 0, 'the setting', usage)
  const text = positional(positionals, 1, 'its value', usage)
  noExtraPositionals(positionals, 2, usage)
  if (!Object.prototype.hasOwnProperty.call(HELP, key))
    throw new CliError(
      `unknown setting "${key}"; the settings are: ${Object.keys(HELP).join(', ')}`,
      3,
    )
  const value = parseValue(text)
  const file = dataPaths(dataDir()).config
  changeConfig(file, (config) => {
    const next = structuredClone(config.settings) as Record<string, unknown>
    const [head, tail] = key.split('.') as [string, string | undefined]
    if (tail === undefined) next[head] = value
    else next[head] = { ...(next[head] as Record<string, unknown>), [tail]: value }
    const parsed = settingsSchema.safeParse(next)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw new CliError(
        `${key} ${JSON.stringify(value)}: ${issue?.message ?? 'invalid'} (${HELP[key]}); nothing was written`,
        3,
      )
    }
    return { ...config, settings: parsed.data }
  })
  process.stdout.write(`${key} set to ${JSON.stringify(value)}\n`)
  if (key === 'riskFloor')
    process.stdout.write(
      value === 'off'
        ? 'The risk floor is off: only your policies decide which calls wait for you.\n'
        : `Tools of ${value === 'high' ? 'high or critical' : 'critical'} risk wait for your approval unless their server's policy decides them.\n`,
    )
  if (key === 'pinning')
    process.stdout.write(
      value === 'off'
        ? 'Tool pinning is off: changed tool definitions run without a check.\n'
        : value === 'approve'
          ? 'A call of a tool whose definition changed since it was pinned waits for your approval, which shows the change.\n'
          : 'A call of a tool whose definition changed since it was pinned is refused until you accept the change ("airlock tools diff <server>").\n',
    )
  return 0
}

/** A value as typed: JSON when it parses (numbers, booleans, lists), else the text itself. */
function parseValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}

function read(settings: Settings, key: string): unknown {
  const [head, tail] = key.split('.') as [keyof Settings, string | undefined]
  const v = settings[head] as unknown
  return tail === undefined ? v : (v as Record<string, unknown>)[tail]
}
