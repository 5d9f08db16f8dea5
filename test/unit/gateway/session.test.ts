/**
 * The session relay and its call gate, built from in-memory links (no processes): bytes in
 * order both ways, the decision record before forwarding, a failed audit write denies, and each
 * side closed once.
 */
import { describe, expect, it } from 'vitest'
import type { AuditInput } from '../../../src/shared/contract/audit-record'
import { configSchema, type ServerConfig } from '../../../src/shared/contract/config'
import { CounterStore } from '../../../src/shared/policy/counters'
import { parsePolicy } from '../../../src/shared/policy/parse'
import { ApprovalCenter } from '../../../src/gateway/approvals/approvals'
import { Grants } from '../../../src/gateway/approvals/grants'
import type { LiveConfig } from '../../../src/gateway/config/live-config'
import { Session, type AuditSink, type ClientLink } from '../../../src/gateway/proxy/session'
import * as fs from 'node:fs'
import { AuditLog, readRecords, verifyAudit } from '../../../src/gateway/audit'
import { countingFs, errno, tempDir } from '../audit/helpers'
import type { UpstreamHandlers, UpstreamLink } from '../../../src/gateway/proxy/upstream-link'

/** An in-memory server side: records what it is sent, answers through `reply`. */
class MemoryUpstream implements UpstreamLink {
  sent: string[] = []
  closes = 0
  handlers!: UpstreamHandlers
  onSend?: (msg: Record<string, unknown>) => void
  start(h: UpstreamHandlers): void {
    this.handlers = h
  }
  send(messages: Buffer[]): boolean {
    for (const m of messages) {
      this.sent.push(m.toString('utf8'))
      this.onSend?.(JSON.parse(m.toString('utf8')) as Record<string, unknown>)
    }
    return true
  }
  pause(): void {}
  resume(): void {}
  async close(): Promise<void> {
    this.closes++
  }
  reply(msg: unknown): void {
    this.handlers.onmessage(Buffer.from(JSON.stringify(msg)))
  }
}

/** An in-memory client side: collects the lines the session writes. */
class MemoryClient implements ClientLink {
  out = ''
  ends = 0
  private waiters: (() => void)[] = []
  write(chunks: (Buffer | string)[]): boolean {
    for (const c of chunks) this.out += c.toString()
    for (const w of this.waiters.splice(0)) w()
    return true
  }
  onDrain(): void {}
  pause(): void {}
  resume(): void {}
  end(): void {
    this.ends++
  }
  lines(): Record<string, unknown>[] {
    return this.out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
  }
  /** Resolves once `n` lines have arrived. */
  async waitLines(n: number): Promise<Record<string, unknown>[]> {
    while (this.lines().length < n) await new Promise<void>((r) => this.waiters.push(r))
    return this.lines()
  }
}

const server: ServerConfig = {
  name: 'mem',
  command: 'none',
  args: [],
  env: {},
  secretEnv: [],
  enabled: true,
}
const policy = parsePolicy(
  JSON.stringify({
    version: '1',
    tools: {
      echo: { rules: [{ name: 'ok', action: 'allow' }] },
      rm: { rules: [{ name: 'no', action: 'deny', on_deny: 'never' }] },
    },
  }),
  'mem.yaml',
)

function setup(
  append: (i: AuditInput) => void = () => undefined,
  sink?: AuditSink,
  named?: (s: Session) => void,
) {
  const upstream = new MemoryUpstream()
  const client = new MemoryClient()
  const records: AuditInput[] = []
  let closed = 0
  const live = {
    config: configSchema.parse({}),
    policyFor: () => ({ policy }),
  } as unknown as LiveConfig
  const session = new Session(
    {
      id: 's1',
      server,
      live,
      audit: sink ?? {
        append: (i: AuditInput) => {
          append(i)
          records.push(i)
        },
      },
      approvals: new ApprovalCenter(),
      grants: new Grants(),
      counters: new CounterStore(),
      now: Date.now,
      log: () => undefined,
      isPaused: () => false,
      defaultApprovalTimeoutMs: () => 1000,
      upstream: () => upstream,
      onClose: () => closed++,
      ...(named ? { onClientInfo: named } : {}),
    },
    client,
  )
  session.start()
  const send = (msg: unknown): void => session.clientData(Buffer.from(JSON.stringify(msg) + '\n'))
  return { session, upstream, client, records, send, closes: () => closed }
}

const call = (id: number, name: string) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: { x: 1 } },
})

