import { describe, expect, it, vi } from 'vitest'
import { ApprovalCenter } from '../../../src/gateway/approvals/approvals'
import { HostBridge, type ControlHandler, type HostPort } from '../../../src/gateway/host/bridge'
import type { GatewayToHost } from '../../../src/gateway/host/protocol'
import { flush } from './fixtures'

/** A fake parentPort: what the gateway posts, and a way to play main. */
function fakePort() {
  const posted: GatewayToHost[] = []
  let listener: ((e: { data: unknown }) => void) | undefined
  const port: HostPort = {
    postMessage: (m) => posted.push(structuredClone(m)),
    on: (_e, l) => (listener = l),
  }
  return { port, posted, send: (data: unknown) => listener!({ data }) }
}

function setup(control: Partial<ControlHandler> = {}) {
  const { port, posted, send } = fakePort()
  const center = new ApprovalCenter()
  let emit: ((event: string, data: unknown) => void) | undefined
  const handler: ControlHandler = {
    call: control.call ?? (async (method, params) => ({ method, params })),
    subscribe: (l) => {
      emit = l
      return () => (emit = undefined)
    },
  }
  const hooks = { onSecrets: vi.fn(), onShutdown: vi.fn() }
  const bridge = new HostBridge(port, handler, center, hooks)
  return { bridge, center, posted, send, emit: (e: string, d: unknown) => emit?.(e, d), hooks }
}

const fields = {
  session: 's',
  client: 'agent',
  server: 'mail',
  tool: 'send',
  argsExcerpt: '{}',
  argsDigest: 'd',
}

describe('HostBridge calls and events', () => {
  it('answers calls with results and errors, matched by id', async () => {
    const { send, posted } = setup({
      call: async (method) => {
        if (method === 'bad') throw Object.assign(new Error('nope'), { code: 'E_NOPE' })
        return 'fine'
      },
    })
    send({ type: 'call', id: 1, method: 'status.get', params: {} })
    send({ type: 'call', id: 2, method: 'bad', params: {} })
    await flush()
    expect(posted).toEqual([
      { type: 'result', id: 1, ok: true, result: 'fine' },
      {
        type: 'result',
        id: 2,
        ok: false,
        error: { name: 'Error', message: 'nope', code: 'E_NOPE' },
      },
    ])
  })

  it('answers a result that cannot cross the boundary with an error', async () => {
    const { send, posted } = setup({ call: async () => ({ f: () => 1 }) })
    send({ type: 'call', id: 3, method: 'x', params: {} })
    await flush()
    expect(posted).toEqual([
      {
        type: 'result',
        id: 3,
        ok: false,
        error: expect.objectContaining({ name: 'DataCloneError' }),
      },
    ])
  })

  it('relays control events until closed', () => {
    const { bridge, emit, posted } = setup()
    emit('paused', { paused: true })
    bridge.close()
    emit('paused', { paused: false })
    expect(posted).toEqual([{ type: 'event', event: 'paused', data: { paused: true } }])
  })

  it('passes secrets and shutdown to its hooks, ignores junk', () => {
    const { send, hooks } = setup()
    send({ type: 'secrets', values: { gh: { T: 'v' } } })
    send({ type: 'shutdown' })
    send('junk')
    send(null)
    expect(hooks.onSecrets).toHaveBeenCalledWith({ gh: { T: 'v' } }, undefined)
    expect(hooks.onShutdown).toHaveBeenCalledTimes(1)
  })
})

describe('HostBridge approvals', () => {
  it('asks main and records the dialog as the decider', async () => {
    const { center, posted, send } = setup()
    const outcome = center.request(fields, 45_000, new AbortController().signal)
    const ask = posted.find((m) => m.type === 'approval.ask')
    expect(ask).toMatchObject({ type: 'approval.ask', request: { client: 'agent', tool: 'send' } })
    const id = (ask as { request: { id: string } }).request.id
    send({ type: 'approval.answer', id, answer: 'allow_once' })
    await expect(outcome).resolves.toEqual({ answer: 'allow_once', by: 'dialog' })
    expect(posted.filter((m) => m.type === 'approval.withdrawn')).toEqual([])
  })

  it('tells main to close the dialog when the window answered first; the late dialog answer is ignored', async () => {
    const { center, posted, send } = setup()
    const outcome = center.request(fields, 45_000, new AbortController().signal)
    const id = (posted.find((m) => m.type === 'approval.ask') as { request: { id: string } })
      .request.id
    expect(center.decide(id, 'deny', 'ui')).toBe('ok')
    expect(posted.at(-1)).toEqual({ type: 'approval.withdrawn', id })
    send({ type: 'approval.answer', id, answer: 'allow_always' })
    await expect(outcome).resolves.toEqual({ answer: 'deny', by: 'ui' })
    expect(center.list()).toEqual([])
  })

  it('tells main to close the dialog on timeout and on a cancelled call', async () => {
    vi.useFakeTimers()
    try {
      const { center, posted } = setup()
      const ac = new AbortController()
      const a = center.request(fields, 1000, new AbortController().signal)
      const b = center.request({ ...fields, tool: 'other' }, 60_000, ac.signal)
      vi.advanceTimersByTime(1000)
      ac.abort()
      await expect(a).resolves.toMatchObject({ answer: 'timeout' })
      await expect(b).resolves.toMatchObject({ answer: 'cancelled' })
      expect(posted.filter((m) => m.type === 'approval.withdrawn')).toHaveLength(2)
    } finally {
      vi.useRealTimers()
    }
  })

  it('leaves the request to the window when the dialog gave up', async () => {
    const { center, posted, send } = setup()
    void center.request(fields, 45_000, new AbortController().signal)
    const id = (posted.find((m) => m.type === 'approval.ask') as { request: { id: string } })
      .request.id
    send({ type: 'approval.answer', id, answer: null })
    await flush()
    expect(center.list().map((r) => r.id)).toEqual([id])
    expect(center.decide(id, 'allow_session', 'ui')).toBe('ok')
  })

  it('makes the gateway count as having an approver', () => {
    const { center, bridge } = setup()
    expect(center.hasApprover()).toBe(true)
    bridge.close()
    expect(center.hasApprover()).toBe(false)
  })
})
