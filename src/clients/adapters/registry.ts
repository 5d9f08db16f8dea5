/**
 * Every client adapter Airlock knows, in the order the CLI and the Clients screen list them.
 */
import os from 'node:os'
import path from 'node:path'
import type { ClientAdapter, ClientEnv } from './adapter'
import { claudeCode } from './claude-code'
import { claudeDesktop } from './claude-desktop'
import { cline } from './cline'
import { codex } from './codex'
import { continueDev } from './continue'
import { cursor } from './cursor'
import { geminiCli } from './gemini-cli'
import { vscode } from './vscode'
import { windsurf } from './windsurf'
import { zed } from './zed'

/** All adapters. */
export const clientAdapters: readonly ClientAdapter[] = [
  claudeDesktop,
  claudeCode,
  cursor,
  vscode,
  windsurf,
  geminiCli,
  codex,
  cline,
  continueDev,
  zed,
]

/** The adapter with this id, or undefined. */
export function findClient(
  id: string,
  adapters: readonly ClientAdapter[] = clientAdapters,
): ClientAdapter | undefined {
  return adapters.find((a) => a.id === id.toLowerCase())
}

/** The ClientEnv of this process: its home, platform, app-data directories and cwd. */
export function clientEnvFromProcess(
  projects: readonly string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): ClientEnv {
  const home = os.homedir()
  const win = process.platform === 'win32'
  const p = win ? path.win32 : path.posix
  return {
    home,
    platform: process.platform,
    appData: env.APPDATA ?? p.join(home, 'AppData', 'Roaming'),
    localAppData: env.LOCALAPPDATA ?? p.join(home, 'AppData', 'Local'),
    xdgConfig: env.XDG_CONFIG_HOME || p.join(home, '.config'),
    cwd: process.cwd(),
    projects: projects.map((d) => path.resolve(d)),
    vars: { CODEX_HOME: env.CODEX_HOME, CLAUDE_CONFIG_DIR: env.CLAUDE_CONFIG_DIR },
  }
}
