/**
 * Where Airlock keeps its files. `AIRLOCK_HOME` overrides the platform's application-data
 * directory; the agent socket lives in a short 0700 per-user directory derived from it.
 */
import { createHash } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'

/** The data directory: `AIRLOCK_HOME`, else the platform's app-data directory for "Airlock". */
export function dataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = os.homedir(),
): string {
  if (env.AIRLOCK_HOME) return path.resolve(env.AIRLOCK_HOME)
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Airlock')
  if (platform === 'win32')
    return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Airlock')
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'Airlock')
}

/** Files inside the data directory. */
export function dataPaths(home: string) {
  return {
    config: path.join(home, 'config.json'),
    secret: path.join(home, 'secret'),
    pipeName: path.join(home, 'pipe-name'),
    pid: path.join(home, 'gateway.pid'),
    audit: path.join(home, 'audit'),
    logs: path.join(home, 'logs'),
    grants: path.join(home, 'grants.json'),
    /** Pinned tool definitions, one 0600 file per server (`pins/<server>.json`). */
    pins: path.join(home, 'pins'),
    policies: path.join(home, 'policies'),
    uiToken: path.join(home, 'ui-token'),
    /** The bearer token of the loopback MCP endpoint (`/mcp/<server>`). */
    httpToken: path.join(home, 'http-token'),
    /** The port `airlock serve` serves HTTP on, while it runs (for `clients wrap --http` and `doctor`). */
    httpPort: path.join(home, 'http-port'),
    /** How to start the desktop app (recorded by the app; a shim that finds no gateway starts it). */
    desktopApp: path.join(home, 'desktop-app.json'),
    /** The process groups of running servers, so that a later gateway can end what a dead one left. */
    serverGroups: path.join(home, 'server-groups'),
  }
}

/**
 * The per-user socket directory (0700) for a data directory. Unix socket paths are limited to
 * ~104 bytes, so it sits under /tmp with the uid and a hash of the data directory. It depends on
 * nothing else in the environment: MCP clients start `airlock connect` with a minimal one
 * (no TMPDIR, no XDG_RUNTIME_DIR), and the shim must find the same socket as the gateway.
 * `AIRLOCK_SOCKET_DIR` overrides it (both sides must see it).
 */
export function socketDir(home: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.AIRLOCK_SOCKET_DIR) return path.resolve(env.AIRLOCK_SOCKET_DIR)
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0
  const tag = createHash('sha256').update(home).digest('hex').slice(0, 12)
  return path.join('/tmp', `airlock-${uid}-${tag}`)
}

/** The agent socket path on POSIX. (On Windows the pipe name is random and kept in `pipe-name`.) */
export function socketPath(home: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(socketDir(home, env), 'gw.sock')
}
