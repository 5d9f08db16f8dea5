/**
 * The holes of issue 7, each as a regression test through the real shim and gateway, with a
 * hand-rolled stdio server that runs whatever reaches it (test/fixtures/servers/naive-server.mjs
 * logs every tools/call it runs to EXEC_LOG): id-less requests, duplicate ids, reservations of
 * forwarded calls on disconnect, `__proto__` argument keys, batches and malformed params, regex
 * stalls and RE2 syntax, secrets in result excerpts.
 */
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Env, ROOT, waitFor, type RawShim } from '../helpers/harness'

const NAIVE = path.join(ROOT, 'test', 'fixtures', 'servers', 'naive-server.mjs')

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

let env: Env
let execLog: string

beforeEach(() => {
  env = new Env()
  execLog = path.join(env.home, 'exec.jsonl')
})

afterEach(async () => {
  await env.cleanup()
})

/** Calls the naive server ran, in order. */
function executed(): { id?: unknown; tool: string; args: Record<string, unknown> }[] {
  if (!fs.existsSync(execLog)) return []
  return fs
    .readFileSync(execLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { id?: unknown; tool: string; args: Record<string, unknown> })
}

/** The naive server as "naive", with this policy; the gateway running (with `port`: HTTP too). */
async function start(
  policy: Record<string, unknown> = {},
  opts: { port?: number } = {},
): Promise<void> {
  const file = env.writePolicy('naive', {
    version: '1',
    default: 'allow',
    hide: ['secret'],
    tools: { danger: { rules: [{ name: 'no danger', action: 'deny' }] } },
    ...policy,
  })
  env.writeConfig(
    [
      {
        name: 'naive',
        command: process.execPath,
        args: [NAIVE],
        env: { EXEC_LOG: execLog },
        policy: file,
      },
    ],
    { riskFloor: 'off' },
  )
  await env.startGateway(opts)
}

async function shim(): Promise<RawShim> {
  const s = env.shim('naive')
  await s.initialize()
  return s
}

const call = (id: string | number | undefined, name: string, args: unknown = {}): unknown => ({
  jsonrpc: '2.0',
  ...(id === undefined ? {} : { id }),
  method: 'tools/call',
  params: { name, arguments: args },
})

/** Sends a ping and waits for its answer: everything sent before it has been handled. */
async function settle(s: RawShim, id: string): Promise<void> {
  s.send({ jsonrpc: '2.0', id, method: 'ping' })
  await s.response(id)
}

describe('1. requests without an id', () => {
  it('are never forwarded: dropped with a "refused: malformed" record', async () => {
    await start()
    const s = await shim()
    for (const tool of ['echo', 'danger', 'secret']) s.send(call(undefined, tool, { x: 1 }))
    s.send({ jsonrpc: '2.0', method: 'tools/list' })
    s.send({ jsonrpc: '2.0', id: null, method: 'tools/call', params: { name: 'echo' } })
    await settle(s, 'p1')
    // A real call still works after them.
    s.send(call('ok', 'echo', { text: 'hi' }))
    await s.response('ok')
    expect(executed().map((e) => e.tool)).toEqual(['echo'])
    expect(executed()[0]?.id).toBe('ok')
    const refused = env.auditRecords().filter((r) => /^refused: malformed/.test(String(r.reason)))
    expect(refused.map((r) => r.tool)).toEqual(['echo', 'danger', 'secret', 'tools/list', 'echo'])
    for (const r of refused) expect(r).toMatchObject({ kind: 'call', decidedBy: 'gateway' })
  })

  it('over HTTP: a tools/call without an id is not forwarded and is recorded', async () => {
    await start({}, { port: 0 })
    const base = env.mcpBase as string
    const token = env.httpToken()
    const post = (body: unknown, sid?: string): Promise<{ status: number; sid?: string }> =>
      new Promise((resolve, reject) => {
        const url = new URL(`${base}naive`)
        const req = http.request(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            method: 'POST',
            headers: {
              'Content-Type': 'application/json',
              Accept: 'application/json, text/event-stream',
              Authorization: `Bearer ${token}`,
              ...(sid ? { 'Mcp-Session-Id': sid } : {}),
            },
          },
          (res) => {
            res.resume()
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                sid: res.headers['mcp-session-id'] as string | undefined,
              }),
            )
          },
        )
        req.on('error', reject)
        req.end(JSON.stringify(body))
      })
    const init = await post({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'h', version: '1' },
      },
    })
    expect(init.status).toBe(200)
    const sid = init.sid as string
    await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, sid)
    expect((await post(call(undefined, 'danger'), sid)).status).toBe(202)
    expect((await post(call(2, 'echo', { a: 1 }), sid)).status).toBe(200)
    expect(executed().map((e) => [e.tool, e.id])).toEqual([['echo', 2]])
    expect(
      env
        .auditRecords()
        .some((r) => r.tool === 'danger' && /^refused: malformed/.test(String(r.reason))),
    ).toBe(true)
  })
})

