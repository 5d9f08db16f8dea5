import type { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  appEnv,
  findElectron,
  installElectron,
  sandboxHint,
} from '../../../scripts/electron-runtime.mjs'

let dir: string | undefined
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
  dir = undefined
})

/** A project with a fake electron package. */
function project(opts: { pathTxt?: string; binary?: boolean }): string {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-start-'))
  fs.writeFileSync(path.join(dir, 'package.json'), '{}')
  const pkg = path.join(dir, 'node_modules', 'electron')
  fs.mkdirSync(path.join(pkg, 'dist'), { recursive: true })
  fs.writeFileSync(
    path.join(pkg, 'package.json'),
    JSON.stringify({ name: 'electron', version: '45.0.0' }),
  )
  // Requiring this would try to download the binary: findElectron must never run it.
  fs.writeFileSync(path.join(pkg, 'index.js'), 'throw new Error("downloading")')
  if (opts.pathTxt) fs.writeFileSync(path.join(pkg, 'path.txt'), opts.pathTxt)
  if (opts.binary) fs.writeFileSync(path.join(pkg, 'dist', opts.pathTxt ?? 'electron'), '')
  return dir
}

describe('finding the Electron runtime without downloading it', () => {
  it('reports a missing package, a never-downloaded binary and a deleted one', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-start-'))
    fs.writeFileSync(path.join(dir, 'package.json'), '{}')
    expect(findElectron(dir, {})).toEqual({
      ok: false,
      reason: 'the electron package is not installed',
    })
    fs.rmSync(dir, { recursive: true })
    expect(findElectron(project({}), {})).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no Electron binary was downloaded/),
    })
    fs.rmSync(dir!, { recursive: true })
    expect(findElectron(project({ pathTxt: 'electron' }), {})).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/does not exist/),
    })
  })

  it('finds a downloaded binary, or the override', () => {
    const root = project({ pathTxt: 'electron', binary: true })
    expect(findElectron(root, {})).toEqual({
      ok: true,
      path: path.join(root, 'node_modules', 'electron', 'dist', 'electron'),
    })
    const override = path.join(root, 'custom')
    fs.mkdirSync(override)
    fs.writeFileSync(path.join(override, 'electron'), '')
    expect(findElectron(root, { ELECTRON_OVERRIDE_DIST_PATH: override })).toEqual({
      ok: true,
      path: path.join(override, 'electron'),
    })
  })
})

describe('installing the runtime', () => {
  it("runs the electron package's install.js with the caller's environment (ELECTRON_MIRROR)", () => {
    const root = project({})
    const calls: { args: readonly string[]; env?: NodeJS.ProcessEnv }[] = []
    const fake = ((_cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv }) => {
      calls.push({ args, env: opts.env })
      return { status: 0, stdout: '', stderr: '' }
    }) as unknown as typeof spawnSync
    expect(installElectron(root, { ELECTRON_MIRROR: 'https://mirror.example/' }, fake)).toEqual({
      ok: true,
    })
    expect(calls[0]?.args).toEqual([path.join(root, 'node_modules', 'electron', 'install.js')])
    expect(calls[0]?.env?.ELECTRON_MIRROR).toBe('https://mirror.example/')
  })

  it("reports the installer's first error line, not its stack", () => {
    const root = project({})
    const fake = (() => ({
      status: 1,
      stdout: '',
      stderr: 'TypeError: fetch failed\n    at node:internal/deps/undici\n',
    })) as unknown as typeof spawnSync
    expect(installElectron(root, {}, fake)).toEqual({
      ok: false,
      reason: 'TypeError: fetch failed',
    })
  })

  it('starts the app without ELECTRON_RUN_AS_NODE, and explains a Linux sandbox abort', () => {
    expect(appEnv({ ELECTRON_RUN_AS_NODE: '1', PATH: '/bin' })).toEqual({ PATH: '/bin' })
    expect(sandboxHint('SIGTRAP', 'linux')).toMatch(/apparmor_restrict_unprivileged_userns=0/)
    expect(sandboxHint('SIGTRAP', 'darwin')).toBeUndefined()
    expect(sandboxHint(null, 'linux')).toBeUndefined()
  })
})
