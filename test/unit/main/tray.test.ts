import { inflateSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { trayIconPng } from '../../../src/main/tray-icons'
import { screenOf, trayView, type TrayItem } from '../../../src/main/tray-menu'
import { TrayModel } from '../../../src/main/tray-model'

const labels = (items: TrayItem[]): string[] =>
  items.flatMap((i) => ('label' in i ? [i.label] : []))
const item = (items: TrayItem[], id: string) => items.find((i) => 'id' in i && i.id === id)

describe('tray menu', () => {
  it('has every action in the menu', () => {
    const v = trayView({ pending: 0, paused: false, startAtLogin: false })
    expect(labels(v.items)).toEqual([
      'Open Airlock',
      'Pending approvals (0)',
      'Pause all tool calls',
      'Start at login',
      'Quit',
    ])
  })

  it('shows the pending count, enabled only when something waits', () => {
    expect(
      item(trayView({ pending: 0, paused: false, startAtLogin: false }).items, 'open-approvals'),
    ).toMatchObject({ label: 'Pending approvals (0)', enabled: false })
    expect(
      item(trayView({ pending: 3, paused: false, startAtLogin: false }).items, 'open-approvals'),
    ).toMatchObject({ label: 'Pending approvals (3)', enabled: true })
  })

  it('opens the window on the screen an item is about', () => {
    const v = trayView({ pending: 2, paused: false, startAtLogin: false, unprotectedClients: 1 })
    const screens = Object.fromEntries(
      v.items.flatMap((i) => ('id' in i ? [[i.id, screenOf(i.id)]] : [])),
    )
    expect(screens).toEqual({
      open: undefined,
      'open-approvals': 'approvals',
      'open-clients': 'clients',
      'toggle-pause': undefined,
      'toggle-start-at-login': undefined,
      quit: undefined,
    })
  })

  it('checks "Pause all tool calls" and "Start at login" from the state', () => {
    const on = trayView({ pending: 0, paused: true, startAtLogin: true }).items
    expect(item(on, 'toggle-pause')).toMatchObject({ type: 'checkbox', checked: true })
    expect(item(on, 'toggle-start-at-login')).toMatchObject({ type: 'checkbox', checked: true })
    const off = trayView({ pending: 0, paused: false, startAtLogin: false }).items
    expect(item(off, 'toggle-pause')).toMatchObject({ checked: false })
    expect(item(off, 'toggle-start-at-login')).toMatchObject({ checked: false })
  })

  it('reflects pending approvals and paused in the tooltip and icon', () => {
    expect(trayView({ pending: 0, paused: false, startAtLogin: false })).toMatchObject({
      tooltip: 'Airlock',
      icon: 'idle',
      title: '',
    })
    expect(trayView({ pending: 1, paused: false, startAtLogin: false })).toMatchObject({
      tooltip: 'Airlock — 1 approval waiting',
      icon: 'pending',
      title: '1',
    })
    expect(trayView({ pending: 2, paused: true, startAtLogin: false })).toMatchObject({
      tooltip: 'Airlock — 2 approvals waiting — paused: every tool call is denied',
      icon: 'pending',
    })
    expect(trayView({ pending: 0, paused: true, startAtLogin: false })).toMatchObject({
      icon: 'paused',
    })
  })

  it('offers "Re-protect…" when clients are no longer protected (drift)', () => {
    const none = trayView({ pending: 0, paused: false, startAtLogin: false })
    expect(item(none.items, 'open-clients')).toBeUndefined()
    const one = trayView({ pending: 0, paused: false, startAtLogin: false, unprotectedClients: 1 })
    expect(labels(one.items).slice(0, 3)).toEqual([
      'Open Airlock',
      'Pending approvals (0)',
      '1 client not protected — Re-protect…',
    ])
    expect(item(one.items, 'open-clients')).toMatchObject({ type: 'normal', enabled: true })
    expect(one.tooltip).toBe('Airlock — 1 client not protected')
    const two = trayView({ pending: 1, paused: false, startAtLogin: false, unprotectedClients: 2 })
    expect(item(two.items, 'open-clients')).toMatchObject({
      label: '2 clients not protected — Re-protect…',
    })
    expect(two.tooltip).toBe('Airlock — 1 approval waiting — 2 clients not protected')
  })

  it('shows a gateway problem in the tooltip and as a disabled line', () => {
    const v = trayView({
      pending: 0,
      paused: false,
      startAtLogin: false,
      gatewayProblem: 'restarting (exit code 1)',
    })
    expect(v.tooltip).toContain('gateway: restarting (exit code 1)')
    expect(v.items).toContainEqual({ type: 'label', label: 'Gateway: restarting (exit code 1)' })
  })
})

describe('tray model', () => {
  it('counts requested minus resolved approvals and follows paused', () => {
    const states: unknown[] = []
    const m = new TrayModel(false, (s) => states.push(s))
    m.event('approval.requested', { id: 'a' })
    m.event('approval.requested', { id: 'b' })
    m.event('approval.requested', { id: 'a' })
    expect(m.state.pending).toBe(2)
    m.event('approval.resolved', { id: 'a', outcome: { answer: 'deny', by: 'ui' } })
    expect(m.state.pending).toBe(1)
    m.event('paused', { paused: true })
    expect(m.state.paused).toBe(true)
    m.event('audit.appended', {})
    expect(states).toHaveLength(5)
    m.reset([], false)
    expect(m.state).toEqual({ pending: 0, paused: false, startAtLogin: false })
  })

  it('counts the clients with drifted entries from clients.changed and clients.status', () => {
    const states: unknown[] = []
    const m = new TrayModel(false, (s) => states.push(s))
    const drift = (client: string, server: string) => ({
      client,
      clientName: client,
      file: `/home/u/${client}.json`,
      server,
      airlockServer: server,
    })
    m.event('clients.changed', {
      drifted: [drift('cursor', 'a'), drift('cursor', 'b'), drift('claude-desktop', 'c')],
      watched: 5,
    })
    expect(m.state.unprotectedClients).toBe(2)
    expect(states).toHaveLength(1)
    m.event('clients.changed', { drifted: [drift('cursor', 'a'), drift('zed', 'z')], watched: 5 })
    expect(states).toHaveLength(1) // still two clients: no redraw
    m.clients({ drifted: [], watched: 5 })
    expect(m.state.unprotectedClients).toBeUndefined()
    expect(states).toHaveLength(2)
    m.event('clients.changed', { nonsense: true })
    expect(states).toHaveLength(2)
  })

  it('shows a restarting gateway until it runs again', () => {
    const m = new TrayModel(true)
    m.gateway({ state: 'restarting', inMs: 500, lastError: 'exit code 9' })
    expect(m.state.gatewayProblem).toBe('restarting (exit code 9)')
    m.gateway({ state: 'running', pid: 1, endpoint: '/s' })
    expect(m.state.gatewayProblem).toBeUndefined()
    expect(m.state.startAtLogin).toBe(true)
  })
})

describe('tray icons', () => {
  it.each(['idle', 'pending', 'paused'] as const)(
    'draws a valid %s PNG at 1x and 2x',
    (variant) => {
      for (const size of [16, 32]) {
        const png = trayIconPng(variant, size)
        expect(png.subarray(0, 8)).toEqual(
          Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        )
        expect(png.readUInt32BE(16)).toBe(size)
        expect(png.readUInt32BE(20)).toBe(size)
        const idatLen = png.readUInt32BE(33)
        expect(png.toString('ascii', 37, 41)).toBe('IDAT')
        const raw = inflateSync(png.subarray(41, 41 + idatLen))
        expect(raw.length).toBe((size * 4 + 1) * size)
      }
    },
  )

  it('draws the variants differently', () => {
    const [a, b, c] = (['idle', 'pending', 'paused'] as const).map((v) =>
      trayIconPng(v, 16).toString('base64'),
    )
    expect(new Set([a, b, c]).size).toBe(3)
  })

  it('draws macOS template images: black and alpha only, the state shown by shape', () => {
    const pixels = (variant: 'idle' | 'pending' | 'paused'): Buffer => {
      const png = trayIconPng(variant, 16, true)
      const raw = inflateSync(png.subarray(41, 41 + png.readUInt32BE(33)))
      // Drop each row's filter byte: RGBA only.
      const out: number[] = []
      for (let y = 0; y < 16; y++) out.push(...raw.subarray(y * 65 + 1, y * 65 + 65))
      return Buffer.from(out)
    }
    const shapes = new Set<string>()
    for (const v of ['idle', 'pending', 'paused'] as const) {
      const px = pixels(v)
      for (let i = 0; i < px.length; i += 4)
        expect([px[i], px[i + 1], px[i + 2]]).toEqual([0, 0, 0])
      shapes.add(px.toString('base64'))
    }
    expect(shapes.size).toBe(3)
  })
})
