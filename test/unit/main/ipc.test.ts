import { describe, expect, it, vi } from 'vitest'
import { createApi } from '../../../src/shared/contract/control-api'
import {
  checkSender,
  ControlRefusedError,
  IpcBridge,
  parseCall,
  type IpcMainLike,
  type IpcSender,
} from '../../../src/main/ipc'
import {
  CALL_CHANNEL,
  EVENT_CHANNEL,
  type CallReply,
} from '../../../src/shared/contract/ipc-channels'
import { isAppUrl } from '../../../src/main/security'
import { createIpcTransport, type IpcRendererLike } from '../../../src/preload/ipc-transport'

type Handler = (event: IpcSender, ...args: unknown[]) => Promise<unknown>

/** A fake ipcMain that records its handlers. */
function fakeIpcMain() {
  const handlers = new Map<string, Handler>()
  const ipc: IpcMainLike = {
    handle: (channel, listener) => {
      if (handlers.has(channel)) throw new Error(`second handler for ${channel}`)
      handlers.set(channel, listener)
    },
    removeHandler: (channel) => handlers.delete(channel),
  }
  return { ipc, handlers }
}

const OUR_WINDOW = 7
const ours = (url = 'app://airlock/index.html'): IpcSender => ({
  sender: { id: OUR_WINDOW },
  senderFrame: { url, parent: null },
})
const policy = { windowIds: () => [OUR_WINDOW], isAppUrl: (u: string) => isAppUrl(u) }

function setup() {
  const { ipc, handlers } = fakeIpcMain()
  const target = { call: vi.fn(async (method: string, params: unknown) => ({ method, params })) }
  const bridge = new IpcBridge(ipc, policy, target)
  const invoke = (event: IpcSender, method: unknown, params?: unknown) =>
    handlers.get(CALL_CHANNEL)!(event, method, params) as Promise<CallReply>
  return { bridge, handlers, target, invoke }
}

describe('sender check', () => {
  it('accepts the top frame of our window showing our UI', () => {
    expect(checkSender(ours(), policy)).toBeUndefined()
    expect(checkSender(ours('app://airlock/#/approvals'), policy)).toBeUndefined()
  })

  it('refuses a foreign page, another webContents, a subframe, a vanished frame', () => {
    expect(checkSender(ours('https://evil.example/'), policy)).toMatch(/not the Airlock UI/)
    expect(checkSender(ours('file:///tmp/x.html'), policy)).toMatch(/not the Airlock UI/)
    expect(
      checkSender(
        { sender: { id: 99 }, senderFrame: { url: 'app://airlock/index.html', parent: null } },
        policy,
      ),
    ).toMatch(/not an Airlock window/)
    expect(
      checkSender(
        {
          sender: { id: OUR_WINDOW },
          senderFrame: { url: 'app://airlock/index.html', parent: {} },
        },
        policy,
      ),
    ).toMatch(/subframes/)
    expect(checkSender({ sender: { id: OUR_WINDOW }, senderFrame: null }, policy)).toMatch(/gone/)
  })
})

describe('argument parsing', () => {
  it('refuses unknown methods', () => {
    expect(() => parseCall('shell.exec', {})).toThrow(ControlRefusedError)
    expect(() => parseCall('__proto__', {})).toThrow(/unknown control method/)
    expect(() => parseCall(42, {})).toThrow(/unknown control method/)
  })

  it('refuses bad params and names the field', () => {
    expect(() => parseCall('approvals.decide', { id: 'x', answer: 'yes please' })).toThrow(
      /approvals\.decide: answer: /,
    )
    expect(() => parseCall('servers.setEnabled', { name: 'a', enabled: 'true' })).toThrow(
      /enabled: /,
    )
    expect(() => parseCall('pause.set', { paused: true, extra: 1 })).toThrow(/extra/)
    try {
      parseCall('servers.add', { server: { name: '../x', command: 'node' } })
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(ControlRefusedError)
      expect((err as ControlRefusedError).code).toBe('INVALID_PARAMS')
      expect((err as Error).message).toMatch(/server\.name: expected a name of letters/)
    }
  })

  it('applies the schema defaults', () => {
    expect(parseCall('audit.query', {}).params).toEqual({ filter: {}, limit: 100 })
    expect(parseCall('status.get', undefined).params).toEqual({})
  })
})

