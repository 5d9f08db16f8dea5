// `npm start`: builds Airlock (the CLI/shim bundles and the Electron app), installs the Electron
// runtime when it is missing, and starts the app. Where the runtime cannot be downloaded it says
// so in one line and points to `airlock serve`.
// `--no-build` skips the build; other arguments go to the app.
import { spawn, spawnSync } from 'node:child_process'
import path from 'node:path'
import {
  appEnv,
  electronViteBin,
  findElectron,
  installElectron,
  MISSING_RUNTIME_MESSAGE,
  sandboxHint,
} from './electron-runtime.mjs'

const root = path.resolve(import.meta.dirname, '..')
const args = process.argv.slice(2)
const build = !args.includes('--no-build')
const appArgs = args.filter((a) => a !== '--no-build')

function run(what, argv) {
  const r = spawnSync(process.execPath, argv, { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) {
    console.error(
      `Airlock: ${what} failed (exit ${r.status ?? r.signal}); fix the errors above and run npm start again.`,
    )
    process.exit(r.status || 1)
  }
}

if (build) {
  run('building the CLI and shim', [path.join(root, 'scripts', 'build-node.mjs')])
  run('building the app (electron-vite build)', [electronViteBin(root), 'build'])
}

let electron = findElectron(root)
if (!electron.ok) {
  const installed = installElectron(root)
  electron = installed.ok ? findElectron(root) : installed
  if (!electron.ok) {
    console.error(`${MISSING_RUNTIME_MESSAGE} (${electron.reason})`)
    process.exit(1)
  }
}

const child = spawn(electron.path, [root, ...appArgs], {
  cwd: root,
  env: appEnv(),
  stdio: 'inherit',
  windowsHide: false,
})
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
child.on('error', (err) => {
  console.error(`Airlock: cannot start ${electron.path}: ${err.message}`)
  process.exit(1)
})
child.on('close', (code, signal) => {
  const hint = sandboxHint(signal)
  if (hint) console.error(hint)
  process.exit(code ?? (signal ? 1 : 0))
})
