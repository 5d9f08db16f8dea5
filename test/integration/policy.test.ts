/**
 * Policy decisions on real servers: hide (indistinguishable from an unknown tool), deny (the
 * server never sees the call), rate limits (per session and global) and hot reload of the
 * policy file while a session is connected.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { Env, everything, filesystem, memory, sleep, textOf, waitFor } from '../helpers/harness'

let env: Env

beforeEach(() => {
  env = new Env()
})

afterEach(async () => {
  await env.cleanup()
})

const echo = (client: Client, message: string) =>
  client.callTool({ name: 'echo', arguments: { message } })

describe('hide', () => {
  it('a hidden tool is absent from tools/list and answers exactly like an unknown tool', async () => {
    const policy = env.writePolicy('everything', {
      version: '1',
      default: 'allow',
      hide: ['get-env'],
    })
    env.writeConfig([everything('everything', { policy })])
    await env.startGateway()
    const { client } = await env.connect('everything')

    const names = (await client.listTools()).tools.map((t) => t.name)
    expect(names).not.toContain('get-env')
    expect(names).toContain('echo')

    const hidden = await client.callTool({ name: 'get-env', arguments: {} })
    const unknown = await client.callTool({ name: 'no-such-tool', arguments: {} })
    // The server's own answer for a tool it does not have, with the names swapped.
    expect(JSON.stringify(unknown)).toContain('no-such-tool')
    expect(JSON.parse(JSON.stringify(hidden).replaceAll('get-env', 'no-such-tool'))).toEqual(
      unknown,
    )
    expect(hidden.isError).toBe(true)
    // The environment was not leaked by a call that slipped through.
    expect(JSON.stringify(hidden)).not.toContain('AIRLOCK_HOME')
  })

  it('on the wire too: the answer for a hidden tool is byte for byte that for an unknown one, names aside', async () => {
    const policy = env.writePolicy('everything', {
      version: '1',
      default: 'allow',
      hide: ['get-env'],
    })
    env.writeConfig([everything('everything', { policy })])
    await env.startGateway()
    const shim = env.shim('everything')
    await shim.initialize()
    const raw: string[] = []
    shim.proc.stdout!.on('data', (c: Buffer) => raw.push(c.toString('utf8')))
    shim.send({
      jsonrpc: '2.0',
      id: 41,
      method: 'tools/call',
      params: { name: 'get-env', arguments: {} },
    })
    await shim.response(41)
    shim.send({
      jsonrpc: '2.0',
      id: 42,
      method: 'tools/call',
      params: { name: 'no-such-tool', arguments: {} },
    })
    await shim.response(42)
    const lines = raw.join('').split('\n')
    const hidden = lines.find((l) => l.includes('"id":41'))!
    const unknown = lines.find((l) => l.includes('"id":42'))!
    expect(hidden.replace('get-env', 'no-such-tool').replace('"id":41', '"id":42')).toBe(unknown)
  })
})

describe('deny', () => {
  it('a denied write never reaches the memory server; an allowed read does', async () => {
    const file = path.join(env.home, 'memory.jsonl')
    const seeded = JSON.stringify({
      type: 'entity',
      name: 'Seed',
      entityType: 'test',
      observations: ['was here first'],
    })
    fs.writeFileSync(file, seeded)
    const policy = env.writePolicy('memory', {
      version: '1',
      default: 'allow',
      tools: {
        create_entities: {
          rules: [{ name: 'no writes', action: 'deny', on_deny: 'writes are off' }],
        },
      },
    })
    env.writeConfig([memory(file, 'memory', { policy })])
    await env.startGateway()
    const { client } = await env.connect('memory')

    const denied = await client.callTool({
      name: 'create_entities',
      arguments: { entities: [{ name: 'Intruder', entityType: 'person', observations: [] }] },
    })
    expect(denied.isError).toBe(true)
    expect(denied.content).toEqual([{ type: 'text', text: '[Airlock policy] writes are off' }])

    const graph = await client.callTool({ name: 'read_graph', arguments: {} })
    expect(graph.isError).toBeFalsy()
    expect(graph.structuredContent).toEqual({
      entities: [{ name: 'Seed', entityType: 'test', observations: ['was here first'] }],
      relations: [],
    })
    expect(fs.readFileSync(file, 'utf8')).toBe(seeded)
  })
})

describe('conditions on arguments', () => {
  it('server-filesystem: write_file is allowed only under notes/; elsewhere the file is never written', async () => {
    const root = fs.realpathSync(fs.mkdtempSync(path.join(env.home, 'files-')))
    fs.mkdirSync(path.join(root, 'notes'))
    const escaped = root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    const policy = env.writePolicy('filesystem', {
      version: '1',
      default: 'allow',
      tools: {
        write_file: {
          rules: [
            {
              name: 'notes only',
              conditions: [{ path: 'args.path', op: 'regex', value: `^${escaped}/notes/[^/]+$` }],
              on_deny: 'only notes/ is writable',
            },
          ],
        },
      },
    })
    env.writeConfig([filesystem(root, 'filesystem', { policy })])
    await env.startGateway()
    const { client } = await env.connect('filesystem')

    const ok = await client.callTool({
      name: 'write_file',
      arguments: { path: path.join(root, 'notes', 'a.txt'), content: 'kept' },
    })
    expect(ok.isError).toBeFalsy()
    expect(fs.readFileSync(path.join(root, 'notes', 'a.txt'), 'utf8')).toBe('kept')

    const denied = await client.callTool({
      name: 'write_file',
      arguments: { path: path.join(root, 'b.txt'), content: 'nope' },
    })
    expect(denied.content).toEqual([
      { type: 'text', text: '[Airlock policy] only notes/ is writable' },
    ])
    expect(fs.existsSync(path.join(root, 'b.txt'))).toBe(false)

    const read = await client.callTool({
      name: 'read_text_file',
      arguments: { path: path.join(root, 'notes', 'a.txt') },
    })
    expect(textOf(read)).toBe('kept')
  })
})

describe('rate limits', () => {
  it('"2/minute": the third call is rate limited and says the limit', async () => {
    const policy = env.writePolicy('everything', {
      version: '1',
      default: 'allow',
      tools: { echo: { rules: [{ name: 'echo budget', rate_limit: '2/minute' }] } },
    })
    env.writeConfig([everything('everything', { policy })])
    await env.startGateway()
    const { client } = await env.connect('everything')
    // The window is the calendar minute: keep the three calls inside one.
    if (Date.now() % 60_000 > 55_000) await sleep(60_000 - (Date.now() % 60_000) + 50)

    expect(textOf(await echo(client, 'one'))).toBe('Echo: one')
    expect(textOf(await echo(client, 'two'))).toBe('Echo: two')
    const third = await echo(client, 'three')
    expect(third.isError).toBe(true)
    expect(textOf(third)).toMatch(
      /^\[Airlock policy\] rate limit "echo budget" exceeded: 2\/minute/,
    )
    // Other tools are not limited.
    expect(
      (await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } })).isError,
    ).toBeFalsy()
  })

  it('{max: 2, window: 60} counts per session: a second session has its own quota', async () => {
    const policy = env.writePolicy('everything', {
      version: '1',
      default: 'allow',
      tools: { echo: { rules: [{ name: 'per session', rate_limit: { max: 2, window: 60 } }] } },
    })
    env.writeConfig([everything('everything', { policy })])
    await env.startGateway()
    const a = (await env.connect('everything', { name: 'agent-a' })).client
    expect((await echo(a, 'a1')).isError).toBeFalsy()
    expect((await echo(a, 'a2')).isError).toBeFalsy()
    const a3 = await echo(a, 'a3')
    expect(a3.isError).toBe(true)
    expect(textOf(a3)).toMatch(/rate limit "per session" exceeded: 2 per 60s/)

    const b = (await env.connect('everything', { name: 'agent-b' })).client
    expect(textOf(await echo(b, 'b1'))).toBe('Echo: b1')
    expect(textOf(await echo(b, 'b2'))).toBe('Echo: b2')
    expect((await echo(b, 'b3')).isError).toBe(true)
  })

  it('{max: 2, window: 60, scope: global} is shared: a second session gets nothing', async () => {
    const policy = env.writePolicy('everything', {
      version: '1',
      default: 'allow',
      tools: {
        echo: { rules: [{ name: 'shared', rate_limit: { max: 2, window: 60, scope: 'global' } }] },
      },
    })
    env.writeConfig([everything('everything', { policy })])
    await env.startGateway()
    const a = (await env.connect('everything', { name: 'agent-a' })).client
    expect((await echo(a, 'a1')).isError).toBeFalsy()
    expect((await echo(a, 'a2')).isError).toBeFalsy()

    const b = (await env.connect('everything', { name: 'agent-b' })).client
    const b1 = await echo(b, 'b1')
    expect(b1.isError).toBe(true)
    expect(textOf(b1)).toMatch(/rate limit "shared" exceeded/)
  })

  it('a call the server fails does not use up the quota', async () => {
    const policy = env.writePolicy('everything', {
      version: '1',
      default: 'allow',
      tools: { echo: { rules: [{ name: 'budget', rate_limit: { max: 1, window: 60 } }] } },
    })
    env.writeConfig([everything('everything', { policy })])
    await env.startGateway()
    const { client } = await env.connect('everything')
    // Missing "message": the server answers with an error result; the reservation is rolled back.
    const bad = await client.callTool({ name: 'echo', arguments: {} })
    expect(bad.isError).toBe(true)
    expect(textOf(bad)).not.toContain('[Airlock policy]')
    expect(textOf(await echo(client, 'counted'))).toBe('Echo: counted')
    expect(textOf(await echo(client, 'over'))).toMatch(/rate limit "budget" exceeded/)
  })
})

describe('hot reload', () => {
  const denyEcho = {
    version: '1',
    default: 'allow',
    tools: { echo: { rules: [{ name: 'no echo', action: 'deny', on_deny: 'echo is off' }] } },
  }

  it('a policy edit decides the next call within 1 s, in the same session', async () => {
    const policy = env.writePolicy('everything', denyEcho)
    env.writeConfig([everything('everything', { policy })])
    await env.startGateway()
    const { client } = await env.connect('everything')
    expect(textOf(await echo(client, 'before'))).toBe('[Airlock policy] echo is off')

    env.writePolicy('everything', { version: '1', default: 'allow' })
    const edited = Date.now()
    let result = await echo(client, 'after')
    while (result.isError && Date.now() - edited < 3000) result = await echo(client, 'after')
    expect(textOf(result)).toBe('Echo: after')
    expect(Date.now() - edited).toBeLessThan(1000)

    env.writePolicy('everything', denyEcho)
    const again = Date.now()
    result = await echo(client, 'x')
    while (!result.isError && Date.now() - again < 3000) result = await echo(client, 'x')
    expect(textOf(result)).toBe('[Airlock policy] echo is off')
    expect(Date.now() - again).toBeLessThan(1000)
  })

  it('changing the hide set sends notifications/tools/list_changed; other edits do not', async () => {
    const file = path.join(env.home, 'memory.jsonl')
    const policy = env.writePolicy('memory', { version: '1', default: 'allow' })
    env.writeConfig([memory(file, 'memory', { policy })])
    await env.startGateway()
    let changed = 0
    const { client } = await env.connect('memory', {
      setup: (c) =>
        c.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++),
    })
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('delete_entities')

    env.writePolicy('memory', { version: '1', default: 'allow', hide: ['delete_*'] })
    await waitFor(() => changed === 1, 2000, 'notifications/tools/list_changed')
    const names = (await client.listTools()).tools.map((t) => t.name)
    expect(names).not.toContain('delete_entities')
    expect(names).not.toContain('delete_relations')
    expect(names).toContain('read_graph')

    // An edit that keeps the hide set (it denies read_graph): applied, but no notification.
    env.writePolicy('memory', {
      version: '1',
      default: 'allow',
      hide: ['delete_*'],
      tools: { read_graph: { rules: [{ name: 'no reads', action: 'deny' }] } },
    })
    await waitFor(
      async () => (await client.callTool({ name: 'read_graph', arguments: {} })).isError === true,
      2000,
      'the edit to apply',
    )
    // A notification from that reload would precede the call's answer on the same stream; one
    // more round trip lets the client have handled it. No waiting for nothing to happen.
    await client.ping()
    expect(changed).toBe(1)
  })

  it('an invalid edit is refused: the last good policy keeps deciding', async () => {
    const policy = env.writePolicy('everything', denyEcho)
    env.writeConfig([everything('everything', { policy })])
    await env.startGateway()
    const { client } = await env.connect('everything')
    const control = await env.control()

    env.writePolicy(
      'everything',
      '{"version": "1", "default": "allow", "tools": {"echo": {"rules": [{"name": "x", "action": "nope"}]}}}',
    )
    await waitFor(
      async () => (await control.api.status.get()).errors.length > 0,
      3000,
      'the gateway to refuse the edit',
    )
    const { errors } = await control.api.status.get()
    expect(errors.join('\n')).toContain('everything.policy.json')
    expect(textOf(await echo(client, 'still'))).toBe('[Airlock policy] echo is off')
    expect(textOf(await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } }))).toContain(
      '5',
    )

    // A broken file (not even JSON) is refused the same way: once the gateway reports it, the
    // last good policy still decides.
    const refused = errors.join('\n')
    env.writePolicy('everything', '{ "version": "1", ')
    await waitFor(
      async () => {
        const now = (await control.api.status.get()).errors.join('\n')
        return now !== refused && now.includes('everything.policy.json')
      },
      5000,
      'the gateway to refuse the broken file',
    )
    expect(textOf(await echo(client, 'still'))).toBe('[Airlock policy] echo is off')

    // And a good edit afterwards applies.
    env.writePolicy('everything', { version: '1', default: 'allow' })
    await waitFor(
      async () => textOf(await echo(client, 'fixed')) === 'Echo: fixed',
      2000,
      'the fixed policy',
    )
  })
})
