/**
 * Staged records (AuditLog.stage / commit): one write per commit, in seq order, a failed batch
 * fails every record it holds and the chain goes back, and nothing staged is lost at close.
 */
import * as fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AuditLog, AuditWriteError, readRecords, verifyAudit } from '../../../src/gateway/audit'
import type { AuditTicket } from '../../../src/gateway/audit'
import { clock, countingFs, errno, input, lines, tempDir } from './helpers'

let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({ dir, cleanup } = tempDir())
})
afterEach(() => cleanup())

const NOW = clock('2026-11-21T10:00:00.000Z').now
const file = (): string => path.join(dir, 'audit-2026-11-21.jsonl')
const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r))

describe('staged records', () => {
  it('are written in one write per commit, in seq order, and the chain verifies', () => {
    const { fs: counted, counts } = countingFs()
    const log = AuditLog.open({ dir, now: NOW, fs: counted })
    const seen: number[] = []
    log.onWritten = (tickets, inAppend) => {
      expect(inAppend).toBe(false)
      for (const t of tickets) seen.push(t.record.seq)
    }
    const tickets = [1, 2, 3, 4].map((i) => log.stage(input(i)))
    expect(tickets.map((t) => t.state)).toEqual(['staged', 'staged', 'staged', 'staged'])
    expect(tickets.map((t) => t.record.seq)).toEqual([1, 2, 3, 4])
    expect(counts.writeSync).toBe(0)

    log.commit()
    expect(counts.writeSync).toBe(1)
    expect(tickets.map((t) => t.state)).toEqual(['written', 'written', 'written', 'written'])
    expect(seen).toEqual([1, 2, 3, 4])
    // Each ticket says where its line is.
    const text = fs.readFileSync(file())
    for (const t of tickets) {
      const at = t.at as NonNullable<AuditTicket['at']>
      const line = text.subarray(at.offset, at.offset + at.length).toString('utf8')
      expect(JSON.parse(line)).toMatchObject({ seq: t.record.seq, hash: t.record.hash })
    }
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 4 })
  })

  it('interleave with append in seq order (append writes what was staged before it)', () => {
    const log = AuditLog.open({ dir, now: NOW })
    const order: [number, boolean][] = []
    log.onWritten = (tickets, inAppend) => {
      for (const t of tickets) order.push([t.record.seq, inAppend])
    }
    log.stage(input(1))
    log.stage(input(2, { kind: 'outcome', outcome: 'ok', args: undefined }))
    const third = log.append(input(3))
    expect(third.seq).toBe(3)
    expect(order).toEqual([
      [1, true],
      [2, true],
      [3, true],
    ])
    expect(lines(file()).map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual([1, 2, 3])
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 3 })
  })

  it('are committed on the next turn of the event loop when nobody commits them', async () => {
    const log = AuditLog.open({ dir, now: NOW })
    const t = log.stage(input(1))
    expect(fs.existsSync(file()) ? lines(file()) : []).toEqual([])
    await nextTurn()
    expect(t.state).toBe('written')
    expect(lines(file())).toHaveLength(1)
    await log.close()
  })

  it('a failed commit fails every record of the batch, and the chain goes back to the last record written', () => {
    let fail = false
    const { fs: faulty } = countingFs({
      writeSync: (fd, b, o, l) => {
        if (fail) throw errno('EIO', 'i/o error')
        return fs.writeSync(fd, b, o, l)
      },
    })
    const logged: string[] = []
    const log = AuditLog.open({ dir, now: NOW, fs: faulty, log: (m) => logged.push(m) })
    log.append(input(1))
    const before = { seq: log.lastSeq, hash: log.lastHash }

    fail = true
    const batch = [2, 3, 4].map((i) => log.stage(input(i)))
    log.commit()
    expect(batch.map((t) => t.state)).toEqual(['failed', 'failed', 'failed'])
    for (const t of batch) expect(t.error).toBeInstanceOf(AuditWriteError)
    expect(batch[0]?.error?.message).toContain('EIO')
    expect(logged.join('\n')).toContain('3 records not written, from seq 2')
    expect({ seq: log.lastSeq, hash: log.lastHash }).toEqual(before)
    expect(lines(file())).toHaveLength(1)

    // The log goes on where it was: the next record is seq 2 and the chain verifies.
    fail = false
    const next = log.append(input(5))
    expect(next.seq).toBe(2)
    expect(next.prev).toBe(before.hash)
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 2 })
  })

  it('a record staged before a failing append fails with it', () => {
    let fail = false
    const { fs: faulty } = countingFs({
      writeSync: (fd, b, o, l) => {
        if (fail) throw errno('ENOSPC', 'no space left on device')
        return fs.writeSync(fd, b, o, l)
      },
    })
    const log = AuditLog.open({ dir, now: NOW, fs: faulty, log: () => undefined })
    fail = true
    const staged = log.stage(input(1))
    expect(() => log.append(input(2))).toThrow(AuditWriteError)
    expect(staged.state).toBe('failed')
    expect(log.lastSeq).toBe(0)
  })

  it('nothing staged is lost at close', async () => {
    const log = AuditLog.open({ dir, now: NOW })
    const tickets = [1, 2, 3].map((i) => log.stage(input(i)))
    await log.close()
    expect(tickets.map((t) => t.state)).toEqual(['written', 'written', 'written'])
    expect([...readRecords(dir)].map((r) => r.callId)).toEqual(['c1', 'c2', 'c3'])
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 3 })
    expect(() => log.stage(input(4))).toThrow(AuditWriteError)
  })

  it('a batch that crosses midnight goes to both days’ files, in order', () => {
    const c = clock('2026-11-21T23:59:59.999Z')
    const log = AuditLog.open({ dir, now: c.now })
    log.append(input(1)) // the day's file is open
    log.stage(input(2))
    c.add(1)
    log.stage(input(3))
    log.commit()
    expect(lines(file()).map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual([1, 2])
    const next = path.join(dir, 'audit-2026-11-22.jsonl')
    expect(lines(next).map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual([3])
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 3 })
  })

  it('strict durability: one fdatasync per commit, before it returns', () => {
    const { fs: counted, counts } = countingFs()
    const log = AuditLog.open({ dir, now: NOW, fs: counted, durability: 'strict' })
    const tickets = [1, 2, 3].map((i) => log.stage(input(i)))
    log.commit()
    expect(tickets.every((t) => t.state === 'written')).toBe(true)
    expect(counts.fdatasyncSync).toBe(1)
    expect(counts.writeSync).toBe(1)
  })
})
