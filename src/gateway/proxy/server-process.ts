/**
 * Starting and stopping a configured MCP server. The server runs in its own process group
 * (POSIX) so that ending a session ends its whole tree — an `npx` grandchild included. On
 * Windows, `npx` and other `.cmd` shims are resolved through PATH/PATHEXT and run via cmd.exe
 * with quoted arguments, and the tree is ended with `taskkill /T /F`.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import type { ServerConfig } from '../../shared/contract/config'

/** A resolved command line. */
export interface ResolvedCommand {
  file: string
  args: string[]
  /** cmd.exe needs verbatim arguments (we quote them ourselves). */
  windowsVerbatimArguments?: boolean
}

// cmd.exe metacharacters; escaped with ^ outside quotes (the same rules as cross-spawn).
const CMD_META = /([()\][%!^"`<>&|;, *?])/g

/**
 * Escapes one argument for `cmd.exe /d /s /c "…"`: CRT quoting (backslashes before quotes
 * doubled), wrapped in quotes, then every metacharacter — the quotes included — caret-escaped so
 * cmd never enters a quoted state. `doubleEscape` for npm's `.cmd` shims, which pass `%*`
 * through cmd a second time.
 */
export function quoteWindowsArg(arg: string, doubleEscape = false): string {
  let a = arg.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\*)$/, '$1$1')
  a = `"${a}"`.replace(CMD_META, '^$1')
  return doubleEscape ? a.replace(CMD_META, '^$1') : a
}

/** Escapes the command (a path) itself for cmd.exe. */
export function escapeWindowsCommand(file: string): string {
  return file.replace(CMD_META, '^$1')
}

/**
 * Resolves a command for spawning. On Windows a bare name is searched in PATH with PATHEXT;
 * `.cmd`/`.bat` files run through `cmd.exe /d /s /c`. Elsewhere the command is used as is.
 */
export function resolveCommand(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
  exists: (p: string) => boolean = (p) => fs.existsSync(p),
): ResolvedCommand {
  if (platform !== 'win32') return { file: command, args }
  const win = path.win32
  const exts = (env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean)
  const dirs =
    win.isAbsolute(command) || command.includes('\\') || command.includes('/')
      ? ['']
      : (env.PATH ?? env.Path ?? '').split(';').filter(Boolean)
  let found: string | undefined
  for (const dir of dirs) {
    const base = dir ? win.join(dir, command) : command
    const candidates = win.extname(base) ? [base] : exts.map((e) => base + e.toLowerCase())
    found = candidates.find(exists)
    if (found) break
  }
  const file = found ?? command
  if (/\.(cmd|bat)$/i.test(file)) {
    const shim = /node_modules[\\/]\.bin[\\/][^\\/]+\.cmd$/i.test(file)
    const line = [
      escapeWindowsCommand(win.normalize(file)),
      ...args.map((a) => quoteWindowsArg(a, shim)),
    ].join(' ')
    return {
      file: env.ComSpec ?? 'cmd.exe',
      args: ['/d', '/s', '/c', `"${line}"`],
      windowsVerbatimArguments: true,
    }
  }
  return { file, args }
}

/** Spawns a configured server with its env (over the gateway's) and cwd. */
export function spawnServer(
  server: ServerConfig,
  env: NodeJS.ProcessEnv = process.env,
): ChildProcessWithoutNullStreams {
  if (server.command === undefined)
    throw new Error(
      `"${server.name}" is a remote server (${server.url ?? 'no url'}); Airlock connects to it and never starts it`,
    )
  const fullEnv = { ...env, ...server.env }
  const cmd = resolveCommand(server.command, server.args, fullEnv)
  return spawn(cmd.file, cmd.args, {
    env: fullEnv,
    cwd: server.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: process.platform !== 'win32',
    windowsHide: true,
    windowsVerbatimArguments: cmd.windowsVerbatimArguments,
  })
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
