import { describe, expect, it } from 'vitest'
import {
  attentionFor,
  launchExecutable,
  linuxPasswordStore,
  loginShellPath,
  startedAtLogin,
  trayClickOpensWindow,
  type RunCommand,
} from '../../../src/main/platform'

const recorder = (answer: string | undefined) => {
  const calls: { file: string; args: string[] }[] = []
  const run: RunCommand = (file, args) => {
    calls.push({ file, args })
    return answer
  }
  return { calls, run }
}

describe('per-system behaviour of the desktop app', () => {
  it('the tray click opens the window except on macOS, where it is the menu gesture', () => {
    expect(trayClickOpensWindow('darwin')).toBe(false)
    expect(trayClickOpensWindow('win32')).toBe(true)
    expect(trayClickOpensWindow('linux')).toBe(true)
  })

  it("macOS takes the login shell's PATH first (nvm, fnm, Homebrew), keeping launchd's", () => {
    const { calls, run } = recorder(
      'Last login: today\n__AIRLOCK_PATH__/Users/u/.nvm/versions/node/v20/bin:/opt/homebrew/bin:/usr/bin',
    )
    const env = { SHELL: '/bin/zsh', PATH: '/usr/bin:/bin:/usr/sbin:/sbin' }
    expect(loginShellPath('darwin', env, run)).toBe(
      '/Users/u/.nvm/versions/node/v20/bin:/opt/homebrew/bin:/usr/bin:/bin:/usr/sbin:/sbin',
    )
    expect(calls[0]?.file).toBe('/bin/zsh')
    expect(calls[0]?.args[0]).toBe('-ilc')
    // A shell that does not answer changes nothing; other systems are not asked.
    expect(loginShellPath('darwin', env, recorder(undefined).run)).toBe(env.PATH)
    const linux = recorder('x')
    expect(loginShellPath('linux', env, linux.run)).toBe(env.PATH)
    expect(linux.calls).toHaveLength(0)
  })

  it('Linux uses libsecret when a Secret Service answers on the session bus', () => {
    expect(linuxPasswordStore('linux', recorder('   boolean true\n').run)).toBe('gnome-libsecret')
    expect(linuxPasswordStore('linux', recorder('   boolean false\n').run)).toBeUndefined()
    expect(linuxPasswordStore('linux', recorder(undefined).run)).toBeUndefined()
    expect(linuxPasswordStore('darwin', recorder('boolean true').run)).toBeUndefined()
  })

  it('an AppImage starts at login from the image, not its temporary mount', () => {
    const env = { APPIMAGE: '/home/u/Airlock.AppImage' }
    expect(launchExecutable('linux', env, '/tmp/.mount_Airloc/airlock')).toBe(
      '/home/u/Airlock.AppImage',
    )
    expect(launchExecutable('linux', {}, '/opt/Airlock/airlock')).toBe('/opt/Airlock/airlock')
    expect(launchExecutable('win32', env, 'C:\\Airlock.exe')).toBe('C:\\Airlock.exe')
  })

  it('a start from a login item stays in the tray; a new approval draws the eye', () => {
    expect(startedAtLogin(['airlock', '--hidden'], '--hidden', undefined)).toBe(true)
    expect(startedAtLogin(['airlock'], '--hidden', true)).toBe(true)
    expect(startedAtLogin(['airlock'], '--hidden', false)).toBe(false)
    expect(attentionFor('darwin')).toBe('dock-bounce')
    expect(attentionFor('win32')).toBe('flash-frame')
  })
})
