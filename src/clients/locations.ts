/**
 * Platform paths shared by the adapters: path joining in the target platform's style (so a
 * Windows layout can be checked on Linux), the per-user application-data directory, and VS
 * Code's user directories (stable, Insiders, VSCodium).
 */
import path from 'node:path'
import type { ClientEnv, ConfigLocation } from './adapters/adapter'

/** `path.win32` for Windows, else `path.posix`. */
export function pathFor(env: ClientEnv): path.PlatformPath {
  return env.platform === 'win32' ? path.win32 : path.posix
}

/** `~/Library/Application Support` (macOS), `%APPDATA%` (Windows), `$XDG_CONFIG_HOME` (others). */
export function appSupportDir(env: ClientEnv): string {
  const p = pathFor(env)
  if (env.platform === 'darwin') return p.join(env.home, 'Library', 'Application Support')
  if (env.platform === 'win32') return env.appData
  return env.xdgConfig
}

/** VS Code's `User` directories: Code, Code - Insiders, VSCodium. */
export function vscodeUserDirs(env: ClientEnv): string[] {
  const p = pathFor(env)
  return ['Code', 'Code - Insiders', 'VSCodium'].map((name) =>
    p.join(appSupportDir(env), name, 'User'),
  )
}

/** A user-scope location. */
export function userFile(client: string, file: string): ConfigLocation {
  return { client, file, scope: 'user' }
}

/** The project-scope locations `<project>/<relative>` for each project directory. */
export function projectFiles(
  client: string,
  env: ClientEnv,
  ...relative: string[]
): ConfigLocation[] {
  const p = pathFor(env)
  return env.projects.map((project) => ({
    client,
    file: p.join(project, ...relative),
    scope: 'project' as const,
    project,
  }))
}
