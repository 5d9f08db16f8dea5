/**
 * What the desktop app does differently on each system, as small functions of injected facts
 * (platform, environment, a command runner), so that they are tested without Electron.
 */

/** Runs a command; resolves its stdout, or undefined when it failed or timed out. */
export type RunCommand = (file: string, args: string[], timeoutMs: number) => string | undefined

/**
 * Whether a click on the tray icon opens the window. Not on macOS: there the click also fires
 * when the context menu opens (electron#24200), and the window would jump forward every time.
 */
export function trayClickOpensWindow(platform: NodeJS.Platform): boolean {
  return platform !== 'darwin'
}

const MARK = '__AIRLOCK_PATH__'

/**
 * The PATH a macOS app should give its servers. Apps started from Finder, the Dock or at login
 * get launchd's PATH (/usr/bin:/bin:…), where `npx`, `uvx` and nvm/fnm/asdf's node are missing:
 * the user's login shell is asked for its PATH, whose entries come first. Elsewhere, or when the
 * shell does not answer within 3 s, the PATH stays as it is.
 */
export function loginShellPath(
  platform: NodeJS.Platform,
  env: NodeJS.ProcessEnv,
  run: RunCommand,
): string | undefined {
  const current = env.PATH
  if (platform !== 'darwin') return current
  const shell = env.SHELL && env.SHELL.startsWith('/') ? env.SHELL : '/bin/zsh'
  const out = run(shell, ['-ilc', `printf '%s%s' '${MARK}' "$PATH"`], 3000)
  const found = out?.split(MARK)[1]?.trim()
  if (!found) return current
  const seen = new Set<string>()
  return [...found.split(':'), ...(current ?? '').split(':')]
    .filter((d) => d && !seen.has(d) && (seen.add(d), true))
    .join(':')
}

/**
 * Chromium's `--password-store` for Linux: `gnome-libsecret` when a Secret Service (GNOME
 * Keyring, KWallet's, KeePassXC…) answers on the session bus. Without it, window managers that
 * Chromium does not recognise (i3, sway, Hyprland…) fall back to `basic_text`, and secrets would
 * not be kept in the keychain although one runs.
 */
export function linuxPasswordStore(platform: NodeJS.Platform, run: RunCommand): string | undefined {
  if (platform !== 'linux') return undefined
  const out = run(
    'dbus-send',
    [
      '--session',
      '--print-reply',
      '--dest=org.freedesktop.DBus',
      '/org/freedesktop/DBus',
      'org.freedesktop.DBus.NameHasOwner',
      'string:org.freedesktop.secrets',
    ],
    1000,
  )
  return out && /boolean true/.test(out) ? 'gnome-libsecret' : undefined
}

/**
 * The executable a login item starts: `$APPIMAGE` for an AppImage (its `execPath` points into a
 * temporary mount that is gone after the app quits), else this executable.
 */
export function launchExecutable(
  platform: NodeJS.Platform,
  env: NodeJS.ProcessEnv,
  execPath: string,
): string {
  return platform === 'linux' && env.APPIMAGE?.startsWith('/') ? env.APPIMAGE : execPath
}

/** Whether this start came from a login item: then the app stays in the tray, window closed. */
export function startedAtLogin(
  argv: readonly string[],
  hiddenArg: string,
  wasOpenedAtLogin: boolean | undefined,
): boolean {
  return argv.includes(hiddenArg) || wasOpenedAtLogin === true
}

/** What to do to draw the person's eye to a new approval on this system. */
export function attentionFor(platform: NodeJS.Platform): 'dock-bounce' | 'flash-frame' {
  return platform === 'darwin' ? 'dock-bounce' : 'flash-frame'
}
