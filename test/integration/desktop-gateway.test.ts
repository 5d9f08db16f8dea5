/**
 * The desktop app's gateway without Electron: the real utilityProcess entry (bundled from
 * src/gateway/host/utility-entry.ts) in a Node child whose `process.parentPort` is emulated over
 * fork IPC, driven by main's real GatewayHost and ApprovalDialogs (with a fake message box),
 * a real MCP server and the SDK client through the real shim. What stays unverified here is
 * Electron itself (utilityProcess, dialog, tray): see test/e2e/electron.
 */
import { fork, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { build } from 'esbuild'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { ApprovalDialogs, type DialogOptions } from '../../src/main/approval-dialogs'
import { GatewayHost, type GatewayProcess } from '../../src/main/gateway-host'
import { Env, everything, textOf, waitFor } from '../helpers/harness'

const ROOT = path.resolve(import.meta.dirname, '..', '..')
const OUT = path.join(ROOT, 'out', 'test-desktop-gateway')
const ENTRY = path.join(OUT, 'gateway.mjs')
const PARENT_PORT = path.join(OUT, 'parent-port.mjs')

beforeAll(async () => {
  fs.mkdirSync(OUT, { recursive: true })
  await build({
    entryPoints: [path.join(ROOT, 'src/gateway/host/utility-entry.ts')],
    outfile: ENTRY,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    // As scripts/build-node.mjs bundles it: jsonc-parser's UMD `main` does not bundle.
    alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  })
  // Electron's parentPort, emulated over fork IPC (structured clone). Like Electron's, it queues
  // messages until the first 'message' listener is added.
  fs.writeFileSync(
    PARENT_PORT,
    `import { EventEmitter } from 'node:events'
const port = new EventEmitter()
const queue = []
port.postMessage = (m) => process.send(m)
process.on('message', (m) => (port.listenerCount('message') ? port.emit('message', { data: m }) : queue.push(m)))
port.on('newListener', (event) => {
  if (event === 'message') setImmediate(() => { for (const m of queue.splice(0)) port.emit('message', { data: m }) })
})
process.parentPort = port
`,
  )
}, 60_000)

let env: Env
let children: ChildProcess[]
let host: GatewayHost | undefined

beforeEach(() => {
  env = new Env()
  children = []
})

afterEach(async () => {
  await host?.stop()
  host = undefined
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  await env.cleanup()
})

/** What the fake message box saw and how to answer it. */
interface Shown {
  options: DialogOptions
  signal: AbortSignal
  answer(response: number): void
}

function start(
  secrets: { values?: Record<string, Record<string, string>>; refusal?: string } = {},
): {
  host: GatewayHost
  shown: Shown[]
  events: [string, unknown][]
  secretOps: unknown[]
} {
  const shown: Shown[] = []
  const secretOps: unknown[] = []
  const events: [string, unknown][] = []
  const dialogs = new ApprovalDialogs(
    (options, signal) =>
      new Promise((resolve) => {
        shown.push({ options, signal, answer: (response) => resolve({ response }) })
        signal.addEventListener('abort', () => resolve({ response: options.cancelId }))
      }),
    () => undefined,
  )
  host = new GatewayHost({
    fork: () => {
      const child = fork(ENTRY, [], {
        env: env.env,
        execArgv: ['--import', PARENT_PORT],
        serialization: 'advanced',
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      })
      child.stderr?.on('data', () => undefined)
      children.push(child)
      return {
        postMessage: (m) => child.connected && child.send(m),
        on: (event: string, l: (...a: never[]) => void) =>
          child.on(event, l as (...a: unknown[]) => void),
        kill: () => child.kill('SIGKILL'),
      } as GatewayProcess
    },
    approver: dialogs,
    onEvent: (e, d) => {
      events.push([e, d])
      if (e === 'approval.resolved')
        dialogs.resolved((d as { id: string }).id, (d as { outcome: { answer: string } }).outcome)
    },
    onSecret: (op) => secretOps.push(op),
    log: () => undefined,
    backoffMs: [100],
  })
  host.setSecrets(secrets.values ?? {}, secrets.refusal)
  host.start()
  return { host, shown, events, secretOps }
}

function askForEcho(timeout?: number): void {
  const policy = env.writePolicy('everything', {
    version: '1',
    default: 'allow',
    ...(timeout ? { approval_timeout: timeout } : {}),
    tools: { echo: { rules: [{ name: 'ask before echo', action: 'require_approval' }] } },
  })
  env.writeConfig([everything('everything', { policy })])
}

const running = (h: GatewayHost) =>
  waitFor(() => h.state.state === 'running', 15_000, 'the gateway to run')
const echo = (client: Client, message: string) =>
  client.callTool({ name: 'echo', arguments: { message } })

describe('the desktop gateway process', () => {
  it('serves MCP over HTTP at /mcp/<server> as airlock serve does, through the same policy', async () => {
    env.writeConfig([
      everything('everything', {
        policy: env.writePolicy('everything', {
          version: '1',
          default: 'allow',
          hide: ['get-env'],
        }),
      }),
    ])
    const { host } = start()
    await running(host)
    const portFile = path.join(env.home, 'http-port')
    await waitFor(() => fs.existsSync(portFile), 5000, 'the http-port file')
    const port = Number(fs.readFileSync(portFile, 'utf8').trim())
    const token = fs.readFileSync(path.join(env.home, 'http-token'), 'utf8').trim()
    const client = new Client({ name: 'http-agent', version: '1.0.0' })
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/everything`), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
      }),
    )
    try {
      const tools = (await client.listTools()).tools.map((t) => t.name)
      expect(tools).toContain('echo')
      expect(tools).not.toContain('get-env')
      expect(textOf(await echo(client, 'over http'))).toBe('Echo: over http')
    } finally {
      await client.close()
    }
    await host.stop()
    expect(fs.existsSync(portFile)).toBe(false)
  })

  it('serves the control API to main once it listens', async () => {
    askForEcho()
    const { host } = start()
    await running(host)
    const status = (await host.call('status.get', {})) as { home: string; paused: boolean }
    expect(fs.realpathSync(status.home)).toBe(fs.realpathSync(env.home))
    expect(status.paused).toBe(false)
    await expect(host.call('servers.remove', { name: 'nope' })).resolves.toBe(false)
    await expect(host.call('no.such', {})).rejects.toMatchObject({ code: 'UNKNOWN_METHOD' })
  })

  it('asks the native dialog; its answer reaches the agent and the audit says "dialog"', async () => {
    askForEcho()
    const { host, shown, events } = start()
    await running(host)
    const { client } = await env.connect('everything', { name: 'desk-agent' })
    const call = echo(client, 'hello <b>there</b>')
    await waitFor(() => shown.length === 1, 5000, 'the dialog')
    expect(shown[0]!.options.message).toBe('desk-agent wants to run echo on everything')
    expect(shown[0]!.options.detail).toContain('hello <b>there</b>')
    shown[0]!.answer(1)
    expect(textOf(await call)).toBe('Echo: hello <b>there</b>')
    await waitFor(() => events.some(([e]) => e === 'approval.resolved'), 5000, 'the resolved event')
    expect(events.find(([e]) => e === 'approval.resolved')![1]).toMatchObject({
      outcome: { answer: 'allow_once', by: 'dialog' },
    })
  })

  it('closes the dialog when the window answers first', async () => {
    askForEcho()
    const { host, shown } = start()
    await running(host)
    const { client } = await env.connect('everything')
    const call = echo(client, 'from the window')
    await waitFor(() => shown.length === 1, 5000, 'the dialog')
    const [req] = (await host.call('approvals.list', {})) as { id: string }[]
    await expect(
      host.call('approvals.decide', { id: req!.id, answer: 'allow_once' }),
    ).resolves.toBe('ok')
    expect(textOf(await call)).toBe('Echo: from the window')
    await waitFor(() => shown[0]!.signal.aborted, 5000, 'the dialog to close')
  })

  it('restarts a gateway that died; its pending approval counts as denied and its dialog closes', async () => {
    askForEcho()
    const { host, shown, events } = start()
    await running(host)
    const { client } = await env.connect('everything')
    const call = echo(client, 'doomed').catch((err: unknown) => err)
    await waitFor(() => shown.length === 1, 5000, 'the dialog')
    children[0]!.kill('SIGKILL')
    await waitFor(() => shown[0]!.signal.aborted, 5000, 'the dialog to close')
    expect(events).toContainEqual([
      'approval.resolved',
      { id: expect.any(String), outcome: { answer: 'deny', by: 'gateway exited' } },
    ])
    const outcome = await call
    expect(outcome instanceof Error || (outcome as { isError?: boolean }).isError === true).toBe(
      true,
    )
    await waitFor(
      () => children.length === 2 && host.state.state === 'running',
      15_000,
      'the restarted gateway',
    )
    await expect(host.call('status.get', {})).resolves.toMatchObject({ paused: false })
  })

  it('sends new secrets to main for the keychain, never to config.json', async () => {
    const { host, secretOps } = start({ values: { other: { OLD: 'kept' } } })
    await running(host)
    const server = { ...everything('gh'), secretEnv: ['TOKEN'] }
    await host.call('servers.add', { server, secretValues: { TOKEN: 'ghp_secret' } })
    expect(secretOps).toContainEqual({
      type: 'secret.set',
      server: 'gh',
      key: 'TOKEN',
      value: 'ghp_secret',
    })
    expect(fs.readFileSync(path.join(env.home, 'config.json'), 'utf8')).not.toContain('ghp_secret')
    expect(fs.existsSync(path.join(env.home, 'secrets.json'))).toBe(false)
  })

  it('refuses new secrets when main has no keychain', async () => {
    const { host, secretOps } = start({ refusal: 'the OS keychain is not available' })
    await running(host)
    const server = { ...everything('gh'), secretEnv: ['TOKEN'] }
    await expect(
      host.call('servers.add', { server, secretValues: { TOKEN: 'ghp_secret' } }),
    ).rejects.toThrow(/the OS keychain is not available/)
    expect(secretOps.filter((o) => (o as { type: string }).type === 'secret.set')).toEqual([])
    expect(fs.existsSync(path.join(env.home, 'secrets.json'))).toBe(false)
  })

  it('shuts down cleanly when main stops it', async () => {
    const { host } = start()
    await running(host)
    await host.stop()
    expect(children[0]!.exitCode).toBe(0)
  })
})