describe('Session over in-memory links', () => {
  it('relays other messages as their bytes, in order, both ways', async () => {
    const { upstream, client, send } = setup()
    upstream.onSend = (m) => {
      if (m.id !== undefined) upstream.reply({ jsonrpc: '2.0', id: m.id, result: { n: m.id } })
    }
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { clientInfo: { name: 'c' } } })
    send({ jsonrpc: '2.0', method: 'notifications/initialized' })
    send({ jsonrpc: '2.0', id: 2, method: 'ping' })
    const lines = await client.waitLines(2)
    expect(upstream.sent.map((s) => (JSON.parse(s) as { method: string }).method)).toEqual([
      'initialize',
      'notifications/initialized',
      'ping',
    ])
    expect(lines.map((l) => l.id)).toEqual([1, 2])
  })

  it('records the decision before the call reaches the server, the outcome after the answer', async () => {
    const { upstream, client, records, send } = setup()
    const seenAtForward: number[] = []
    upstream.onSend = (m) => {
      seenAtForward.push(records.length)
      upstream.reply({
        jsonrpc: '2.0',
        id: m.id,
        result: { content: [{ type: 'text', text: 'hi' }] },
      })
    }
    send(call(7, 'echo'))
    await client.waitLines(1)
    expect(seenAtForward).toEqual([1])
    expect(records.map((r) => [r.kind, r.kind === 'call' ? r.decision : r.outcome])).toEqual([
      ['call', 'allow'],
      ['outcome', 'ok'],
    ])
  })

  it('a denied call never reaches the server', async () => {
    const { upstream, client, records, send } = setup()
    send(call(3, 'rm'))
    const [answer] = await client.waitLines(1)
    expect(JSON.stringify(answer)).toContain('never')
    expect(upstream.sent).toEqual([])
    expect(records[0]).toMatchObject({ kind: 'call', decision: 'deny', tool: 'rm' })
  })

  it('a call whose decision record cannot be written is denied and not forwarded', async () => {
    const { upstream, client, send } = setup(() => {
      throw new Error('disk full')
    })
    send(call(4, 'echo'))
    const [answer] = await client.waitLines(1)
    expect(JSON.stringify(answer)).toContain('audit log could not be written: disk full')
    expect(upstream.sent).toEqual([])
  })

  it('says when the client has named itself, so that session lists show the name', () => {
    const names: string[] = []
    const { send } = setup(undefined, undefined, (s) => names.push(s.client))
    send({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { clientInfo: { name: 'agent' } } })
    expect(names).toEqual(['agent'])
  })

  it('closes each side once, whoever ends it', async () => {
    const { session, upstream, client, closes } = setup()
    await session.clientClosed()
    await session.close('again')
    await session.clientClosed()
    expect([upstream.closes, client.ends, closes()]).toEqual([1, 1, 1])
  })
})

describe('Session with a staging audit log (decision records batched per turn)', () => {
  /** A real AuditLog in a temp dir, its writes failing while `failing()`. */
  function stagingLog(failing: () => boolean) {
    const { dir, cleanup } = tempDir()
    const counts = { writeSync: 0 }
    const { fs: faulty } = countingFs({
      writeSync: (fd, b, o, l) => {
        counts.writeSync++
        if (failing()) throw errno('ENOSPC', 'no space left on device')
        return fs.writeSync(fd, b, o, l)
      },
    })
    const log = AuditLog.open({ dir, fs: faulty, log: () => undefined })
    const sink: AuditSink = {
      append: (i) => log.append(i),
      stage: (i) => log.stage(i),
      commit: () => log.commit(),
    }
    return { log, sink, dir, counts, cleanup }
  }
  const callLines = (...ids: number[]): Buffer =>
    Buffer.from(ids.map((id) => JSON.stringify(call(id, 'echo')) + '\n').join(''))

  it('writes the decision records of one chunk in one write, before any of its calls is forwarded', async () => {
    const { log, sink, dir, counts, cleanup } = stagingLog(() => false)
    try {
      const { session, upstream, client } = setup(undefined, sink)
      const onDiskAtForward: number[] = []
      const writesAtForward: number[] = []
      upstream.onSend = (m) => {
        onDiskAtForward.push([...readRecords(dir)].length)
        writesAtForward.push(counts.writeSync)
        upstream.reply({ jsonrpc: '2.0', id: m.id, result: { content: [] } })
      }
      const writesAtAnswer: number[] = []
      const write = client.write.bind(client)
      client.write = (chunks) => {
        writesAtAnswer.push(counts.writeSync)
        return write(chunks)
      }
      session.clientData(callLines(1, 2, 3))
      await client.waitLines(3)
      expect(onDiskAtForward).toEqual([3, 3, 3])
      expect(writesAtForward).toEqual([1, 1, 1])
      // The answers go out first, in one write; the three outcome records are made after them
      // (off the call's path) and follow in one more write within the same turn.
      expect(writesAtAnswer).toEqual([1])
      await new Promise((r) => setImmediate(r))
      expect(counts.writeSync).toBe(2)
      expect([...readRecords(dir)]).toHaveLength(6)
      expect(upstream.sent.map((l) => (JSON.parse(l) as { id: number }).id)).toEqual([1, 2, 3])
      await log.close()
      const recs = [...readRecords(dir)]
      // Decisions in the order the calls came, then their outcomes.
      expect(recs.map((r) => [r.seq, r.kind])).toEqual([
        [1, 'call'],
        [2, 'call'],
        [3, 'call'],
        [4, 'outcome'],
        [5, 'outcome'],
        [6, 'outcome'],
      ])
      expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 6 })
    } finally {
      cleanup()
    }
  })

  it('a batch whose write fails denies every call it holds; none reaches the server', async () => {
    let failing = true
    const { log, sink, dir, cleanup } = stagingLog(() => failing)
    try {
      const { session, upstream, client } = setup(undefined, sink)
      upstream.onSend = (m) => upstream.reply({ jsonrpc: '2.0', id: m.id, result: { content: [] } })
      session.clientData(callLines(1, 2))
      const answers = await client.waitLines(2)
      expect(answers.map((a) => a.id)).toEqual([1, 2])
      for (const a of answers) {
        expect(a).toMatchObject({ result: { isError: true } })
        expect(JSON.stringify(a)).toContain('audit log could not be written: audit log ')
        expect(JSON.stringify(a)).toContain('write failed (ENOSPC')
      }
      expect(upstream.sent).toEqual([])

      // The ids are free again, and once the disk is back the same call goes through.
      failing = false
      session.clientData(callLines(1))
      const [, , ok] = await client.waitLines(3)
      expect(ok).toMatchObject({ id: 1, result: { content: [] } })
      expect(upstream.sent).toHaveLength(1)
      await log.close()
      expect([...readRecords(dir)].map((r) => [r.seq, r.kind])).toEqual([
        [1, 'call'],
        [2, 'outcome'],
      ])
      expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 2 })
    } finally {
      cleanup()
    }
  })
})
