import * as fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  AuditLog,
  AuditQueryError,
  exportAudit,
  queryAudit,
  readRecords,
  tailAudit,
} from '../../../src/gateway/audit'
import type { AuditInput, AuditRecord } from '../../../src/shared/contract/audit-record'
import { diskPage, type DiskPageFilter } from '../../../src/gateway/audit/disk-page'
import { clock, input, tempDir } from './helpers'

let dir: string
let cleanup: () => void
const START = Date.parse('2026-11-20T12:00:00.000Z')
const MINUTE = 60_000

// 300 records, one a minute from 2026-11-20T12:00Z, then 20 on 11-21: two days, several files.
function variant(i: number): Partial<AuditInput> {
  return {
    server: i % 3 === 0 ? 'github' : 'files',
    tool: i % 2 === 0 ? 'write_file' : 'read_file',
    decision: i % 5 === 0 ? 'deny' : 'allow',
    client: i % 7 === 0 ? 'cursor' : 'claude-desktop',
    reason: i % 5 === 0 ? `Blocked by rule no-writes #${i}` : undefined,
    args: { path: `/home/me/Project-${i}/notes.txt` },
  }
}

beforeAll(async () => {
  ;({ dir, cleanup } = tempDir())
  const c = clock('2026-11-20T12:00:00.000Z')
  const log = AuditLog.open({ dir, now: c.now, maxFileBytes: 16 * 1024 })
  for (let i = 1; i <= 300; i++) {
    log.append(input(i, variant(i)))
    c.add(MINUTE)
  }
  c.set('2026-11-21T08:00:00.000Z')
  for (let i = 301; i <= 320; i++) {
    log.append(input(i, variant(i)))
    c.add(MINUTE)
  }
  await log.close()
})
afterAll(() => cleanup())

describe('readRecords and tailAudit', () => {
  it('reads every record oldest first across files', () => {
    expect(fs.readdirSync(dir).length).toBeGreaterThan(3)
    const seqs = [...readRecords(dir)].map((r) => r.seq)
    expect(seqs).toEqual(Array.from({ length: 320 }, (_, i) => i + 1))
  })

  it('tails the last n, oldest first', () => {
    expect(tailAudit(dir, 3).map((r) => r.seq)).toEqual([318, 319, 320])
    expect(tailAudit(dir, 0)).toEqual([])
  })
})

describe('queryAudit', () => {
  it('returns newest first, 100 by default', () => {
    const rs = queryAudit(dir, {})
    expect(rs).toHaveLength(100)
    expect(rs[0]?.seq).toBe(320)
    expect(rs[99]?.seq).toBe(221)
  })

  it('filters by server, tool, decision, client and kind (ANDed)', () => {
    const rs = queryAudit(dir, {
      server: 'github',
      tool: 'write_file',
      decision: 'deny',
      limit: 1000,
    })
    // i divisible by 3, 2 and 5: multiples of 30.
    expect(rs.map((r) => r.seq)).toEqual([300, 270, 240, 210, 180, 150, 120, 90, 60, 30])
    expect(
      queryAudit(dir, { client: 'cursor', limit: 5 }).every((r) => r.client === 'cursor'),
    ).toBe(true)
    expect(queryAudit(dir, { kind: 'outcome' })).toEqual([])
  })

  it('pages with beforeSeq', () => {
    const page1 = queryAudit(dir, { limit: 50 })
    const page2 = queryAudit(dir, { limit: 50, beforeSeq: page1.at(-1)?.seq })
    expect(page2[0]?.seq).toBe(270)
    expect(page2.at(-1)?.seq).toBe(221)
    const last = queryAudit(dir, { limit: 50, beforeSeq: 20 })
    expect(last.map((r) => r.seq)).toEqual(Array.from({ length: 19 }, (_, i) => 19 - i))
  })

  it('filters by time, ISO or epoch ms, inclusive', () => {
    const since = START + 100 * MINUTE // seq 101
    const until = START + 109 * MINUTE // seq 110
    const iso = queryAudit(dir, {
      since: new Date(since).toISOString(),
      until: new Date(until).toISOString(),
    })
    expect(iso.map((r) => r.seq)).toEqual([110, 109, 108, 107, 106, 105, 104, 103, 102, 101])
    expect(queryAudit(dir, { since, until })).toEqual(iso)
    expect(queryAudit(dir, { since: String(since), until: String(until) })).toEqual(iso)
    expect(queryAudit(dir, { since: '2026-11-21T00:00:00Z', limit: 1000 })).toHaveLength(20)
  })

  it('searches text case-insensitively over reason, args, tool, server and client', () => {
    expect(queryAudit(dir, { text: 'PROJECT-17/' }).map((r) => r.seq)).toEqual([17])
    expect(queryAudit(dir, { text: 'no-WRITES #125' }).map((r) => r.seq)).toEqual([125])
    expect(queryAudit(dir, { text: 'no-WRITES #25' }).map((r) => r.seq)).toEqual([255, 250, 25])
    expect(queryAudit(dir, { text: 'cursor', limit: 1000 }).every((r) => r.seq % 7 === 0)).toBe(
      true,
    )
    expect(queryAudit(dir, { text: 'GITHUB', limit: 3 }).map((r) => r.server)).toEqual([
      'github',
      'github',
      'github',
    ])
    // Field names and hashes are not searched.
    expect(queryAudit(dir, { text: '"decidedBy"' })).toEqual([])
    expect(queryAudit(dir, { text: 'callId' })).toEqual([])
  })

  it('rejects an unusable since or limit with AuditQueryError', () => {
    expect(() => queryAudit(dir, { since: 'yesterday-ish' })).toThrow(AuditQueryError)
    expect(() => queryAudit(dir, { since: 'yesterday-ish' })).toThrow(/since: expected an ISO time/)
    expect(() => queryAudit(dir, { limit: 0 })).toThrow(/limit: expected a positive integer/)
  })
})

