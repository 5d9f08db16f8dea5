// `npm run bench:audit-scale [-- N]`: the Activity index at scale. Writes N synthetic audit
// records (default 1 000 000; reused when the folder already holds them), then, as after a
// restart: the first page read while the index loads, the load, the process's RSS with the
// index loaded, and filtered pages of 100. Set BENCH_AUDIT_DIR to keep the records between runs.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const n = Number(process.argv[2] ?? process.env.BENCH_AUDIT_N ?? 1_000_000)
const dir =
  process.env.BENCH_AUDIT_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), `airlock-audit-scale-${n}-`))
const keep = process.env.BENCH_AUDIT_DIR !== undefined
const { AuditIndex, benchAuditQuery } = await import('../src/gateway/audit/activity-index/index.ts')
const { diskPage } = await import('../src/gateway/audit/disk-page.ts')

const mb = (b) => (b / 1048576).toFixed(0)
const ms = (t) => (Math.round(t * 10) / 10).toFixed(1)
try {
  if (!fs.existsSync(path.join(dir, 'written'))) {
    // Writes the records (and times the index over them, in this process: figures not shown).
    const w = await benchAuditQuery(dir, n)
    fs.writeFileSync(path.join(dir, 'written'), String(w.records))
    console.log(
      `wrote ${w.records} records, ${mb(w.fileBytes)} MB of files, in ${ms(w.writeMs)} ms`,
    )
    if (!keep) console.log('(run again with BENCH_AUDIT_DIR=<dir> to measure a fresh process)')
  }
  const rss0 = process.memoryUsage().rss
  const index = new AuditIndex(dir)
  const t0 = performance.now()
  const loading = index.load()
  const first = diskPage(dir, {}, 100)
  const firstMs = performance.now() - t0
  const f1 = performance.now()
  const firstFiltered = diskPage(dir, { server: 'github', decision: 'deny' }, 100)
  const firstFilteredMs = performance.now() - f1
  await loading
  const loadMs = performance.now() - t0
  globalThis.gc?.()
  const rss1 = process.memoryUsage().rss
  const timed = (name, f) => {
    const ts = []
    let rows = 0
    for (let k = 0; k < 5; k++) {
      const a = performance.now()
      rows = f().rows.length
      ts.push(performance.now() - a)
    }
    ts.sort((a, b) => a - b)
    return { name, ms: ts[2], rows }
  }
  const pages = [
    timed('newest 100', () => index.query({}, 100)),
    timed('server=github', () => index.query({ server: 'github' }, 100)),
    timed('server=stripe decision=denied_by_user', () =>
      index.query({ server: 'stripe', decision: 'denied_by_user' }, 100),
    ),
    timed('tool=tool_7', () => index.query({ tool: 'tool_7' }, 100)),
    timed('text=needle-rare-marker', () => index.query({ text: 'needle-rare-marker' }, 100)),
  ]
  console.log(`records on disk            ${n}`)
  console.log(
    `call rows held             ${index.size} (older read from disk: ${index.oldestHeldSeq > 0})`,
  )
  console.log(
    `first page after restart   ${ms(firstMs)} ms (${first.rows.length} rows, from the files while loading)`,
  )
  console.log(
    `first filtered page        ${ms(firstFilteredMs)} ms (${firstFiltered.rows.length} rows, server+decision, from the files)`,
  )
  console.log(`index load                 ${ms(loadMs)} ms`)
  console.log(
    `RSS before / after load    ${mb(rss0)} MB / ${mb(rss1)} MB (index ${mb(index.bytes())} MB)`,
  )
  for (const p of pages)
    console.log(`page of 100: ${p.name.padEnd(40)} ${ms(p.ms)} ms (${p.rows} rows)`)
} finally {
  if (!keep) fs.rmSync(dir, { recursive: true, force: true })
}
