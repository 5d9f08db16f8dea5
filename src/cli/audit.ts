/**
 * `airlock audit …`: read the audit log in the data directory — tail (and follow), query, export
 * as CSV or JSONL, and verify the hash chain. Read-only: it works whether or not a gateway runs.
 *
 * Human rows show text the agent wrote (tool names, reasons), so control characters are escaped
 * before they reach the terminal.
 */
import path from 'node:path'
import {
  AuditQueryError,
  DEFAULT_QUERY_LIMIT,
  exportAudit,
  followAudit,
  queryAudit,
  tailAudit,
  verifyAudit,
} from '../gateway/audit'
import { dataDir, dataPaths } from '../node/paths'
import {
  AUDIT_DECISIONS,
  type AuditDecision,
  type DecisionPick,
  type AuditQuery,
  type AuditRecord,
} from '../shared/contract/audit-record'
import { noExtraPositionals, parseCommandArgs, positiveInt, type OptionSpecs } from './args'
import { terminalText } from '../shared/text'
import { CliError } from './cli-error'
import { writeFileAtomic } from '../node/atomic-write'

const USAGE =
  'airlock audit tail [-n N] [-f] [--json] | query [filters] [--json] | export --format csv|jsonl [filters] [--out FILE] | verify'
const FILTERS_USAGE =
  '[--server S] [--tool T] [--decision D[,D…]|blocked] [--client C] [--since TIME] [--until TIME] [--text T] [--limit N]'
const DECISIONS: readonly AuditDecision[] = AUDIT_DECISIONS
const DEFAULT_TAIL = 20
const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}

const FILTER_OPTIONS = {
  server: { type: 'string' },
  tool: { type: 'string' },
  decision: { type: 'string' },
  client: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  text: { type: 'string' },
  limit: { type: 'string' },
} as const satisfies OptionSpecs

/** Runs `airlock audit <sub> …`; returns the exit code, or -1 while `tail -f` keeps running. */
export async function auditCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  const dir = dataPaths(dataDir()).audit
  try {
    switch (sub) {
      case 'tail':
        return tail(dir, rest)
      case 'query':
        return query(dir, rest)
      case 'export':
        return exportCommand(dir, rest)
      case 'verify':
        return verify(dir, rest)
      case undefined:
        throw new CliError(`missing a subcommand; usage: ${USAGE}`, 2)
      default:
        throw new CliError(`unknown subcommand "audit ${sub}"; usage: ${USAGE}`, 2)
    }
  } catch (err) {
    if (err instanceof AuditQueryError)
      throw new CliError(`${err.message}; see "airlock help"`, 3, { cause: err })
    throw err
  }
}

/**
 * Parses a time filter: an ISO time (`2026-11-21T10:00:00Z`, `2026-11-21`), epoch milliseconds,
 * or a relative time back from `now` (`30s`, `10m`, `2h`, `1d`, `1w`). Returns epoch ms.
 */
export function parseTime(option: string, value: string, now: number): number {
  const v = value.trim()
  const rel = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(v)
  if (rel) return now - Number(rel[1]) * (UNIT_MS[(rel[2] as string).toLowerCase()] as number)
  const ms = /^\d{10,}$/.test(v) ? Number(v) : Date.parse(v)
  if (!Number.isFinite(ms)) {
    throw new CliError(
      `--${option} "${value}": expected an ISO time (2026-11-21T10:00:00Z) or a time back from now like 10m, 2h, 1d`,
      3,
    )
  }
  return ms
}

type FilterValues = { [K in keyof typeof FILTER_OPTIONS]?: string }

function toQuery(values: FilterValues, now: number): AuditQuery {
  const q: AuditQuery = {}
  if (values.server !== undefined) q.server = values.server
  if (values.tool !== undefined) q.tool = values.tool
  if (values.client !== undefined) q.client = values.client
  if (values.text !== undefined) q.text = values.text
  if (values.decision !== undefined) {
    // One decision, "blocked", or several separated by commas.
    const picks = values.decision.split(',').map((d) => d.trim())
    const known: readonly string[] = [...DECISIONS, 'blocked']
    const bad = picks.find((d) => !known.includes(d))
    if (bad !== undefined) {
      throw new CliError(
        `--decision "${values.decision}": "${bad}" is not a decision; expected one of ${known.join(', ')} (several separated by commas)`,
        3,
      )
    }
    const list = picks as DecisionPick[]
    q.decision = list.length === 1 ? list[0]! : list
  }
  if (values.since !== undefined) q.since = parseTime('since', values.since, now)
  if (values.until !== undefined) q.until = parseTime('until', values.until, now)
  const limit = positiveInt('limit', values.limit)
  if (limit !== undefined) q.limit = limit
  return q
}

async function tail(dir: string, argv: string[]): Promise<number> {
  const usage = 'airlock audit tail [-n N] [-f] [--json]'
  const { values, positionals } = parseCommandArgs('audit tail', argv, {
    n: { type: 'string', short: 'n' },
    lines: { type: 'string' },
    follow: { type: 'boolean', short: 'f', default: false },
    json: { type: 'boolean', default: false },
  })
  noExtraPositionals(positionals, 0, usage)
  const n = positiveInt('n', values.n ?? values.lines) ?? DEFAULT_TAIL
  const print = (r: AuditRecord): void => {
    process.stdout.write(values.json ? `${JSON.stringify(r)}\n` : `${humanRow(r)}\n`)
  }

  if (!values.follow) {
    const records = tailAudit(dir, n)
    records.forEach(print)
    if (records.length === 0 && !values.json)
      process.stderr.write(`no audit records yet in ${dir}\n`)
    return 0
  }

  // Start following before reading the tail, so nothing appended in between is lost; a record
  // seen by both is printed once (by seq).
  const abort = new AbortController()
  let lastSeq = 0
  const following = followAudit(
    dir,
    (r) => {
      if (r.seq > lastSeq) {
        lastSeq = r.seq
        print(r)
      }
    },
    abort.signal,
  )
  const records = tailAudit(dir, n)
  records.forEach(print)
  lastSeq = records.at(-1)?.seq ?? 0
  if (!values.json) process.stderr.write(`following ${dir} (Ctrl-C to stop)\n`)
  const stop = (): void => abort.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  following.then(
    () => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      process.exitCode = 0
    },
    (err: unknown) => {
      process.stderr.write(`airlock: following ${dir} failed: ${(err as Error).message}\n`)
      process.exitCode = 1
    },
  )
  return -1
}

