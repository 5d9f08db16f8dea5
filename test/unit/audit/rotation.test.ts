import * as fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AuditLog, readRecords, verifyAudit } from '../../../src/gateway/audit'
import { clock, input, lines, tempDir } from './helpers'

let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({ dir, cleanup } = tempDir())
})
afterEach(() => cleanup())

const names = (): string[] => fs.readdirSync(dir).sort()

describe('rotation', () => {
  it('starts a new file on a new UTC day and keeps the chain across files', async () => {
    const c = clock('2026-11-20T23:59:59.000Z')
    const log = AuditLog.open({ dir, now: c.now })
    log.append(input(1))
    const last = log.append(input(2))
    c.set('2026-11-21T00:00:00.500Z')
    const first = log.append(input(3))
    log.append(input(4))
    await log.close()

    expect(names()).toEqual(['audit-2026-11-20.jsonl', 'audit-2026-11-21.jsonl'])
    expect(lines(path.join(dir, 'audit-2026-11-20.jsonl'))).toHaveLength(2)
    expect(first.prev).toBe(last.hash)
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 4, files: 2 })
  })

  it('never goes back to an earlier day when the clock is set back', async () => {
    const c = clock('2026-11-21T08:00:00.000Z')
    const log = AuditLog.open({ dir, now: c.now })
    log.append(input(1))
    c.set('2026-11-20T22:00:00.000Z')
    const back = log.append(input(2))
    await log.close()
    expect(back.ts).toBe('2026-11-20T22:00:00.000Z')
    expect(names()).toEqual(['audit-2026-11-21.jsonl'])
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 2 })
  })

  it('starts audit-DAY.N.jsonl files when a file would pass maxFileBytes', async () => {
    const c = clock('2026-11-21T08:00:00.000Z')
    const log = AuditLog.open({ dir, now: c.now, maxFileBytes: 1000 })
    for (let i = 1; i <= 20; i++) log.append(input(i))
    await log.close()
    const files = names()
    expect(files).toContain('audit-2026-11-21.jsonl')
    expect(files).toContain('audit-2026-11-21.1.jsonl')
    expect(files).toContain('audit-2026-11-21.2.jsonl')
    for (const f of files) expect(fs.statSync(path.join(dir, f)).size).toBeLessThanOrEqual(1000)
    // Index order, not name order: .10 comes after .9.
    expect([...readRecords(dir)].map((r) => r.seq)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    )
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 20, files: files.length })
  })

  it('orders .10 after .9', async () => {
    const c = clock('2026-11-21T08:00:00.000Z')
    const log = AuditLog.open({ dir, now: c.now, maxFileBytes: 300 })
    for (let i = 1; i <= 14; i++) log.append(input(i))
    await log.close()
    expect(names()).toContain('audit-2026-11-21.10.jsonl')
    expect([...readRecords(dir)].map((r) => r.seq)).toEqual(
      Array.from({ length: 14 }, (_, i) => i + 1),
    )
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 14 })
  })

  it('continues in the right .N file after a reopen', async () => {
    const c = clock('2026-11-21T08:00:00.000Z')
    let log = AuditLog.open({ dir, now: c.now, maxFileBytes: 1000 })
    for (let i = 1; i <= 6; i++) log.append(input(i))
    await log.close()
    log = AuditLog.open({ dir, now: c.now, maxFileBytes: 1000 })
    for (let i = 7; i <= 12; i++) log.append(input(i))
    await log.close()
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 12 })
  })
})

describe('retention', () => {
  async function writeDay(day: string, n: number): Promise<void> {
    const log = AuditLog.open({ dir, now: clock(`${day}T12:00:00.000Z`).now, retentionDays: 3650 })
    for (let i = 0; i < n; i++) log.append(input(i))
    await log.close()
  }

  it('deletes files older than retentionDays on open, and the rest still verifies', async () => {
    await writeDay('2026-11-01', 2)
    await writeDay('2026-11-10', 2)
    await writeDay('2026-11-18', 2)
    await writeDay('2026-11-20', 2)
    const messages: string[] = []
    const log = AuditLog.open({
      dir,
      retentionDays: 3,
      now: clock('2026-11-21T09:00:00.000Z').now,
      log: (m) => messages.push(m),
    })
    log.append(input(9))
    await log.close()
    // 11-18 is 3 days old (kept); 11-10 and 11-01 are older (deleted).
    expect(names()).toEqual([
      'audit-2026-11-18.jsonl',
      'audit-2026-11-20.jsonl',
      'audit-2026-11-21.jsonl',
    ])
    expect(messages.filter((m) => m.includes('deleted'))).toHaveLength(2)
    // The oldest retained record is the anchor; seq continues from the deleted ones.
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 5, lastSeq: 9 })
  })

  it('deletes on day rotation, and can delete the file it continued from', async () => {
    await writeDay('2026-11-01', 2)
    const c = clock('2026-11-02T09:00:00.000Z')
    const log = AuditLog.open({ dir, retentionDays: 1, now: c.now })
    log.append(input(3))
    expect(names()).toEqual(['audit-2026-11-01.jsonl', 'audit-2026-11-02.jsonl'])
    c.set('2026-11-05T09:00:00.000Z')
    const rec = log.append(input(4))
    await log.close()
    expect(names()).toEqual(['audit-2026-11-05.jsonl'])
    expect(rec.seq).toBe(4)
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 1 })

    // Everything past retention at open: the chain state survives, in a fresh file.
    const again = AuditLog.open({ dir, retentionDays: 1, now: clock('2026-12-01T00:00:00Z').now })
    expect(again.lastSeq).toBe(4)
    expect(names()).toEqual(['audit-2026-12-01.jsonl'])
    expect(again.append(input(5)).prev).toBe(rec.hash)
    await again.close()
  })
})
