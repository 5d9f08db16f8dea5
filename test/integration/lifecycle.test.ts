/**
 * Processes coming and going: a server that crashes mid-call, server process trees ended with
 * their session (wrappers and grandchildren included), the shim with no gateway (fail closed)
 * and the shim starting a gateway itself.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { McpError } from '@modelcontextprotocol/sdk/types.js'
import type { ServerConfig } from '../../src/shared/contract/config'
import {
  alive,
  descendants,
  Env,
  everything,
  serverScript,
  textOf,
  waitFor,
} from '../helpers/harness'

let env: Env

beforeEach(() => {
  env = new Env()
})

afterEach(async () => {
  await env.cleanup()
})

/**
 * A minimal stdio MCP server with one tool, `work`. MODE (env) says what `work` does:
 * "crash" writes to stderr and exits 3 without answering; "answer-then-exit" answers, then
 * exits at once. EXIT_AFTER_MS ends the process after that delay regardless. KEEP_CHILD starts
 * a child that inherits (and so keeps open) the server's stdio.
 */
const FRAGILE = `
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n')
if (process.env.KEEP_CHILD) require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'inherit' })
// EXIT_ONCE_FILE: only the first process leaves on the timer (a restarted one stays, however slow its start).
const leaves = process.env.EXIT_AFTER_MS && !(process.env.EXIT_ONCE_FILE && require('node:fs').existsSync(process.env.EXIT_ONCE_FILE))
if (leaves && process.env.EXIT_ONCE_FILE) require('node:fs').writeFileSync(process.env.EXIT_ONCE_FILE, '')
if (leaves) setTimeout(() => { process.stderr.write('leaving on a timer\\n'); process.exit(4) }, Number(process.env.EXIT_AFTER_MS))
let buf = ''
process.stdin.on('data', (c) => {
  buf += c
  let nl
  while ((nl = buf.indexOf('\\n')) !== -1) {
    const msg = JSON.parse(buf.slice(0, nl))
    buf = buf.slice(nl + 1)
    if (msg.method === 'initialize') {
      send({ jsonrpc: '2.0', id: msg.id, result: { protocolVersion: msg.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'fragile', version: '1.0.0' } } })
    } else if (msg.method === 'tools/list') {
      send({ jsonrpc: '2.0', id: msg.id, result: { tools: [{ name: 'work', inputSchema: { type: 'object' } }] } })
    } else if (msg.method === 'tools/call') {
      if (process.env.MODE === 'crash') {
        process.stderr.write('crashing on purpose\\n')
        process.exit(3)
      }
      // Log messages, then a large answer, then exit: more than the pipes hold, so the gateway
      // is still reading (and the client still draining) when the server is gone.
      for (let i = 0; i < 8; i++) send({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: String(i).repeat(256 * 1024) } })
      const answer = { jsonrpc: '2.0', id: msg.id, result: { content: [{ type: 'text', text: 'done, bye' }, { type: 'text', text: 'x'.repeat(1024 * 1024) }] } }
      process.stdout.write(JSON.stringify(answer) + '\\n', () => process.exit(0))
    } else if (msg.id !== undefined && msg.method) {
      send({ jsonrpc: '2.0', id: msg.id, result: {} })
    }
  }
})
`

function fragile(name: string, envVars: Record<string, string>): Partial<ServerConfig> {
  const script = env.writeScript('fragile.cjs', FRAGILE)
  return { name, command: process.execPath, args: [script], env: envVars }
}

/** Live (non-zombie) descendants of the gateway process. */
function serverTree(): number[] {
  return descendants(env.gateway!.pid!).filter(alive)
}

