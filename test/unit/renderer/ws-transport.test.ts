/**
 * The browser's WebSocket transport against the real UI server and control service (in-process
 * gateway), with the `ws` package standing in for the browser's WebSocket.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createApi } from '../../../src/shared/contract/control-api'
import { ControlService } from '../../../src/gateway/control/control-service'
import { Gateway } from '../../../src/gateway/gateway'
import { startUiServer, type UiServer } from '../../../src/gateway/http/ui-server'
import {
  createWsTransport,
  type ConnectionState,
  type WebSocketConstructor,
  type WsTransport,
} from '../../../src/renderer/src/ws-transport'

const TOKEN = 'c'.repeat(64)
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function setup(): Promise<{
  gw: Gateway
  ui: UiServer
  restart(): Promise<void>
  transport(token?: string): WsTransport
}> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-wst-'))
  const gw = new Gateway({ home, log: () => {} })
  await gw.listen()
  const svc = new ControlService(gw)
  svc.start()
  const opts = {
    control: svc,
    attachUi: () => gw.approvals.attachUi(),
    token: TOKEN,
    port: 0,
    rendererDir: path.join(home, 'none'),
  }
  const box = { ui: await startUiServer(opts) }
  cleanups.push(async () => {
    await box.ui.close()
    svc.close()
    await gw.close()
    fs.rmSync(home, { recursive: true, force: true })
  })
  return {
    gw,
    get ui() {
      return box.ui
    },
    async restart() {
      const port = box.ui.port
      await box.ui.close()
      await new Promise((r) => setTimeout(r, 300))
      box.ui = await startUiServer({ ...opts, port })
    },
    transport(token = TOKEN) {
      const t = createWsTransport({
        url: `ws://127.0.0.1:${box.ui.port}/api`,
        token,
        WebSocket: WebSocket as unknown as WebSocketConstructor,
        callTimeoutMs: 5000,
      })
      cleanups.push(() => t.close())
      return t
    },
  }
}

describe('createWsTransport', () => {
  it('calls methods and receives events through createApi', async () => {
    const s = await setup()
    const t = s.transport()
    const api = createApi(t)
    expect(await api.status.get()).toMatchObject({ paused: false })
    const paused: boolean[] = []
    const off = api.on('paused', (e) => paused.push(e.paused))
    expect(await api.pause.set({ paused: true })).toBe(true)
    await expect.poll(() => paused).toEqual([true])
    off()
    await api.pause.set({ paused: false })
    expect(paused).toEqual([true])
    expect(t.state()).toBe('open')
    // The authenticated UI counts as an approver.
    expect(s.gw.approvals.hasApprover()).toBe(true)
    await expect(api.servers.remove({ name: 'x', bogus: 1 } as never)).rejects.toMatchObject({
      name: 'ControlCallError',
      code: 'INVALID_PARAMS',
    })
  })

  it('stops on a refused token and rejects calls', async () => {
    const s = await setup()
    const t = s.transport('d'.repeat(64))
    const states: ConnectionState[] = []
    t.onState((st) => states.push(st))
    await expect(t.call('status.get', {})).rejects.toThrow(/refused the access token/)
    expect(t.state()).toBe('unauthorized')
    expect(states).toContain('unauthorized')
    await expect(t.call('status.get', {})).rejects.toThrow(/access token/)
  })

  it('reconnects after the server goes away, and queued calls then go through', async () => {
    const s = await setup()
    const t = s.transport()
    const states: ConnectionState[] = []
    t.onState((st) => states.push(st))
    await t.call('status.get', {})
    const first = t.snapshot()
    expect(first).toMatchObject({ state: 'open', opens: 1 })
    // The same object until something changes: what React's external store needs.
    expect(t.snapshot()).toBe(first)
    await s.restart()
    const r = await t.call('status.get', {})
    expect(r).toMatchObject({ paused: false })
    expect(states).toContain('reconnecting')
    expect(t.state()).toBe('open')
    // The second open is the reconnection the window reloads after.
    expect(t.snapshot()).toMatchObject({ state: 'open', opens: 2 })
  })
})
