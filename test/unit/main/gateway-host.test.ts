import { EventEmitter } from 'node:events'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ApprovalAnswer, PendingApproval } from '../../../src/gateway/approvals/approvals'
import type { HostToGateway } from '../../../src/gateway/host/protocol'
import { GatewayHost, type GatewayProcess, type GatewayState } from '../../../src/main/gateway-host'
import { deferred, flush, request } from './fixtures'

/** A fake utilityProcess: records what main posts; the test plays the gateway. */
class FakeProcess extends EventEmitter implements GatewayProcess {
  readonly posted: HostToGateway[] = []
  killed = false
  postMessage(m: HostToGateway): void {
    this.posted.push(structuredClone(m))
  }
  kill(): boolean {
    this.killed = true
    this.exit(-1)
    return true
  }
  reply(m: unknown): void {
    this.emit('message', m)
  }
  ready(): void {
    this.reply({ type: 'ready', home: '/h', endpoint: '/s', pid: 42 })
  }
  exit(code: number): void {
    this.emit('exit', code)
  }
  calls(): Extract<HostToGateway, { type: 'call' }>[] {
    return this.posted.filter(
      (m): m is Extract<HostToGateway, { type: 'call' }> => m.type === 'call',
    )
  }
}

function setup(
  over: {
    ask?: (req: PendingApproval, signal: AbortSignal) => Promise<ApprovalAnswer | undefined>
    onOpenExternal?: (url: string) => void
  } = {},
) {
  const procs: FakeProcess[] = []
  const events: [string, unknown][] = []
  const states: GatewayState[] = []
  const asks: {
    req: PendingApproval
    signal: AbortSignal
    answer: (a: ApprovalAnswer | undefined) => void
  }[] = []
  const ask =
    over.ask ??
    ((req: PendingApproval, signal: AbortSignal) => {
      const d = deferred<ApprovalAnswer | undefined>()
      signal.addEventListener('abort', () => d.resolve(undefined))
      asks.push({ req, signal, answer: d.resolve })
      return d.promise
    })
  const host = new GatewayHost({
    fork: () => {
      const p = new FakeProcess()
      procs.push(p)
      return p
    },
    approver: { ask },
    onEvent: (e, d) => events.push([e, d]),
    onState: (s) => states.push(s),
    ...(over.onOpenExternal ? { onOpenExternal: over.onOpenExternal } : {}),
    log: () => undefined,
    backoffMs: [100, 1000],
    stableMs: 10_000,
    stopTimeoutMs: 500,
    callWaitMs: 5000,
  })
  return { host, procs, events, states, asks }
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('GatewayHost relaying', () => {
  it("a fatal 'error' of the gateway process is logged, not thrown in main, and it restarts", () => {
    const logged: string[] = []
    const procs: FakeProcess[] = []
    const host = new GatewayHost({
      fork: () => {
        const p = new FakeProcess()
        procs.push(p)
        return p
      },
      approver: { ask: () => Promise.resolve(undefined) },
      onEvent: () => undefined,
      onState: () => undefined,
      log: (m) => logged.push(m),
      backoffMs: [100],
    })
    host.start()
    procs[0]!.ready()
    // An EventEmitter with no 'error' listener throws: the host must have one.
    expect(() => procs[0]!.emit('error', 'FatalError', 'v8::Isolate')).not.toThrow()
    expect(logged).toContain('the gateway process failed (FatalError at v8::Isolate)')
    procs[0]!.exit(1)
    vi.advanceTimersByTime(100)
    expect(procs).toHaveLength(2)
  })

  it('sends the secrets at fork, then relays calls and results once ready', async () => {
    const { host, procs } = setup()
    host.setSecrets({ gh: { TOKEN: 't' } })
    host.start()
    const p = procs[0]!
    expect(p.posted[0]).toEqual({ type: 'secrets', values: { gh: { TOKEN: 't' } } })
    const early = host.call('status.get', {})
    expect(p.calls()).toHaveLength(0) // waits for ready
    p.ready()
    expect(host.state).toEqual({ state: 'running', pid: 42, endpoint: '/s' })
    const [c] = p.calls()
    expect(c).toMatchObject({ method: 'status.get', params: {} })
    p.reply({ type: 'result', id: c!.id, ok: true, result: { paused: false } })
    await expect(early).resolves.toEqual({ paused: false })
  })

  it("relays the gateway's request to open a sign-in page, and nothing malformed", () => {
    const opened: string[] = []
    const { host, procs } = setup({ onOpenExternal: (url) => opened.push(url) })
    host.start()
    procs[0]!.ready()
    procs[0]!.reply({ type: 'open.external', url: 'https://auth.example/authorize?state=s' })
    procs[0]!.reply({ type: 'open.external', url: { href: 'javascript:alert(1)' } })
    procs[0]!.reply({ type: 'open.external' })
    expect(opened).toEqual(['https://auth.example/authorize?state=s'])
  })

  it("rejects with the gateway's error name, message and code", async () => {
    const { host, procs } = setup()
    host.start()
    procs[0]!.ready()
    const call = host.call('servers.remove', { name: 'x' })
    procs[0]!.reply({
      type: 'result',
      id: procs[0]!.calls()[0]!.id,
      ok: false,
      error: { name: 'ControlError', message: 'no server "x"', code: 'NOT_FOUND' },
    })
    await expect(call).rejects.toMatchObject({
      name: 'ControlError',
      message: 'no server "x"',
      code: 'NOT_FOUND',
    })
  })

  it('forwards events and ignores junk', () => {
    const { host, procs, events } = setup()
    host.start()
    procs[0]!.reply({ type: 'event', event: 'paused', data: { paused: true } })
    procs[0]!.reply('junk')
    procs[0]!.reply({ nope: 1 })
    expect(events).toEqual([['paused', { paused: true }]])
  })

  it('fails a call that waits too long for a gateway that does not come up', async () => {
    const { host } = setup()
    host.start()
    const call = host.call('status.get', {})
    vi.advanceTimersByTime(5000)
    await expect(call).rejects.toMatchObject({ code: 'GATEWAY_UNAVAILABLE' })
  })
})

describe('GatewayHost approvals', () => {
  it('hands approval requests to the dialogs and posts the answer', async () => {
    const { host, procs, asks } = setup()
    host.start()
    procs[0]!.ready()
    procs[0]!.reply({ type: 'approval.ask', request: request() })
    expect(asks).toHaveLength(1)
    expect(host.pendingApprovals().map((r) => r.id)).toEqual(['req-1'])
    asks[0]!.answer('allow_session')
    await flush()
    expect(procs[0]!.posted.at(-1)).toEqual({
      type: 'approval.answer',
      id: 'req-1',
      answer: 'allow_session',
    })
    expect(host.pendingApprovals()).toEqual([])
  })

  it('closes the dialog when the gateway withdraws the request', async () => {
    const { host, procs, asks } = setup()
    host.start()
    procs[0]!.reply({ type: 'approval.ask', request: request() })
    procs[0]!.reply({ type: 'approval.withdrawn', id: 'req-1' })
    expect(asks[0]!.signal.aborted).toBe(true)
    await flush()
    expect(procs[0]!.posted.filter((m) => m.type === 'approval.answer')).toEqual([])
  })

  it('posts a dialog that gave up as a null answer', async () => {
    const { host, procs } = setup({ ask: async () => undefined })
    host.start()
    procs[0]!.reply({ type: 'approval.ask', request: request() })
    await flush()
    expect(procs[0]!.posted.at(-1)).toEqual({ type: 'approval.answer', id: 'req-1', answer: null })
  })
})

describe('GatewayHost restarts', () => {
  it('denies pending approvals when the gateway dies, closes their dialogs, and restarts with backoff', async () => {
    const { host, procs, asks, events, states } = setup()
    host.start()
    procs[0]!.ready()
    procs[0]!.reply({ type: 'approval.ask', request: request({ id: 'a' }) })
    procs[0]!.reply({ type: 'approval.ask', request: request({ id: 'b' }) })
    const inflight = host.call('audit.query', {})
    procs[0]!.exit(1)
    expect(asks.map((a) => a.signal.aborted)).toEqual([true, true])
    expect(events).toEqual([
      ['approval.resolved', { id: 'a', outcome: { answer: 'deny', by: 'gateway exited' } }],
      ['approval.resolved', { id: 'b', outcome: { answer: 'deny', by: 'gateway exited' } }],
      ['sessions.changed', []],
    ])
    await expect(inflight).rejects.toMatchObject({ code: 'GATEWAY_EXITED' })
    expect(states.at(-1)).toMatchObject({ state: 'restarting', inMs: 100 })
    expect(procs).toHaveLength(1)
    vi.advanceTimersByTime(100)
    expect(procs).toHaveLength(2)
    // A late click on a dialog of the dead gateway is not sent to the new one.
    asks[0]!.answer('allow_once')
    await flush()
    expect(procs[1]!.posted.filter((m) => m.type === 'approval.answer')).toEqual([])
  })

  it('backs off further on repeated crashes and resets after a stable run', () => {
    const { host, procs, states } = setup()
    host.start()
    procs[0]!.exit(1)
    vi.advanceTimersByTime(100)
    procs[1]!.exit(1)
    expect(states.at(-1)).toMatchObject({ state: 'restarting', inMs: 1000 })
    vi.advanceTimersByTime(999)
    expect(procs).toHaveLength(2)
    vi.advanceTimersByTime(1)
    expect(procs).toHaveLength(3)
    vi.advanceTimersByTime(10_000)
    procs[2]!.exit(1)
    expect(states.at(-1)).toMatchObject({ state: 'restarting', inMs: 100 })
  })

  it('reports why the gateway could not start', () => {
    const { host, procs, states } = setup()
    host.start()
    procs[0]!.reply({
      type: 'fatal',
      error: {
        name: 'GatewayRunningError',
        message: 'another Airlock gateway is already running',
        code: 'GATEWAY_RUNNING',
      },
    })
    procs[0]!.exit(1)
    expect(states.at(-1)).toMatchObject({
      state: 'restarting',
      lastError: 'another Airlock gateway is already running',
    })
  })

  it('keeps calls made while restarting for the next gateway', async () => {
    const { host, procs } = setup()
    host.start()
    procs[0]!.exit(1)
    const call = host.call('status.get', {})
    vi.advanceTimersByTime(100)
    procs[1]!.ready()
    procs[1]!.reply({ type: 'result', id: procs[1]!.calls()[0]!.id, ok: true, result: 'ok' })
    await expect(call).resolves.toBe('ok')
  })
})

describe('GatewayHost stop', () => {
  it('asks the gateway to shut down and does not restart it', async () => {
    const { host, procs, states } = setup()
    host.start()
    procs[0]!.ready()
    const stopped = host.stop()
    expect(procs[0]!.posted.at(-1)).toEqual({ type: 'shutdown' })
    procs[0]!.exit(0)
    await stopped
    vi.advanceTimersByTime(60_000)
    expect(procs).toHaveLength(1)
    expect(states.at(-1)).toEqual({ state: 'stopped' })
    await expect(host.call('status.get', {})).rejects.toMatchObject({ code: 'GATEWAY_STOPPED' })
  })

  it('kills a gateway that does not exit in time', async () => {
    const { host, procs } = setup()
    host.start()
    const stopped = host.stop()
    vi.advanceTimersByTime(500)
    await stopped
    expect(procs[0]!.killed).toBe(true)
  })
})
