/**
 * Faults users meet, through the real shim and gateway: a gateway restart, a crashing server, a
 * server that cannot start, and where a server runs. The client (the SDK Client) must never see
 * its connection close while Airlock can carry on.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { alive, Env, ROOT, textOf, waitFor } from '../helpers/harness'

const FLAKY = path.join(ROOT, 'test', 'fixtures', 'servers', 'flaky-server.mjs')

let env: Env
beforeEach(() => {
  env = new Env()
})
afterEach(async () => {
  await env.cleanup()
})

const flaky = (name = 'flaky', extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name,
  command: process.execPath,
  args: [FLAKY],
  ...extra,
})

describe('the shim survives a gateway restart', () => {
  it('answers the call in flight with an error, reconnects, and the next call works', async () => {
    env.writeConfig([flaky()])
    const first = await env.startGateway()
    const { client } = await env.connect('flaky')
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'one' } }))).toBe(
      'one',
    )
    const hanging = client.callTool({ name: 'hang', arguments: {} })
    const hangingOutcome = hanging.then(
      () => 'answered',
      (err: Error) => err.message,
    )
    first.kill('SIGKILL')
    expect(await hangingOutcome).toMatch(/connection to the gateway was lost/)

    await env.startGateway()
    const res = await client.callTool({ name: 'echo', arguments: { message: 'two' } })
    expect(textOf(res)).toBe('two')
    // A new session was opened upstream with the client's own initialize.
    const sessions = env.auditRecords().filter((r) => r.tool === 'echo' && r.kind === 'call')
    expect(new Set(sessions.map((r) => r.session)).size).toBe(2)
    expect(sessions.every((r) => r.client === 'test-agent')).toBe(true)
  })
})

describe('a server that crashes mid-session', () => {
  it('fails the pending call naming the server, then the next call starts it again', async () => {
    env.writeConfig([flaky()])
    await env.startGateway()
    const { client } = await env.connect('flaky')
    const crashed = await client.callTool({ name: 'crash', arguments: {} }).then(
      () => '',
      (err: Error) => err.message,
    )
    expect(crashed).toMatch(/MCP server "flaky" exited \(code 3\) before answering/)
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'back' } }))).toBe(
      'back',
    )
  })

  it('ends the session with a clear error after it crashes again and again', async () => {
    env.writeConfig([flaky()])
    await env.startGateway()
    const { client } = await env.connect('flaky')
    const messages: string[] = []
    for (let i = 0; i < 4; i++) {
      messages.push(
        await client.callTool({ name: 'crash', arguments: {} }).then(
          () => 'answered',
          (err: Error) => err.message,
        ),
      )
    }
    expect(messages[0]).toMatch(/exited \(code 3\) before answering; Airlock starts it again/)
    expect(messages[2]).toMatch(/stopped 3 times within a minute, so the session ends/)
    // The shim does not reconnect a session the gateway ended on purpose: it says why.
    expect(messages[3]).toMatch(/stopped 3 times within a minute, so the session ends/)
  })
})

describe('a server that cannot start', () => {
  it('answers initialize with an error naming the command and the OS error', async () => {
    env.writeConfig([{ name: 'ghost', command: 'airlock-no-such-command', args: [] }])
    await env.startGateway()
    const err = await env.connect('ghost').then(
      () => undefined,
      (e: Error) => e,
    )
    expect(err?.message).toMatch(/could not be started \(spawn airlock-no-such-command ENOENT\)/)
  })
})

describe('where a server runs', () => {
  it("starts in the client's working directory unless the config sets cwd", async () => {
    const project = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-project-')))
    const fixed = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-fixed-')))
    try {
      env.writeConfig([flaky('here'), flaky('pinned', { cwd: fixed })])
      await env.startGateway()
      const { client } = await env.connect('here', { cwd: project })
      expect(textOf(await client.callTool({ name: 'where', arguments: {} }))).toBe(project)
      const pinned = await env.connect('pinned', { cwd: project })
      expect(textOf(await pinned.client.callTool({ name: 'where', arguments: {} }))).toBe(fixed)
    } finally {
      fs.rmSync(project, { recursive: true, force: true })
      fs.rmSync(fixed, { recursive: true, force: true })
    }
  })
})

describe('no process outlives its gateway', () => {
  it('a gateway that starts after one was killed ends the server groups it left', async () => {
    const pidFile = path.join(env.home, 'grandchild.pid')
    // A server wrapper whose child never reads stdin: it survives the server's own exit.
    const wrapper = env.writeScript(
      'wrapper.cjs',
      `const { spawn } = require('node:child_process')
const g = spawn(process.execPath, ['-e', 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000)'], { stdio: 'ignore' })
require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(g.pid))
require(${JSON.stringify(FLAKY)})
`,
    )
    env.writeConfig([{ name: 'wrapped', command: process.execPath, args: [wrapper] }])
    const first = await env.startGateway()
    const { client } = await env.connect('wrapped')
    await client.listTools()
    const grandchild = Number(fs.readFileSync(pidFile, 'utf8'))
    env.adopt(grandchild)
    first.kill('SIGKILL')
    await new Promise((r) => first.once('exit', r))
    // The server itself leaves on EOF; its grandchild does not.
    expect(alive(grandchild)).toBe(true)
    expect(fs.readdirSync(path.join(env.home, 'server-groups')).length).toBeGreaterThan(0)

    await env.startGateway()
    await waitFor(() => !alive(grandchild), 5000, 'the orphaned grandchild to be ended')
  })
})

describe('clear, single messages', () => {
  it('an invalid config.json at start is reported once, without a "last good config"', async () => {
    fs.writeFileSync(
      path.join(env.home, 'config.json'),
      JSON.stringify({ version: 1, servers: [{ name: 7 }] }),
    )
    await env.startGateway()
    const out = env.gatewayOutput
    const file = path.join(env.home, 'config.json')
    expect(
      out.split(`${file} is invalid, so no servers are served until it is fixed`),
    ).toHaveLength(2)
    expect(out).not.toContain('last good config')
    expect(out).toContain('servers:     (none: see the error above)')
  })

  it('a server that is not configured: the shim names the data directory it looked in', async () => {
    env.writeConfig([flaky()])
    await env.startGateway()
    const shim = env.shim('elsewhere')
    shim.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} })
    const res = await shim.response(1)
    expect(JSON.stringify(res.error)).toContain(`is configured in ${env.home}`)
    expect(JSON.stringify(res.error)).toContain('set AIRLOCK_HOME')
  })
})
