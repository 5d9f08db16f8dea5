import { describe, expect, it, vi } from 'vitest'
import { ControlRouter, type LoginItem } from '../../../src/main/control-router'

/** A login item in memory; `refuse` makes `set` throw like a platform that says no. */
function fakeLoginItem(initial = false, refuse?: string): LoginItem & { sets: boolean[] } {
  let enabled = initial
  const sets: boolean[] = []
  return {
    sets,
    get: () => enabled,
    set: (on) => {
      if (refuse) throw new Error(refuse)
      sets.push(on)
      enabled = on
    },
  }
}

const noSecrets = { assertAvailable: () => undefined }

describe('ControlRouter start at login', () => {
  it('answers app.getStartAtLogin and app.setStartAtLogin itself, never the gateway', async () => {
    const gateway = { call: vi.fn(async () => 'gateway') }
    const login = fakeLoginItem(false)
    const router = new ControlRouter(gateway, noSecrets, login)
    await expect(router.call('app.getStartAtLogin', {})).resolves.toEqual({
      supported: true,
      enabled: false,
    })
    await expect(router.call('app.setStartAtLogin', { enabled: true })).resolves.toEqual({
      supported: true,
      enabled: true,
    })
    expect(login.sets).toEqual([true])
    await expect(router.call('app.getStartAtLogin', {})).resolves.toEqual({
      supported: true,
      enabled: true,
    })
    await expect(router.call('app.setStartAtLogin', { enabled: false })).resolves.toEqual({
      supported: true,
      enabled: false,
    })
    expect(login.sets).toEqual([true, false])
    expect(gateway.call).not.toHaveBeenCalled()
    // Everything else still goes to the gateway.
    await expect(router.call('status.get', {})).resolves.toBe('gateway')
  })

  it('passes on what the system says when the login item will not start (macOS approval)', async () => {
    const gateway = { call: vi.fn(async () => 'gateway') }
    const login = {
      ...fakeLoginItem(true),
      note: () => 'macOS waits for your approval: allow Airlock in System Settings.',
    }
    const router = new ControlRouter(gateway, noSecrets, login)
    await expect(router.call('app.getStartAtLogin', {})).resolves.toEqual({
      supported: true,
      enabled: true,
      note: 'macOS waits for your approval: allow Airlock in System Settings.',
    })
  })

  it('rejects with the platform error when the setting cannot be applied', async () => {
    const gateway = { call: vi.fn(async () => 'gateway') }
    const login = fakeLoginItem(false, 'autostart dir is read-only')
    const router = new ControlRouter(gateway, noSecrets, login)
    await expect(router.call('app.setStartAtLogin', { enabled: true })).rejects.toThrow(
      'autostart dir is read-only',
    )
    await expect(router.call('app.getStartAtLogin', {})).resolves.toEqual({
      supported: true,
      enabled: false,
    })
    expect(gateway.call).not.toHaveBeenCalled()
  })

  it('relays the calls to the gateway when no login item is given', async () => {
    const gateway = { call: vi.fn(async () => ({ supported: false, enabled: false })) }
    const router = new ControlRouter(gateway, noSecrets)
    await router.call('app.getStartAtLogin', {})
    expect(gateway.call).toHaveBeenCalledWith('app.getStartAtLogin', {})
  })
})
