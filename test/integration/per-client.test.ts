/**
 * Per-client rules end to end: two SDK Clients with different clientInfo names, through the real
 * shim and gateway, call the same tool of server-everything; the policy allows it for one and
 * denies it for the other, and the audit says which client made each call.
 */
import { afterEach, beforeEach, expect, it } from 'vitest'
import { Env, everything, textOf } from '../helpers/harness'

let env: Env

beforeEach(() => {
  env = new Env()
})

afterEach(async () => {
  await env.cleanup()
})

it('the same tool is allowed for one client and denied for the other; the audit shows which', async () => {
  const policy = env.writePolicy('everything', {
    version: '1',
    default: 'allow',
    tools: {
      echo: {
        rules: [
          { name: 'trusted agent', action: 'allow', clients: ['trusted-agent'] },
          {
            name: 'old versions',
            action: 'deny',
            conditions: [{ path: 'client.version', op: 'regex', value: '^0\\.' }],
          },
          { name: 'nobody else', action: 'deny', on_deny: 'echo is for the trusted agent only' },
        ],
      },
    },
  })
  env.writeConfig([everything('everything', { policy })])
  await env.startGateway()

  const trusted = (await env.connect('everything', { name: 'trusted-agent' })).client
  const other = (await env.connect('everything', { name: 'other-agent' })).client

  expect(textOf(await trusted.callTool({ name: 'echo', arguments: { message: 'hi' } }))).toBe(
    'Echo: hi',
  )
  const denied = await other.callTool({ name: 'echo', arguments: { message: 'hi' } })
  expect(denied.isError).toBe(true)
  expect(textOf(denied)).toBe('[Airlock policy] echo is for the trusted agent only')

  const calls = env.auditRecords().filter((r) => r.kind === 'call' && r.tool === 'echo')
  expect(calls).toHaveLength(2)
  expect(calls[0]).toMatchObject({
    client: 'trusted-agent',
    clientVersion: '1.0.0',
    decision: 'allow',
    rule: 'trusted agent',
  })
  expect(calls[1]).toMatchObject({
    client: 'other-agent',
    clientVersion: '1.0.0',
    decision: 'deny',
    rule: 'nobody else',
  })
  // The audit CLI filters by client too.
  const q = await env.run(['audit', 'query', '--client', 'other-agent', '--json'])
  expect(q.code).toBe(0)
  const rows = q.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
  expect(rows.map((r) => [r.tool, r.decision])).toEqual([['echo', 'deny']])
})
