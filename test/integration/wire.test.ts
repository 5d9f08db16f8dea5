/**
 * The wire through the real shim and gateway: malformed lines get JSON-RPC errors and are never
 * forwarded (the session goes on), and a 5 MiB message passes intact while its audit copy stays
 * small.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Env, everything, textOf } from '../helpers/harness'

let env: Env

beforeEach(async () => {
  env = new Env()
  const policy = env.writePolicy('everything', {
    version: '1',
    default: 'allow',
    tools: { 'get-env': { rules: [{ name: 'no env', action: 'deny', on_deny: 'no env here' }] } },
  })
  env.writeConfig([everything('everything', { policy })])
  await env.startGateway()
})

afterEach(async () => {
  await env.cleanup()
})

describe('malformed lines', () => {
  it('invalid JSON → -32700 with id null; a non-string method → -32600 with its id; the session continues', async () => {
    const shim = env.shim('everything')
    const init = await shim.initialize()
    expect(init.result).toMatchObject({ serverInfo: { name: 'mcp-servers/everything' } })

    let from = shim.messages.length
    shim.send('{"jsonrpc": "2.0", "id": 5, "method": "ping"') // cut short
    const parse = await shim.next((m) => 'error' in m, 5000, from)
    expect(parse).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } })

    from = shim.messages.length
    shim.send({ jsonrpc: '2.0', id: 6, method: 42 })
    expect(await shim.next((m) => 'error' in m, 5000, from)).toMatchObject({
      jsonrpc: '2.0',
      id: 6,
      error: { code: -32600 },
    })

    from = shim.messages.length
    shim.send('42')
    expect(await shim.next((m) => 'error' in m, 5000, from)).toMatchObject({
      id: null,
      error: { code: -32600 },
    })

    from = shim.messages.length
    shim.send('[]')
    expect(await shim.next((m) => 'error' in m, 5000, from)).toMatchObject({
      id: null,
      error: { code: -32600 },
    })

    shim.send({ jsonrpc: '2.0', id: 7, method: 'ping' })
    expect(await shim.response(7)).toEqual({ jsonrpc: '2.0', id: 7, result: {} })
    shim.send({
      jsonrpc: '2.0',
      id: 8,
      method: 'tools/call',
      params: { name: 'echo', arguments: { message: 'still alive' } },
    })
    expect(textOf((await shim.response(8)).result)).toBe('Echo: still alive')

    // Exactly one answer per line sent: nothing malformed reached the server (it would have
    // answered too, or died).
    const answered = shim.messages
      .filter((m) => 'id' in m && ('result' in m || 'error' in m))
      .map((m) => m.id)
    expect(answered).toEqual(['init', null, 6, null, null, 7, 8])
  })

  it('a batch is split element by element: its denied tools/call is answered by the gateway, never forwarded; one batch response', async () => {
    const shim = env.shim('everything')
    await shim.initialize()
    shim.send([
      {
        jsonrpc: '2.0',
        id: 'b1',
        method: 'tools/call',
        params: { name: 'get-env', arguments: {} },
      },
      { jsonrpc: '2.0', id: 'b2', method: 'ping' },
    ])
    // The denied call is answered by the gateway, the ping is forwarded alone (servers need not
    // speak batches) and answered by the server: both answers come back as one batch response.
    const batch = (await shim.next((m) => Array.isArray(m))) as unknown as Record<string, unknown>[]
    expect(batch.map((m) => m.id).sort()).toEqual(['b1', 'b2'])
    expect(batch.find((m) => m.id === 'b1')).toMatchObject({
      result: { isError: true, content: [{ type: 'text', text: '[Airlock policy] no env here' }] },
    })
    expect(batch.find((m) => m.id === 'b2')).toMatchObject({ result: {} })
    const calls = env.auditRecords().filter((r) => r.kind === 'call')
    expect(calls).toHaveLength(1)
    expect(calls[0]).toMatchObject({ tool: 'get-env', decision: 'deny' })
  })
})

describe('a 5 MiB message', () => {
  it('passes intact both ways; the audit copy of its args is capped', async () => {
    const { client } = await env.connect('everything')
    const chunk = 'Airlock-5MiB-'
    const big =
      chunk.repeat(Math.ceil((5 * 1024 * 1024) / chunk.length)).slice(0, 5 * 1024 * 1024 - 3) +
      'END'
    const res = await client.callTool({ name: 'echo', arguments: { message: big } })
    const text = textOf(res)
    expect(text.length).toBe(big.length + 'Echo: '.length)
    expect(text === `Echo: ${big}`).toBe(true)

    // The session still works afterwards.
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'small' } }))).toBe(
      'Echo: small',
    )

    const call = env.auditRecords().find((r) => r.kind === 'call' && r.tool === 'echo')!
    expect(call.decision).toBe('allow')
    const argsJson = JSON.stringify(call.args)
    expect(argsJson.length).toBeLessThanOrEqual(4096)
    expect(argsJson).toContain('Airlock-5MiB-')
    const outcome = env
      .auditRecords()
      .find((r) => r.kind === 'outcome' && r.callId === call.callId)!
    expect(outcome.outcome).toBe('ok')
  })
})
