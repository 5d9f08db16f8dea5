import { describe, expect, it, vi } from 'vitest'
import {
  applyStartAtLogin,
  autostartEntry,
  loginItemNote,
  quoteWindowsCommandArg,
  quoteExecArg,
  type LoginItemDeps,
} from '../../../src/main/login-item'
import { restoreBounds, SettingsStore, type KeyValueStore } from '../../../src/main/settings-store'

function memoryStore(init: Record<string, unknown> = {}): KeyValueStore {
  const data = { ...init }
  return { get: (k) => data[k], set: (k, v) => (data[k] = v) }
}

describe('SettingsStore', () => {
  it('keeps start at login and the window state', () => {
    const s = new SettingsStore(memoryStore())
    expect(s.startAtLogin).toBe(false)
    s.startAtLogin = true
    expect(s.startAtLogin).toBe(true)
    expect(s.windowState()).toEqual({ width: 1180, height: 780, maximized: false })
    s.saveWindowState({ x: 10, y: 20, width: 900, height: 600, maximized: true })
    expect(s.windowState()).toEqual({ x: 10, y: 20, width: 900, height: 600, maximized: true })
  })

  it('falls back to defaults for corrupt values', () => {
    const s = new SettingsStore(
      memoryStore({ startAtLogin: 'yes', window: { width: -5, height: 'tall' } }),
    )
    expect(s.startAtLogin).toBe(false)
    expect(s.windowState()).toEqual({ width: 1180, height: 780, maximized: false })
  })

  it('never restores a window off-screen', () => {
    const displays = [{ x: 0, y: 0, width: 1920, height: 1080 }]
    expect(
      restoreBounds({ x: 100, y: 100, width: 800, height: 600, maximized: false }, displays),
    ).toEqual({ x: 100, y: 100, width: 800, height: 600 })
    expect(
      restoreBounds({ x: 4000, y: 100, width: 800, height: 600, maximized: false }, displays),
    ).toEqual({ width: 800, height: 600 })
    expect(
      restoreBounds({ x: 100, y: -500, width: 800, height: 600, maximized: false }, displays),
    ).toEqual({ width: 800, height: 600 })
    expect(restoreBounds({ width: 800, height: 600, maximized: false }, displays)).toEqual({
      width: 800,
      height: 600,
    })
  })
})

describe('start at login', () => {
  function deps(platform: NodeJS.Platform): LoginItemDeps & { files: Map<string, string> } {
    const files = new Map<string, string>()
    return {
      files,
      platform,
      setLoginItemSettings: vi.fn(),
      execPath: '/opt/Air lock/airlock',
      appArgs: [],
      autostartDir: '/home/u/.config/autostart',
      writeFile: (f, t) => files.set(f, t),
      removeFile: (f) => files.delete(f),
    }
  }

  it('quotes the path and arguments on Windows, where Electron joins them unquoted into the Run key', () => {
    const d = {
      ...deps('win32'),
      execPath: 'C:\\Program Files\\Airlock\\Airlock.exe',
      appArgs: ['C:\\Users\\Jo Doe\\airlock'],
    }
    applyStartAtLogin(true, d)
    expect(d.setLoginItemSettings).toHaveBeenCalledWith({
      openAtLogin: true,
      path: '"C:\\Program Files\\Airlock\\Airlock.exe"',
      args: ['"C:\\Users\\Jo Doe\\airlock"', '--hidden'],
    })
    expect(quoteWindowsCommandArg('C:\\plain\\a.exe')).toBe('C:\\plain\\a.exe')
    expect(quoteWindowsCommandArg('say "hi"')).toBe('"say \\"hi\\""')
    expect(quoteWindowsCommandArg('C:\\dir with space\\')).toBe('"C:\\dir with space\\\\"')
    expect(quoteWindowsCommandArg('')).toBe('""')
  })

  it('uses the login item API on macOS, starting hidden', () => {
    const d = deps('darwin')
    applyStartAtLogin(true, d)
    expect(d.setLoginItemSettings).toHaveBeenCalledWith({
      openAtLogin: true,
      openAsHidden: true,
      args: ['--hidden'],
    })
  })

  it('writes and removes an XDG autostart entry on Linux', () => {
    const d = deps('linux')
    applyStartAtLogin(true, d)
    const entry = d.files.get('/home/u/.config/autostart/airlock.desktop')
    expect(entry).toContain('Exec="/opt/Air lock/airlock" --hidden')
    expect(entry).toContain('Type=Application')
    applyStartAtLogin(false, d)
    expect(d.files.size).toBe(0)
    expect(d.setLoginItemSettings).not.toHaveBeenCalled()
  })

  it('quotes Exec arguments', () => {
    expect(quoteExecArg('/usr/bin/electron')).toBe('/usr/bin/electron')
    expect(quoteExecArg('a "b" $c `d` \\e')).toBe('"a \\"b\\" \\$c \\`d\\` \\\\e"')
    expect(autostartEntry('/e', ['/app dir'])).toContain('Exec=/e "/app dir" --hidden')
  })
})

describe('login item status', () => {
  it('says why Airlock will not start at login, where the system holds it back', () => {
    expect(loginItemNote('darwin', true, { status: 'requires-approval' })).toContain(
      'System Settings → General → Login Items',
    )
    expect(loginItemNote('darwin', true, { status: 'not-found' })).toContain('off and on again')
    expect(loginItemNote('win32', true, { executableWillLaunchAtLogin: false })).toContain(
      'Task Manager → Startup apps',
    )
  })

  it('says nothing when it will start, or is not set to', () => {
    expect(loginItemNote('darwin', true, { status: 'enabled' })).toBeUndefined()
    expect(loginItemNote('win32', true, { executableWillLaunchAtLogin: true })).toBeUndefined()
    expect(loginItemNote('darwin', false, { status: 'requires-approval' })).toBeUndefined()
    expect(loginItemNote('linux', true, {})).toBeUndefined()
  })
})
