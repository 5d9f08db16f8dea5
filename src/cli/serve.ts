/**
 * `airlock serve`: the gateway, headless, with its control service, the web UI on 127.0.0.1
 * (the built renderer and the control API over a token-authenticated WebSocket), and approvals
 * answered in this terminal and in the browser — whichever answers first.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { ControlService } from '../gateway/control/control-service'
import { Gateway, GatewayRunningError } from '../gateway/gateway'
import { startHttpFront, stopHttpFront } from '../gateway/http/front'
import { dataDir, dataDirProblem, DataDirError, isDataDirError, isSystemError } from '../node/paths'
import { DEFAULT_UI_PORT, defaultRendererDir, type UiServer } from '../gateway/http/ui-server'
import { HAND_OVER_EVENT, type HandOverRequest } from '../gateway/host/hand-over'
import { CliError } from './cli-error'
import { TerminalApprover } from './terminal-approver'

const USAGE = 'airlock serve [--port N] [--no-ui] [--no-http] [--background]'

/** Runs the gateway until SIGINT/SIGTERM. Returns -1: the process keeps running. */
export async function serveCommand(argv: string[]): Promise<number> {
  let values: { background?: boolean; port?: string; 'no-ui'?: boolean; 'no-http'?: boolean }
  try {
    values = parseArgs({
      args: argv,
      options: {
        background: { type: 'boolean', default: false },
        port: { type: 'string' },
        'no-ui': { type: 'boolean', default: false },
        'no-http': { type: 'boolean', default: false },
      },
      strict: true,
    }).values
  } catch (err) {
    throw new CliError(`${(err as Error).message}; usage: ${USAGE}`, 2)
  }
  const port = values.port === undefined ? DEFAULT_UI_PORT : Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliError(
      `--port ${values.port}: expected a TCP port (0-65535; 0 picks a free one); usage: ${USAGE}`,
      2,
    )
  }
  const home = dataDir()
  const log = (msg: string): void => void process.stderr.write(`airlock: ${msg}\n`)
  let gw: Gateway
  try {
    gw = new Gateway({ home, log })
    await gw.listen()
  } catch (err) {
    if (err instanceof GatewayRunningError || err instanceof DataDirError)
      throw new CliError(err.message, 1, { cause: err })
    // The lock, the secret, the audit log: a file the gateway cannot write at start.
    if (isDataDirError(home, err))
      throw new CliError(dataDirProblem(home, err).message, 1, { cause: err })
    if (isSystemError(err))
      throw new CliError(`the gateway could not start: ${err.message}`, 1, { cause: err })
    throw err
  }
  const service = new ControlService(gw, { log })
  gw.control = service
  service.start()

  let ui: UiServer | undefined
  // From the moment the gateway listens, a signal stops it cleanly (sessions, audit, lock).
  let stopping = false
  const stop = (why?: string): void => {
    if (stopping) return
    stopping = true
    const closeUi = ui ? stopHttpFront(gw, ui) : Promise.resolve()
    closeUi
      .catch(() => undefined)
      .then(() => {
        service.close()
        return gw.close(why)
      })
      .then(
        () => process.exit(0),
        () => process.exit(1),
      )
  }
  // The desktop app takes the data directory over: stop as on a signal; agents reconnect to it.
  gw.on(HAND_OVER_EVENT, (req: HandOverRequest) => {
    log(
      `${req.to} (pid ${req.pid}) takes over ${home}: this gateway stops; connected agents reconnect to it`,
    )
    stop(`the gateway handed over to ${req.to}`)
  })
  process.on('SIGINT', () => stop())
  process.on('SIGTERM', () => stop())
  process.on('SIGHUP', () => stop())
  // --no-ui keeps MCP over HTTP (clients wrapped with --http need it); --no-http binds no port.
  if (values['no-http'] && values.port !== undefined)
    log(`--port ${values.port} is ignored: --no-http serves nothing over HTTP`)
  if (!values['no-http']) {
    try {
      ui = await startHttpFront(gw, service, {
        port,
        portExplicit: values.port !== undefined,
        rendererDir: defaultRendererDir(path.dirname(fileURLToPath(import.meta.url))),
        log,
        ui: !values['no-ui'],
      })
    } catch (err) {
      service.close()
      await gw.close()
      throw new CliError((err as Error).message, 1)
    }
  }

  const interactive = !values.background && process.stdin.isTTY === true
  if (interactive) gw.approvals.addApprover(new TerminalApprover(process.stdin, process.stdout))
  const approvals = [
    interactive ? 'asked in this terminal' : undefined,
    ui && !values['no-ui'] ? 'answered in the web UI while it is open' : undefined,
  ].filter(Boolean)
  process.stdout.write(
    `Airlock gateway running (pid ${process.pid})\n` +
      `  data:        ${home}\n` +
      `  agent socket: ${gw.endpoint}\n` +
      `  servers:     ${gw.live.config.servers.map((s) => s.name).join(', ') || (gw.live.errors().length ? '(none: see the error above)' : '(none yet: airlock servers add …)')}\n` +
      `  approvals:   ${approvals.length ? approvals.join('; first answer wins; ') : 'denied unless a UI or control client answers (no terminal)'}\n` +
      (ui && !values['no-ui']
        ? `  web UI:      ${ui.url}\n               (the link holds this data directory's access token: do not share it)\n`
        : `  web UI:      off (${values['no-http'] ? '--no-http' : '--no-ui'})\n`) +
      (ui?.mcpBase
        ? `  MCP over HTTP: ${ui.mcpBase}<server>  (Authorization: Bearer <token in ${gw.paths.httpToken}>)\n`
        : `  MCP over HTTP: off (--no-http)\n`),
  )
  return -1
}
