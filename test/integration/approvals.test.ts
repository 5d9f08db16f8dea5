/**
 * Calls that need a person's approval, answered by a scripted approver on the control
 * connection (subscribed to approval.requested; approvals.decide): allow, deny, timeout with a late allow,
 * cancellation by the client, other traffic while a call waits, session grants, no approver.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import type { ApprovalAnswer } from '../../src/gateway/approvals/approvals'
import type { PendingApprovalView } from '../../src/shared/contract/control-api'
import { Env, everything, memory, textOf, waitFor, type Approver } from '../helpers/harness'

let env: Env

beforeEach(() => {
  env = new Env()
})

afterEach(async () => {
  await env.cleanup()
})

/** everything with `echo` behind require_approval (the policy's approval_timeout in seconds, when given). */
async function askForEcho(timeout?: number): Promise<void> {
  const rule = { name: 'ask before echo', action: 'require_approval' }
  const policy = env.writePolicy('everything', {
    version: '1',
    default: 'allow',
    ...(timeout ? { approval_timeout: timeout } : {}),
    tools: { echo: { rules: [rule] } },
  })
  env.writeConfig([everything('everything', { policy })])
  await env.startGateway()
}

const echo = (client: Client, message: string) =>
  client.callTool({ name: 'echo', arguments: { message } })

/** Waits for the n-th approval request (1-based). */
async function nthRequest(a: Approver, n: number): Promise<PendingApprovalView> {
  await waitFor(() => a.requested.length >= n, 5000, `approval request #${n}`)
  return a.requested[n - 1]
}

describe('the gateway stops while a call waits', () => {
  it('the agent is told it was not run, and the audit says the gateway ended it, not a person', async () => {
    await askForEcho()
    const approver = await env.approver() // never answers
    const { client } = await env.connect('everything')
    const result = echo(client, 'waiting').then(
      (r) => textOf(r),
      (err: Error) => err.message,
    )
    await nthRequest(approver, 1)
    env.gateway!.kill('SIGTERM')
    expect(await result).toBe(
      '[Airlock policy] "echo" was waiting for the user\'s approval (rule "ask before echo" requires approval) and was not run: the gateway is shutting down. Retry it once Airlock runs again (airlock connect reconnects on its own).',
    )
    await waitFor(() => env.gateway!.exitCode !== null, 10_000, 'the gateway to stop')
    const call = env.auditRecords().find((r) => r.kind === 'call' && r.tool === 'echo')
    expect(call).toMatchObject({
      decision: 'deny',
      decidedBy: 'gateway',
      reason:
        'rule "ask before echo" requires approval; not answered: the gateway is shutting down',
    })
  })
})

describe('a person answers', () => {
  it('allow: the call reaches the server and its result comes back', async () => {
    await askForEcho()
    const approver = await env.approver(() => 'allow_once')
    const { client } = await env.connect('everything', { name: 'approval-agent' })
    expect(textOf(await echo(client, 'may I?'))).toBe('Echo: may I?')
    expect(approver.requested).toHaveLength(1)
    expect(approver.requested[0]).toMatchObject({
      server: 'everything',
      tool: 'echo',
      client: 'approval-agent',
      rule: 'ask before echo',
    })
    expect(approver.requested[0].argsExcerpt).toContain('may I?')
    expect(approver.resolved).toEqual([
      { id: approver.requested[0].id, outcome: { answer: 'allow_once', by: 'control' } },
    ])
    // allow_once: the next call asks again.
    expect(textOf(await echo(client, 'again?'))).toBe('Echo: again?')
    expect(approver.requested).toHaveLength(2)
  })

  it('deny: the agent gets an error result and the server never sees the call', async () => {
    const file = path.join(env.home, 'memory.jsonl')
    const policy = env.writePolicy('memory', {
      version: '1',
      default: 'allow',
      tools: { create_entities: { rules: [{ name: 'ask', action: 'require_approval' }] } },
    })
    env.writeConfig([memory(file, 'memory', { policy })])
    await env.startGateway()
    const approver = await env.approver(() => 'deny')
    const { client } = await env.connect('memory')
    const res = await client.callTool({
      name: 'create_entities',
      arguments: { entities: [{ name: 'X', entityType: 't', observations: [] }] },
    })
    expect(res.isError).toBe(true)
    expect(textOf(res)).toBe(
      '[Airlock policy] the user denied "create_entities" on "memory" (approval was needed: rule "ask" requires approval).',
    )
    expect(approver.requested).toHaveLength(1)
    expect(fs.existsSync(file)).toBe(false)
  })

  it('allow_session: later calls of that tool in this session pass without asking; a new session asks', async () => {
    await askForEcho()
    const approver = await env.approver(() => 'allow_session')
    const a = (await env.connect('everything')).client
    expect(textOf(await echo(a, 'first'))).toBe('Echo: first')
    expect(textOf(await echo(a, 'second, other args'))).toBe('Echo: second, other args')
    expect(approver.requested).toHaveLength(1)

    const b = (await env.connect('everything')).client
    expect(textOf(await echo(b, 'from b'))).toBe('Echo: from b')
    expect(approver.requested).toHaveLength(2)
    expect(approver.requested[1].session).not.toBe(approver.requested[0].session)
  })
})

