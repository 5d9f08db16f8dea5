/**
 * An AppImage runs from a temporary mount that goes away when the app quits: the shim written
 * into client configs is copied into the data directory, so wrapped entries keep working (and the
 * copy starts the app through desktop-app.json when no gateway answers).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { copyShimOut, resolveShim } from '../../../src/clients/service'

let tmp: string

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-shim-copy-'))
})

afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true })
})

/** A packaged app's unpacked files under a fake AppImage mount. */
function mount(version: string): { appDir: string; unpacked: string } {
  const appDir = path.join(tmp, '.mount_AirlocXyz')
  const unpacked = path.join(appDir, 'resources', 'app.asar.unpacked')
  for (const [rel, text] of [
    ['bin/airlock.js', `// airlock ${version}\n`],
    ['bin/package.json', '{ "type": "commonjs" }\n'],
    ['out/shim/connect.cjs', `// shim ${version}\n`],
  ] as const) {
    fs.mkdirSync(path.dirname(path.join(unpacked, rel)), { recursive: true })
    fs.writeFileSync(path.join(unpacked, rel), text)
  }
  return { appDir, unpacked }
}

describe('the shim of an AppImage', () => {
  it('is copied into the data directory, and the entry runs the copy', () => {
    const { appDir } = mount('1.0')
    const home = path.join(tmp, 'data')
    const shim = resolveShim({
      home,
      electron: true,
      execPath: path.join(appDir, 'airlock'),
      from: path.join(appDir, 'resources', 'app.asar', 'out', 'main'),
      platform: 'linux',
      env: { PATH: '/nonexistent', APPIMAGE: '/home/u/Airlock.AppImage', APPDIR: appDir },
      // No node on this machine: the AppImage itself runs the shim as Node.
      isFile: (f) =>
        !f.endsWith(`${path.sep}node`) &&
        fs.existsSync(
          f.replace(`${path.sep}app.asar${path.sep}`, `${path.sep}app.asar.unpacked${path.sep}`),
        ),
    })
    expect(shim.script).toBe(path.join(home, 'shim', 'bin', 'airlock.js'))
    expect(shim.node).toBe('/home/u/Airlock.AppImage')
    expect(fs.readFileSync(path.join(home, 'shim', 'out', 'shim', 'connect.cjs'), 'utf8')).toBe(
      '// shim 1.0\n',
    )
    expect(fs.readFileSync(path.join(home, 'shim', 'bin', 'package.json'), 'utf8')).toContain(
      'commonjs',
    )
  })

  it('is refreshed when the app brings a new one, and left alone when it is the same', () => {
    const home = path.join(tmp, 'data')
    const first = mount('1.0')
    const script = path.join(first.unpacked, 'bin', 'airlock.js')
    const copied = copyShimOut(script, home)
    const bundle = path.join(home, 'shim', 'out', 'shim', 'connect.cjs')
    const before = fs.statSync(bundle).ino
    copyShimOut(script, home)
    expect(fs.statSync(bundle).ino).toBe(before)
    mount('2.0')
    expect(copyShimOut(script, home)).toBe(copied)
    expect(fs.readFileSync(bundle, 'utf8')).toBe('// shim 2.0\n')
  })

  it('is not copied for an install that stays (no AppImage)', () => {
    const { appDir } = mount('1.0')
    const home = path.join(tmp, 'data')
    const shim = resolveShim({
      home,
      electron: false,
      execPath: '/usr/bin/node',
      from: path.join(appDir, 'resources', 'app.asar.unpacked', 'out', 'main'),
      platform: 'linux',
      env: { PATH: '/usr/bin' },
      isFile: (f) => fs.existsSync(f),
    })
    expect(shim.script).toBe(
      path.join(appDir, 'resources', 'app.asar.unpacked', 'bin', 'airlock.js'),
    )
    expect(fs.existsSync(path.join(home, 'shim'))).toBe(false)
  })
})
