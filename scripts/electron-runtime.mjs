// Finds the Electron runtime binary without installing it. The `electron` package's own path
// getter (require('electron')) tries to download a missing binary from GitHub; this only looks.
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'

/** The one line `npm start` prints where the runtime is missing. */
export const MISSING_RUNTIME_MESSAGE =
  'Airlock: the Electron runtime is not installed on this machine (it is downloaded from GitHub on first start, which failed here); run `npx airlock serve` for the same UI in your browser.'

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