describe('a server that crashes', () => {
  it('the pending call gets a JSON-RPC error naming the server; the session goes on; the gateway serves on', async () => {
    env.writeConfig([fragile('crashy', { MODE: 'crash' }), everything()])
    await env.startGateway()
    const { client } = await env.connect('crashy')
    let closed = false
    client.onclose = () => (closed = true)
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['work'])

    const err = await client.callTool({ name: 'work', arguments: {} }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(McpError)
    expect((err as McpError).code).toBe(-32000)
    expect((err as McpError).message).toContain(
      'MCP server "crashy" exited (code 3) before answering; Airlock starts it again on the next request',
    )
    expect((err as McpError).message).toContain('crashing on purpose')
    await waitFor(() => serverTree().length === 0, 5000, 'the crashed server to be gone')

    // The session goes on: the next request starts the server again, re-initialized.
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['work'])
    expect(closed).toBe(false)
    expect(serverTree()).toHaveLength(1)

    // The gateway keeps serving other servers.
    const other = (await env.connect('everything')).client
    expect(
      textOf(await other.callTool({ name: 'echo', arguments: { message: 'still here' } })),
    ).toBe('Echo: still here')
  })

  it('a crash whose child keeps the output pipe open still ends the session, and the child', async () => {
    env.writeConfig([fragile('crashy', { MODE: 'crash', KEEP_CHILD: '1' })])
    await env.startGateway()
    const { client } = await env.connect('crashy')
    await client.listTools()
    const tree = serverTree()
    expect(tree.length).toBe(2)
    const started = Date.now()
    const err = await client.callTool({ name: 'work', arguments: {} }).catch((e: unknown) => e)
    expect((err as McpError).message).toContain('MCP server "crashy" exited (code 3)')
    expect(Date.now() - started).toBeLessThan(4000)
    await waitFor(() => tree.every((p) => !alive(p)), 5000, 'the orphaned child to be ended')
  })

  it('a server that exits on its own is started again by the next request', async () => {
    env.writeConfig([
      fragile('shortlived', {
        EXIT_AFTER_MS: '1500',
        EXIT_ONCE_FILE: path.join(env.home, 'left-once'),
      }),
    ])
    await env.startGateway()
    const { client } = await env.connect('shortlived')
    let closed = false
    client.onclose = () => (closed = true)
    expect(await client.ping()).toEqual({})
    // The gateway has seen the exit (a request racing the exit itself gets the exit's error).
    await waitFor(
      () => env.gatewayOutput.includes('shortlived: server exited (code 4)'),
      5000,
      'the gateway to see the server exit',
    )
    expect(await client.ping()).toEqual({})
    expect(closed).toBe(false)
  })

  it('an answer written just before the server exits still reaches the client', async () => {
    env.writeConfig([fragile('oneshot', { MODE: 'answer-then-exit' })])
    await env.startGateway()
    const { client } = await env.connect('oneshot')
    const res = await client.callTool({ name: 'work', arguments: {} })
    expect(textOf(res)).toBe('done, bye')
    expect((res.content as { text: string }[])[1].text).toHaveLength(1024 * 1024)
  })
})

