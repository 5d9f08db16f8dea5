import * as fs from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { AuditLog } from '../../src/gateway/audit'
import {
  AuditIndex,
  storedLength,
  type IndexFilter,
} from '../../src/gateway/audit/activity-index/index'
import { listAuditFiles } from '../../src/gateway/audit/files'
import {
  decisionMatches,
  type AuditDecision,
  type AuditInput,
  type AuditRecord,
} from '../../src/shared/contract/audit-record'
import { clock, input, tempDir } from './audit/helpers'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const c of cleanups.splice(0)) c()
})

/** Search corpus caps every fixture is indexed with: disk only, tiny, small, the default. */
const CAPS = [0, 1500, 20_000, undefined]
/**
 * Bounded indexes every fixture is also indexed with: 7 rows held (older pages read from the
 * files), with the default corpus and a tiny one.
 */
const WINDOWS = [{ maxRows: 7 }, { maxRows: 7, corpusBytes: 1500 }]

interface Fixture {
  dir: string
  /**
   * Indexes that followed the log through `add` (one per cap; then one per cap given the
   * writer's args JSON and ts ms, as the control service adds), then indexes `load`ed from it.
   */
  live: AuditIndex[]
  loaded: () => Promise<AuditIndex[]>
  calls: AuditRecord[]
  outcomes: Map<string, AuditRecord>
  append: (rec: AuditInput) => AuditRecord
}

/** A log in a temp dir, followed live by an index per cap, as the control service follows it. */
async function fixture(
  opts: { maxFileBytes?: number; windows?: { maxRows: number; corpusBytes?: number }[] } = {},
): Promise<Fixture> {
  const windows = opts.windows ?? WINDOWS
  const { dir, cleanup } = tempDir()
  cleanups.push(cleanup)
  const c = clock('2026-11-20T12:00:00.000Z')
  const log = AuditLog.open({
    dir,
    now: c.now,
    maxFileBytes: opts.maxFileBytes ?? 64 * 1024 * 1024,
  })
  cleanups.unshift(() => void log.close())
  const live = [
    ...[...CAPS, ...CAPS].map((cap) => new AuditIndex(dir, () => {}, { corpusBytes: cap })),
    ...windows.map((o) => new AuditIndex(dir, () => {}, o)),
  ]
  for (const ix of live) await ix.load()
  const calls: AuditRecord[] = []
  const outcomes = new Map<string, AuditRecord>()
  const append = (inp: AuditInput): AuditRecord => {
    const rec = log.append(inp)
    c.add(1000)
    const file = log.currentFile as string
    const length = storedLength(rec)
    const offset = fs.statSync(file).size - length
    const known = { argsJson: log.lastArgsJson, tsMs: log.lastTsMs }
    live.forEach((ix, k) => ix.add(rec, file, offset, length, k < CAPS.length ? undefined : known))
    if (rec.kind === 'call') calls.push(rec)
    else if (!outcomes.has(rec.callId)) outcomes.set(rec.callId, rec)
    return rec
  }
  const loaded = async (): Promise<AuditIndex[]> => {
    const out = [
      ...CAPS.map((cap) => new AuditIndex(dir, () => {}, { corpusBytes: cap })),
      ...windows.map((o) => new AuditIndex(dir, () => {}, o)),
    ]
    for (const ix of out) await ix.load()
    return out
  }
  return { dir, live, loaded, calls, outcomes, append }
}

/** The text filter as documented, over the records themselves: the rows a query must return. */
function reference(f: Fixture, filter: IndexFilter): string[] {
  const text = filter.text?.trim() ? filter.text.toLowerCase() : undefined
  const fields = (r: AuditRecord): (string | undefined)[] => [
    r.tool,
    r.server,
    r.client,
    r.reason,
    r.rule,
    r.detail,
    r.callId,
    r.session,
    r.args === undefined ? undefined : JSON.stringify(r.args),
  ]
  const has = (r: AuditRecord): boolean =>
    text !== undefined && fields(r).some((v) => v !== undefined && v.toLowerCase().includes(text))
  return f.calls
    .filter((c) => {
      if (filter.server !== undefined && c.server !== filter.server) return false
      if (filter.tool !== undefined && c.tool !== filter.tool) return false
      if (filter.client !== undefined && c.client !== filter.client) return false
      if (!decisionMatches(filter.decision, c.decision)) return false
      if (text === undefined) return true
      const o =
        c.decision === 'allow' || c.decision === 'approved' ? f.outcomes.get(c.callId) : undefined
      return has(c) || (o !== undefined && o.detail !== undefined && has(o))
    })
    .map((c) => c.callId)
    .reverse()
}

