/**
 * The audit log after a mixed run through the real gateway: one `call` record per tools/call
 * (with the decision the agent saw), one `outcome` record per forwarded call (and none for the
 * others), a hash chain that `airlock audit verify` accepts — and rejects once edited.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { Env, everything, textOf, waitFor } from '../helpers/harness'

let env: Env

beforeEach(() => {
  env = new Env()
})

afterEach(async () => {
  await env.cleanup()
})

type Expected = { tool: string; decision: string; outcome?: string; text: RegExp }

describe('audit log', () => {
  it('a mixed run: one call record per tools/call, one outcome per forwarded call, decisions as the agent saw them', async () => {
    const policy = env.writePolicy('everything', {
      version: '1',
      default: 'allow',
      hide: ['get-env'],
      tools: {
        echo: { rules: [{ name: 'echo budget', rate_limit: { max: 2, window: 60 } }] },
        'get-tiny-image': {
          rules: [{ name: 'no images', action: 'deny', on_deny: 'images are off' }],
        },
        'get-annotated-message': { rules: [{ name: 'ask', action: 'require_approval' }] },
        'trigger-long-running-operation': {
          rules: [{ name: 'ask too', action: 'require_approval' }],
        },
      },
    })
    env.writeConfig([everything('everything', { policy })])
    await env.startGateway()
    const approver = await env.approver((req) =>
      req.tool === 'get-annotated-message' ? 'deny' : 'allow_once',
    )
    const { client } = await env.connect('everything', { name: 'audited-agent' })

    const expected: Expected[] = []
    const call = async (
      c: Client,
      tool: string,
      args: Record<string, unknown>,
      exp: Omit<Expected, 'tool'>,
    ): Promise<void> => {
      const res = await c.callTool({ name: tool, arguments: args })
      expect(textOf(res)).toMatch(exp.text)
      expected.push({ tool, ...exp })
    }

    await call(client, 'get-sum', { a: 1, b: 2 }, { decision: 'allow', outcome: 'ok', text: /3/ })
    await call(client, 'echo', {}, { decision: 'allow', outcome: 'is_error', text: /message/ }) // the server rejects the args
    await call(
      client,
      'echo',
      { message: 'one' },
      { decision: 'allow', outcome: 'ok', text: /^Echo: one$/ },
    )
    await call(
      client,
      'echo',
      { message: 'two' },
      { decision: 'allow', outcome: 'ok', text: /^Echo: two$/ },
    )
    await call(
      client,
      'echo',
      { message: 'three' },
      { decision: 'rate_limited', text: /rate limit "echo budget" exceeded/ },
    )
    await call(client, 'get-env', {}, { decision: 'hidden', text: /Tool get-env not found/ })
    await call(
      client,
      'get-tiny-image',
      {},
      { decision: 'deny', text: /^\[Airlock policy\] images are off$/ },
    )
    await call(
      client,
      'no-such-tool',
      {},
      { decision: 'allow', outcome: 'is_error', text: /Tool no-such-tool not found/ },
    )
    await call(
      client,
      'get-annotated-message',
      { messageType: 'success' },
      { decision: 'denied_by_user', text: /the user denied/ },
    )
    await call(
      client,
      'trigger-long-running-operation',
      { duration: 0.1, steps: 1 },
      { decision: 'approved', outcome: 'ok', text: /completed/ },
    )
    const control = approver.control
    await control.api.pause.set({ paused: true })
    await call(client, 'get-sum', { a: 5, b: 5 }, { decision: 'paused', text: /paused/ })
    await control.api.pause.set({ paused: false })
    await call(client, 'get-sum', { a: 6, b: 6 }, { decision: 'allow', outcome: 'ok', text: /12/ })

    // A second session that leaves with a call still running: its outcome is recorded too.
    const second = (await env.connect('everything', { name: 'leaving-agent' })).client
    const running = second
      .callTool({ name: 'trigger-long-running-operation', arguments: { duration: 5, steps: 1 } })
      .catch(() => undefined)
    await waitFor(() => approver.requested.length === 3, 5000, 'the approval of the long call')
    await waitFor(
      () => env.auditRecords().some((r) => r.client === 'leaving-agent' && r.kind === 'call'),
      5000,
      'the long call to be forwarded',
    )
    await second.close()
    await running
    expected.push({
      tool: 'trigger-long-running-operation',
      decision: 'approved',
      outcome: 'cancelled',
      text: /.*/,
    })

    const forwarded = expected.filter((e) => e.outcome)
    await waitFor(
      () => env.auditRecords().filter((r) => r.kind === 'outcome').length >= forwarded.length,
      5000,
      'every outcome record',
    )
    const records = env.auditRecords()
    const calls = records.filter((r) => r.kind === 'call')
    const outcomes = records.filter((r) => r.kind === 'outcome')

    expect(calls.map((r) => [r.tool, r.decision])).toEqual(
      expected.map((e) => [e.tool, e.decision]),
    )
    expect(outcomes).toHaveLength(forwarded.length)
    expect(new Set(calls.map((r) => r.callId)).size).toBe(calls.length)
    calls.forEach((rec, i) => {
      const mine = outcomes.filter((o) => o.callId === rec.callId)
      if (expected[i].outcome) {
        expect(
          mine.map((o) => o.outcome),
          `${rec.tool} #${i}`,
        ).toEqual([expected[i].outcome])
        expect(mine[0].seq as number).toBeGreaterThan(rec.seq as number)
        expect(typeof mine[0].latencyMs).toBe('number')
      } else {
        expect(mine, `${rec.tool} #${i} was not forwarded`).toEqual([])
      }
    })
    // Who decided, and for whom.
    expect(calls[0]).toMatchObject({
      client: 'audited-agent',
      server: 'everything',
      decidedBy: 'policy',
      args: { a: 1, b: 2 },
    })
    expect(calls[8]).toMatchObject({ decidedBy: 'user', rule: 'ask' })
    expect(calls[9]).toMatchObject({ decidedBy: 'user', rule: 'ask too' })
    expect(calls[10]).toMatchObject({ decidedBy: 'user' })
    expect(calls[calls.length - 1]).toMatchObject({ client: 'leaving-agent' })
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => (records[0].seq as number) + i))

    const verify = await env.run(['audit', 'verify'])
    expect(verify.stderr).toBe('')
    expect(verify.stdout).toContain(`ok: ${records.length} records`)
    expect(verify.code).toBe(0)

    // Edit one decision after the fact: verify says so.
    const dir = path.join(env.home, 'audit')
    const file = path.join(
      dir,
      fs.readdirSync(dir).find((f) => f.endsWith('.jsonl'))!,
    )
    fs.writeFileSync(
      file,
      fs.readFileSync(file, 'utf8').replace('"decision":"deny"', '"decision":"allow"'),
    )
    const tampered = await env.run(['audit', 'verify'])
    expect(tampered.code).toBe(1)
    expect(tampered.stdout).toContain('FAILED')
  })

  it('a forwarded call the client cancels gets its outcome when cancelled, not when the session ends', async () => {
    const policy = env.writePolicy('everything', {
      version: '1',
      default: 'allow',
      tools: {
        'trigger-long-running-operation': {
          rules: [{ name: 'one at a time', rate_limit: { max: 1, window: 60 } }],
        },
      },
    })
    env.writeConfig([everything('everything', { policy })])
    await env.startGateway()
    const { client } = await env.connect('everything')
    const abort = new AbortController()
    const call = client
      .callTool(
        { name: 'trigger-long-running-operation', arguments: { duration: 10, steps: 1 } },
        undefined,
        { signal: abort.signal },
      )
      .catch(() => 'rejected')
    await waitFor(
      () => env.auditRecords().some((r) => r.kind === 'call'),
      5000,
      'the call to be forwarded',
    )
    abort.abort('changed my mind')
    expect(await call).toBe('rejected')
    await waitFor(
      () => env.auditRecords().some((r) => r.kind === 'outcome'),
      2000,
      'the outcome record of the cancelled call',
    )
    const outcome = env.auditRecords().find((r) => r.kind === 'outcome')!
    expect(outcome).toMatchObject({ tool: 'trigger-long-running-operation', outcome: 'cancelled' })
    expect(outcome.latencyMs as number).toBeLessThan(5000)
    // The session goes on; the call reached the server, so it counts toward the limit.
    expect(await client.ping()).toEqual({})
    const again = await client.callTool({
      name: 'trigger-long-running-operation',
      arguments: { duration: 0.1, steps: 1 },
    })
    expect(textOf(again)).toMatch(/rate limit "one at a time" exceeded/)
  })
})
