/**
 * Safe by default: a hand-rolled chat server (logout, transfer, delete_chat, send_message…)
 * behind the real gateway and shim, with no policy, a silent policy, an explicit allow, and the
 * riskFloor setting. A critical call waits for a (scripted) person; denied, the server never
 * sees it.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import type { ServerConfig } from '../../src/shared/contract/config'
import { Env, ROOT, runCliAs, textOf, type Approver } from '../helpers/harness'

let env: Env
let callLog: string
let listLog: string

beforeEach(() => {
  env = new Env()
  callLog = path.join(env.home, 'calls.log')
  listLog = path.join(env.home, 'lists.log')
})

/** How many tools/list requests the server answered (from any session). */
function lists(): number {
  return fs.existsSync(listLog)
    ? fs.readFileSync(listLog, 'utf8').split('\n').filter(Boolean).length
    : 0
}

afterEach(async () => {
  await env.cleanup()
})

function chat(extra: Partial<ServerConfig> = {}): Partial<ServerConfig> {
  return {
    name: 'chat',
    command: process.execPath,
    args: [path.join(ROOT, 'test', 'fixtures', 'servers', 'chat-server.mjs')],
    env: { CALL_LOG: callLog, LIST_LOG: listLog },
    ...extra,
  }
}

/** The tool calls the server received, in order. */
function seen(): string[] {
  return fs.existsSync(callLog) ? fs.readFileSync(callLog, 'utf8').split('\n').filter(Boolean) : []
}

const call = (client: Client, name: string) => client.callTool({ name, arguments: {} })

async function start(
  server: Partial<ServerConfig>,
  settings: Record<string, unknown> = {},
  answer: 'allow_once' | 'deny' = 'allow_once',
): Promise<{ client: Client; approver: Approver }> {
  env.writeConfig([server], settings)
  await env.startGateway()
  const approver = await env.approver(() => answer)
  const { client } = await env.connect('chat', { name: 'floor-agent' })
  return { client, approver }
}

describe('the risk floor, with real processes', () => {
  it('no policy: logout waits for a person, who allows it; the record says why', async () => {
    const { client, approver } = await start(chat())
    expect(textOf(await call(client, 'logout'))).toBe('logout: done')
    expect(approver.requested).toHaveLength(1)
    expect(approver.requested[0]).toMatchObject({
      tool: 'logout',
      reason: 'risk floor: critical (auth — "logout")',
    })
    expect(seen()).toEqual(['logout'])
    // A read passes without asking.
    expect(textOf(await call(client, 'get_messages'))).toBe('get_messages: done')
    expect(approver.requested).toHaveLength(1)
    const rec = env.auditRecords().find((r) => r.tool === 'logout' && r.decision === 'approved')
    expect(rec?.reason).toBe('risk floor: critical (auth — "logout"); allow_once by control')
  })

  it('no policy: a denied transfer never reaches the server; the agent is told why', async () => {
    const { client, approver } = await start(chat(), {}, 'deny')
    const res = await call(client, 'transfer')
    expect(res.isError).toBe(true)
    expect(textOf(res)).toContain('risk floor: critical (financial — "transfer")')
    expect(approver.requested.map((r) => r.tool)).toEqual(['transfer'])
    expect(textOf(await call(client, 'get_messages'))).toBe('get_messages: done')
    expect(seen()).toEqual(['get_messages'])
    const rec = env.auditRecords().find((r) => r.tool === 'transfer')
    expect(rec).toMatchObject({
      decision: 'denied_by_user',
      reason: 'risk floor: critical (financial — "transfer"); denied by control',
    })
  })

  it('a policy that never mentions delete_chat, under default: allow, still asks', async () => {
    const policy = env.writePolicy('chat', {
      version: '1',
      default: 'allow',
      tools: { send_message: { rules: [] } },
    })
    const { client, approver } = await start(chat({ policy }), {}, 'deny')
    expect((await call(client, 'delete_chat')).isError).toBe(true)
    expect(approver.requested[0]?.reason).toBe('risk floor: critical (destructive — "delete")')
    expect(textOf(await call(client, 'send_message'))).toBe('send_message: done')
    expect(seen()).toEqual(['send_message'])
  })

  it('an explicit allow rule decides logout: no approval', async () => {
    const policy = env.writePolicy('chat', {
      version: '1',
      tools: { logout: { rules: [{ name: 'logging out is fine', action: 'allow' }] } },
    })
    const { client, approver } = await start(chat({ policy }), {}, 'deny')
    expect(textOf(await call(client, 'logout'))).toBe('logout: done')
    expect(approver.requested).toHaveLength(0)
    expect(env.auditRecords().find((r) => r.tool === 'logout')).toMatchObject({
      decision: 'allow',
      rule: 'logging out is fine',
    })
  })

  it('riskFloor off leaves logout to the (absent) policy', async () => {
    const { client, approver } = await start(chat(), { riskFloor: 'off' }, 'deny')
    expect(textOf(await call(client, 'logout'))).toBe('logout: done')
    expect(approver.requested).toHaveLength(0)
  })

  it('riskFloor high guards send_message too', async () => {
    const { client, approver } = await start(chat(), { riskFloor: 'high' }, 'deny')
    expect((await call(client, 'send_message')).isError).toBe(true)
    expect(approver.requested[0]?.reason).toBe('risk floor: high (communication — "send")')
    expect(textOf(await call(client, 'get_messages'))).toBe('get_messages: done')
    expect(seen()).toEqual(['get_messages'])
  })

  it('a tool never listed before its first call is classified by one tools/list of the gateway', async () => {
    // `frobnicate` says nothing by its name; its description says it wipes everything.
    const { client, approver } = await start(chat(), {}, 'deny')
    const res = await call(client, 'frobnicate')
    expect(res.isError).toBe(true)
    expect(approver.requested[0]?.reason).toBe('risk floor: critical (destructive — "Clear all")')
    expect(lists()).toBe(1)
    expect(seen()).toEqual([])
    // The list is kept in the data directory: a new session (and a new gateway) knows it at once.
    const kept = JSON.parse(fs.readFileSync(path.join(env.home, 'tools', 'chat.json'), 'utf8'))
    expect(kept.tools.map((t: { name: string }) => t.name)).toContain('frobnicate')
    const second = (await env.connect('chat', { name: 'second-agent' })).client
    expect((await call(second, 'frobnicate')).isError).toBe(true)
    expect(approver.requested).toHaveLength(2)
    // With tool pinning on (the default), a session that calls before listing gets one list of
    // the gateway's own, so the call is checked against what the server lists now.
    expect(lists()).toBe(2)
    // The agent's own tools/list still reaches it whole; the gateway's never does.
    const listed = await second.listTools()
    expect(listed.tools.map((t) => t.name)).toContain('frobnicate')
    expect(lists()).toBe(3)
  })

  it('the class from the server’s tools/list as it passes; never lower than the name', async () => {
    const { client, approver } = await start(chat(), {}, 'deny')
    await client.listTools()
    expect(lists()).toBe(1)
    expect((await call(client, 'frobnicate')).isError).toBe(true)
    expect(approver.requested[0]?.reason).toBe('risk floor: critical (destructive — "Clear all")')
    // The agent listed them: no list of the gateway's own.
    expect(lists()).toBe(1)
    // `airlock policy show` prints the effective policy and the tools the floor guards.
    const shown = await env.run(['policy', 'show', 'chat'])
    expect(shown.code).toBe(0)
    expect(JSON.parse(shown.stdout)).toEqual({ version: '1', default: 'allow' })
    expect(shown.stderr).toContain('Risk floor: critical (setting riskFloor)')
    expect(shown.stderr).toMatch(/Guarded by the floor \(4 of 6 listed tools\)/)
    expect(shown.stderr).toContain('frobnicate  destructive — "Clear all"')
    expect(shown.stderr).not.toContain('get_messages')
    // The same words as the Servers, Clients and Tools & policy screens (servers.list).
    const summary =
      'Routed through Airlock, with no policy of its own: every call is allowed by default, except that the risk floor holds 4 tools for your approval'
    expect(shown.stderr).toContain(summary)
    const control = await env.control()
    const servers = await control.api.servers.list()
    const line = shown.stderr.split('\n').find((l) => l.startsWith('Routed through Airlock'))
    expect(servers.find((s) => s.config.name === 'chat')?.protection?.summary).toBe(line)
  })
})