/** The outcome the gateway writes for a call: same ids and names, no args. */
function outcomeOf(
  call: AuditRecord,
  outcome: 'ok' | 'is_error' | 'error',
  detail?: string,
): AuditInput {
  return {
    kind: 'outcome',
    callId: call.callId,
    session: call.session,
    client: call.client,
    server: call.server,
    tool: call.tool,
    outcome,
    detail,
    latencyMs: 1,
  }
}

function ids(ix: AuditIndex, filter: IndexFilter, limit = 100, beforeSeq?: number): string[] {
  return ix.query(filter, limit, beforeSeq).rows.map((r) => r.call.callId)
}

/** Every page of `limit`, following `beforeSeq`; checks `hasMore` on the way. */
function allPages(ix: AuditIndex, filter: IndexFilter, limit: number): string[] {
  const out: string[] = []
  let before: number | undefined
  for (;;) {
    const page = ix.query(filter, limit, before)
    out.push(...page.rows.map((r) => r.call.callId))
    if (!page.hasMore) return out
    expect(page.rows).toHaveLength(limit)
    before = page.rows.at(-1)?.call.seq
  }
}

/** Asserts every index of the fixture (live and loaded, every cap) answers `filter` like the reference. */
async function expectAll(f: Fixture, filters: IndexFilter[], pageSize?: number): Promise<void> {
  const indexes = [...f.live, ...(await f.loaded())]
  for (const filter of filters) {
    const want = reference(f, filter)
    for (const [k, ix] of indexes.entries()) {
      const got = pageSize === undefined ? ids(ix, filter, 10_000) : allPages(ix, filter, pageSize)
      expect(
        got,
        `index ${k} (cap ${String(CAPS[k % CAPS.length])}), filter ${JSON.stringify(filter)}`,
      ).toEqual(want)
    }
  }
}