describe('exportAudit', () => {
  it('exports JSONL byte for byte, oldest first', () => {
    let out = ''
    const n = exportAudit(dir, { server: 'github' }, 'jsonl', (c) => (out += c))
    expect(n).toBe(106)
    const ls = out.trimEnd().split('\n')
    expect(ls).toHaveLength(106)
    const first = JSON.parse(ls[0] as string) as { seq: number }
    expect(first.seq).toBe(3)
    const all = fs
      .readdirSync(dir)
      .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
      .join('')
    for (const l of ls) expect(all.includes(`${l}\n`)).toBe(true)
  })

  it('exports the newest `limit` when a limit is given, still oldest first', () => {
    let out = ''
    expect(exportAudit(dir, { limit: 3 }, 'jsonl', (c) => (out += c))).toBe(3)
    expect(
      out
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { seq: number }).seq),
    ).toEqual([318, 319, 320])
  })

  it('exports CSV with a header row', () => {
    let out = ''
    exportAudit(dir, { limit: 2 }, 'csv', (c) => (out += c))
    const rows = out.split('\r\n')
    expect(rows[0]).toBe(
      'seq,ts,kind,callId,session,client,clientVersion,server,tool,decision,decidedBy,rule,reason,outcome,latencyMs,approvalMs,detail,args,prev,hash',
    )
    expect(
      rows[1]?.startsWith(
        '319,2026-11-21T08:18:00.000Z,call,c319,s1,claude-desktop,,files,read_file,allow,policy,',
      ),
    ).toBe(true)
    expect(rows[1]).toContain(',"{""path"":""/home/me/Project-319/notes.txt""}",')
    expect(rows).toHaveLength(4) // header, 2 rows, trailing ''
  })
})

describe('large files', () => {
  it('reads lines across read-chunk boundaries, with multibyte text, both directions', async () => {
    const big = tempDir()
    try {
      const log = AuditLog.open({ dir: big.dir })
      for (let i = 1; i <= 300; i++) {
        log.append(
          input(i, { args: { text: `é😀${i}`.repeat(1 + (i % 97) * 7) }, reason: `ünïcödé ${i}` }),
        )
      }
      await log.close()
      expect(fs.readdirSync(big.dir)).toHaveLength(1)
      const forward = [...readRecords(big.dir)]
      expect(forward.map((r) => r.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1))
      const backward = queryAudit(big.dir, { limit: 1000 })
      expect(backward.map((r) => r.seq)).toEqual(Array.from({ length: 300 }, (_, i) => 300 - i))
      expect(backward.slice().reverse()).toEqual(forward)
      expect(queryAudit(big.dir, { text: 'ÜNÏCÖDÉ 150' }).map((r) => r.seq)).toEqual([150])
    } finally {
      big.cleanup()
    }
  })
})

describe('pages deep in one large file', () => {
  it('starts below beforeSeq (found by bisection) and answers like reading every record', () => {
    const { dir: big, cleanup: done } = tempDir()
    try {
      const c = clock('2026-11-22T12:00:00.000Z')
      const log = AuditLog.open({ dir: big, now: c.now, maxFileBytes: 1024 * 1024 * 1024 })
      // ~2 MB in one file: short lines, and some longer than the 64 KiB the bisection reads.
      for (let i = 1; i <= 4000; i++) {
        const pad = i % 997 === 0 ? 'L'.repeat(150 * 1024) : 'x'.repeat(i % 200)
        log.append(input(i, { args: { i, pad } }))
        c.add(1000)
      }
      void log.close()
      const all = [...readRecords(big)].reverse()
      const file = fs.readdirSync(big).map((f) => path.join(big, f))[0] as string
      const check = (): void => {
        const cuts = [1, 2, 3, 996, 997, 998, 999, 1994, 1995, 2991, 3988, 3999, 4000, 4001, 5000]
        for (let b = 5; b < 4000; b += 137) cuts.push(b)
        for (const beforeSeq of cuts) {
          const want = all.filter((r) => r.seq < beforeSeq).slice(0, 3)
          expect(queryAudit(big, { limit: 3, beforeSeq }), `beforeSeq ${beforeSeq}`).toEqual(want)
        }
      }
      check()
      // A torn last line (a write in progress) changes nothing.
      fs.appendFileSync(file, '{"seq":4001,"ts":"2026-11-22T13:06:40.000Z","kind":"ca')
      check()
    } finally {
      done()
    }
  })
})

