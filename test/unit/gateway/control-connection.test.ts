/**
 * The control API's third transport: the control connection on the agent socket. A real Gateway
 * and ControlService in a temp data directory (in-process), and the CLI's ControlClient over the
 * real Unix socket after the real handshake: typed calls round-trip, refusals arrive as the
 * contract's ControlError with its code, events follow subscriptions, pause.set is saved.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ControlService } from '../../../src/gateway/control/control-service'
import { Gateway } from '../../../src/gateway/gateway'
import { ControlClient } from '../../../src/node/control-client'
import {
  HAND_OVER_METHOD,
  SUBSCRIBE_METHOD,
  UNSUBSCRIBE_METHOD,
} from '../../../src/node/control-wire'
import { socketDir } from '../../../src/node/paths'
import {
  controlRequests,
  isControlMethod,
  type ControlMethod,
  type EventOf,
} from '../../../src/shared/contract/control-api'
import { ControlError } from '../../../src/shared/contract/control-error'

interface Fixture {
  home: string
  gw: Gateway
  svc?: ControlService
  client: ControlClient
}

const open: Fixture[] = []
afterEach(async () => {
  for (const f of open.splice(0)) {
    f.client.close()
    f.svc?.close()
    await f.gw.close()
    fs.rmSync(f.home, { recursive: true, force: true })
    fs.rmSync(socketDir(f.home), { recursive: true, force: true })
  }
})

async function setup(opts: { service?: boolean } = {}): Promise<Fixture> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-cc-'))
  const gw = new Gateway({ home, log: () => {} })
  await gw.listen()
  let svc: ControlService | undefined
  if (opts.service !== false) {
    svc = new ControlService(gw)
    gw.control = svc
    svc.start()
  }
  const client = await ControlClient.connect(home)
  const f = { home, gw, svc, client }
  open.push(f)
  return f
}

/** The rejection of `p`, which must reject. */
async function refusal(p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (err) {
    return err as Error
  }
  throw new Error('expected the request to be refused')
}

describe('typed calls over the agent socket', () => {
  it('answers with the results the control service gives, in the contract shapes', async () => {
    const { client, svc } = await setup()
    const status = await client.api.status.get()
    expect(controlRequests['status.get'].result.parse(status)).toEqual(status)
    expect(status).toEqual(await svc!.call('status.get', {}))
    expect(status.pending).toBe(0)
    expect(status.paused).toBe(false)
    expect(await client.api.servers.list()).toEqual([])
    expect(await client.api.approvals.list()).toEqual([])
    expect(await client.api.settings.get()).toEqual(await svc!.call('settings.get', {}))
    const checked = await client.api.policy.validate({ text: '{"version":"2"}' })
    expect(checked.ok).toBe(false)
    expect(checked.errors[0]).toMatchObject({ path: 'version' })
  })

  it('refuses with the ControlError of the contract: unknown method, bad params, not found', async () => {
    const { client } = await setup()
    const unknown = await refusal(client.call('servers.frobnicate' as ControlMethod, {}))
    expect(unknown).toBeInstanceOf(ControlError)
    expect(unknown).toMatchObject({ code: 'UNKNOWN_METHOD' })
    expect(unknown.message).toContain('"servers.frobnicate"')
    // The old socket-only vocabulary is gone: it is refused like any unknown method.
    for (const old of ['status', 'pause', 'resume', 'approvals.subscribe', 'audit.subscribe']) {
      const e = await refusal(client.call(old as ControlMethod, {}))
      expect(e).toMatchObject({ code: 'UNKNOWN_METHOD' })
      expect(e.message).toContain(`"${old}"`)
    }
    const bad = await refusal(client.call('servers.remove', { bogus: true }))
    expect(bad).toBeInstanceOf(ControlError)
    expect(bad).toMatchObject({ code: 'INVALID_PARAMS' })
    expect(bad.message).toMatch(/servers\.remove: invalid params/)
    const missing = await refusal(client.api.policy.get({ server: 'nope' }))
    expect(missing).toMatchObject({ code: 'NOT_FOUND' })
    expect(missing.message).toContain('no server named "nope"')
    // The connection stays usable after refusals.
    expect((await client.api.status.get()).pid).toBe(process.pid)
  })

  it('pause.set takes effect and is saved in config.json, as over every transport', async () => {
    const { client, gw, home } = await setup()
    const seen: EventOf<'paused'>[] = []
    client.api.on('paused', (e) => seen.push(e))
    await client.subscribe('paused')
    expect(await client.api.pause.set({ paused: true })).toBe(true)
    expect(gw.paused).toBe(true)
    const config = JSON.parse(fs.readFileSync(path.join(home, 'config.json'), 'utf8')) as {
      settings: { paused: boolean }
    }
    expect(config.settings.paused).toBe(true)
    expect((await client.api.status.get()).paused).toBe(true)
    await client.api.pause.set({ paused: false })
    expect(seen).toEqual([{ paused: true }, { paused: false }])
  })
})

describe('events and the socket’s own methods', () => {
  it('sends only subscribed events; a subscriber to approval requests is an approver', async () => {
    const { client, gw } = await setup()
    const servers: unknown[] = []
    client.api.on('servers.changed', (e) => servers.push(e))
    expect(gw.approvals.hasApprover()).toBe(false)
    const stop = client.api.on('approval.requested', () => undefined)
    await client.subscribe('approval.requested', 'servers.changed')
    expect(gw.approvals.hasApprover()).toBe(true)
    await client.api.servers.add({
      server: { name: 'x', command: process.execPath, args: ['-e', ''] },
    })
    await client.api.status.get() // events sent before this answer have arrived
    expect(servers.length).toBeGreaterThan(0)
    expect(servers[0]).toEqual({})
    stop()
    await client.api.status.get() // the unsubscribe was sent before this request
    expect(gw.approvals.hasApprover()).toBe(false)
  })

  it('refuses unknown events and malformed subscriptions, naming them', async () => {
    const { client } = await setup()
    const e = await refusal(client.subscribe('nope' as 'paused'))
    expect(e).toMatchObject({ code: 'INVALID_PARAMS' })
    expect(e.message).toContain('unknown event "nope"')
  })

  it('the closed connection detaches its approver', async () => {
    const { client, gw } = await setup()
    await client.subscribe('approval.requested')
    expect(gw.approvals.hasApprover()).toBe(true)
    client.close()
    // The gateway sees the close a moment later: wait for it, within a bound.
    const deadline = Date.now() + 5000
    while (gw.approvals.hasApprover() && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10))
    expect(gw.approvals.hasApprover()).toBe(false)
  })

  it('hand-over is refused by a gateway whose host does not hand over (the desktop app)', async () => {
    const { client } = await setup()
    const e = await refusal(client.handOver({ to: 'a test', pid: process.pid }))
    expect(e).toMatchObject({ code: 'UNSUPPORTED' })
    expect(e.message).toContain('does not hand over')
  })

  it('without a control service every method is refused, naming it', async () => {
    const { client } = await setup({ service: false })
    const e = await refusal(client.api.status.get())
    expect(e).toMatchObject({ code: 'UNSUPPORTED' })
    expect(e.message).toContain('"status.get"')
  })

  it('the socket’s own methods are no control-API methods', () => {
    for (const m of [SUBSCRIBE_METHOD, UNSUBSCRIBE_METHOD, HAND_OVER_METHOD])
      expect(isControlMethod(m)).toBe(false)
  })
})
