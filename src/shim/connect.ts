/**
 * `airlock connect <server>`: what MCP clients spawn. Connects to the gateway's agent socket,
 * proves the shared secret (and checks the gateway's proof), names the server and its working
 * directory, then relays newline-delimited JSON-RPC both ways. It never starts the MCP server
 * itself. With no gateway it starts one in the background and waits up to 5 s; failing that it
 * answers every request with a JSON-RPC error and exits non-zero.
 *
 * The client never sees its connection close while Airlock can help it: when the gateway
 * restarts (or the session ends because the server crashed), the shim answers the requests that
 * were in flight with an error, reconnects for up to 30 s, replays the client's own `initialize`
 * and `notifications/initialized` to open a new session, and carries on. More than
 * {@link MAX_RECONNECTS} reconnects within a minute end it with a clear error.
 * Bundled to one dependency-free file (node: builtins only).
 */
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { newChallenge, proof, proofMatches, readSecret } from '../node/handshake'
import { readDesktopApp } from '../node/desktop-app'
import {
  dataDir,
  dataDirProblem,
  DataDirError,
  dataPaths,
  ensureDataDir,
  isDataDirError,
  socketPath,
} from '../node/paths'

const AUTOSTART_WAIT_MS = 5000
/** How long a desktop app started by the shim gets to open its socket (Electron starts slower). */
const APP_START_WAIT_MS = 20_000
const FAIL_IDLE_EXIT_MS = 3000
/** How long the shim tries to reach a restarted gateway before it gives up. */
const RECONNECT_WINDOW_MS = 30_000
const RECONNECT_EVERY_MS = 200
/** Reconnects allowed within a minute (a server that crashes at every start must not loop). */
const MAX_RECONNECTS = 3
/** The id of the replayed initialize, whose answer the client must not see. */
const REINIT_ID = 'airlock-reinitialize'
/** Sent by the gateway before it ends a session on purpose: the shim stops instead of reconnecting. */
const ENDED = Buffer.from('{"jsonrpc":"2.0","method":"notifications/airlock/session_ended"')
/**
 * Sent when the client closed its input with requests unanswered: the gateway answers them, then
 * ends the session. The socket stays open, so that the gateway sees the shim go if it dies.
 */
const INPUT_ENDED = '{"jsonrpc":"2.0","method":"notifications/airlock/input_ended"}\n'

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

/**
 * Starts a gateway for this data directory: the desktop app when it recorded how to start it
 * (it is the one that shows approval dialogs), else the headless gateway. Returns how long to
 * wait for its socket.
 */
async function startGateway(): Promise<number> {
  // Loaded only here: most starts find a gateway running, and child_process takes 1–3 ms to load.
  const { spawn } = await import('node:child_process')
  ensureDataDir(home)
  fs.mkdirSync(files.logs, { recursive: true, mode: 0o700 })
  const log = fs.openSync(path.join(files.logs, 'gateway.log'), 'a', 0o600)
  const app = readDesktopApp(home)
  // A shim run by the app's own binary has ELECTRON_RUN_AS_NODE set: the app must not inherit it.
  const env = { ...process.env }
  delete env.ELECTRON_RUN_AS_NODE
  const [file, args] = app
    ? [app.command, app.args]
    : [
        process.execPath,
        [path.join(__dirname, '..', '..', 'bin', 'airlock.js'), 'serve', '--background'],
      ]
  const child = spawn(file, args, {
    detached: true,
    stdio: ['ignore', log, log],
    env: app ? env : process.env,
    windowsHide: !app,
  })
  child.on('error', () => undefined) // the wait below reports that nothing answers
  child.unref()
  fs.closeSync(log)
  return app ? APP_START_WAIT_MS : AUTOSTART_WAIT_MS
}

/** How long the last start was waited for (said when nothing answered). */
let startWaitMs = AUTOSTART_WAIT_MS