describe('AuditIndex text search', () => {
  it('finds text in args, reason, rule, callId, session and details arriving after the call, case-insensitively', async () => {
    const f = await fixture()
    const c1 = f.append(input(1, { args: { path: '/tmp/Alpha-Report.txt' } }))
    f.append(
      input(2, {
        decision: 'deny',
        rule: 'no-writes',
        reason: 'Blocked by rule NO-WRITES',
        args: { path: '/etc/passwd' },
      }),
    )
    f.append(input(3, { callId: 'Call-XYZ-3', session: 'Sess-Blue', args: { q: 'Über café' } }))
    const c4 = f.append(input(4, { args: { path: '/srv/data' } }))
    f.append(input(5, { args: { s: 'say "hi" \\ there' } }))
    f.append(outcomeOf(c4, 'is_error', 'ENOENT: Missing Thing'))
    f.append(outcomeOf(c1, 'ok'))

    for (const ix of [...f.live, ...(await f.loaded())]) {
      expect(ids(ix, { text: 'alpha-report' })).toEqual(['c1'])
      expect(ids(ix, { text: 'ALPHA-REPORT' })).toEqual(['c1'])
      expect(ids(ix, { text: 'blocked BY' })).toEqual(['c2'])
      expect(ids(ix, { text: 'no-writes' })).toEqual(['c2'])
      expect(ids(ix, { text: 'call-xyz' })).toEqual(['Call-XYZ-3'])
      expect(ids(ix, { text: 'sess-BLUE' })).toEqual(['Call-XYZ-3'])
      expect(ids(ix, { text: 'ÜBER CAFÉ' })).toEqual(['Call-XYZ-3'])
      expect(ids(ix, { text: 'missing thing' })).toEqual(['c4'])
      expect(ids(ix, { text: '"hi\\" \\\\' })).toEqual(['c5'])
      expect(ids(ix, { text: 'READ_FILE' })).toHaveLength(5)
      expect(ids(ix, { text: 'nowhere at all' })).toEqual([])
    }
    await expectAll(
      f,
      ['alpha', 'no-writes', 'call-xyz', 'über', 'missing', '"hi', 'read_file', '/', 'C', 's1'].map(
        (text) => ({ text }),
      ),
    )
  })

  it('loads lines cut by its 1 MiB reads, and lines longer than half of them, like the writer wrote them', async () => {
    const f = await fixture({ windows: [] })
    // Some 2.6 MiB of records: ordinary ones (whose lines fall across read boundaries) around
    // two of 300 KiB and 700 KiB (the second grows the read buffer).
    let i = 0
    const call = (args: Record<string, unknown>): AuditRecord => f.append(input(++i, { args }))
    for (let k = 0; k < 3000; k++) call({ path: `/tmp/f${k}.txt`, pad: 'p'.repeat(k % 300) })
    call({ blob: `big-one ${'x'.repeat(300 * 1024)}` })
    for (let k = 0; k < 2000; k++) call({ path: `/tmp/g${k}.txt` })
    const huge = call({ blob: `huge-one ${'y'.repeat(700 * 1024)}` })
    f.append(outcomeOf(huge, 'ok', 'after the huge one'))
    for (let k = 0; k < 2000; k++) call({ path: `/tmp/h${k}.txt` })
    const bytes = listAuditFiles(f.dir, (d) => fs.readdirSync(d)).reduce(
      (n, file) => n + fs.statSync(file.path).size,
      0,
    )
    expect(bytes).toBeGreaterThan(2.5 * 1024 * 1024)
    for (const ix of await f.loaded()) expect(ix.size).toBe(f.calls.length)
    await expectAll(f, [
      {},
      { text: 'big-one' },
      { text: 'huge-one' },
      { text: 'after the huge' },
      { text: '/tmp/g1999.' },
    ])
  })

  it('does not match a needle that only spans two fields or two rows', async () => {
    const f = await fixture()
    f.append(
      input(1, {
        decision: 'deny',
        reason: 'left-half',
        rule: 'right-half',
        args: { a: 'tail-end' },
      }),
    )
    f.append(input(2, { callId: 'head-start', decision: 'deny', reason: 'x' }))
    for (const ix of [...f.live, ...(await f.loaded())]) {
      expect(ids(ix, { text: 'left-half' })).toEqual(['c1'])
      expect(ids(ix, { text: 'halfright' })).toEqual([])
      expect(ids(ix, { text: 'half right' })).toEqual([])
      expect(ids(ix, { text: 'end"}head' })).toEqual([])
      expect(ids(ix, { text: 'end"}' })).toEqual(['c1'])
      expect(ids(ix, { text: 'c1s1' })).toEqual([])
    }
  })

  it('pages newest first with beforeSeq and text, with other filters and with matching names', async () => {
    const f = await fixture()
    for (let i = 1; i <= 240; i++) {
      const call = f.append(
        input(i, {
          server: i % 4 === 0 ? 'github' : 'files',
          decision: i % 5 === 0 ? 'deny' : 'allow',
          args: { path: i % 3 === 0 ? `/marked/File-${i}` : `/plain/${i}` },
        }),
      )
      if (i % 7 === 0) f.append(outcomeOf(call, 'is_error', `Marked failure ${i}`))
    }
    const marked = reference(f, { text: 'marked' })
    expect(marked.length).toBeGreaterThan(90)
    for (const ix of f.live) {
      const first = ix.query({ text: 'MARKED' }, 10)
      expect(first.rows.map((r) => r.call.callId)).toEqual(marked.slice(0, 10))
      expect(first.hasMore).toBe(true)
      const second = ids(ix, { text: 'MARKED' }, 10, first.rows.at(-1)?.call.seq)
      expect(second).toEqual(marked.slice(10, 20))
    }
    await expectAll(
      f,
      [
        { text: 'marked' },
        { text: 'marked', server: 'github' },
        { text: 'file-', decision: 'deny' },
        { text: 'failure', server: 'files' },
        { text: 'GIT' },
        { text: 'git', decision: 'deny' },
        { text: 'hub' },
      ],
      7,
    )
  })

  it('searches rows beyond the corpus cap on disk, including details arriving for them', async () => {
    const f = await fixture()
    const calls = [f.append(input(1, { args: { path: '/oldest/Needle-Zero' } }))]
    for (let i = 2; i <= 120; i++)
      calls.push(f.append(input(i, { args: { path: `/p/${i}`, pad: 'x'.repeat(i % 40) } })))
    f.append(outcomeOf(calls[0] as AuditRecord, 'error', 'Late Detail of the oldest'))
    f.append(outcomeOf(calls[118] as AuditRecord, 'error', 'Late Detail of a new one'))
    const tiny = f.live[1] as AuditIndex
    expect(tiny.corpusStats().rows).toBeGreaterThan(0)
    expect(tiny.corpusStats().rows).toBeLessThan(tiny.size / 4)
    expect(tiny.corpusStats().bytes).toBeLessThanOrEqual(1500)
    expect((f.live[3] as AuditIndex).corpusStats().rows).toBe(120)
    expect(ids(tiny, { text: 'needle-zero' })).toEqual(['c1'])
    expect(ids(tiny, { text: 'late detail' })).toEqual(['c119', 'c1'])
    await expectAll(
      f,
      ['needle', 'late detail', 'of the oldest', '/p/1', 'xxxxxxxxxx', 'c11', 's1', 'read'].map(
        (text) => ({ text }),
      ),
      9,
    )
  })

  it('finds an ASCII needle in text whose lowercase holds it (KELVIN SIGN: k; İ: i and U+0307), held or not', async () => {
    const f = await fixture()
    f.append(input(1, { args: { t: '300 \u212a' } }))
    f.append(input(2, { args: { t: 'x(\u0130zmir' } }))
    const c3 = f.append(input(3, { args: { t: 'plain' } }))
    f.append(outcomeOf(c3, 'is_error', 'at 4 \u212a'))
    for (let i = 4; i <= 12; i++) f.append(input(i, { args: { t: `filler ${i}` } }))
    expect(reference(f, { text: '300 k' })).toEqual(['c1'])
    expect(reference(f, { text: 'x(i' })).toEqual(['c2'])
    expect(reference(f, { text: 'x(iz' })).toEqual([])
    expect(reference(f, { text: '4 k' })).toEqual(['c3'])
    await expectAll(f, [
      { text: '300 k' },
      { text: '300 K' },
      { text: 'x(i' },
      { text: 'x(iz' },
      { text: '4 k' },
    ])
  })

  it('leaves needles the corpus cannot hold (NUL, U+FFFD, lone surrogates) to the disk', async () => {
    const f = await fixture()
    f.append(input(1, { decision: 'deny', reason: 'bad \ud800 surrogate' }))
    f.append(input(2, { decision: 'deny', reason: 'real \ufffd replacement' }))
    f.append(input(3, { decision: 'deny', reason: 'nul \u0000 inside' }))
    for (const ix of [...f.live, ...(await f.loaded())]) {
      expect(ids(ix, { text: '\ud800' })).toEqual(['c1'])
      expect(ids(ix, { text: '\ufffd' })).toEqual(['c2'])
      expect(ids(ix, { text: 'nul \u0000 in' })).toEqual(['c3'])
      expect(ids(ix, { text: 'surrogate' })).toEqual(['c1'])
    }
  })

  it('answers like the documented filter over random records, details arriving late, across many windows', async () => {
    // A larger window here: a page of 7 rows held would read most pages from the files, slowly.
    const f = await fixture({ maxFileBytes: 256 * 1024, windows: [{ maxRows: 500 }] })
    let seed = 7
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed / 0x7fffffff
    }
    const alphabet = [
      'a',
      'B',
      'ç',
      'Σ',
      'é',
      'Ü',
      'x',
      '-',
      '"',
      '\\',
      ' ',
      '1',
      '/',
      'İ',
      'ß',
      'K',
    ]
    const word = (n: number): string =>
      Array.from(
        { length: Math.floor(rand() * n) },
        () => alphabet[Math.floor(rand() * alphabet.length)],
      ).join('')
    const open: AuditRecord[] = []
    for (let i = 1; i <= 1200; i++) {
      const decision = rand() < 0.7 ? 'allow' : 'deny'
      const call = f.append(
        input(i, {
          server: rand() < 0.5 ? 'files' : 'Web',
          decision,
          reason: decision === 'deny' ? word(8) : undefined,
          rule: rand() < 0.2 ? word(5) : undefined,
          args: {
            q: word(12),
            pad: 'p'.repeat(Math.floor(rand() * 500)),
            rare: i % 97 === 0 ? 'Rare-Marker' : undefined,
          },
        }),
      )
      if (decision === 'allow') open.push(call)
      while (open.length > 0 && rand() < 0.5) {
        const k = Math.floor(rand() * Math.min(open.length, 40))
        const failed = rand() < 0.3
        f.append(
          outcomeOf(
            open.splice(k, 1)[0] as AuditRecord,
            failed ? 'is_error' : 'ok',
            failed ? `${word(10)} failed` : undefined,
          ),
        )
      }
    }
    expect((f.live[3] as AuditIndex).corpusStats().bytes).toBeGreaterThan(4 * 64 * 1024)
    expect((f.live.at(-1) as AuditIndex).oldestHeldSeq).toBeGreaterThan(0)
    const needles = [
      'rare-marker',
      'FAILED',
      'pppppppppppp',
      'σ',
      'ß',
      'i̇',
      '"',
      '\\',
      'é-',
      'web',
      'c29',
      'zzz',
    ]
    for (let k = 0; k < 10; k++) needles.push(word(3))
    for (let k = 0; k < 8; k++) {
      const c = f.calls[Math.floor(rand() * f.calls.length)] as AuditRecord
      const q = JSON.stringify(c.args)
      const at = Math.floor(rand() * q.length)
      const sub = q.slice(at, at + 1 + Math.floor(rand() * 6))
      needles.push(rand() < 0.5 ? sub.toUpperCase() : sub)
    }
    const filters = needles.filter((t) => t.trim() !== '').map((text) => ({ text }))
    await expectAll(
      f,
      [...filters, { text: 'failed', server: 'Web' }, { text: 'rare-marker', decision: 'allow' }],
      150,
    )
    // CPU-bound (1 200 calls, 40 filters, every page): minutes on a loaded 2-core machine.
  }, 240_000)

  it('holds at most its window of calls, reads older pages from the files, and loads only the newest files', async () => {
    const f = await fixture({ maxFileBytes: 4096, windows: [{ maxRows: 10 }] })
    for (let k = 0; k < 300; k++) {
      const call = f.append({
        kind: 'call',
        callId: `c${k}`,
        session: 's1',
        server: k % 3 === 0 ? 'web' : 'fs',
        tool: 'read',
        args: { k },
        decision: k % 5 === 0 ? 'deny' : 'allow',
      })
      if (k % 5 !== 0) f.append(outcomeOf(call, k % 7 === 0 ? 'is_error' : 'ok', `d${k}`))
    }
    const windowed = f.live.at(-1) as AuditIndex
    expect(windowed.size).toBeLessThanOrEqual(12)
    expect(windowed.oldestHeldSeq).toBeGreaterThan(0)
    const [loaded] = [...(await f.loaded())].slice(-1) as [AuditIndex]
    // 10 rows × 800 bytes of files: only the newest few 4 KiB files are read.
    expect(loaded.oldestHeldSeq).toBeGreaterThan(0)
    expect(loaded.size).toBeLessThan(150)
    // Older pages come with their outcomes, as the unbounded index gives them.
    const full = f.live[3] as AuditIndex
    for (const ix of [windowed, loaded]) {
      const got = ix.query({}, 400).rows
      const want = full.query({}, 400).rows
      expect(got.map((r) => [r.call.seq, r.outcome?.seq])).toEqual(
        want.map((r) => [r.call.seq, r.outcome?.seq]),
      )
    }
    await expectAll(f, [{}, { server: 'web' }, { text: 'd4' }, { decision: 'deny' }], 7)
  })

  it('filters by several decisions and by the blocked group, in memory and on disk, and the histogram follows the filter', async () => {
    const f = await fixture({ maxFileBytes: 4096, windows: [{ maxRows: 10 }] })
    const kinds: AuditDecision[] = [
      'allow',
      'deny',
      'hidden',
      'rate_limited',
      'approved',
      'denied_by_user',
      'timeout',
      'cancelled',
      'paused',
    ]
    for (let k = 0; k < 90; k++) {
      const call = f.append({
        kind: 'call',
        callId: `c${k}`,
        session: 's1',
        client: k % 2 ? 'cursor' : 'claude-ai',
        server: k % 3 === 0 ? 'web' : 'fs',
        tool: k % 4 === 0 ? 'write' : 'read',
        args: { k },
        decision: kinds[k % kinds.length] as AuditDecision,
      })
      // Text found only in an outcome's detail: on disk, the call is matched through it.
      if (call.decision === 'allow' || call.decision === 'approved')
        f.append(outcomeOf(call, 'ok', `Done-${k % 5}`))
    }
    await expectAll(
      f,
      [
        { decision: 'blocked' },
        { decision: ['blocked'] },
        { decision: ['deny', 'timeout'] },
        { decision: ['approved', 'blocked'], server: 'web' },
        { decision: ['cancelled'], tool: 'write' },
        { client: 'cursor' },
        { client: 'claude-ai', decision: ['allow', 'approved'], text: 'done-3' },
        { client: 'cursor', server: 'fs', text: 'DONE' },
        { tool: 'write', text: 'done' },
      ],
      7,
    )
    // The blocked group: denied, hidden, rate-limited, denied by a person, timed out, paused.
    const blocked = (f.live[3] as AuditIndex).query({ decision: 'blocked' }, 1000).rows
    expect(new Set(blocked.map((r) => r.call.decision))).toEqual(
      new Set(['deny', 'hidden', 'rate_limited', 'denied_by_user', 'timeout', 'paused']),
    )
    const t0 = Date.parse('2026-11-20T11:00:00.000Z')
    const t1 = Date.parse('2026-11-20T14:00:00.000Z')
    const sum = (h: ReturnType<AuditIndex['histogram']>): number =>
      h.series.reduce(
        (n, s) =>
          n + [...s.allowed, ...s.approved, ...s.denied].reduce((a: number, b: number) => a + b, 0),
        0,
      )
    const full = f.live[3] as AuditIndex
    expect(sum(full.histogram(t0, t1, 10))).toBe(90)
    expect(sum(full.histogram(t0, t1, 10, { decision: 'blocked' }))).toBe(blocked.length)
    const webWrites = full.histogram(t0, t1, 10, {
      server: 'web',
      tool: 'write',
      client: 'claude-ai',
    })
    expect(webWrites.series.map((s) => s.server)).toEqual(['web'])
    expect(sum(webWrites)).toBe(
      reference(f, { server: 'web', tool: 'write', client: 'claude-ai' }).length,
    )
    expect(sum(full.histogram(t0, t1, 10, { text: '"k":4' }))).toBe(
      reference(f, { text: '"k":4' }).length,
    )
    expect(sum(full.histogram(t0, t1, 10, { server: 'nowhere' }))).toBe(0)
  })

  it('drops rows of files deleted by retention, and still finds text in the rest', async () => {
    const f = await fixture({ maxFileBytes: 4096 })
    for (let i = 1; i <= 80; i++) {
      const call = f.append(
        input(i, { args: { path: `/doc/${i % 2 === 0 ? 'Even' : 'odd'}-${i}` } }),
      )
      if (i % 5 === 0) f.append(outcomeOf(call, 'is_error', `boom ${i % 2 === 0 ? 'even' : 'odd'}`))
    }
    const files = listAuditFiles(f.dir, (d) => fs.readdirSync(d)).map((a) => a.name)
    expect(files.length).toBeGreaterThan(3)
    const fileOf = new Map<string, string>()
    for (const name of files) {
      for (const line of fs.readFileSync(`${f.dir}/${name}`, 'utf8').split('\n')) {
        const r = line === '' ? undefined : (JSON.parse(line) as AuditRecord)
        if (r?.kind === 'call') fileOf.set(r.callId, name)
      }
    }
    const indexes = [...f.live, ...(await f.loaded())]
    const deleted = files.slice(0, 2)
    for (const name of deleted) fs.rmSync(`${f.dir}/${name}`)
    const survivors = {
      ...f,
      calls: f.calls.filter((c) => !deleted.includes(fileOf.get(c.callId) ?? '')),
    }
    expect(survivors.calls.length).toBeLessThan(f.calls.length)
    for (const ix of indexes) {
      // The first queries find the files gone (and prune); the rest run on the renumbered rows.
      for (let round = 0; round < 3; round++) {
        for (const text of ['even', 'ODD', 'boom', '/doc/', 'c7'])
          expect(allPages(ix, { text }, 6)).toEqual(reference(survivors, { text }))
        ix.query({}, 1000)
      }
    }
  })
})