describe('remembered answers', () => {
  it('allow_always survives a gateway restart, until the grant is revoked', async () => {
    await askForEcho()
    const approver = await env.approver(() => 'allow_always')
    const { client } = await env.connect('everything')
    expect(textOf(await echo(client, 'always'))).toBe('Echo: always')
    expect(approver.requested).toHaveLength(1)
    await client.close()

    env.gateway!.kill('SIGTERM')
    await waitFor(() => env.gateway!.exitCode !== null, 10_000, 'the gateway to stop')
    await env.startGateway()
    const after = (await env.connect('everything')).client
    const approver2 = await env.approver(() => 'deny')
    expect(textOf(await echo(after, 'after restart'))).toBe('Echo: after restart')
    expect(approver2.requested).toHaveLength(0)

    const grants = await approver2.control.api.grants.list()
    expect(grants).toMatchObject([{ scope: 'always', tool: 'echo' }])
    expect(await approver2.control.api.grants.revoke({ id: grants[0].id })).toBe(true)
    expect(textOf(await echo(after, 'revoked'))).toMatch(/the user denied "echo"/)
    expect(approver2.requested).toHaveLength(1)
  })
})

describe('nobody answers', () => {
  it('timeout: denied with a retry hint; a late allow lets only an identical retry through without asking', async () => {
    await askForEcho(1)
    const approver = await env.approver() // listens, never answers by itself
    const { client } = await env.connect('everything')

    const started = Date.now()
    const res = await echo(client, 'slow person')
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    expect(res.isError).toBe(true)
    expect(textOf(res)).toMatch(
      /^\[Airlock policy\] "echo" needs the user's approval \(rule "ask before echo" requires approval\) and nobody answered within 1 s/,
    )
    expect(textOf(res)).toMatch(/identical retry/)
    const first = approver.requested[0]
    expect(approver.resolved).toEqual([
      { id: first.id, outcome: { answer: 'timeout', by: 'gateway' } },
    ])

    // The person answers after the deadline.
    expect(
      await approver.control.api.approvals.decide({ id: first.id, answer: 'allow_once' }),
    ).toBe('late')

    // Different arguments: asked again (and denied this time).
    const other = echo(client, 'something else')
    const second = await nthRequest(approver, 2)
    expect(second.argsExcerpt).toContain('something else')
    await approver.control.api.approvals.decide({ id: second.id, answer: 'deny' })
    expect(textOf(await other)).toMatch(/the user denied "echo"/)

    // The identical retry passes at once, without a new request.
    expect(textOf(await echo(client, 'slow person'))).toBe('Echo: slow person')
    expect(approver.requested).toHaveLength(2)

    // The late grant was single use.
    const again = echo(client, 'slow person')
    await nthRequest(approver, 3)
    expect((await again).isError).toBe(true)
  })

  it('the only approver goes away while a call waits: the request waits for another one', async () => {
    await askForEcho(30)
    const approver = await env.approver()
    const { client } = await env.connect('everything')
    const held = echo(client, 'hello?')
    const req = await nthRequest(approver, 1)
    approver.control.close() // the tab was closed
    // A reopened tab sees the request still pending, and answers it.
    const again = await env.approver()
    const pending = await again.control.api.approvals.list()
    expect(pending.map((p) => p.id)).toEqual([req.id])
    await again.control.api.approvals.decide({
      id: req.id,
      answer: 'allow_once',
    })
    expect(textOf(await held)).toBe('Echo: hello?')
  })

  it('no approver connected: denied at once, saying so', async () => {
    await askForEcho()
    const { client } = await env.connect('everything')
    const started = Date.now()
    const res = await echo(client, 'anyone?')
    expect(Date.now() - started).toBeLessThan(2000)
    expect(res.isError).toBe(true)
    expect(textOf(res)).toMatch(
      /^\[Airlock policy\] "echo" needs the user's approval \(rule "ask before echo" requires approval\) and no approver is available/,
    )
    expect(textOf(res)).toContain('within 10 minutes, the user allows this call in Activity')
  })

  it('no approver: the user allows the retry later from Activity (approvals.allowRetry); only the identical retry passes, once', async () => {
    await askForEcho()
    const { client } = await env.connect('everything')
    expect((await echo(client, 'later')).isError).toBe(true)

    // What Activity shows: the denied call, with its late-allow window open.
    const control = await env.control()
    const page = await control.api.audit.query({ filter: { tool: 'echo' } })
    const row = page.rows[0]!
    expect(row.decision).toBe('deny')
    expect(row.retry?.until).toBeGreaterThan(Date.now() + 9 * 60_000)
    const allowed = await control.api.approvals.allowRetry({
      callId: row.callId,
    })
    expect(allowed.allowedBy).toBeTruthy()
    await expect(control.api.approvals.allowRetry({ callId: row.callId })).rejects.toThrow(
      /already allowed/,
    )
    await expect(control.api.approvals.allowRetry({ callId: 'no-such-call' })).rejects.toThrow(
      /cannot allow the retry of call no-such-call/,
    )
    const grants = await control.api.grants.list()
    expect(grants).toMatchObject([{ scope: 'call', tool: 'echo' }])

    // Other arguments are not covered; the identical retry passes once, without asking.
    expect((await echo(client, 'something else')).isError).toBe(true)
    expect(textOf(await echo(client, 'later'))).toBe('Echo: later')
    expect((await echo(client, 'later')).isError).toBe(true)
    const calls = env.auditRecords().filter((r) => r.kind === 'call' && r.tool === 'echo')
    expect(calls.map((r) => r.decidedBy)).toEqual(['gateway', 'gateway', 'grant', 'gateway'])
    expect(calls[2]!.reason).toMatch(/^grant: call \(retry allowed late by /)
  })
})

describe('while a call waits', () => {
  it('the client cancels: the approval is withdrawn and the server never gets the call', async () => {
    const file = path.join(env.home, 'memory.jsonl')
    const policy = env.writePolicy('memory', {
      version: '1',
      default: 'allow',
      tools: { create_entities: { rules: [{ name: 'ask', action: 'require_approval' }] } },
    })
    env.writeConfig([memory(file, 'memory', { policy })])
    await env.startGateway()
    const approver = await env.approver()
    const { client } = await env.connect('memory')

    const abort = new AbortController()
    const call = client
      .callTool(
        {
          name: 'create_entities',
          arguments: { entities: [{ name: 'Ghost', entityType: 't', observations: [] }] },
        },
        undefined,
        { signal: abort.signal },
      )
      .then(
        () => 'resolved',
        () => 'rejected',
      )
    const req = await nthRequest(approver, 1)
    abort.abort('the agent gave up') // the SDK sends notifications/cancelled for the request
    expect(await call).toBe('rejected')
    await waitFor(() => approver.resolved.length === 1, 3000, 'approval.resolved')
    expect(approver.resolved[0]).toEqual({
      id: req.id,
      outcome: { answer: 'cancelled', by: 'gateway' },
    })
    expect((await approver.control.api.approvals.list()).length).toBe(0)
    // An answer now is too late to do anything.
    expect(await approver.control.api.approvals.decide({ id: req.id, answer: 'allow_once' })).toBe(
      'unknown',
    )

    // The session forwards in order and the server answers in order: had the cancelled call
    // been forwarded, this call's answer would come after it had run.
    const graph = await client.callTool({ name: 'read_graph', arguments: {} })
    expect(graph.structuredContent).toEqual({ entities: [], relations: [] })
    expect(fs.existsSync(file)).toBe(false)
  })

  it('ping, tools/list and other calls keep flowing', async () => {
    await askForEcho()
    const approver = await env.approver()
    const { client } = await env.connect('everything')
    const held = echo(client, 'wait for me')
    const req = await nthRequest(approver, 1)

    expect(await client.ping()).toEqual({})
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('echo')
    expect(
      textOf(await client.callTool({ name: 'get-sum', arguments: { a: 20, b: 22 } })),
    ).toContain('42')
    expect((await client.listPrompts()).prompts.length).toBeGreaterThan(0)

    const answer: ApprovalAnswer = 'allow_once'
    expect(await approver.control.api.approvals.decide({ id: req.id, answer })).toBe('ok')
    expect(textOf(await held)).toBe('Echo: wait for me')
  })

  it('the client disconnects: the approval is withdrawn', async () => {
    await askForEcho()
    const approver = await env.approver()
    const { client } = await env.connect('everything')
    void echo(client, 'gone soon').catch(() => undefined)
    const req = await nthRequest(approver, 1)
    await client.close()
    await waitFor(() => approver.resolved.length === 1, 5000, 'approval.resolved')
    expect(approver.resolved[0]).toEqual({
      id: req.id,
      outcome: { answer: 'cancelled', by: 'gateway' },
    })
  })

  it('a scripted approver denies with a message (the agent reads it) or allows for 1 hour', async () => {
    await askForEcho()
    const approver = await env.approver()
    const { client } = await env.connect('everything')
    const first = echo(client, 'one')
    const req = await nthRequest(approver, 1)
    await expect(
      approver.control.api.approvals.decide({
        id: req.id,
        answer: 'allow_once',
        message: 'not with an allow',
      }),
    ).rejects.toThrow(/"deny" only/)
    expect(
      await approver.control.api.approvals.decide({
        id: req.id,
        answer: 'deny',
        message: 'use the other tool',
      }),
    ).toBe('ok')
    expect(textOf(await first)).toContain('with this message: "use the other tool"')

    const second = echo(client, 'two')
    const req2 = await nthRequest(approver, 2)
    expect(await approver.control.api.approvals.decide({ id: req2.id, answer: 'allow_hour' })).toBe(
      'ok',
    )
    expect(textOf(await second)).toBe('Echo: two')
    // From another session too, without asking.
    const other = await env.connect('everything')
    expect(textOf(await echo(other.client, 'three'))).toBe('Echo: three')
    expect(approver.requested).toHaveLength(2)
  })
})
