import * as fs from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AuditLog, AuditWriteError, verifyAudit } from '../../../src/gateway/audit'
import { countingFs, errno, input, tempDir } from './helpers'

let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({ dir, cleanup } = tempDir())
})
afterEach(() => cleanup())

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('durability', () => {
  it('strict: one fdatasync per record, before append returns', async () => {
    const { fs: counted, counts } = countingFs()
    const log = AuditLog.open({ dir, durability: 'strict', fs: counted })
    for (let i = 0; i < 10; i++) {
      log.append(input(i))
      expect(counts.fdatasyncSync).toBe(i + 1)
    }
    await log.flush()
    await log.close()
    expect(counts.fdatasyncSync).toBe(10)
    expect(counts.fdatasync).toBe(0)
  })

  it('group: records of one tick share one fdatasync, and flush resolves after it', async () => {
    const { fs: counted, counts } = countingFs()
    const log = AuditLog.open({ dir, fs: counted })
    for (let i = 0; i < 50; i++) log.append(input(i))
    expect(counts.fdatasync).toBe(0)
    await log.flush()
    expect(counts.fdatasync).toBe(1)
    expect(counts.fdatasyncSync).toBe(0)
    await log.flush() // nothing new: resolves at once
    expect(counts.fdatasync).toBe(1)
    await log.close()
  })

  it('group: records spread over ticks still coalesce', async () => {
    const { fs: counted, counts } = countingFs()
    const log = AuditLog.open({ dir, fs: counted })
    const n = 200
    for (let i = 0; i < n; i++) {
      log.append(input(i))
      if (i % 4 === 0) await tick()
    }
    await log.flush()
    expect(counts.fdatasync).toBeGreaterThan(0)
    expect(counts.fdatasync).toBeLessThan(n)
    await log.close()
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: n })
  })

  it('group with a timer window (groupCommitMs) coalesces too', async () => {
    const { fs: counted, counts } = countingFs()
    const log = AuditLog.open({ dir, fs: counted, groupCommitMs: 5 })
    for (let i = 0; i < 20; i++) {
      log.append(input(i))
      await tick()
    }
    await log.close()
    expect(counts.fdatasync).toBeLessThan(20)
  })

  it('close flushes and closes the file', async () => {
    const { fs: counted, counts } = countingFs()
    const log = AuditLog.open({ dir, fs: counted })
    log.append(input(1))
    await log.close()
    expect(counts.fdatasync).toBe(1)
    expect(counts.closeSync).toBeGreaterThan(0)
  })

  it('a failed group sync rejects flush, is logged, and the next append must sync first', async () => {
    let failAsync = true
    let failSync = true
    const messages: string[] = []
    const { fs: faulty } = countingFs({
      fdatasync: (fd, cb) => {
        if (failAsync) setImmediate(() => cb(errno('EIO', 'i/o error', 'fdatasync')))
        else fs.fdatasync(fd, cb)
      },
      fdatasyncSync: (fd) => {
        if (failSync) throw errno('EIO', 'i/o error', 'fdatasync')
        fs.fdatasyncSync(fd)
      },
    })
    const log = AuditLog.open({ dir, fs: faulty, log: (m) => messages.push(m) })
    log.append(input(1))
    await expect(log.flush()).rejects.toBeInstanceOf(AuditWriteError)
    expect(messages.join('\n')).toMatch(/sync failed \(EIO: i\/o error\)/)
    // Still failing: the next call is denied.
    expect(() => log.append(input(2))).toThrow(AuditWriteError)
    expect(log.lastSeq).toBe(1)
    // The disk recovers.
    failSync = false
    failAsync = false
    expect(log.append(input(2)).seq).toBe(2)
    await log.close()
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 2 })
  })

  it('syncs the old file before a size rotation', async () => {
    const { fs: counted, counts } = countingFs()
    const log = AuditLog.open({ dir, fs: counted, maxFileBytes: 600 })
    for (let i = 0; i < 6; i++) log.append(input(i))
    // Every rotation within the tick synced the file it left behind.
    expect(counts.fdatasyncSync).toBeGreaterThan(0)
    await log.close()
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 6 })
  })
})
