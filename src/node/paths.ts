/**
 * Where Airlock keeps its files. `AIRLOCK_HOME` overrides the platform's application-data
 * directory; the agent socket lives in a short 0700 per-user directory derived from it.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
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

/**
 * The data directory cannot be created or written (a parent is a file, permission denied, the
 * disk is full, a read-only file system). The message names the directory, what is wrong and
 * what to do; `code` is the OS error code.
 */
export class DataDirError extends Error {
  override readonly name = 'DataDirError'
  constructor(
    message: string,
    readonly code: string,
    readonly dir: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** Whether `err` is an OS error from a file-system call (it has a string `code` and a `syscall`). */
export function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return (
    err instanceof Error &&
    typeof (err as NodeJS.ErrnoException).code === 'string' &&
    typeof (err as NodeJS.ErrnoException).syscall === 'string'
  )
}

/** Whether `err` is an OS error about `home` or a file inside it (or a parent on the way to it). */
export function isDataDirError(home: string, err: unknown): err is NodeJS.ErrnoException {
  if (!isSystemError(err) || typeof err.path !== 'string') return false
  const p = path.resolve(err.path)
  return p === home || p.startsWith(home + path.sep) || home.startsWith(p + path.sep)
}

/** The name (then a pid) of the file that proves the data directory can be written. */
const PROBE = '.write-test-'

/** The nearest of `dir` and its parents that exists but is not a directory, if any. */
function fileInTheWay(dir: string): string | undefined {
  for (let p = dir; ; p = path.dirname(p)) {
    try {
      return fs.statSync(p).isDirectory() ? undefined : p
    } catch {
      // Not there: look at its parent.
    }
    if (path.dirname(p) === p) return undefined
  }
}

/** A DataDirError for the OS error `err` met while creating or writing the data directory `home`. */
export function dataDirProblem(home: string, err: unknown): DataDirError {
  const code = isSystemError(err) ? (err.code ?? 'EIO') : 'EIO'
  const failed = isSystemError(err) && err.path ? err.path : home
  // The probe file is an implementation detail: name its directory.
  const where = path.basename(failed).startsWith(PROBE) ? `in ${path.dirname(failed)}` : failed
  let why: string
  switch (code) {
    case 'ENOTDIR':
    case 'EEXIST': {
      const file = fileInTheWay(home)
      why = file
        ? `${file === home ? 'it' : file} is a file, not a directory`
        : `a part of the path is not a directory (${code})`
      break
    }
    case 'EACCES':
    case 'EPERM':
      why = `permission denied writing ${where} (${code})`
      break
    case 'ENOSPC':
      why = `the disk is full (${code} writing ${where})`
      break
    case 'EDQUOT':
      why = `the disk quota is used up (${code} writing ${where})`
      break
    case 'EROFS':
      why = `it is on a read-only file system (${code})`
      break
    default:
      why = err instanceof Error ? err.message : String(err)
  }
  return new DataDirError(
    `Airlock cannot use its data directory ${home}: ${why}. Free or fix that location, or set AIRLOCK_HOME to a directory you can write (in each MCP client's entry too, where "airlock clients wrap" puts it).`,
    code,
    home,
    { cause: err },
  )
}

/**
 * Creates the data directory (0700) when missing and proves it can be written (a probe file is
 * written and removed); throws a DataDirError naming the directory and what to do.
 */
export function ensureDataDir(home: string): void {
  try {
    fs.mkdirSync(home, { recursive: true, mode: 0o700 })
    const probe = path.join(home, `${PROBE}${process.pid}`)
    fs.writeFileSync(probe, 'ok\n', { mode: 0o600 })
    fs.rmSync(probe, { force: true })
  } catch (err) {
    throw dataDirProblem(home, err)
  }
}
