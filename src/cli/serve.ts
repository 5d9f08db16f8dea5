/**
 * `airlock serve`: the gateway, headless, with its control service, the web UI on 127.0.0.1
 * (the built renderer and the control API over a token-authenticated WebSocket), and approvals
 * answered in this terminal and in the browser — whichever answers first.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { ControlService } from '../gateway/control-service'
import { Gateway, GatewayRunningError } from '../gateway/gateway'
import { createMcpHttpEndpoint } from '../gateway/mcp-http'
import { dataDir } from '../gateway/paths'
import { DEFAULT_UI_PORT, defaultRendererDir, ensureUiToken, startUiServer, type UiServer } from '../gateway/ui-server'
import { CliError } from './cli-error'
import { TerminalApprover } from './terminal-approver'

const USAGE = 'airlock serve [--port N] [--no-ui] [--background]'

/** Runs the gateway until SIGINT/SIGTERM. Returns -1: the process keeps running. */
export async function serveCommand(argv: string[]): Promise<number> {
  let values: { background?: boolean; port?: string; 'no-ui'?: boolean }
  try {
    values = parseArgs({
      args: argv,
      options: { background: { type: 'boolean', default: false }, port: { type: 'string' }, 'no-ui': { type: 'boolean', default: false } },
      strict: true,
    }).values
  } catch (err) {
    throw new CliError(`${(err as Error).message}; usage: ${USAGE}`, 2)
  }
  const port = values.port === undefined ? DEFAULT_UI_PORT : Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliError(`--port ${values.port}: expected a TCP port (0-65535; 0 picks a free one); usage: ${USAGE}`, 2)
  }
  const home = dataDir()
  const log = (msg: string): void => void process.stderr.write(`airlock: ${msg}\n`)
  const gw = new Gateway({ home, log })
  try {
    await gw.listen()
  } catch (err) {
    if (err instanceof GatewayRunningError) throw new CliError(err.message, 1)
    throw err
  }
  const service = new ControlService(gw, { log })
  gw.controlHandler = (method, params) => service.call(method, params, { by: 'control' })
  service.start()

  let ui: UiServer | undefined
  fs.rmSync(gw.paths.httpPort, { force: true }) // a previous gateway's, if it did not stop cleanly
  if (!values['no-ui']) {
    const uiOptions = {
      control: service,
      attachUi: () => gw.approvals.attachUi(),
      token: ensureUiToken(gw.paths.uiToken),
      port,
      rendererDir: defaultRendererDir(path.dirname(fileURLToPath(import.meta.url))),
      log,
      // MCP clients that speak HTTP reach the same sessions, policy and audit at /mcp/<server>.
      mcp: createMcpHttpEndpoint({
        openSession: (server, link) => gw.openSession(server, link),
        token: ensureUiToken(gw.paths.httpToken, 'MCP endpoint token'),
        log,
      }),
    }
    try {
      try {
        ui = await startUiServer(uiOptions)
      } catch (err) {
        // The default port is only a preference: another gateway (another data directory) may hold it.
        if (values.port !== undefined || (err as { cause?: { code?: string } }).cause?.code !== 'EADDRINUSE') throw err
        ui = await startUiServer({ ...uiOptions, port: 0 })
        log(`port ${port} is in use; the web UI took port ${ui.port} instead (choose one with --port N); clients wrapped with --http for port ${port} will not reach this gateway`)
      }
      fs.writeFileSync(gw.paths.httpPort, `${ui.port}\n`, { mode: 0o600 })
    } catch (err) {
      service.close()
      await gw.close()
      throw new CliError((err as Error).message, 1)
    }
  }

  const interactive = !values.background && process.stdin.isTTY === true
  if (interactive) gw.approvals.addApprover(new TerminalApprover(process.stdin, process.stdout))
  const approvals = [interactive ? 'asked in this terminal' : undefined, ui ? 'answered in the web UI while it is open' : undefined].filter(Boolean)
  process.stdout.write(
    `Airlock gateway running (pid ${process.pid})\n` +
      `  data:        ${home}\n` +
      `  agent socket: ${gw.endpoint}\n` +
      `  servers:     ${gw.live.config.servers.map((s) => s.name).join(', ') || '(none yet: airlock servers add …)'}\n` +
      `  approvals:   ${approvals.length ? approvals.join('; first answer wins; ') : 'denied unless a UI or control client answers (no terminal)'}\n` +
      (ui ? `  web UI:      ${ui.url}\n               (the link holds this data directory's access token: do not share it)\n` : '') +
      (ui?.mcpBase ? `  MCP over HTTP: ${ui.mcpBase}<server>  (Authorization: Bearer <token in ${gw.paths.httpToken}>)\n` : ''),
  )
  for (const e of gw.live.errors()) process.stderr.write(`airlock: ${e}\n`)
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    if (ui) fs.rmSync(gw.paths.httpPort, { force: true })
    const closeUi = ui ? ui.close() : Promise.resolve()
    closeUi
      .catch(() => undefined)
      .then(() => {
        service.close()
        return gw.close()
      })
      .then(
        () => process.exit(0),
        () => process.exit(1),
      )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  process.on('SIGHUP', stop)
  return -1
}