describe('no process left behind', () => {
  /** server-everything behind a shell, so the MCP server is the gateway's grandchild. */
  function wrapped(): Partial<ServerConfig> {
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`
    // "; exit $?" keeps the shell from exec'ing node: the shell stays as the middle process.
    return {
      name: 'wrapped',
      command: '/bin/sh',
      args: ['-c', `${q(process.execPath)} ${q(serverScript('everything'))} stdio; exit $?`],
    }
  }

  /** A node wrapper that spawns the server as a child, like npx does. */
  function npxLike(): Partial<ServerConfig> {
    const launcher = env.writeScript(
      'launcher.cjs',
      `const { spawn } = require('node:child_process')
const child = spawn(process.execPath, [${JSON.stringify(serverScript('everything'))}, 'stdio'], { stdio: 'inherit' })
child.on('exit', (code) => process.exit(code ?? 1))
`,
    )
    return { name: 'npxlike', command: process.execPath, args: [launcher] }
  }

  async function treeDuring(
    server: string,
  ): Promise<{ pids: number[]; close: () => Promise<void> }> {
    const { client } = await env.connect(server)
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'up' } }))).toBe(
      'Echo: up',
    )
    const pids = serverTree()
    return { pids, close: () => client.close() }
  }

  it('client.close() ends the whole server tree (shell wrapper + server)', async () => {
    env.writeConfig([wrapped()])
    await env.startGateway()
    const { pids, close } = await treeDuring('wrapped')
    expect(pids.length).toBeGreaterThanOrEqual(2)
    await close()
    await waitFor(() => pids.every((p) => !alive(p)), 5000, 'the server tree to end')
    expect(serverTree()).toEqual([])
  })

  it('client.close() ends an npx-like launcher and its child', async () => {
    env.writeConfig([npxLike()])
    await env.startGateway()
    const { pids, close } = await treeDuring('npxlike')
    expect(pids.length).toBeGreaterThanOrEqual(2)
    await close()
    await waitFor(() => pids.every((p) => !alive(p)), 5000, 'the server tree to end')
  })

  it('a killed shim (the agent crashed) ends the server tree too', async () => {
    env.writeConfig([wrapped()])
    await env.startGateway()
    const { client, transport } = await env.connect('wrapped')
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'up' } }))).toBe(
      'Echo: up',
    )
    const pids = serverTree()
    expect(pids.length).toBeGreaterThanOrEqual(2)
    process.kill(transport.pid!, 'SIGKILL')
    await waitFor(() => pids.every((p) => !alive(p)), 5000, 'the server tree to end')
  })

  it('stopping the gateway ends every session and server tree', async () => {
    env.writeConfig([wrapped(), everything()])
    const gw = await env.startGateway()
    await treeDuring('wrapped')
    await treeDuring('everything')
    const pids = serverTree()
    expect(pids.length).toBeGreaterThanOrEqual(3)
    gw.kill('SIGTERM')
    await waitFor(() => gw.exitCode !== null, 10_000, 'the gateway to exit')
    expect(gw.exitCode).toBe(0)
    await waitFor(() => pids.every((p) => !alive(p)), 5000, 'the server trees to end')
    expect(fs.existsSync(path.join(env.home, 'gateway.pid'))).toBe(false)
  })

  it('a request in flight when the gateway stops gets an error, not silence', async () => {
    env.writeConfig([everything()])
    const gw = await env.startGateway()
    const { client } = await env.connect('everything')
    // The first progress notification shows the call is running on the server.
    let running: () => void = () => undefined
    const started = new Promise<void>((r) => (running = r))
    const call = client.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 10, steps: 10 } },
      undefined,
      { onprogress: () => running() },
    )
    const settled = call.then(
      () => 'answered',
      (err: Error) => err.message,
    )
    await started
    gw.kill('SIGTERM')
    expect(await settled).toMatch(/the gateway is shutting down.*Retry it/)
  })
})

describe('no gateway', () => {
  it('with AIRLOCK_NO_AUTOSTART=1 the shim fails closed: a JSON-RPC error, then a non-zero exit', async () => {
    env.writeConfig([everything()])
    const shim = env.shim('everything')
    shim.send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'x', version: '1' },
      },
    })
    const res = await shim.response(1)
    expect(res.error).toMatchObject({ code: -32000 })
    expect((res.error as { message: string }).message).toContain('Airlock gateway is not running')
    // A notification gets no answer; a later request does.
    shim.send({ jsonrpc: '2.0', method: 'notifications/initialized' })
    shim.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' })
    expect((await shim.response(2)).error).toBeDefined()
    expect(shim.messages).toHaveLength(2)
    shim.proc.stdin!.end()
    const code = await shim.exited
    expect(code).not.toBe(0)
    expect(shim.stderr).toContain('Airlock gateway is not running')
    // Nothing was started behind our back.
    expect(fs.existsSync(path.join(env.home, 'gateway.pid'))).toBe(false)
  })

  it('without AIRLOCK_NO_AUTOSTART the shim starts a gateway in the background and the call works', async () => {
    env.writeConfig([everything()])
    const autostartEnv: NodeJS.ProcessEnv = { ...env.env }
    delete autostartEnv.AIRLOCK_NO_AUTOSTART
    const pidFile = path.join(env.home, 'gateway.pid')
    try {
      const { client } = await env.connect('everything', { env: autostartEnv })
      expect(
        textOf(await client.callTool({ name: 'echo', arguments: { message: 'autostarted' } })),
      ).toBe('Echo: autostarted')
    } finally {
      // The gateway runs detached: end it ourselves.
      await waitFor(() => fs.existsSync(pidFile), 5000, 'gateway.pid').catch(() => undefined)
      if (fs.existsSync(pidFile)) env.adopt(Number(fs.readFileSync(pidFile, 'utf8').trim()))
    }
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim())
    expect(alive(pid)).toBe(true)
    expect(fs.readFileSync(path.join(env.home, 'logs', 'gateway.log'), 'utf8')).toContain(
      'Airlock gateway running',
    )
    // A second shim uses the running gateway instead of starting another.
    const second = await env.connect('everything', { env: autostartEnv })
    expect(await second.client.ping()).toEqual({})
    // Both sessions are on the gateway that was running.
    const status = await (await env.control()).api.status.get()
    expect(status.pid).toBe(pid)
    expect(status.sessions).toHaveLength(2)
    expect(Number(fs.readFileSync(pidFile, 'utf8').trim())).toBe(pid)
  })

  it('three clients starting at once with no gateway end up sharing one gateway', async () => {
    env.writeConfig([everything()])
    const autostartEnv: NodeJS.ProcessEnv = { ...env.env }
    delete autostartEnv.AIRLOCK_NO_AUTOSTART
    try {
      // An MCP host starts all its servers at the same moment.
      const clients = await Promise.all(
        [0, 1, 2].map(() => env.connect('everything', { env: autostartEnv })),
      )
      const results = await Promise.all(
        clients.map(({ client }, i) =>
          client.callTool({ name: 'echo', arguments: { message: `client ${i}` } }),
        ),
      )
      expect(results.map(textOf)).toEqual(['Echo: client 0', 'Echo: client 1', 'Echo: client 2'])
    } finally {
      for (const pid of gatewaysOf(env.home)) env.adopt(pid)
    }
    // The gateways that lost the lock exit on their own: wait for that, within a bound.
    await waitFor(() => gatewaysOf(env.home).length <= 1, 10_000, 'the losing gateways to exit')
    const gateways = gatewaysOf(env.home)
    const log = fs.readFileSync(path.join(env.home, 'logs', 'gateway.log'), 'utf8')
    expect(gateways, log).toHaveLength(1)
    console.log(log)
    expect(Number(fs.readFileSync(path.join(env.home, 'gateway.pid'), 'utf8').trim())).toBe(
      gateways[0],
    )
    expect((await env.run(['audit', 'verify'])).code).toBe(0)
  })
})

/** Live `airlock serve` processes whose AIRLOCK_HOME is `home` (Linux /proc). */
function gatewaysOf(home: string): number[] {
  const out: number[] = []
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0')
      if (!cmd.includes('serve')) continue
      const environ = fs.readFileSync(`/proc/${d}/environ`, 'utf8').split('\0')
      if (environ.includes(`AIRLOCK_HOME=${home}`) && alive(Number(d))) out.push(Number(d))
    } catch {
      // raced with an exit
    }
  }
  return out
}

describe('the client closes its input', () => {
  const init = {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'pipe', version: '1' },
    },
  }

  it('requests sent just before still get their answers, then the shim exits 0', async () => {
    env.writeConfig([everything()])
    await env.startGateway()
    const shim = env.shim('everything')
    // A one-shot pipe: everything written, input closed at once, answers read afterwards.
    shim.send(init)
    shim.send({ jsonrpc: '2.0', method: 'notifications/initialized' })
    shim.send({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'echo', arguments: { message: 'late' } },
    })
    shim.proc.stdin!.end()
    expect(await shim.exited).toBe(0)
    expect((await shim.response(1)).result).toBeDefined()
    expect(JSON.stringify((await shim.response(2)).result)).toContain('Echo: late')
  })

  it('with nothing left to answer the shim exits 0 at once, and the gateway ends the session', async () => {
    env.writeConfig([everything()])
    await env.startGateway()
    const control = await env.control()
    const shim = env.shim('everything')
    shim.send(init)
    await shim.response(1)
    shim.send({ jsonrpc: '2.0', method: 'notifications/initialized' })
    await waitFor(
      async () => (await control.api.status.get()).sessions.length === 1,
      10_000,
      'the session',
    )
    shim.proc.stdin!.end()
    expect(await shim.exited).toBe(0)
    await waitFor(
      async () => (await control.api.status.get()).sessions.length === 0,
      10_000,
      'the session to end',
    )
  })
})