async function connect(): Promise<net.Socket | undefined> {
  const first = await tryConnect()
  if (first || process.env.AIRLOCK_NO_AUTOSTART === '1') return first
  try {
    startWaitMs = await startGateway()
  } catch (err) {
    // No gateway can run on a data directory it cannot write: say which and what to do.
    const problem =
      err instanceof DataDirError || !isDataDirError(home, err) ? err : dataDirProblem(home, err)
    throw new Error(
      `${(problem as Error).message} No Airlock gateway was started for it; restart this MCP server in your client once it is fixed.`,
      { cause: err },
    )
  }
  const deadline = Date.now() + startWaitMs
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

type Json = Record<string, unknown>

/** Connects (starting a gateway when none answers) and completes the handshake; throws with the reason. */
async function open(autostart: boolean): Promise<net.Socket> {
  const socket = autostart ? await connect() : await tryConnect()
  if (!socket) {
    const why = autostart
      ? process.env.AIRLOCK_NO_AUTOSTART === '1'
        ? 'AIRLOCK_NO_AUTOSTART=1 is set, so none was started'
        : `it could not be started within ${startWaitMs / 1000} s`
      : 'it did not come back'
    throw new Error(
      `Airlock gateway is not running: nothing answers at ${endpoint() || files.pipeName} (data directory ${home}) and ${why}. Start the Airlock app or run "npx airlock serve", then restart this MCP server in your client.`,
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
        cwd: process.cwd(),
        proof: proof(secret, 'peer', hello.challenge),
        challenge: mine,
      }) + '\n',
    )
    const welcome = await readLine(socket)
    if (welcome.ok !== true)
      throw Object.assign(new Error(String(welcome.error).slice(0, 500)), { refused: true })
    if (!proofMatches(proof(secret, 'gateway', mine), welcome.proof))
      throw new Error(
        'the process at the socket did not prove the Airlock secret; it is not your gateway',
      )
  } catch (err) {
    socket.destroy()
    throw Object.assign(
      new Error(`Airlock gateway refused the connection: ${(err as Error).message}`),
      { refused: (err as { refused?: boolean }).refused === true },
    )
  }
  return socket
}

/**
 * Splits chunks into lines (without "\n") for `onLine`; `onChunk` runs after the lines of each
 * chunk, so that what they produced goes out in one write.
 */
function lineReader(onLine: (line: Buffer) => void, onChunk?: () => void): (chunk: Buffer) => void {
  let pending: Buffer | undefined
  return (chunk) => {
    let buf = pending ? Buffer.concat([pending, chunk]) : chunk
    pending = undefined
    let nl: number
    while ((nl = buf.indexOf(10)) !== -1) {
      onLine(buf.subarray(0, nl))
      buf = buf.subarray(nl + 1)
    }
    if (buf.length) pending = buf
    onChunk?.()
  }
}

/** Lines to write, each followed by "\n", then written at once by `flush`. */
function outBatch(): { add: (line: Buffer) => void; flush: (write: (b: Buffer) => void) => void } {
  let parts: Buffer[] = []
  return {
    add: (line) => void parts.push(line, NL),
    flush: (write) => {
      if (parts.length === 0) return
      const out = Buffer.concat(parts)
      parts = []
      write(out)
    },
  }
}

