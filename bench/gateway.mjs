/**
 * The gateway the benchmarks measure: `airlock serve --background --port 0` on the data
 * directory `home`, with server-everything as `everything` under `policy` (YAML text; default:
 * allow everything). Resolves once it runs; `output()` is what it printed so far. A gateway that
 * does not start is ended, and the error says what it printed.
 */
import { spawn } from 'node:child_process'
import { setMaxListeners } from 'node:events'
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const CLI = path.join(ROOT, 'bin', 'airlock.js')
const EVERYTHING = createRequire(import.meta.url).resolve(
  '@modelcontextprotocol/server-everything/dist/index.js',
)

export const ALLOW_ALL = 'version: "1"\ndefault: allow\n'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Starts the gateway; `nodeArgs` go before the CLI (e.g. --cpu-prof). */
export async function startGateway({ home, policy = ALLOW_ALL, nodeArgs = [] }) {
  const env = { ...process.env, AIRLOCK_HOME: home, AIRLOCK_NO_AUTOSTART: '1' }
  const policyFile = path.join(home, 'allow.yaml')
  fs.writeFileSync(policyFile, policy)
  fs.writeFileSync(
    path.join(home, 'config.json'),
    JSON.stringify({
      version: 1,
      servers: [
        {
          name: 'everything',
          command: process.execPath,
          args: [EVERYTHING, 'stdio'],
          policy: policyFile,
        },
      ],
    }),
  )
  const gw = spawn(process.execPath, [...nodeArgs, CLI, 'serve', '--background', '--port', '0'], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  gw.stdout.on('data', (c) => (out += c))
  for (let i = 0; i < 200 && !out.includes('running'); i++) await sleep(50)
  if (!out.includes('running')) {
    gw.kill('SIGTERM')
    throw new Error(`gateway did not start: ${out}`)
  }
  return { gw, env, output: () => out }
}

/**
 * `fetch` for the SDK's HTTP client transport. It gives every request the same AbortSignal, and
 * undici adds an abort listener to it per request that goes only when the request is collected:
 * with thousands of calls Node prints a MaxListenersExceededWarning for each one past 1500 (the
 * bench client's, not the gateway's).
 */
export function benchFetch(url, init) {
  if (init?.signal) setMaxListeners(0, init.signal)
  return fetch(url, init)
}
