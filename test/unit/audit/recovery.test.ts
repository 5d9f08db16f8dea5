import * as fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AuditLog, AuditOpenError, verifyAudit } from '../../../src/gateway/audit'
import { clock, input, lines, tempDir } from './helpers'

let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({ dir, cleanup } = tempDir())
})
afterEach(() => cleanup())

const NOW = '2026-11-21T10:00:00.000Z'
const file = (): string => path.join(dir, 'audit-2026-11-21.jsonl')

async function writeRecords(n: number): Promise<string> {
  const log = AuditLog.open({ dir, now: clock(NOW).now })
  let hash = ''
  for (let i = 1; i <= n; i++) hash = log.append(input(i)).hash
  await log.close()
  return hash
}

describe('recovery on open', () => {
  it('cuts a torn last line, reports it, and continues the chain', async () => {
    const lastHash = await writeRecords(5)
    const full = lines(file())[4] as string
    fs.appendFileSync(
      file(),
      full.replace('"seq":5', '"seq":6').slice(0, Math.floor(full.length / 2)),
    )
    // Readers never return the torn line; verify ignores it in the newest file.
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 5 })

    const messages: string[] = []
    const log = AuditLog.open({ dir, now: clock(NOW).now, log: (m) => messages.push(m) })
    expect(messages.join('\n')).toMatch(
      /audit-2026-11-21\.jsonl: recovered: cut off a torn last line \(\d+ bytes at offset \d+\)/,
    )
    expect(fs.readFileSync(file(), 'utf8').endsWith('\n')).toBe(true)
    expect(log.lastSeq).toBe(5)
    const next = log.append(input(6))
    await log.close()
    expect(next.seq).toBe(6)
    expect(next.prev).toBe(lastHash)
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 6 })
  })

  it('cuts an unparseable last complete line and reports it', async () => {
    const lastHash = await writeRecords(3)
    fs.appendFileSync(file(), '{"seq":4,"ts":"garbage\n')
    const messages: string[] = []
    const log = AuditLog.open({ dir, now: clock(NOW).now, log: (m) => messages.push(m) })
    expect(messages.join('\n')).toMatch(/cut off an unparseable last line/)
    const next = log.append(input(4))
    await log.close()
    expect(next).toMatchObject({ seq: 4, prev: lastHash })
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 4 })
  })

  it('handles a file that is only a torn line', async () => {
    fs.writeFileSync(file(), '{"seq":1,"ts":"2026-11-')
    const messages: string[] = []
    const log = AuditLog.open({ dir, now: clock(NOW).now, log: (m) => messages.push(m) })
    expect(messages).toHaveLength(1)
    expect(log.append(input(1))).toMatchObject({ seq: 1, prev: '' })
    await log.close()
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 1 })
  })

  it('refuses to cut more than one bad line: the file is damaged', async () => {
    await writeRecords(2)
    fs.appendFileSync(file(), 'junk one\njunk two\n')
    const before = fs.readFileSync(file(), 'utf8')
    expect(() => AuditLog.open({ dir, now: clock(NOW).now })).toThrow(AuditOpenError)
    expect(() => AuditLog.open({ dir, now: clock(NOW).now })).toThrow(/the file is damaged/)
    // Nothing was cut: the evidence stays for a person to look at.
    expect(fs.readFileSync(file(), 'utf8')).toBe(before)
  })

  it('continues from the previous file when the newest one is empty', async () => {
    const lastHash = await writeRecords(2)
    // A crash right after a rotation created the next file.
    fs.writeFileSync(path.join(dir, 'audit-2026-11-21.1.jsonl'), '')
    const log = AuditLog.open({ dir, now: clock(NOW).now })
    expect(log.lastSeq).toBe(2)
    const next = log.append(input(3))
    await log.close()
    expect(next.prev).toBe(lastHash)
    expect(lines(path.join(dir, 'audit-2026-11-21.1.jsonl'))).toHaveLength(1)
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 3, files: 2 })
  })
})