function parse(line: Buffer): unknown {
  try {
    return JSON.parse(line.toString('utf8'))
  } catch {
    return undefined
  }
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const idKey = (id: unknown): string => JSON.stringify(id)

async function main(): Promise<void> {
  if (!serverName) {
    process.stderr.write('usage: airlock connect <server>\n')
    return fail(
      'Airlock: no server name given; configure your client to run "airlock connect <server>"',
      2,
    )
  }
  process.stdin.pause()
  let socket: net.Socket | undefined
  try {
    socket = await open(true)
  } catch (err) {
    return fail((err as Error).message)
  }

  /** The client's requests not answered yet (id key → id). */
  const inFlight = new Map<string, unknown>()
  let initialize: Json | undefined
  let initialized: Buffer | undefined
  /** Client lines that arrive while the shim reconnects. */
  let queue: Buffer[] | undefined
  let stdinEnded = false
  let swallowReinit = false
  /** Why the gateway ended the session on purpose, when it did. */
  let endedReason: string | undefined
  const reconnects: number[] = []

  const toClient = (msg: unknown): void => {
    process.stdout.write(JSON.stringify(msg) + '\n')
  }

  const trackClient = (msg: unknown): void => {
    if (Array.isArray(msg)) return msg.forEach(trackClient)
    if (!isObj(msg) || typeof msg.method !== 'string') return
    if (msg.id !== undefined) inFlight.set(idKey(msg.id), msg.id)
    if (msg.method === 'initialize') initialize = msg
  }
  // What one chunk of either side holds goes on in one write, not one per line.
  const toGateway = outBatch()
  const fromClient = lineReader(
    (line) => {
      const msg = parse(line)
      trackClient(msg)
      if (isObj(msg) && msg.method === 'notifications/initialized') initialized = Buffer.from(line)
      if (queue) queue.push(Buffer.from(line))
      else if (socket) toGateway.add(line)
    },
    () => toGateway.flush((b) => socket?.write(b)),
  )

  const settle = (msg: unknown): boolean => {
    // Returns false for the answer to the replayed initialize, which the client never asked.
    if (Array.isArray(msg)) {
      msg.forEach(settle)
      return true
    }
    if (!isObj(msg) || 'method' in msg) return true
    if (swallowReinit && msg.id === REINIT_ID) {
      swallowReinit = false
      return false
    }
    inFlight.delete(idKey(msg.id))
    return true
  }
  const toStdout = outBatch()
  const fromGateway = lineReader(
    (line) => {
      if (line.subarray(0, ENDED.length).equals(ENDED)) {
        const msg = parse(line)
        endedReason =
          isObj(msg) && isObj(msg.params) && typeof msg.params.reason === 'string'
            ? msg.params.reason
            : `Airlock ended the session of "${serverName}"`
        return
      }
      if (inFlight.size || swallowReinit) {
        if (!settle(parse(line))) return
      }
      toStdout.add(line)
    },
    () => toStdout.flush((b) => process.stdout.write(b)),
  )

  const attach = (s: net.Socket): void => {
    socket = s
    s.on('data', fromGateway)
    s.once('close', () => {
      if (socket !== s) return
      socket = undefined
      if (stdinEnded) return void process.stdout.write('', () => process.exit(0))
      if (endedReason !== undefined) return giveUp(endedReason)
      void reconnect()
    })
    s.resume()
  }

  const giveUp = (message: string): void => {
    for (const id of inFlight.values())
      toClient({ jsonrpc: '2.0', id, error: { code: -32000, message } })
    inFlight.clear()
    process.stdin.off('data', fromClient)
    process.stdin.pause()
    fail(message)
  }

  const reconnect = async (): Promise<void> => {
    queue = []
    const now = Date.now()
    while (reconnects.length && now - (reconnects[0] as number) > 60_000) reconnects.shift()
    if (reconnects.length >= MAX_RECONNECTS) {
      return giveUp(
        `Airlock: the session of "${serverName}" ended ${MAX_RECONNECTS + 1} times within a minute (the server keeps crashing, or the gateway keeps restarting); see "airlock status" and the gateway log in ${files.logs}, then restart this MCP server in your client.`,
      )
    }
    reconnects.push(now)
    // The requests that were in flight will never be answered by the old session.
    for (const id of inFlight.values())
      toClient({
        jsonrpc: '2.0',
        id,
        error: {
          code: -32000,
          message: `Airlock: the connection to the gateway was lost (the gateway or the "${serverName}" server restarted) before this request was answered; it may not have run. Retry it.`,
        },
      })
    inFlight.clear()
    const deadline = Date.now() + RECONNECT_WINDOW_MS
    let lastError = ''
    let started = false
    while (Date.now() < deadline) {
      try {
        // Autostart once, after the old gateway had a moment to come back by itself.
        const autostart = !started && Date.now() > deadline - RECONNECT_WINDOW_MS + 2000
        if (autostart) started = true
        const s = await open(autostart)
        if (initialize) {
          swallowReinit = true
          s.write(JSON.stringify({ ...initialize, id: REINIT_ID }) + '\n')
          if (initialized) s.write(Buffer.concat([initialized, NL]))
        }
        const waiting = queue
        queue = undefined
        attach(s)
        for (const line of waiting ?? []) s.write(Buffer.concat([line, NL]))
        if (stdinEnded) s.write(INPUT_ENDED)
        return
      } catch (err) {
        lastError = (err as Error).message
        // A gateway that answers "no" (the server was removed or disabled) will not change its mind.
        if ((err as { refused?: boolean }).refused) break
        await new Promise((r) => setTimeout(r, RECONNECT_EVERY_MS))
      }
    }
    giveUp(lastError || 'Airlock gateway did not come back within 30 s')
  }

  process.stdin.on('data', fromClient)
  process.stdin.on('end', () => {
    stdinEnded = true
    // Nothing owed to the client (no request of its own unanswered): once what it sent is handed
    // to the kernel, exit without waiting for the gateway to close its side, which may be busy
    // starting the server. With requests in flight, wait for their answers (the socket's close).
    const owed = inFlight.size > 0 || swallowReinit
    if (socket && !owed) socket.end(() => process.stdout.write('', () => process.exit(0)))
    else if (socket) socket.write(INPUT_ENDED)
    else if (!queue) process.exit(0)
  })
  attach(socket)
  process.stdin.resume()
}

const NL = Buffer.from('\n')

void main()
