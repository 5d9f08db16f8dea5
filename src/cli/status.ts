/**
 * `airlock status`: whether a gateway runs for this data directory, its sessions and pending
 * approvals — the control API's `status.get` (the figures the UI shows) and `approvals.list`.
 */
import type { PendingApprovalView, ResultOf } from '../shared/contract/control-api'
import { dataDir } from '../node/paths'
import { terminalText } from '../shared/text'
import { withTimeout } from '../shared/with-timeout'
import { noExtraPositionals, parseCommandArgs } from './args'
import { CliError } from './cli-error'
import { ControlClient } from '../node/control-client'
import { uiLink } from './open'

/**
 * What `airlock status` shows: `status.get` as it is (`pending` is the number of pending
 * approvals, as the UI shows it), and the pending approvals themselves (`approvals.list`).
 */
export type StatusReply = ResultOf<'status.get'> & { approvals: PendingApprovalView[] }
type SessionInfo = StatusReply['sessions'][number]

const REQUEST_TIMEOUT_MS = 5000

/** Runs `airlock status [--json]`: 0 when a gateway answers, 1 when none runs (with how to start one). */
export async function statusCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('status', argv, {
    json: { type: 'boolean', default: false },
  })
  noExtraPositionals(positionals, 0, 'airlock status [--json]')
  const home = dataDir()
  let client: ControlClient
  try {
    client = await ControlClient.connect(home)
  } catch (err) {
    const message = (err as Error).message
    throw new CliError(
      /not running/.test(message) ? message : `the Airlock gateway is not running: ${message}`,
      1,
      { cause: err },
    )
  }
  let status: StatusReply
  try {
    status = await withTimeout(
      Promise.all([client.api.status.get(), client.api.approvals.list()]).then(
        ([st, approvals]) => ({ ...st, approvals }),
      ),
      REQUEST_TIMEOUT_MS,
      () =>
        new CliError(
          `the gateway for ${home} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s; restart it ("airlock serve")`,
          1,
        ),
    )
  } catch (err) {
    if (err instanceof CliError) throw err
    throw new CliError(
      `the gateway for ${home} refused the status request (${(err as Error).message})`,
      1,
      { cause: err },
    )
  } finally {
    client.close()
  }
  if (values.json) {
    process.stdout.write(JSON.stringify(status, null, 2) + '\n')
    return 0
  }
  process.stdout.write(formatStatus(status, Date.now()))
  const link = uiLink(home)
  process.stdout.write(
    link
      ? `  web UI:   ${link}\n            (approve here, or run "airlock open"; the link holds the access token: do not share it)\n`
      : `  web UI:   none (the desktop app answers approvals in its window; "airlock serve" serves a web UI)\n`,
  )
  return 0
}

/** The status as text for a terminal; agent-supplied names are escaped. */
export function formatStatus(s: StatusReply, now: number): string {
  const lines = [
    `Airlock gateway running (pid ${s.pid})`,
    `  data:     ${s.home}`,
    `  paused:   ${s.paused ? 'yes: every tool call is denied until resumed' : 'no'}`,
  ]
  const held = (x: SessionInfo): string =>
    x.held > 0 ? `, ${x.held} call${x.held === 1 ? '' : 's'} waiting` : ''
  const stdio = s.sessions.filter((x) => x.transport !== 'http')
  const http = s.sessions.filter((x) => x.transport === 'http')
  lines.push(`  sessions: ${stdio.length}`)
  for (const x of stdio) {
    lines.push(
      `    ${terminalText(x.server)}  client ${terminalText(x.client)}  started ${new Date(x.startedAt).toISOString()} (${ago(now - x.startedAt)} ago${held(x)})`,
    )
  }
  lines.push(`  HTTP sessions: ${http.length}`)
  for (const x of http) {
    const idle = x.idleMs === undefined || x.idleMs === 0 ? 'active' : ago(x.idleMs)
    lines.push(
      `    ${terminalText(x.server)}  client ${terminalText(x.client)}  age ${ago(now - x.startedAt)}  idle ${idle}${held(x)}  (id ${terminalText(x.id)})`,
    )
  }
  lines.push(`  pending approvals: ${s.pending}`)
  for (const p of s.approvals) {
    const rule = p.rule !== undefined ? `  rule "${terminalText(p.rule)}"` : ''
    lines.push(
      `    ${terminalText(p.server)} / ${terminalText(p.tool)}  from ${terminalText(p.client)}${rule}  expires in ${Math.max(0, Math.ceil((p.deadline - now) / 1000))} s  (id ${p.id})`,
    )
  }
  for (const x of s.signIn ?? [])
    lines.push(
      `  sign-in needed: ${terminalText(x.server)} (its agents are refused until you sign in: airlock servers login ${terminalText(x.server)})`,
    )
  for (const e of s.errors) lines.push(`  problem: ${terminalText(e)}`)
  return lines.join('\n') + '\n'
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m`
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
  return `${Math.floor(s / 86_400)}d`
}
