import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Gateway, GatewayRunningError } from '../../src/gateway/gateway'

const homes: string[] = []
const gateways: Gateway[] = []
afterEach(async () => {
  for (const g of gateways.splice(0)) await g.close().catch(() => undefined)
  for (const h of homes.splice(0)) fs.rmSync(h, { recursive: true, force: true })
})
const home = (): string => {
  const h = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-lock-'))
  homes.push(h)
  return h
}
const gateway = (h: string): Gateway => {
  const g = new Gateway({ home: h, log: () => {} })
  gateways.push(g)
  return g
}

describe('one gateway per data directory', () => {
  it('refuses a second gateway while the first runs, and allows one after it stopped', async () => {
    const h = home()
    const first = gateway(h)
    await first.listen()
    expect(fs.readFileSync(path.join(h, 'gateway.pid'), 'utf8').trim()).toBe(String(process.pid))
    // Same process in this test: make the lock name another live process (the parent).
    fs.writeFileSync(path.join(h, 'gateway.pid'), `${process.ppid}\n`)
    await expect(gateway(h).listen()).rejects.toBeInstanceOf(GatewayRunningError)
    fs.writeFileSync(path.join(h, 'gateway.pid'), `${process.pid}\n`)
    await first.close()
    expect(fs.existsSync(path.join(h, 'gateway.pid'))).toBe(false)
    await gateway(h).listen()
  })

  it('takes over a lock left by a process that is gone', async () => {
    const h = home()
    const dead = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString()
    fs.writeFileSync(path.join(h, 'gateway.pid'), `${dead}\n`)
    const g = gateway(h)
    await g.listen()
    expect(fs.readFileSync(path.join(h, 'gateway.pid'), 'utf8').trim()).toBe(String(process.pid))
  })

  it('many gateways starting at once: exactly one listens', async () => {
    const h = home()
    const results = await Promise.allSettled([0, 1, 2, 3].map(() => gateway(h).listen()))
    // In one process the pid is the same for all: the lock must still admit only one.
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
  })
})