describe('Protect reuses a configured server', () => {
  it('a client entry with the same command, args and env is routed to it and its policy', async () => {
    const policy = env.writePolicy('chat', {
      version: '1',
      tools: { logout: { rules: [{ name: 'never', action: 'deny' }] } },
    })
    const server = chat({ policy })
    env.writeConfig([server, { name: 'other', command: process.execPath, args: ['other.js'] }])
    const home = path.join(env.home, 'user-home')
    const file = path.join(home, '.config', 'Claude', 'claude_desktop_config.json')
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(
      file,
      JSON.stringify({
        mcpServers: {
          whatsapp: { command: server.command, args: server.args, env: server.env },
          notes: { command: process.execPath, args: ['notes.js'] },
        },
      }),
    )
    const wrap = await runCliAs(env.env, home, ['clients', 'wrap', 'claude-desktop'], 15_000)
    expect(wrap.code).toBe(0)
    const entries = JSON.parse(fs.readFileSync(file, 'utf8')).mcpServers as Record<
      string,
      { args: string[] }
    >
    // The entry named "whatsapp" runs the configured "chat": no second server beside it.
    expect(entries.whatsapp?.args.slice(1)).toEqual(['connect', 'chat'])
    const config = JSON.parse(fs.readFileSync(path.join(env.home, 'config.json'), 'utf8')) as {
      servers: { name: string; policy?: string }[]
    }
    expect(config.servers.map((s) => s.name)).toEqual(['chat', 'other', 'notes'])
    // A new server gets the proposed policy written, not just shown.
    const notes = config.servers.find((s) => s.name === 'notes')
    expect(notes?.policy).toBe(path.join(env.home, 'policies', 'notes.yaml'))
    expect(fs.readFileSync(notes?.policy as string, 'utf8')).toMatch(/^# Proposed by Airlock/)
    // And the reused server's own policy decides: logout is denied, not asked.
    await env.startGateway()
    const approver = await env.approver(() => 'allow_once')
    const { client } = await env.connect('chat')
    const res = await call(client, 'logout')
    expect(res.isError).toBe(true)
    expect(textOf(res)).toContain('denied by rule "never"')
    expect(approver.requested).toHaveLength(0)
    expect(seen()).toEqual([])
  })
})

describe('approvals reach the person', () => {
  it('airlock status and airlock open print the web UI link with its token', async () => {
    env.writeConfig([chat()])
    const none = await env.run(['open', '--print'])
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/no web UI is running .*airlock serve/)
    await env.startGateway({ port: 0 })
    expect(env.uiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64}$/)
    const status = await env.run(['status'])
    expect(status.code).toBe(0)
    expect(status.stdout).toContain(`web UI:   ${env.uiUrl}`)
    const open = await env.run(['open', '--print'])
    expect(open.code).toBe(0)
    expect(open.stdout.split('\n')[0]).toBe(env.uiUrl)
  })
})