describe('disk pages of a narrow filter', () => {
  it('skip the lines the filter cannot want without parsing them, and page like reading every record', () => {
    const { dir: d, cleanup: done } = tempDir()
    try {
      const c = clock('2026-11-22T12:00:00.000Z')
      const log = AuditLog.open({ dir: d, now: c.now, maxFileBytes: 1024 * 1024 * 1024 })
      for (let i = 1; i <= 1500; i++) {
        const rare = i % 11 === 0
        const decision = i % 13 === 0 ? 'hidden' : i % 4 === 1 ? 'deny' : 'allow'
        // Long lines cross the reader's 64 KiB chunks: the member sought is near their start.
        const pad = i % 199 === 0 ? 'L'.repeat(150 * 1024) : 'x'.repeat(i % 50)
        // Arguments that hold the members' text too: found by the byte search, then filtered out.
        const decoy = i % 7 === 0 ? { server: 'rare', decision: 'hidden', client: 'Rare' } : {}
        log.append(
          input(i, {
            server: rare ? 'rare' : 'files',
            client: i % 3 === 0 ? 'Rare' : 'claude-desktop',
            tool: i % 5 === 0 ? 'write_file' : 'read_file',
            decision,
            reason: decision === 'allow' ? undefined : `no ${i}`,
            args: { i, pad, ...decoy },
          }),
        )
        if (decision === 'allow' && i % 2 === 0)
          log.append({
            kind: 'outcome',
            callId: `c${i}`,
            session: 's1',
            client: i % 3 === 0 ? 'Rare' : 'claude-desktop',
            server: rare ? 'rare' : 'files',
            tool: i % 5 === 0 ? 'write_file' : 'read_file',
            outcome: i % 8 === 0 ? 'is_error' : 'ok',
            detail: i % 8 === 0 ? `Went Wrong ${i}` : `done ${i}`,
          })
        c.add(1000)
      }
      void log.close()
      // What each page must hold: every call matching, newest first, with its outcome.
      const records = [...readRecords(d)]
      const outcomes = new Map(
        records.filter((r) => r.kind === 'outcome').map((r) => [r.callId, r]),
      )
      const reference = (f: DiskPageFilter): string[] =>
        records
          .filter(
            (r) =>
              r.kind === 'call' &&
              (f.server === undefined || r.server === f.server) &&
              (f.tool === undefined || r.tool === f.tool) &&
              (f.client === undefined || r.client === f.client) &&
              (f.decision === undefined || r.decision === f.decision) &&
              (f.text === undefined ||
                JSON.stringify([r.reason, r.args, outcomes.get(r.callId)?.detail])
                  .toLowerCase()
                  .includes(f.text)),
          )
          .reverse()
          .map((r) => `${r.callId}:${outcomes.get(r.callId)?.outcome ?? '-'}`)
      const paged = (f: DiskPageFilter, limit: number, slice: number): string[] => {
        const out: string[] = []
        let beforeSeq: number | undefined
        for (;;) {
          let page = diskPage(d, f, limit, beforeSeq, slice)
          const rows: { call: AuditRecord; outcome?: AuditRecord }[] = [...page.rows]
          while (page.resume) {
            page = diskPage(d, f, limit - rows.length, undefined, slice, page.resume)
            rows.push(...page.rows)
          }
          out.push(...rows.map((r) => `${r.call.callId}:${r.outcome?.outcome ?? '-'}`))
          if (!page.hasMore || rows.length === 0) return out
          beforeSeq = rows.at(-1)?.call.seq
        }
      }
      const filters: DiskPageFilter[] = [
        { server: 'rare' },
        { server: 'rare', decision: 'allow' },
        { decision: 'hidden' },
        { client: 'Rare', tool: 'write_file' },
        { server: 'rare', text: 'went wrong' },
        { client: 'Rare', text: 'no 1' },
        { server: 'nowhere' },
      ]
      for (const f of filters) {
        const want = reference(f)
        expect(want.length, JSON.stringify(f)).toBeLessThan(1500)
        for (const [limit, slice] of [
          [1000, Infinity],
          [7, Infinity],
          [7, 50],
          [3, 333],
        ] as const)
          expect(paged(f, limit, slice), `${JSON.stringify(f)} ${limit} ${slice}`).toEqual(want)
      }
      expect(reference({ server: 'rare' }).some((r) => r.endsWith(':is_error'))).toBe(true)
    } finally {
      done()
    }
  })
})
