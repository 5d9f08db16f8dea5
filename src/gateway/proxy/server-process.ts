/**
 * Starting and stopping a configured MCP server. The server runs in its own process group
 * (POSIX) so that ending a session ends its whole tree — an `npx` grandchild included. On
 * Windows, cross-spawn resolves `npx` and other `.cmd` shims through PATH/PATHEXT and runs them
 * via cmd.exe with quoted arguments, and the tree is ended with `taskkill /T /F`.
 */
import { spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process'
import crossSpawn from 'cross-spawn'
import type { ServerConfig } from '../../shared/contract/config'

/** Spawns a configured server with its env (over the gateway's) and cwd. */
export function spawnServer(
  server: ServerConfig,
  env: NodeJS.ProcessEnv = process.env,
): ChildProcessWithoutNullStreams {
  if (server.command === undefined)
    throw new Error(
      `"${server.name}" is a remote server (${server.url ?? 'no url'}); Airlock connects to it and never starts it`,
    )
  // cross-spawn is plain spawn on POSIX; on Windows it finds the command with the server's PATH
  // and PATHEXT and quotes the arguments for cmd.exe (npm's .cmd shims escaped twice).
  return crossSpawn(server.command, server.args, {
    env: { ...env, ...server.env },
    cwd: server.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: process.platform !== 'win32',
    windowsHide: true,
  }) as ChildProcessWithoutNullStreams
}

/**
 * Ends a server's whole process tree: SIGTERM to the group, SIGKILL after `graceMs`.
 * Resolves when the direct child has exited.
 */
export function killTree(child: ChildProcessWithoutNullStreams, graceMs = 2000): Promise<void> {
  const pid = child.pid
  if (pid === undefined) return Promise.resolve()
  const signalTree = (signal: NodeJS.Signals): void => {
    if (process.platform === 'win32') {
      spawnSync('taskkill', ['/pid', String(pid), '/T', '/F'], { windowsHide: true })
      return
    }
    try {
      process.kill(-pid, signal)
    } catch {
      // The group is gone already.
    }
  }
  const exited = child.exitCode !== null || child.signalCode !== null
  child.stdin.destroy()
  signalTree('SIGTERM')
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signalTree('SIGKILL')
      if (exited) resolve()
    }, graceMs)
    timer.unref()
    if (exited) {
      // The leader is gone but the group may live on: still make sure of it after the grace.
      setTimeout(() => signalTree('SIGKILL'), Math.min(graceMs, 500)).unref()
      clearTimeout(timer)
      resolve()
      return
    }
    child.once('exit', () => {
      clearTimeout(timer)
      // Grandchildren that ignored SIGTERM: kill the group for good.
      signalTree('SIGKILL')
      resolve()
    })
  })
}