describe('2. two requests in flight with the same id', () => {
  it('the second is refused with -32600 and never reaches the server', async () => {
    await start()
    const s = await shim()
    const from = s.messages.length
    // One write: tools/list and a ping sharing id 7.
    s.proc.stdin!.write(
      JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' }) +
        '\n' +
        JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'ping' }) +
        '\n',
    )
    // The shim relays line by line: the ping is normally refused as a duplicate in flight; on a
    // loaded machine the list may be answered before the ping arrives, and then the ping is no
    // duplicate and gets its own answer. Either way the list is filtered (an overwritten entry
    // would let the hidden tool through) and each request is answered once.
    await waitFor(
      () => s.messages.slice(from).filter((m) => m.id === 7).length === 2,
      10_000,
      'two answers with id 7',
    )
    await settle(s, 'p2')
    const answers = s.messages.slice(from).filter((m) => m.id === 7)
    expect(answers).toHaveLength(2)
    const list = answers.find((m) => isObject(m.result) && 'tools' in m.result) as {
      result: { tools: { name: string }[] }
    }
    expect(list.result.tools.map((t) => t.name)).not.toContain('secret')
    const other = answers.find((m) => m !== list)
    if (other && 'error' in other) expect(other).toMatchObject({ error: { code: -32600 } })
    else expect(other).toMatchObject({ result: {} })
    // Two tools/call with one id: only the first runs.
    s.send(call('dup', 'slow', { ms: 200 }))
    s.send(call('dup', 'echo', { second: true }))
    await s.next((m) => m.id === 'dup' && 'error' in m)
    await s.next((m) => m.id === 'dup' && 'result' in m)
    expect(executed().map((e) => e.tool)).toEqual(['slow'])
  })
})

describe('3. a forwarded call keeps its reservation', () => {
  it('global {max: 2}: short sessions that disconnect mid-call cannot run more than 2', async () => {
    await start({
      tools: {
        slow: {
          rules: [{ name: 'two per minute', rate_limit: { max: 2, window: 60, scope: 'global' } }],
        },
      },
    })
    for (let i = 0; i < 5; i++) {
      const s = await shim()
      const before = executed().length
      s.send(call(`a${i}`, 'slow', { ms: 60_000 }))
      s.send(call(`b${i}`, 'slow', { ms: 60_000 }))
      // Each call either reached the server or was answered (rate limited) by the gateway.
      await waitFor(
        () =>
          executed().length -
            before +
            s.messages.filter((m) => m.id === `a${i}` || m.id === `b${i}`).length ===
          2,
        10_000,
        'both calls to be decided',
      )
      s.proc.kill('SIGTERM')
      await s.exited
    }
    expect(executed()).toHaveLength(2)
  })
})

describe('4. argument keys that name Object.prototype members', () => {
  it('are kept byte for byte in the audit record', async () => {
    await start()
    const s = await shim()
    const args = '{"__proto__":{"x":1},"constructor":"c","toString":"t"}'
    s.send(
      `{"jsonrpc":"2.0","id":"proto","method":"tools/call","params":{"name":"echo","arguments":${args}}}`,
    )
    await s.response('proto')
    const line = fs
      .readdirSync(path.join(env.home, 'audit'))
      .map((f) => fs.readFileSync(path.join(env.home, 'audit', f), 'utf8'))
      .join('')
    expect(line).toContain(`"args":${args}`)
    expect((await env.run(['audit', 'verify'])).code).toBe(0)
  })
})

describe('5. batches and malformed params', () => {
  it('a batch is split: each element decided and forwarded alone, answered as one batch', async () => {
    await start()
    const s = await shim()
    const from = s.messages.length
    s.send([
      call('b1', 'echo', { n: 1 }),
      call('b2', 'danger'),
      { jsonrpc: '2.0', id: 'b3', method: 'ping' },
      call('b4', 'secret'),
      {
        jsonrpc: '2.0',
        method: 'notifications/progress',
        params: { progressToken: 1, progress: 1 },
      },
    ])
    await waitFor(() => s.messages.length > from, 5000, 'the batch response')
    const batch = s.messages[from] as unknown
    expect(Array.isArray(batch)).toBe(true)
    const byId = new Map(
      (batch as { id: string }[]).map((m) => [m.id, m as Record<string, unknown>]),
    )
    expect([...byId.keys()].sort()).toEqual(['b1', 'b2', 'b3', 'b4'])
    expect(byId.get('b1')).toMatchObject({ result: { content: [{ text: 'ran echo: {"n":1}' }] } })
    expect(byId.get('b2')).toMatchObject({ result: { isError: true } })
    expect(byId.get('b4')).toMatchObject({ result: { isError: true } })
    expect(executed().map((e) => e.tool)).toEqual(['echo'])
    // An outcome record is written just after its answer goes out, not before: wait for it.
    await waitFor(
      () => env.auditRecords().some((r) => r.kind === 'outcome'),
      5000,
      'the outcome record of the forwarded call',
    )
    const recs = env.auditRecords()
    const echoCall = recs.find((r) => r.kind === 'call' && r.tool === 'echo')
    expect(echoCall).toMatchObject({ decision: 'allow' })
    expect(recs.find((r) => r.kind === 'outcome' && r.callId === echoCall?.callId)).toMatchObject({
      outcome: 'ok',
    })
  })

  it('tools/call whose params are not an object with a string name: -32602, recorded', async () => {
    await start()
    const s = await shim()
    s.send({ jsonrpc: '2.0', id: 'm1', method: 'tools/call', params: 5 })
    s.send({ jsonrpc: '2.0', id: 'm2', method: 'tools/call', params: { arguments: {} } })
    s.send({
      jsonrpc: '2.0',
      id: 'm3',
      method: 'tools/call',
      params: { name: 'echo', arguments: [1] },
    })
    s.send({ jsonrpc: '2.0', id: 'm4', method: 'tools/list', params: 'x' })
    for (const id of ['m1', 'm2', 'm3', 'm4'])
      expect(await s.response(id)).toMatchObject({ error: { code: -32602 } })
    expect(executed()).toEqual([])
    const refused = env.auditRecords().filter((r) => /^refused: malformed/.test(String(r.reason)))
    expect(refused).toHaveLength(3)
  })
})

