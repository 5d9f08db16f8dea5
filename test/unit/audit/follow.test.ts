import * as fs from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AuditLog, followAudit } from '../../../src/gateway/audit'
import type { AuditRecord } from '../../../src/shared/contract/audit-record'
import { clock, input, tempDir } from './helpers'

let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({ dir, cleanup } = tempDir())
})
afterEach(() => cleanup())

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('followAudit', () => {
  it('delivers appended records in order, across day and size rotation, until aborted', async () => {
    const c = clock('2026-11-20T23:59:00.000Z')
    const log = AuditLog.open({ dir, now: c.now, maxFileBytes: 1000 })
    log.append(input(1)) // before following: not delivered

    const seen: AuditRecord[] = []
    const ac = new AbortController()
    const done = followAudit(dir, (r) => seen.push(r), ac.signal, { intervalMs: 10 })

    log.append(input(2))
    log.append(input(3))
    await until(() => seen.length === 2)
    c.set('2026-11-21T00:00:01.000Z')
    for (let i = 4; i <= 12; i++) log.append(input(i))
    await until(() => seen.length === 11)
    await log.close()
    ac.abort()
    await done

    expect(seen.map((r) => r.seq)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
    expect(fs.readdirSync(dir).length).toBeGreaterThan(2)
  })

  it('waits for a log that does not exist yet, and never returns a half-written line', async () => {
    const seen: AuditRecord[] = []
    const ac = new AbortController()
    const done = followAudit(dir, (r) => seen.push(r), ac.signal, { intervalMs: 10 })
    const log = AuditLog.open({ dir })
    log.append(input(1))
    await until(() => seen.length === 1)
    const file = log.currentFile as string
    const line = JSON.stringify(log.append(input(2)))
    await until(() => seen.length === 2)
    // A reader can see a line in two pieces; simulate by writing a copy of it in two writes,
    // a few polls apart (the gap only makes the split likely; nothing is asserted about it).
    fs.appendFileSync(file, line.slice(0, 20))
    await new Promise((r) => setTimeout(r, 50))
    fs.appendFileSync(file, line.slice(20) + '\n')
    // The whole line comes out once complete: a piece parsed alone would lose it.
    await until(() => seen.length === 3)
    expect(seen[2]).toEqual(seen[1])
    ac.abort()
    await done
    await log.close()
  })
})
