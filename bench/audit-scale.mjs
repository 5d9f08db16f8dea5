// `npm run bench:audit-scale [-- N]`: the Activity index at scale. Writes N synthetic audit
// records (default 1 000 000; reused when the folder already holds them) into a data directory's
// audit/ folder, then, as after a restart: the first page read while the index loads, the load,
// the process's RSS with the index loaded, and filtered pages of 100 — first in this process,
// then in a real gateway (`airlock serve` on that data directory, queried over the web UI's
// control WebSocket): its first pages after the start, its RSS idle and with the index loaded.
// Set BENCH_AUDIT_DIR (a data directory) to keep the records between runs.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const n = Number(process.argv[2] ?? process.env.BENCH_AUDIT_N ?? 1_000_000)
const home =
  process.env.BENCH_AUDIT_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), `airlock-audit-scale-${n}-`))
const dir = path.join(home, 'audit')
const keep = process.env.BENCH_AUDIT_DIR !== undefined
const { AuditIndex } = await import('../src/gateway/audit/activity-index/index.ts')
const { benchAuditQuery } = await import('./audit-query.ts')
const { diskPage } = await import('../src/gateway/audit/disk-page.ts')

const mb = (b) => (b / 1048576).toFixed(0)
const ms = (t) => (Math.round(t * 10) / 10).toFixed(1)
try {
  if (!fs.existsSync(path.join(home, 'written'))) {
    // Writes the records (and times the index over them, in this process: figures not shown).
    const w = await benchAuditQuery(dir, n)
    fs.writeFileSync(path.join(home, 'written'), String(w.records))
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
  await inGateway()
} finally {
  if (!keep) fs.rmSync(home, { recursive: true, force: true })
}

/** The same records behind a real gateway: first pages after its start, RSS idle and loaded. */
async function inGateway() {
  const { startGateway } = await import('./gateway.mjs')
  const { openWs } = await import('./ui-latency.mjs')
  const t0 = performance.now()
  const { gw, output } = await startGateway({ home })
  const startMs = performance.now() - t0
  try {
    const url = /web UI:\s+(\S+)/.exec(output())?.[1]
    if (!url) throw new Error(`no web UI address in: ${output()}`)
    const ws = await openWs(url)
    let seq = 0
    const waiting = new Map()
    ws.on('message', (m) => {
      const msg = JSON.parse(String(m))
      const done = waiting.get(msg.id)
      if (!done) return
      waiting.delete(msg.id)
      done(msg)
    })
    const query = async (filter) => {
      const id = ++seq
      const a = performance.now()
      const msg = await new Promise((resolve) => {
        waiting.set(id, resolve)
        ws.send(JSON.stringify({ id, method: 'audit.query', params: { filter, limit: 100 } }))
      })
      if (msg.error) throw new Error(`audit.query: ${JSON.stringify(msg.error)}`)
      return { ms: performance.now() - a, rows: msg.result.rows.length }
    }
    const first = await query({})
    const firstFiltered = await query({ server: 'github', decision: 'deny' })
    const rssStart = rss(gw.pid)
    // The index loads in the background: RSS settles once it is loaded.
    let peak = rssStart
    let last = 0
    let stable = 0
    const until = Date.now() + 120_000
    while (Date.now() < until && stable < 6) {
      await new Promise((r) => setTimeout(r, 500))
      const now = rss(gw.pid)
      peak = Math.max(peak, now)
      stable = Math.abs(now - last) < 1 ? stable + 1 : 0
      last = now
    }
    const pages = []
    for (const [name, filter] of [
      ['newest 100', {}],
      ['server=github', { server: 'github' }],
      ['server=stripe decision=denied_by_user', { server: 'stripe', decision: 'denied_by_user' }],
      ['text=needle-rare-marker', { text: 'needle-rare-marker' }],
    ]) {
      const ts = []
      let rows = 0
      for (let k = 0; k < 5; k++) {
        const r = await query(filter)
        ts.push(r.ms)
        rows = r.rows
      }
      ts.sort((a, b) => a - b)
      pages.push({ name, ms: ts[2], rows })
    }
    ws.close()
    console.log(
      `\nthe real gateway (airlock serve) on these records, queried over the UI's WebSocket`,
    )
    console.log(`start (until "running")     ${ms(startMs)} ms`)
    console.log(`first page after start      ${ms(first.ms)} ms (${first.rows} rows)`)
    console.log(
      `first filtered page         ${ms(firstFiltered.ms)} ms (${firstFiltered.rows} rows, server+decision)`,
    )
    console.log(
      `gateway RSS                 ${rssStart.toFixed(0)} MB at start, ${last.toFixed(0)} MB settled, ${peak.toFixed(0)} MB peak (target ≤ 150 MB)`,
    )
    for (const p of pages)
      console.log(`page of 100: ${p.name.padEnd(40)} ${ms(p.ms)} ms (${p.rows} rows)`)
  } finally {
    gw.kill('SIGTERM')
    await new Promise((r) => (gw.exitCode !== null ? r() : gw.once('exit', r)))
  }
}

/** A process's resident memory in MB, from /proc (Linux). */
function rss(pid) {
  const kb = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
  return Number(kb) / 1024
}
