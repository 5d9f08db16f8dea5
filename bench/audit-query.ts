/** The Activity index benchmark (`npm run bench`): synthetic audit logs, timed filtered pages. */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { AuditDecision } from '../src/shared/contract/audit-record'
import { AuditLog } from '../src/gateway/audit'
import { listAuditFiles } from '../src/gateway/audit/files'
import {
  AuditIndex,
  type AuditIndexOptions,
  type IndexedCall,
} from '../src/gateway/audit/activity-index'

/** Figures measured by {@link benchAuditQuery}, in milliseconds and bytes. */
export interface AuditQueryBench {
  records: number
  callRows: number
  fileBytes: number
  writeMs: number
  loadMs: number
  indexBytes: number
  /** Bytes of text in the search corpus, and the rows it covers. */
  corpusBytes: number
  corpusRows: number
  heapDeltaBytes: number
  rssBytes: number
  queries: { name: string; firstMs: number; medianMs: number; rows: number }[]
}

/**
 * Writes `n` synthetic audit records with the real AuditLog into `dir` (created), builds the
 * index, and times pages of 100 — unfiltered, by server, by server and decision, by tool, the
 * tool's second page, by client and time, no match at all, a rare text (also with a second page
 * and with a server), a text only in outcome details, and a text found nowhere (the worst case:
 * all text searched). A `dir` that already holds audit files (an earlier run with the same `n`)
 * is reused as it is. `options` go to the index. For `npm run bench`.
 */