describe('IpcBridge', () => {
  it('registers exactly one channel, so every other channel has no handler', () => {
    const { handlers } = setup()
    expect([...handlers.keys()]).toEqual([CALL_CHANNEL])
  })

  it('relays a checked call with the parsed params', async () => {
    const { invoke, target } = setup()
    await expect(
      invoke(ours(), 'approvals.decide', { id: 'r1', answer: 'allow_once' }),
    ).resolves.toEqual({
      ok: true,
      result: { method: 'approvals.decide', params: { id: 'r1', answer: 'allow_once' } },
    })
    expect(target.call).toHaveBeenCalledTimes(1)
  })

  it('refuses foreign senders, unknown methods and bad params without reaching the gateway', async () => {
    const { invoke, target } = setup()
    const foreign = await invoke(ours('https://evil.example/'), 'status.get', {})
    expect(foreign).toMatchObject({
      ok: false,
      error: { name: 'ControlRefusedError', code: 'FOREIGN_SENDER' },
    })
    expect(await invoke(ours(), 'servers.nuke', {})).toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_METHOD' },
    })
    const bad = await invoke(ours(), 'grants.revoke', { id: 5 })
    expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMS' } })
    expect((bad as { error: { message: string } }).error.message).toMatch(/grants\.revoke: id: /)
    expect(target.call).not.toHaveBeenCalled()
  })

  it('returns the gateway error with its name and code', async () => {
    const { ipc, handlers } = fakeIpcMain()
    const err = Object.assign(new Error('no server named "x"'), {
      name: 'ControlError',
      code: 'NOT_FOUND',
    })
    new IpcBridge(ipc, policy, { call: () => Promise.reject(err) })
    await expect(
      handlers.get(CALL_CHANNEL)!(ours(), 'servers.remove', { name: 'x' }),
    ).resolves.toEqual({
      ok: false,
      error: { name: 'ControlError', message: 'no server named "x"', code: 'NOT_FOUND' },
    })
  })

  it('sends events to our windows only, and stops after removal or close', () => {
    const { bridge, handlers } = setup()
    const a = { id: 1, send: vi.fn() }
    const b = { id: 2, send: vi.fn() }
    bridge.addWindow(a)
    const removeB = bridge.addWindow(b)
    bridge.broadcast('paused', { paused: true })
    expect(a.send).toHaveBeenCalledWith(EVENT_CHANNEL, 'paused', { paused: true })
    removeB()
    bridge.broadcast('paused', { paused: false })
    expect(b.send).toHaveBeenCalledTimes(1)
    bridge.close()
    bridge.broadcast('paused', { paused: true })
    expect(a.send).toHaveBeenCalledTimes(2)
    expect(handlers.size).toBe(0)
  })
})

describe('preload transport', () => {
  /** A fake ipcRenderer wired to a bridge, as Electron would between the two processes. */
  function linked() {
    const { bridge, invoke, target } = setup()
    const listeners = new Map<string, ((e: unknown, ...args: unknown[]) => void)[]>()
    const ipcRenderer: IpcRendererLike = {
      invoke: (channel, ...args) =>
        channel === CALL_CHANNEL
          ? invoke(ours(), args[0], args[1])
          : Promise.reject(new Error(`No handler registered for '${channel}'`)),
      on: (channel, l) => listeners.set(channel, [...(listeners.get(channel) ?? []), l]),
    }
    bridge.addWindow({
      id: OUR_WINDOW,
      send: (channel, ...args) => listeners.get(channel)?.forEach((l) => l({}, ...args)),
    })
    const api = createApi(createIpcTransport(ipcRenderer))
    return { api, bridge, target, listeners }
  }

  it('exposes named methods that reach the gateway through the one channel', async () => {
    const { api, target } = linked()
    await api.approvals.decide({ id: 'r1', answer: 'deny' })
    await api.status.get()
    expect(target.call.mock.calls.map((c) => c[0])).toEqual(['approvals.decide', 'status.get'])
  })

  it('turns a refused call into a rejected promise with the reason', async () => {
    const { api } = linked()
    const bad = api.approvals.decide({ id: 'r1', answer: 'maybe' as 'deny' })
    await expect(bad).rejects.toThrow(/answer/)
    await expect(bad).rejects.toMatchObject({ name: 'ControlRefusedError', code: 'INVALID_PARAMS' })
  })

  it('delivers events to subscribers; unsubscribe stops them; one IPC listener serves all', () => {
    const { api, bridge, listeners } = linked()
    const got: unknown[] = []
    const off = api.on('paused', (d) => got.push(d))
    api.on('approval.requested', () => got.push('other'))
    bridge.broadcast('paused', { paused: true })
    off()
    bridge.broadcast('paused', { paused: false })
    bridge.broadcast('not-an-event', {})
    expect(got).toEqual([{ paused: true }])
    expect(listeners.get(EVENT_CHANNEL)).toHaveLength(1)
    expect([...listeners.keys()]).toEqual([EVENT_CHANNEL])
  })

  it('refuses to subscribe to unknown events', () => {
    const { api } = linked()
    expect(() => api.on('nope' as 'paused', () => undefined)).toThrow(/unknown event/)
  })

  it('exposes no channel names or ipcRenderer on the API', () => {
    const { api } = linked()
    const text =
      JSON.stringify(Object.keys(api)) +
      JSON.stringify(
        Object.values(api).map((v) =>
          typeof v === 'object' ? Object.keys(v as object) : typeof v,
        ),
      )
    expect(text).not.toContain('airlock:')
    expect(Object.keys(api)).not.toContain('ipcRenderer')
    expect(Object.keys(api)).not.toContain('invoke')
  })
})
