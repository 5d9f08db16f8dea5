// Finds the Electron runtime binary, and installs it when it is missing. Electron 45 has no
// postinstall: its binary is downloaded by `node_modules/electron/install.js` on the first
// `require('electron')`. `npm start` runs that script itself (it honours ELECTRON_MIRROR and the
// download cache), so a fresh machine with network reaches the app.
import { spawnSync as defaultSpawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'

/** The one line `npm start` prints where the runtime is missing and cannot be downloaded. */
export const MISSING_RUNTIME_MESSAGE =
  'Airlock: the Electron runtime is not installed on this machine (it is downloaded from GitHub on first start, which failed here); run `npx airlock serve` for the same UI in your browser.'

/**
 * Runs the electron package's own installer (`install.js`, which downloads the runtime for this
 * platform, honouring ELECTRON_MIRROR, ELECTRON_CUSTOM_DIR and the cache). Returns
 * `{ ok: true }`, or `{ ok: false, reason }` with the installer's last error line.
 */
export function installElectron(
  root = process.cwd(),
  env = process.env,
  spawnSync = defaultSpawnSync,
) {
  let pkgDir
  try {
    pkgDir = path.dirname(
      createRequire(path.join(root, 'package.json')).resolve('electron/package.json'),
    )
  } catch {
    return { ok: false, reason: 'the electron package is not installed (run npm install)' }
  }
  const r = spawnSync(process.execPath, [path.join(pkgDir, 'install.js')], {
    cwd: pkgDir,
    env,
    encoding: 'utf8',
    timeout: 10 * 60_000,
  })
  if (r.status === 0) return { ok: true }
  const lines = `${r.stderr ?? ''}\n${r.stdout ?? ''}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('at '))
  return {
    ok: false,
    reason: lines[0] ?? (r.error ? r.error.message : `install.js exited ${r.status ?? r.signal}`),
  }
}

/**
 * The environment for the app: without ELECTRON_RUN_AS_NODE, which terminals of VS Code and other
 * Electron hosts set and which would make Electron run as plain Node.
 */
export function appEnv(env = process.env) {
  const out = { ...env }
  delete out.ELECTRON_RUN_AS_NODE
  return out
}

/**
 * What to print when the app died at start on Linux because the Chromium sandbox is not
 * allowed (Ubuntu 24.04+ restricts unprivileged user namespaces with AppArmor), or undefined.
 */
export function sandboxHint(signal, platform = process.platform) {
  if (platform !== 'linux' || (signal !== 'SIGTRAP' && signal !== 'SIGABRT')) return undefined
  return (
    `Airlock: the app stopped at start (${signal}); on Linux this is usually the Chromium sandbox, ` +
    'which Ubuntu 24.04 and later block with AppArmor. Allow it once with ' +
    '"sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0" (or install the packaged app, ' +
    'whose AppArmor profile allows it), then run npm start again; `npx airlock serve` works meanwhile.'
  )
}

/**
 * Where the Electron binary is: `{ ok: true, path }`, or `{ ok: false, reason }` when the
 * package or its downloaded binary is missing. Honours ELECTRON_OVERRIDE_DIST_PATH like the package.
 */
export function findElectron(root = process.cwd(), env = process.env) {
  let pkgDir
  try {
    pkgDir = path.dirname(
      createRequire(path.join(root, 'package.json')).resolve('electron/package.json'),
    )
  } catch {
    return { ok: false, reason: 'the electron package is not installed' }
  }
  let exe = ''
  try {
    exe = fs.readFileSync(path.join(pkgDir, 'path.txt'), 'utf8').trim()
  } catch {
    // No path.txt: the binary was never downloaded.
  }
  const binary = env.ELECTRON_OVERRIDE_DIST_PATH
    ? path.join(env.ELECTRON_OVERRIDE_DIST_PATH, exe || 'electron')
    : exe
      ? path.join(pkgDir, 'dist', exe)
      : undefined
  if (!binary)
    return {
      ok: false,
      reason: `no Electron binary was downloaded into ${path.join(pkgDir, 'dist')}`,
    }
  if (!fs.existsSync(binary)) return { ok: false, reason: `${binary} does not exist` }
  return { ok: true, path: binary }
}

/** The electron-vite CLI script (its package exports do not expose the bin path). */
export function electronViteBin(root = process.cwd()) {
  const pkgJson = createRequire(path.join(root, 'package.json')).resolve(
    'electron-vite/package.json',
  )
  const bin = JSON.parse(fs.readFileSync(pkgJson, 'utf8')).bin
  return path.join(path.dirname(pkgJson), typeof bin === 'string' ? bin : bin['electron-vite'])
}