export async function benchAuditQuery(
  dir: string,
  n: number,
  options: AuditIndexOptions = {},
): Promise<AuditQueryBench> {
  fs.mkdirSync(dir, { recursive: true })
  const reuse = listAuditFiles(dir, (d) => fs.readdirSync(d)).length > 0
  const servers = [
    'github',
    'filesystem',
    'memory',
    'slack',
    'postgres',
    'everything',
    'stripe',
    'linear',
    'notion',
    'browser',
  ]
  const clients = ['claude-desktop', 'claude-code', 'cursor', 'vscode', 'windsurf']
  const span = 7 * 86_400_000
  let t = Date.now() - span
  const step = span / n
  const t0 = performance.now()
  let written = reuse ? n : 0
  const log = reuse
    ? undefined
    : AuditLog.open({ dir, now: () => t, retentionDays: 0, durability: 'group' })
  let call = 0
  let rand = 42
  const next = (): number => {
    rand = (rand * 1103515245 + 12345) & 0x7fffffff
    return rand / 0x7fffffff
  }
  while (log && written < n) {
    call++
    const server = servers[call % servers.length] as string
    const tool = `tool_${Math.floor(next() * 50)}`
    const r = next()
    const decision: AuditDecision =
      r < 0.8
        ? 'allow'
        : r < 0.85
          ? 'approved'
          : r < 0.93
            ? 'deny'
            : r < 0.97
              ? 'rate_limited'
              : 'denied_by_user'
    const session = `s${Math.floor(call / 20)}`
    const callId = `${session}.${call}`
    const args = {
      path: `/home/user/project/src/file-${call % 5000}.ts`,
      query: call % 1000 === 7 ? 'needle-rare-marker' : 'select * from items where id = ?',
      limit: call % 100,
    }
    log.append({
      kind: 'call',
      callId,
      session,
      client: clients[call % clients.length],
      server,
      tool,
      args,
      decision,
      decidedBy: decision === 'approved' || decision === 'denied_by_user' ? 'user' : 'policy',
      rule: decision === 'allow' ? undefined : 'rule-1',
      reason: decision === 'deny' ? 'denied by policy rule-1' : undefined,
    })
    written++
    t += step
    if ((decision === 'allow' || decision === 'approved') && written < n) {
      const ok = next() < 0.95
      log.append({
        kind: 'outcome',
        callId,
        session,
        client: clients[call % clients.length],
        server,
        tool,
        outcome: ok ? 'ok' : 'is_error',
        detail: ok ? undefined : 'tool failed: something went wrong',
        latencyMs: Math.floor(next() * 400),
      })
      written++
      t += step
    }
  }
  await log?.close()
  const writeMs = performance.now() - t0
  const fileBytes = listAuditFiles(dir, (d) => fs.readdirSync(d)).reduce(
    (s, f) => s + fs.statSync(f.path).size,
    0,
  )

  globalThis.gc?.()
  const heap0 = process.memoryUsage()
  const index = new AuditIndex(dir, undefined, options)
  const l0 = performance.now()
  await index.load()
  const loadMs = performance.now() - l0
  globalThis.gc?.()
  const heap1 = process.memoryUsage()

  const time = (
    name: string,
    run: () => { rows: IndexedCall[] },
  ): { name: string; firstMs: number; medianMs: number; rows: number } => {
    const a = performance.now()
    const first = run()
    const firstMs = performance.now() - a
    const times: number[] = []
    for (let k = 0; k < 7; k++) {
      const b = performance.now()
      run()
      times.push(performance.now() - b)
    }
    times.sort((x, y) => x - y)
    return {
      name,
      firstMs: round(firstMs),
      medianMs: round(times[3] as number),
      rows: first.rows.length,
    }
  }
  const page1 = index.query({ tool: 'tool_7' }, 100)
  const last = page1.rows.at(-1)?.call.seq
  const rare1 = index.query({ text: 'needle-rare-marker' }, 100)
  const rareLast = rare1.rows.at(-1)?.call.seq
  const queries = [
    time('newest 100, no filter', () => index.query({}, 100)),
    time('server=github', () => index.query({ server: 'github' }, 100)),
    time('server=stripe decision=denied_by_user', () =>
      index.query({ server: 'stripe', decision: 'denied_by_user' }, 100),
    ),
    time('tool=tool_7', () => index.query({ tool: 'tool_7' }, 100)),
    time('tool=tool_7, 2nd page (beforeSeq)', () => index.query({ tool: 'tool_7' }, 100, last)),
    time('since 1 day ago, client=cursor', () =>
      index.query({ client: 'cursor', sinceMs: Date.now() - 86_400_000 }, 100),
    ),
    time('server=stripe decision=hidden (no match: every row checked)', () =>
      index.query({ server: 'stripe', decision: 'hidden' }, 100),
    ),
    time('text="needle-rare-marker" (0.1% of calls)', () =>
      index.query({ text: 'needle-rare-marker' }, 100),
    ),
    time('text="needle-rare-marker", 2nd page (beforeSeq)', () =>
      index.query({ text: 'needle-rare-marker' }, 100, rareLast),
    ),
    time('text="NEEDLE-rare-marker" server=stripe', () =>
      index.query({ text: 'NEEDLE-rare-marker', server: 'stripe' }, 100),
    ),
    time('text="went wrong" (outcome details)', () => index.query({ text: 'went wrong' }, 100)),
    time('text="select" server=stripe decision=hidden (every row holds the text)', () =>
      index.query({ text: 'select', server: 'stripe', decision: 'hidden' }, 100),
    ),
    time('text="no-such-text" (no match: all text searched)', () =>
      index.query({ text: 'no-such-text' }, 100),
    ),
  ]
  const corpus = index.corpusStats()
  return {
    records: written,
    callRows: index.size,
    fileBytes,
    writeMs: round(writeMs),
    loadMs: round(loadMs),
    indexBytes: index.bytes(),
    corpusBytes: corpus.bytes,
    corpusRows: corpus.rows,
    heapDeltaBytes: heap1.heapUsed + heap1.arrayBuffers - (heap0.heapUsed + heap0.arrayBuffers),
    rssBytes: process.memoryUsage().rss,
    queries,
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10
}

/** A temp directory for {@link benchAuditQuery}. */
export function benchDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-bench-audit-'))
}
