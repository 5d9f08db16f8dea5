/**
 * Start at login. macOS and Windows use Electron's `app.setLoginItemSettings`; Linux has no
 * such API, so an XDG autostart entry (~/.config/autostart/airlock.desktop) is written.
 * The app starts hidden, in the tray. Dependencies are injected.
 */
import path from 'node:path'

/** What applying the setting needs. */
export interface LoginItemDeps {
  platform: NodeJS.Platform
  /** Electron's app.setLoginItemSettings. */
  setLoginItemSettings(settings: {
    openAtLogin: boolean
    openAsHidden?: boolean
    path?: string
    args?: string[]
  }): void
  /** The executable and the arguments that start this app (the app path in development). */
  execPath: string
  appArgs: string[]
  /** $XDG_CONFIG_HOME/autostart. */
  autostartDir: string
  writeFile(file: string, text: string): void
  removeFile(file: string): void
}

/** The argument that starts Airlock in the tray without opening its window. */
export const HIDDEN_ARG = '--hidden'

/** Quotes an argument for a desktop entry's Exec key. */
export function quoteExecArg(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg
  return `"${arg.replace(/[\\"`$]/g, (c) => `\\${c}`)}"`
}

/**
 * Quotes an argument of a Windows command line (the rules CommandLineToArgvW reads): wrapped in
 * quotes when it has a space, tab or quote (or is empty), quotes escaped, and backslashes doubled
 * where they precede a quote. Electron writes the login item's `path` and `args` into the Run key
 * joined by spaces, unquoted: "C:\Program Files\Airlock\Airlock.exe" would otherwise start
 * "C:\Program" (or whatever stands there) at login.
 */
export function quoteWindowsCommandArg(arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg
  return `"${arg.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\*)$/, '$1$1')}"`
}

/** The XDG autostart entry that starts Airlock hidden. */
export function autostartEntry(execPath: string, appArgs: string[]): string {
  const exec = [execPath, ...appArgs, HIDDEN_ARG].map(quoteExecArg).join(' ')
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Airlock',
    "Comment=MCP gateway: policy, approvals and audit for AI agents' tool calls",
    `Exec=${exec}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n')
}

/** Turns start-at-login on or off for this platform. */
export function applyStartAtLogin(enabled: boolean, deps: LoginItemDeps): void {
  if (deps.platform === 'linux') {
    const file = path.join(deps.autostartDir, 'airlock.desktop')
    if (enabled) deps.writeFile(file, autostartEntry(deps.execPath, deps.appArgs))
    else deps.removeFile(file)
    return
  }
  const args = [...deps.appArgs, HIDDEN_ARG]
  deps.setLoginItemSettings(
    deps.platform === 'win32'
      ? {
          openAtLogin: enabled,
          path: quoteWindowsCommandArg(deps.execPath),
          args: args.map(quoteWindowsCommandArg),
        }
      : { openAtLogin: enabled, openAsHidden: true, args },
  )
}

/** What `app.getLoginItemSettings()` reports that matters here. */
export interface LoginItemReport {
  /** macOS 13+: 'not-registered' | 'enabled' | 'requires-approval' | 'not-found'. */
  status?: string
  /** Windows: false when the user turned Airlock off in Task Manager's Startup apps. */
  executableWillLaunchAtLogin?: boolean
}

/**
 * Why Airlock will not start at login although it is set to (or undefined when it will, or is
 * not set): the system can hold the login item back, and only the user can release it there.
 */
export function loginItemNote(
  platform: NodeJS.Platform,
  enabled: boolean,
  report: LoginItemReport,
): string | undefined {
  if (!enabled) return undefined
  if (platform === 'darwin' && report.status === 'requires-approval')
    return 'macOS waits for your approval: allow Airlock in System Settings → General → Login Items.'
  if (platform === 'darwin' && report.status === 'not-found')
    return 'macOS cannot find Airlock’s login item: turn Start at login off and on again.'
  if (platform === 'win32' && report.executableWillLaunchAtLogin === false)
    return 'Windows has Airlock turned off at startup: turn it on in Task Manager → Startup apps.'
  return undefined
}
