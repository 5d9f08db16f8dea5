// `npm run soak [-- --minutes N | --seconds N]`: four agents call `echo` on server-everything
// through the real shim and gateway (allow policy, audit on) as fast as they can, for 10 minutes
// by default. Prints per period (a minute, or a tenth of a short run) the calls, p50/p99 and the
// gateway's RSS (the median of a sample a second, and the peak); then checks that RSS grew < 10 %
// after the first period (each later period's median against the median of the first period's
// last sixth: the Activity index's window fills during the first minute, so the first period's
// own median is taken while it grows), that every call has its call and outcome records, and
// that the audit chain verifies. Exits 1 when a check fails.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { startGateway } from './gateway.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const CLI = path.join(ROOT, 'bin', 'airlock.js')
const AGENTS = 4

function durationMs(argv) {
  const at = (flag) => {
    const i = argv.indexOf(flag)
    if (i === -1) return undefined
    const v = Number(argv[i + 1])
    if (!(v > 0)) throw new Error(`${flag}: expected a positive number, got ${argv[i + 1]}`)
    return v
  }
  const minutes = at('--minutes')
  const seconds = at('--seconds')
  if (seconds !== undefined) return seconds * 1000
  return (minutes ?? 10) * 60_000
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const pct = (sorted, p) =>
  sorted.length === 0
    ? NaN
    : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
const rssMb = (pid) =>
  Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024

async function main() {
  const total = durationMs(process.argv.slice(2))
  const period = total >= 120_000 ? 60_000 : Math.max(1000, total / 10)
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-soak-'))
  const { gw, env } = await startGateway({ home })
  const stop = () => {
    try {
      gw.kill('SIGTERM')
    } catch {
      /* gone */
    }
  }
  process.on('exit', stop)

  const clients = []
  for (let i = 0; i < AGENTS; i++) {
    const c = new Client({ name: `soak-${i}`, version: '1.0.0' })
    await c.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [CLI, 'connect', 'everything'],
        env,
        stderr: 'ignore',
      }),
    )
    clients.push(c)
  }
  console.log(
    `Soak: ${AGENTS} agents, echo on server-everything, ${total / 1000} s, a row per ${period / 1000} s (${os.cpus().length} cores, Node ${process.version})\n`,
  )
  let lat = []
  let calls = 0
  let errors = 0
  let done = false
  const agents = clients.map(async (c, k) => {
    for (let i = 0; !done; i++) {
      const s = performance.now()
      try {
        const r = await c.callTool({ name: 'echo', arguments: { message: `soak ${k} ${i}` } })
        if (r.isError) errors++
      } catch {
        errors++
      }
      lat.push(performance.now() - s)
      calls++
    }
  })
  const rows = [
    ['period', 'calls', 'calls/s', 'p50 ms', 'p99 ms', 'gateway RSS MB (median)', 'peak'],
  ]
  // RSS is sampled every second: one sample a period would catch the GC's sawtooth at random.
  const rss = []
  const peaks = []
  let samples = []
  let baseline
  const sampler = setInterval(() => samples.push(rssMb(gw.pid)), 1000)
  const start = performance.now()
  for (let p = 1; p * period <= total; p++) {
    await sleep(start + p * period - performance.now())
    const l = lat.sort((a, b) => a - b)
    lat = []
    const n = l.length
    samples.push(rssMb(gw.pid))
    if (p === 1) {
      // "After the first period": the samples of its last sixth (the last 10 s of a minute).
      const tail = samples.slice(-Math.max(1, Math.round(samples.length / 6)))
      baseline = pct(
        tail.sort((a, b) => a - b),
        50,
      )
    }
    const sorted = samples.sort((a, b) => a - b)
    samples = []
    rss.push(pct(sorted, 50))
    peaks.push(sorted.at(-1))
    rows.push([
      String(p),
      String(n),
      (n / (period / 1000)).toFixed(0),
      pct(l, 50).toFixed(2),
      pct(l, 99).toFixed(2),
      rss.at(-1).toFixed(1),
      peaks.at(-1).toFixed(1),
    ])
    console.log(rows.at(-1).join('\t'))
  }
  clearInterval(sampler)
  done = true
  await Promise.all(agents)
  await Promise.all(clients.map((c) => c.close()))
  await sleep(500) // outcome records of the last calls
  stop()
  await new Promise((r) => (gw.exitCode !== null ? r() : gw.once('exit', r)))

  const { readRecords, verifyAudit } = await import('../src/gateway/audit/index.ts')
  let callRecs = 0
  let outcomeRecs = 0
  for (const r of readRecords(path.join(home, 'audit'))) {
    if (r.tool !== 'echo') continue
    if (r.kind === 'call' && r.decision === 'allow') callRecs++
    else if (r.kind === 'outcome') outcomeRecs++
  }
  const verify = verifyAudit(path.join(home, 'audit'))
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  console.log()
  for (const r of rows) console.log(r.map((c, i) => c.padStart(widths[i])).join('  '))
  const later = rss.length > 1 ? Math.max(...rss.slice(1)) : baseline
  const growth = (later - baseline) / baseline
  const peakGrowth = peaks.length > 1 ? (Math.max(...peaks.slice(1)) - peaks[0]) / peaks[0] : 0
  const checks = [
    [
      `RSS growth after the first period ${(growth * 100).toFixed(1)} % (< 10 %; the highest later median ${later.toFixed(1)} MB against ${baseline.toFixed(1)} MB at the end of period 1; peaks ${(peakGrowth * 100).toFixed(1)} %)`,
      growth < 0.1,
    ],
    [`calls answered without error: ${calls - errors} of ${calls}`, errors === 0],
    [
      `every call audited: ${callRecs} call and ${outcomeRecs} outcome records for ${calls} calls`,
      callRecs === calls && outcomeRecs === calls,
    ],
    [
      `audit chain verifies: ${verify.ok ? `${verify.records} records` : verify.problem}`,
      verify.ok,
    ],
  ]
  console.log()
  for (const [what, ok] of checks) console.log(`${ok ? 'ok  ' : 'FAIL'}  ${what}`)
  fs.rmSync(home, { recursive: true, force: true })
  if (!checks.every(([, ok]) => ok)) process.exitCode = 1
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