function query(dir: string, argv: string[]): number {
  const usage = `airlock audit query ${FILTERS_USAGE} [--json]`
  const { values, positionals } = parseCommandArgs('audit query', argv, {
    ...FILTER_OPTIONS,
    json: { type: 'boolean', default: false },
  })
  noExtraPositionals(positionals, 0, usage)
  const q = toQuery(values, Date.now())
  const records = queryAudit(dir, q)
  if (values.json) {
    for (const r of records) process.stdout.write(`${JSON.stringify(r)}\n`)
    return 0
  }
  for (const r of records) process.stdout.write(`${humanRow(r)}\n`)
  const limit = q.limit ?? DEFAULT_QUERY_LIMIT
  if (records.length === 0) process.stderr.write(`no matching audit records in ${dir}\n`)
  else if (records.length >= limit) {
    const oldest = records.at(-1) as AuditRecord
    process.stderr.write(
      `(the ${records.length} newest matches; for older ones add --until ${oldest.ts} or raise --limit)\n`,
    )
  }
  return 0
}

function exportCommand(dir: string, argv: string[]): number {
  const usage = `airlock audit export --format csv|jsonl ${FILTERS_USAGE} [--out FILE]`
  const { values, positionals } = parseCommandArgs('audit export', argv, {
    ...FILTER_OPTIONS,
    format: { type: 'string' },
    out: { type: 'string' },
  })
  noExtraPositionals(positionals, 0, usage)
  if (values.format === undefined)
    throw new CliError(`missing --format csv|jsonl; usage: ${usage}`, 2)
  if (values.format !== 'csv' && values.format !== 'jsonl') {
    throw new CliError(`--format "${values.format}": expected csv or jsonl`, 3)
  }
  const format = values.format
  const q = toQuery(values, Date.now())
  if (values.out === undefined) {
    exportAudit(dir, q, format, (chunk) => process.stdout.write(chunk))
    return 0
  }
  // Written beside the target and renamed, so a failed export never leaves half a file; 0600
  // because the records hold tool arguments.
  const out = path.resolve(values.out)
  let count = 0
  let created = false
  try {
    writeFileAtomic(out, (write) => {
      created = true
      count = exportAudit(dir, q, format, write)
    })
  } catch (err) {
    if (created) throw err
    throw new CliError(
      `--out ${values.out}: cannot create the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check that its directory exists and is writable`,
      1,
      { cause: err },
    )
  }
  process.stderr.write(`exported ${count} record${count === 1 ? '' : 's'} to ${out}\n`)
  return 0
}

function verify(dir: string, argv: string[]): number {
  const { positionals } = parseCommandArgs('audit verify', argv, {})
  noExtraPositionals(positionals, 0, 'airlock audit verify')
  const r = verifyAudit(dir)
  const counts = `${r.records} record${r.records === 1 ? '' : 's'} in ${r.files} file${r.files === 1 ? '' : 's'}`
  if (r.ok) {
    process.stdout.write(`ok: ${counts}, chain intact\n`)
    if (r.lastSeq !== undefined)
      process.stdout.write(
        `  last: seq ${r.lastSeq}, hash ${r.lastHash ?? ''} (note it elsewhere to detect a cut-off end later)\n`,
      )
    return 0
  }
  process.stdout.write(`FAILED: audit log ${dir}: ${r.problem ?? 'unknown problem'}\n`)
  process.stdout.write(
    `  ${counts} checked before it. Keep a copy of ${dir} as evidence; records after this point cannot be trusted.\n`,
  )
  return 1
}

/** One line per record: time, decision/outcome, server, tool, client, reason/latency. */
function humanRow(r: AuditRecord): string {
  const time = `${r.ts.slice(0, 19).replace('T', ' ')}Z`
  // A request the server sent the client (sampling, elicitation, roots): "↩" marks its direction.
  const what =
    r.kind === 'outcome'
      ? `→ ${r.outcome ?? '?'}`
      : `${r.kind === 'server_request' ? '↩ ' : ''}${r.decision ?? '?'}`
  const by =
    r.kind !== 'outcome' && r.decidedBy && r.decidedBy !== 'policy' ? ` (${r.decidedBy})` : ''
  const tail: string[] = []
  if (r.latencyMs !== undefined) tail.push(`${Math.round(r.latencyMs)} ms`)
  if (r.approvalMs !== undefined) tail.push(`waited ${Math.round(r.approvalMs / 1000)} s`)
  if (r.rule !== undefined && r.reason === undefined) tail.push(`rule "${r.rule}"`)
  if (r.reason !== undefined) tail.push(r.reason)
  if (r.detail !== undefined && r.kind === 'outcome') tail.push(r.detail)
  const cells = [
    time,
    `${what}${by}`.padEnd(14),
    terminalText(r.server, 24).padEnd(16),
    terminalText(r.tool, 40).padEnd(20),
    terminalText(r.client ?? '-', 24).padEnd(14),
    terminalText(tail.join('; '), 160),
  ]
  return cells.join(' ').trimEnd()
}
