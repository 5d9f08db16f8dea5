import * as fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  AuditLog,
  AuditWriteError,
  CANONICAL_KEYS,
  canonicalLine,
  sha256Hex,
  verifyAudit,
} from '../../../src/gateway/audit'
import { clock, input, lines, tempDir } from './helpers'

let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({ dir, cleanup } = tempDir())
})
afterEach(() => cleanup())

describe('AuditLog.append', () => {
  it('writes hash-chained records that verify', async () => {
    const c = clock('2026-11-21T10:00:00.000Z')
    const log = AuditLog.open({ dir, now: c.now })
    const recs = []
    for (let i = 1; i <= 5; i++) {
      recs.push(log.append(input(i)))
      c.add(1000)
    }
    await log.close()

    expect(recs.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5])
    expect(recs[0]?.prev).toBe('')
    for (let i = 1; i < recs.length; i++) expect(recs[i]?.prev).toBe(recs[i - 1]?.hash)
    expect(recs[0]?.ts).toBe('2026-11-21T10:00:00.000Z')

    const file = path.join(dir, 'audit-2026-11-21.jsonl')
    const stored = lines(file)
    expect(stored).toHaveLength(5)
    // The returned record is what is on disk.
    expect(stored.map((l) => JSON.parse(l))).toEqual(recs)
    expect(verifyAudit(dir)).toEqual({
      ok: true,
      records: 5,
      files: 1,
      lastSeq: 5,
      lastHash: recs[4]?.hash,
    })
  })

  it('hashes the canonical line: the stored line minus its trailing hash member', async () => {
    const log = AuditLog.open({ dir, now: () => Date.parse('2026-11-21T10:00:00Z') })
    const rec = log.append(input(1, { reason: 'ok "quoted"', latencyMs: 3 }))
    await log.close()
    const [line] = lines(path.join(dir, 'audit-2026-11-21.jsonl'))
    const withoutHash = (line as string).replace(/,"hash":"[0-9a-f]{64}"\}$/, '}')
    expect(sha256Hex(withoutHash)).toBe(rec.hash)
    const unhashed: Partial<typeof rec> = { ...rec }
    delete unhashed.hash
    expect(canonicalLine(unhashed as typeof rec)).toBe(withoutHash)
    // Exactly JSON.stringify of the defined fields in CANONICAL_KEYS order.
    const ordered = Object.fromEntries(
      CANONICAL_KEYS.filter((k) => unhashed[k] !== undefined).map((k) => [k, unhashed[k]]),
    )
    expect(JSON.stringify(ordered)).toBe(withoutHash)
    // The documented key order, hash last.
    expect(Object.keys(JSON.parse(line as string))).toEqual([
      'seq',
      'ts',
      'kind',
      'callId',
      'session',
      'client',
      'server',
      'tool',
      'decision',
      'decidedBy',
      'reason',
      'latencyMs',
      'args',
      'prev',
      'hash',
    ])
  })

  it('keeps only known fields, leaves out undefined ones and caps detail and identifiers', async () => {
    const log = AuditLog.open({ dir })
    const rec = log.append({
      ...input(1),
      tool: 't'.repeat(10_000),
      detail: 'd'.repeat(5000),
      latencyMs: Number.NaN,
      extra: 'not recorded',
    } as Parameters<AuditLog['append']>[0])
    await log.close()
    expect(rec.detail?.length).toBeLessThan(1100)
    expect(rec.detail).toMatch(/…\[truncated 3976 chars\]$/)
    expect(rec.tool.length).toBeLessThan(300)
    expect('latencyMs' in rec).toBe(false)
    expect('extra' in rec).toBe(false)
    expect(verifyAudit(dir).ok).toBe(true)
  })

  it('creates the directory 0700 and files 0600', async () => {
    if (process.platform === 'win32') return
    const sub = path.join(dir, 'home', 'audit')
    const log = AuditLog.open({ dir: sub })
    log.append(input(1))
    await log.close()
    expect(fs.statSync(sub).mode & 0o777).toBe(0o700)
    const [name] = fs.readdirSync(sub)
    expect(fs.statSync(path.join(sub, name as string)).mode & 0o777).toBe(0o600)
  })

  it('continues seq and the chain after a reopen', async () => {
    let log = AuditLog.open({ dir })
    log.append(input(1))
    const second = log.append(input(2))
    await log.close()
    log = AuditLog.open({ dir })
    expect(log.lastSeq).toBe(2)
    expect(log.lastHash).toBe(second.hash)
    const third = log.append(input(3))
    await log.close()
    expect(third.seq).toBe(3)
    expect(third.prev).toBe(second.hash)
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 3 })
  })

  it('refuses appends after close with an AuditWriteError', async () => {
    const log = AuditLog.open({ dir })
    await log.close()
    await log.close()
    expect(() => log.append(input(1))).toThrow(AuditWriteError)
  })

  // Speed is measured by `npm run bench` (audit appends per call), never asserted in a test.
  it('appends 2 000 records in a row, each a link of one chain', async () => {
    const log = AuditLog.open({ dir })
    const n = 2000
    const args = {
      path: '/home/me/project/src/index.ts',
      options: { encoding: 'utf8', token: 'x' },
    }
    for (let i = 0; i < n; i++) log.append(input(i, { args }))
    await log.close()
    expect(verifyAudit(dir)).toMatchObject({ ok: true, records: n })
  })
})
