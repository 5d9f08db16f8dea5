/**
 * The gateway in the desktop app: the entry of Electron's utilityProcess (plain Node; no
 * `electron` import — `process.parentPort` is typed here). Creates the Gateway and its
 * ControlService, listens, and links them to main through HostBridge: control calls and events,
 * the native approval dialog as an approver, and the keychain-backed secrets.
 */
import { ControlService } from '../control/control-service'
import { Gateway, GatewayRunningError } from '../gateway'
import { takeOver } from './hand-over'
import { HostBridge, type HostPort } from './bridge'
import { HostSecretStore } from './secret-store'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startHttpFront, stopHttpFront } from '../http/front'
import { dataDir } from '../../node/paths'
import { DEFAULT_UI_PORT, defaultRendererDir, type UiServer } from '../http/ui-server'

/** Electron adds `parentPort` to `process` in a utilityProcess. */
const port = (process as NodeJS.Process & { parentPort?: HostPort }).parentPort

async function main(parent: HostPort): Promise<void> {
  const log = (msg: string): void => void process.stderr.write(`airlock gateway: ${msg}\n`)
  const secrets = new HostSecretStore((m) => parent.postMessage(m))
  // The first message from main is the secrets snapshot; sessions must not start without it.
  let gotSecrets!: () => void
  const secretsLoaded = new Promise<void>((resolve) => (gotSecrets = resolve))
  const home = dataDir()
  const gw = new Gateway({
    home,
    log,
    secrets,
    // A sign-in a person started: main opens it in the system browser (shell.openExternal).
    openExternal: (url) => parent.postMessage({ type: 'open.external', url }),
  })
  const service = new ControlService(gw, { log })
  let closing: Promise<void> | undefined
  const onClose: (() => Promise<void>)[] = []
  const shutdown = (code: number): void => {
    closing ??= (async () => {
      bridge.close()
      for (const f of onClose) await f().catch(() => undefined)
      service.close()
      await gw.close().catch((err: unknown) => log(`close: ${(err as Error).message}`))
      process.exit(code)
    })()
  }
  const bridge = new HostBridge(
    parent,
    {
      call: (method, params) => service.call(method, params),
      subscribe: (l) => service.subscribe(l),
    },
    gw.approvals,
    {
      onSecrets: (values, refusal) => {
        secrets.load(values, refusal)
        gotSecrets()
      },
      onShutdown: () => shutdown(0),
    },
  )
  await Promise.race([secretsLoaded, new Promise((r) => setTimeout(r, 5000).unref())])
  try {
    await listenOrTakeOver(gw, home, log)
  } catch (err) {
    bridge.fatal(err)
    log(`cannot start: ${(err as Error).message}`)
    // Exit after the message had a chance to leave; main restarts with backoff.
    setTimeout(() => process.exit(1), 50)
    return
  }
  gw.control = service
  service.start()
  // The same loopback front as `airlock serve`: MCP over HTTP at /mcp/<server> for clients that
  // speak it, and the web UI. The desktop app works without it, so a failure is only logged.
  let front: UiServer | undefined
  try {
    front = await startHttpFront(gw, service, {
      port: Number(process.env.AIRLOCK_PORT ?? DEFAULT_UI_PORT),
      portExplicit: process.env.AIRLOCK_PORT !== undefined,
      rendererDir: defaultRendererDir(path.dirname(fileURLToPath(import.meta.url))),
      log,
    })
    log(`MCP over HTTP: ${front.mcpBase ?? ''}<server>; web UI on port ${front.port}`)
  } catch (err) {
    log(`the loopback HTTP endpoint is off: ${(err as Error).message}`)
  }
  onClose.push(() => (front ? stopHttpFront(gw, front) : Promise.resolve()))
  for (const e of gw.live.errors()) log(e)
  bridge.ready(home, gw.endpoint)
  process.on('SIGTERM', () => shutdown(0))
}

/**
 * Listens; when a headless gateway owns the data directory (started by a shim or `airlock serve`),
 * asks it to hand over and listens once it has let go. One gateway per data directory, and the
 * desktop app wins.
 */
async function listenOrTakeOver(
  gw: Gateway,
  home: string,
  log: (msg: string) => void,
): Promise<void> {
  try {
    await gw.listen()
    return
  } catch (err) {
    if (!(err instanceof GatewayRunningError)) throw err
    log(`${err.message}; asking it to hand over to the desktop app`)
  }
  const old = await takeOver(home, { to: 'the Airlock desktop app', pid: process.pid })
  log(`the headless gateway (pid ${old}) handed over`)
  await gw.listen()
}

if (!port) {
  process.stderr.write(
    'airlock: src/gateway/host/utility-entry runs in Electron\'s utilityProcess; use "airlock serve" to run the gateway headless\n',
  )
  process.exit(2)
} else {
  main(port).catch((err: unknown) => {
    process.stderr.write(`airlock gateway: ${(err as Error).stack ?? String(err)}\n`)
    process.exit(1)
  })
}
