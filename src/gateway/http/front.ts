/**
 * The gateway's loopback HTTP front, shared by both hosts (`airlock serve` and the desktop app's
 * utility process): the web UI with its token-authenticated control WebSocket, and MCP over
 * Streamable HTTP at `/mcp/<server>` — the same sessions, policy and audit as the shim path.
 */
import fs from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ControlService } from '../control/control-service'
import type { Gateway } from '../gateway'
import { createMcpHttpEndpoint } from './mcp-http'
import { ensureUiToken, startUiServer, type UiServer } from './ui-server'

/** Options of {@link startHttpFront}. */
export interface HttpFrontOptions {
  port: number
  /** An explicit port must be had; the default one is a preference (another gateway may hold it). */
  portExplicit: boolean
  rendererDir: string
  log: (msg: string) => void
  /** Serve the web UI (default true); false serves MCP over HTTP only (`serve --no-ui`). */
  ui?: boolean
}

/** Starts the front and records its port in `<home>/http-port` (for `clients wrap --http`). */
export async function startHttpFront(
  gw: Gateway,
  service: ControlService,
  opts: HttpFrontOptions,
): Promise<UiServer> {
  fs.rmSync(gw.paths.httpPort, { force: true }) // a previous gateway's, if it did not stop cleanly
  const options = {
    control: service,
    attachUi: () => gw.approvals.attachUi(),
    // No UI, no UI token: the control WebSocket is refused anyway.
    token: opts.ui === false ? '' : ensureUiToken(gw.paths.uiToken),
    port: opts.port,
    rendererDir: opts.rendererDir,
    log: opts.log,
    ui: opts.ui,
    oauthCallback: (req: IncomingMessage, res: ServerResponse) => gw.oauth.handleCallback(req, res),
    mcp: createMcpHttpEndpoint({
      openSession: (server, link, info) => gw.openSession(server, link, info),
      token: ensureUiToken(gw.paths.httpToken, 'MCP endpoint token'),
      idleTimeoutMs: () => gw.live.config.settings.http.sessionIdleMinutes * 60_000,
      maxSessionsPerServer: () => gw.live.config.settings.http.maxSessionsPerServer,
      log: opts.log,
    }),
  }
  let ui: UiServer
  try {
    ui = await startUiServer(options)
  } catch (err) {
    if (opts.portExplicit || (err as { cause?: { code?: string } }).cause?.code !== 'EADDRINUSE')
      throw err
    ui = await startUiServer({ ...options, port: 0 })
    opts.log(
      `port ${opts.port} is in use; the web UI took port ${ui.port} instead (choose one with --port N); clients wrapped with --http for port ${opts.port} will not reach this gateway`,
    )
  }
  fs.writeFileSync(gw.paths.httpPort, `${ui.port}\n`, { mode: 0o600 })
  // Sign-ins come back here (a stable port keeps the client registration valid).
  gw.oauth.useCallbackBase(`http://127.0.0.1:${ui.port}`)
  return ui
}

/** Stops the front and removes its port file. */
export async function stopHttpFront(gw: Gateway, ui: UiServer): Promise<void> {
  fs.rmSync(gw.paths.httpPort, { force: true })
  gw.oauth.useCallbackBase(undefined)
  await ui.close()
}
