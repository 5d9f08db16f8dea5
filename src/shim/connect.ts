/**
 * `airlock connect <server>`: what MCP clients spawn. Connects to the gateway's agent socket,
 * proves the shared secret (and checks the gateway's proof), names the server, then pipes bytes
 * both ways. It never starts the MCP server itself. With no gateway it starts one in the
 * background and waits up to 5 s; failing that it answers every request with a JSON-RPC error
 * and exits non-zero. Bundled to one dependency-free file (node: builtins only).
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { newChallenge, proof, proofMatches, readSecret } from '../gateway/handshake'
import { dataDir, dataPaths, socketPath } from '../gateway/paths'

const AUTOSTART_WAIT_MS = 5000
const FAIL_IDLE_EXIT_MS = 3000

const serverName = process.argv[3]
const home = dataDir()
const files = dataPaths(home)

function fail(message: string, exitCode = 1): void {
  process.stderr.write(`airlock connect: ${message}\n`)
  // Answer every request the client sends with an error, then exit non-zero.
  let buf = ''
  let timer = setTimeout(() => process.exit(exitCode), FAIL_IDLE_EXIT_MS)
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', (chunk: string) => {
    clearTimeout(timer)
    timer = setTimeout(() => process.exit(exitCode), FAIL_IDLE_EXIT_MS)
    buf += chunk
    let nl: number
    while ((nl = buf.indexOf('\n')) !== -1) {
      const line = buf.slice(0, nl)
      buf = buf.slice(nl + 1)
      let id: unknown
      try {
        const msg = JSON.parse(line) as { id?: unknown; method?: unknown }
        if (typeof msg.method !== 'string' || msg.id === undefined) continue
        id = msg.id
      } catch {
        id = null
      }
      process.stdout.write(
        JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32000, message } }) + '\n',
      )
    }
  })
  process.stdin.on('end', () => process.exit(exitCode))
  process.stdin.resume()
}

function endpoint(): string {
  if (process.platform !== 'win32') return socketPath(home)
  try {
    return fs.readFileSync(files.pipeName, 'utf8').trim()
  } catch {
    return ''
  }
}

function tryConnect(): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const ep = endpoint()
    if (!ep) return resolve(undefined)
    const s = net.connect(ep)
    s.once('connect', () => resolve(s))
    s.once('error', () => resolve(undefined))
  })
}

function startGateway(): void {
  const cli = path.join(__dirname, '..', '..', 'bin', 'airlock.js')
  fs.mkdirSync(files.logs, { recursive: true, mode: 0o700 })
  const log = fs.openSync(path.join(files.logs, 'gateway.log'), 'a', 0o600)
  const child = spawn(process.execPath, [cli, 'serve', '--background'], {
    detached: true,
    stdio: ['ignore', log, log],
    env: process.env,
    windowsHide: true,
  })
  child.unref()
  fs.closeSync(log)
}

async function connect(): Promise<net.Socket | undefined> {
  const first = await tryConnect()
  if (first || process.env.AIRLOCK_NO_AUTOSTART === '1') return first
  startGateway()
  const deadline = Date.now() + AUTOSTART_WAIT_MS
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100))
    const s = await tryConnect()
    if (s) return s
  }
  return undefined
}

/** Reads one newline-terminated JSON line from the socket; the rest stays unshifted. */
function readLine(socket: net.Socket): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0)
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk])
      const nl = buf.indexOf(10)
      if (nl === -1) {
        if (buf.length > 16384) reject(new Error('the gateway sent an oversized handshake'))
        return
      }
      socket.off('data', onData)
      socket.off('close', onClose)
      socket.pause()
      const rest = buf.subarray(nl + 1)
      if (rest.length) socket.unshift(rest)
      try {
        resolve(JSON.parse(buf.subarray(0, nl).toString('utf8')) as Record<string, unknown>)
      } catch {
        reject(new Error('the gateway sent a malformed handshake'))
      }
    }
    const onClose = (): void =>
      reject(new Error('the gateway closed the connection during the handshake'))
    socket.on('data', onData)
    socket.once('close', onClose)
    socket.resume() // an explicit pause() is not undone by adding a 'data' listener
  })
}

async function main(): Promise<void> {
  if (!serverName) {
    process.stderr.write('usage: airlock connect <server>\n')
    return fail(
      'Airlock: no server name given; configure your client to run "airlock connect <server>"',
      2,
    )
  }
  process.stdin.pause()
  const socket = await connect()
  if (!socket) {
    return fail(
      `Airlock gateway is not running: nothing answers at ${endpoint() || files.pipeName} and it could not be started within ${AUTOSTART_WAIT_MS / 1000} s. Start the Airlock app or run "npx airlock serve", then restart this MCP server in your client.`,
    )
  }
  socket.on('error', () => undefined)
  try {
    const secret = readSecret(files.secret)
    const hello = await readLine(socket)
    if (typeof hello.challenge !== 'string') throw new Error('the gateway sent no challenge')
    const mine = newChallenge()
    socket.write(
      JSON.stringify({
        airlock: 1,
        role: 'agent',
        server: serverName,
        proof: proof(secret, 'peer', hello.challenge),
        challenge: mine,
      }) + '\n',
    )
    const welcome = await readLine(socket)
    if (welcome.ok !== true) throw new Error(String(welcome.error).slice(0, 500))
    if (!proofMatches(proof(secret, 'gateway', mine), welcome.proof))
      throw new Error(
        'the process at the socket did not prove the Airlock secret; it is not your gateway',
      )
  } catch (err) {
    socket.destroy()
    return fail(`Airlock gateway refused the connection: ${(err as Error).message}`)
  }
  socket.on('close', () => process.stdout.write('', () => process.exit(0)))
  process.stdin.on('end', () => socket.end())
  process.stdin.pipe(socket)
  socket.pipe(process.stdout)
  socket.resume()
}

void main()