describe('6. condition regexes', () => {
  it('run in linear time (RE2) and read Go syntax as Intercept does', async () => {
    await start({
      tools: {
        echo: {
          rules: [
            {
              name: 'stall 1',
              action: 'deny',
              conditions: [{ path: 'args.a', op: 'regex', value: '(a|a)*$' }],
            },
            {
              name: 'stall 2',
              action: 'deny',
              conditions: [{ path: 'args.b', op: 'regex', value: '((a+)b?)+$' }],
            },
            {
              name: 'stall 3',
              action: 'deny',
              conditions: [{ path: 'args.c', op: 'regex', value: '(.*a){12}$' }],
            },
          ],
        },
        add: {
          rules: [
            {
              name: 'digits only',
              action: 'deny',
              conditions: [{ path: 'args.code', op: 'regex', value: '^[[:digit:]]+$' }],
            },
          ],
        },
      },
    })
    const s = await shim()
    const hostile = 'a'.repeat(28) + '!'
    // On RegExp each of these took 14-57 s; the 5 s bound of response() is generous for RE2.
    s.send(call('r1', 'echo', { b: hostile, c: hostile }))
    expect(await s.response('r1')).toMatchObject({
      result: { content: [{ text: expect.stringContaining('ran echo') }] },
    })
    s.send(call('r2', 'echo', { a: hostile }))
    expect(await s.response('r2')).toMatchObject({ result: { isError: true } })
    s.send(call('r3', 'add', { code: '123', a: 1, b: 2 }))
    expect(await s.response('r3')).toMatchObject({ result: { isError: true } })
    s.send(call('r4', 'add', { code: '12a', a: 1, b: 2 }))
    expect(await s.response('r4')).toMatchObject({ result: { content: [{ text: '3' }] } })
  })

  it('policy check refuses what RE2 refuses, naming where', async () => {
    const file = env.writePolicy('bad', {
      version: '1',
      tools: {
        echo: {
          rules: [{ name: 'r', conditions: [{ path: 'args.a', op: 'regex', value: 'x(?=y)' }] }],
        },
      },
    })
    const r = await env.run(['policy', 'check', file])
    expect(r.code).not.toBe(0)
    expect(r.stderr + r.stdout).toMatch(
      /tools\.echo\.rules\[0\]\.conditions\[0\]\.value: expected a regular expression RE2 accepts \(invalid or unsupported Perl syntax: `\(\?=` at character 2 \(RE2 has no lookahead or lookbehind\)\)/,
    )
  })
})

describe('9. secrets in results and arguments', () => {
  it('are redacted in the audit log', async () => {
    await start()
    const s = await shim()
    s.send(call('env', 'print_env'))
    const res = await s.response('env')
    expect(JSON.stringify(res)).toContain('hunter2') // the agent gets the result as it is
    s.send(call('arg', 'echo', { note: 'use ghp_0123456789abcdefghijABCDEFGHIJ0123 please' }))
    await s.response('arg')
    await settle(s, 'p9')
    const text = fs
      .readdirSync(path.join(env.home, 'audit'))
      .map((f) => fs.readFileSync(path.join(env.home, 'audit', f), 'utf8'))
      .join('')
    for (const secret of ['hunter2', 'ghp_0123456789', 'sk-proj-abc', 'eyJhbGciOiJIUzI1NiJ9'])
      expect(text).not.toContain(secret)
    expect(text).toContain('HOME=/home/agent')
    expect(text).toContain('GITHUB_TOKEN=[REDACTED]')
    expect(text).toContain('use [REDACTED] please')
  })
})
