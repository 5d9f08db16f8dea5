import * as fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AuditLog, AuditWriteError, verifyAudit } from '../../../src/gateway/audit'
import { clock, countingFs, errno, input, tempDir } from './helpers'

let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({ dir, cleanup } = tempDir())
})
afterEach(() => cleanup())

const NOW = clock('2026-11-21T10:00:00.000Z').now
const file = (): string => path.join(dir, 'audit-2026-11-21.jsonl')

function catchError(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected a throw')
}

describe('a failed write', () => {
  it('throws AuditWriteError on ENOSPC and does not advance seq or the chain', async () => {
    let fail = false
    const { fs: faulty } = countingFs({
      writeSync: (fd, b, o, l) => {
        if (fail) throw errno('ENOSPC', 'no space left on device')
        return fs.writeSync(fd, b, o, l)
      },
    })
    const log = AuditLog.open({ dir, now: NOW, fs: faulty })
    log.append(input(1))
    const second = log.append(input(2))
    const size = fs.statSync(file()).size

    fail = true
    const err = catchError(() => log.append(input(3)))
    expect(err).toBeInstanceOf(AuditWriteError)
    const e = err as AuditWriteError
    expect(e.name).toBe('AuditWriteError')
    expect(e.code).toBe('AUDIT_WRITE_FAILED')
    expect((e.cause as NodeJS.ErrnoException).code).toBe('ENOSPC')
    expect(e.message).toBe(
      `audit log ${file()}: write failed (ENOSPC: no space left on device); the call was denied. Free disk space or change AIRLOCK_HOME.`,
    )
    expect(log.lastSeq).toBe(2)
    expect(log.lastHash).toBe(second.hash)
    expect(fs.statSync(file()).size).toBe(size)

    fail = false
    const third = log.append(input(3))
    await log.close()
    expect(third).toMatchObject({ seq: 3, prev: second.hash })
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 3 })
  })

  it('cuts off a partial write so no torn line remains', async () => {
    let mode: 'ok' | 'partial' = 'ok'
    let calls = 0
    const { fs: faulty } = countingFs({
      writeSync: (fd, b, o, l) => {
        if (mode === 'partial') {
          // First call writes half the line, the next one fails.
          if (calls++ === 0) return fs.writeSync(fd, b, o, Math.floor(l / 2))
          throw errno('ENOSPC', 'no space left on device')
        }
        return fs.writeSync(fd, b, o, l)
      },
    })
    const log = AuditLog.open({ dir, now: NOW, fs: faulty })
    const first = log.append(input(1))
    const size = fs.statSync(file()).size

    mode = 'partial'
    expect(() => log.append(input(2))).toThrow(AuditWriteError)
    expect(calls).toBe(2)
    expect(fs.statSync(file()).size).toBe(size)
    expect(fs.readFileSync(file(), 'utf8').endsWith('\n')).toBe(true)
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 1 })

    mode = 'ok'
    expect(log.append(input(2))).toMatchObject({ seq: 2, prev: first.hash })
    await log.close()
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 2 })
  })

  it('retries cutting a partial write before the next record when the first cut failed', async () => {
    let mode: 'ok' | 'broken' = 'ok'
    let calls = 0
    const messages: string[] = []
    const { fs: faulty } = countingFs({
      writeSync: (fd, b, o, l) => {
        if (mode === 'broken' && calls++ === 0) return fs.writeSync(fd, b, o, 10)
        if (mode === 'broken') throw errno('EIO', 'i/o error')
        return fs.writeSync(fd, b, o, l)
      },
      ftruncateSync: (fd, len) => {
        if (mode === 'broken') throw errno('EIO', 'i/o error', 'ftruncate')
        fs.ftruncateSync(fd, len)
      },
    })
    const log = AuditLog.open({ dir, now: NOW, fs: faulty, log: (m) => messages.push(m) })
    log.append(input(1))
    mode = 'broken'
    expect(() => log.append(input(2))).toThrow(/write failed \(EIO: i\/o error\).*restart Airlock/)
    expect(messages.join('\n')).toMatch(/could not cut off a partly written record/)
    mode = 'ok'
    expect(log.append(input(2)).seq).toBe(2)
    await log.close()
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 2 })
  })

  it('in strict mode, a failed fdatasync removes the record and throws', async () => {
    let fail = false
    const { fs: faulty } = countingFs({
      fdatasyncSync: (fd) => {
        if (fail) throw errno('EIO', 'i/o error', 'fdatasync')
        fs.fdatasyncSync(fd)
      },
    })
    const log = AuditLog.open({ dir, now: NOW, fs: faulty, durability: 'strict' })
    log.append(input(1))
    fail = true
    expect(() => log.append(input(2))).toThrow(
      /sync failed \(EIO: i\/o error\); the call was denied/,
    )
    expect(log.lastSeq).toBe(1)
    fail = false
    log.append(input(2))
    await log.close()
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 2 })
  })

  it('names the directory when permissions are the problem', () => {
    const { fs: faulty } = countingFs({
      writeSync: () => {
        throw errno('EACCES', 'permission denied')
      },
    })
    const log = AuditLog.open({ dir, now: NOW, fs: faulty })
    expect(() => log.append(input(1))).toThrow(
      /EACCES: permission denied.*writable by this user, or change AIRLOCK_HOME/,
    )
  })
})
