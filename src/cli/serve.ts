/** `airlock serve`: the gateway, headless, with approvals answered in this terminal. */
import { parseArgs } from 'node:util'
import { Gateway, GatewayRunningError } from '../gateway/gateway'
import { dataDir } from '../gateway/paths'
import { CliError } from './cli-error'
import { TerminalApprover } from './terminal-approver'

/** Runs the gateway until SIGINT/SIGTERM. Returns -1: the process keeps running. */
export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { background: { type: 'boolean', default: false } }, strict: true })
  const home = dataDir()
  const gw = new Gateway({ home })
  try {
    await gw.listen()
  } catch (err) {
    if (err instanceof GatewayRunningError) throw new CliError(err.message, 1)
    throw err
  }
  const interactive = !values.background && process.stdin.isTTY === true
  if (interactive) gw.approvals.addApprover(new TerminalApprover(process.stdin, process.stdout))
  process.stdout.write(
    `Airlock gateway running (pid ${process.pid})\n` +
      `  data:        ${home}\n` +
      `  agent socket: ${gw.endpoint}\n` +
      `  servers:     ${gw.live.config.servers.map((s) => s.name).join(', ') || '(none yet: airlock servers add …)'}\n` +
      `  approvals:   ${interactive ? 'asked in this terminal' : 'denied unless a UI or control client answers (no terminal)'}\n`,
  )
  for (const e of gw.live.errors()) process.stderr.write(`airlock: ${e}\n`)
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    gw.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  process.on('SIGHUP', stop)
  return -1
}
