// `npm run bench`: the gateway against a direct connection, side by side, in one run.
// Direct: SDK Client → server-everything over stdio. Gateway: SDK Client → `airlock connect` →
// gateway (allow policy, audit log on) → server-everything. Prints figures and ratios.
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { benchFetch, startGateway } from './gateway.mjs'
import { approvalLatency } from './ui-latency.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const CLI = path.join(ROOT, 'bin', 'airlock.js')
const require = createRequire(import.meta.url)
const EVERYTHING = require.resolve('@modelcontextprotocol/server-everything/dist/index.js')

const SEQ = Number(process.env.BENCH_SEQ ?? 3000)
const PAR_TOTAL = Number(process.env.BENCH_PAR ?? 6000)
const IN_FLIGHT = 64
const WARMUP = 300
const COLD_RUNS = Number(process.env.BENCH_COLD ?? 20)
const SESSIONS = 20
const AUDIT_N = Number(process.env.BENCH_AUDIT_N ?? 1_000_000)
const APPROVAL_RUNS = 20

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const pct = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function measure(client) {
  const call = () => client.callTool({ name: 'echo', arguments: { message: 'benchmark' } })
  for (let i = 0; i < WARMUP; i++) await call()
  const lat = []
  const t0 = performance.now()
  for (let i = 0; i < SEQ; i++) {
    const s = performance.now()
    await call()
    lat.push(performance.now() - s)
  }
  const seqSecs = (performance.now() - t0) / 1000
  lat.sort((a, b) => a - b)
  let next = 0
  const p0 = performance.now()
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next++ < PAR_TOTAL) await call()
    }),
  )
  const parSecs = (performance.now() - p0) / 1000
  return {
    seqRate: SEQ / seqSecs,
    p50: pct(lat, 50),
    p99: pct(lat, 99),
    parRate: PAR_TOTAL / parSecs,
  }
}

async function connect(command, args, env) {
  const client = new Client({ name: 'bench', version: '1.0.0' })
  await client.connect(new StdioClientTransport({ command, args, env, stderr: 'ignore' }))
  return client
}

function rssMb(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024
}

/**
 * CPU time (user + system, ms) a process has used so far, from /proc (Linux): the figure
 * `process.cpuUsage()` gives inside that process, read from outside it. Clock-tick resolution
 * (10 ms), so measured over thousands of calls.
 */
function cpuMs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100
}

/** Resolves once process `pid` has no child process left (or after `maxMs`). */
async function untilNoChildren(pid, maxMs) {
  const end = performance.now() + maxMs
  const hasChild = () =>
    fs.readdirSync('/proc').some((d) => {
      if (!/^\d+$/.test(d)) return false
      try {
        const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8')
        return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] === String(pid)
      } catch {
        return false // gone meanwhile
      }
    })
  while (hasChild() && performance.now() < end) await sleep(20)
}

function timeRun(cmd, args, env) {
  const s = performance.now()
  // stdin is a pipe that is closed at once, as an MCP client gives it (both sides alike).
  const r = spawnSync(cmd, args, { env, input: '', stdio: ['pipe', 'ignore', 'ignore'] })
  if (r.error) throw r.error
  return performance.now() - s
}

async function main() {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-bench-'))
  // BENCH_GATEWAY_PROF=<dir>: the gateway writes a CPU profile there when it exits.
  const prof = process.env.BENCH_GATEWAY_PROF
  const { gw, env, output } = await startGateway({
    home,
    policy:
      'version: "1"\ndefault: allow\ntools:\n  echo:\n    rules: []\n  get-sum:\n    rules:\n      - name: ask\n        action: require_approval\n',
    nodeArgs: prof ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(prof)] : [],
  })
  const cleanup = () => {
    try {
      gw.kill('SIGTERM')
    } catch {
      /* already gone */
    }
  }
  process.on('exit', cleanup)
  await sleep(300)
  const startedRss = rssMb(gw.pid)
  // Idle: quiet for 12 s. V8's memory reducer runs about 8-10 s after allocation stops and gives
  // back the start-up's garbage pages (64.5 -> 59 MB here); before it, RSS is the start-up's.
  await sleep(11_700)
  const idleRss = rssMb(gw.pid)

  console.log(
    `Airlock benchmark — ${os.cpus().length} cores, Node ${process.version}; ${SEQ} sequential calls, ${PAR_TOTAL} calls with ${IN_FLIGHT} in flight (echo on server-everything)\n`,
  )

  // The floor: the same process chain with pure byte relays (no parsing, policy or audit).
  const RELAY = path.join(ROOT, 'bench', 'relay-floor.mjs')
  const relaySock = path.join(home, 'relay.sock')
  const relay = spawn(process.execPath, [RELAY, 'gateway', relaySock, EVERYTHING], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  await new Promise((resolve) => relay.stdout.once('data', resolve))

  // Alternate the three sides twice and keep each side's better run, to damp machine noise.
  const results = { direct: [], gateway: [], relay: [], http: [] }
  const mcpBase = /MCP over HTTP:\s+(\S+)<server>/.exec(output())?.[1]
  const httpToken = fs.readFileSync(path.join(home, 'http-token'), 'utf8').trim()
  const gatewayCpu = []
  // The floor's gateway-side relay, measured the same way: what moving the bytes costs alone.
  const floorCpu = []
  let httpError
  for (let round = 0; round < 2; round++) {
    const d = await connect(process.execPath, [EVERYTHING, 'stdio'], env)
    results.direct.push(await measure(d))
    await d.close()
    const g = await connect(process.execPath, [CLI, 'connect', 'everything'], env)
    const cpu0 = cpuMs(gw.pid)
    results.gateway.push(await measure(g))
    gatewayCpu.push((cpuMs(gw.pid) - cpu0) / (WARMUP + SEQ + PAR_TOTAL))
    await g.close()
    if (mcpBase && httpError === undefined) {
      const h = new Client({ name: 'bench-http', version: '1.0.0' })
      try {
        await h.connect(
          new StreamableHTTPClientTransport(new URL(`${mcpBase}everything`), {
            fetch: benchFetch,
            requestInit: { headers: { Authorization: `Bearer ${httpToken}` } },
          }),
        )
        results.http.push(await measure(h))
      } catch (err) {
        // Reported in the table rather than ending the run.
        httpError = err.cause?.message ?? err.message
      } finally {
        await h.close().catch(() => {})
      }
    }
    const r = await connect(process.execPath, [RELAY, 'shim', relaySock], env)
    const relayCpu0 = cpuMs(relay.pid)
    results.relay.push(await measure(r))
    floorCpu.push((cpuMs(relay.pid) - relayCpu0) / (WARMUP + SEQ + PAR_TOTAL))
    await r.close()
  }
  relay.kill()
  const best = (rs) => ({
    seqRate: Math.max(...rs.map((r) => r.seqRate)),
    p50: Math.min(...rs.map((r) => r.p50)),
    p99: Math.min(...rs.map((r) => r.p99)),
    parRate: Math.max(...rs.map((r) => r.parRate)),
  })
  const direct = best(results.direct)
  const gateway = best(results.gateway)
  const floor = best(results.relay)
  const http = results.http.length > 0 ? best(results.http) : undefined
  const cpuPerCallUs = Math.min(...gatewayCpu) * 1000
  const floorCpuPerCallUs = Math.min(...floorCpu) * 1000

  // Shim cold start: spawn → connected, authenticated, stdin closed → exit; against `node -e ''`.
  const bare = []
  const shim = []
  for (let i = 0; i < COLD_RUNS; i++) {
    bare.push(timeRun(process.execPath, ['-e', ''], env))
    shim.push(timeRun(process.execPath, [CLI, 'connect', 'everything'], env))
    // The gateway starts the session's server when the shim connects and ends it when the shim
    // has gone: that work (a node process starting, ~0.3 s of CPU) comes after the shim exited,
    // and would otherwise run under the next two timings on a 2-core machine.
    await untilNoChildren(gw.pid, 3000)
  }

  // RSS with 20 sessions, against the RSS just before them: the runs above may have loaded code
  // the idle gateway had not (the MCP SDK, with the HTTP route), which is no session's cost.
  const beforeSessionsRss = rssMb(gw.pid)
  const clients = []
  for (let i = 0; i < SESSIONS; i++)
    clients.push(await connect(process.execPath, [CLI, 'connect', 'everything'], env))
  await Promise.all(clients.map((c) => c.callTool({ name: 'echo', arguments: { message: 'x' } })))
  await sleep(300)
  const busyRss = rssMb(gw.pid)
  await Promise.all(clients.map((c) => c.close()))

  // Approval visibility: a tools/call that needs approval → the UI shows it.
  const url = /web UI:\s+(\S+)/.exec(output())?.[1]
  if (!url) throw new Error(`no web UI URL in the gateway's output: ${output()}`)
  const agent = await connect(process.execPath, [CLI, 'connect', 'everything'], env)
  const approval = await approvalLatency(
    url,
    (i) => agent.callTool({ name: 'get-sum', arguments: { a: i, b: 1 } }),
    APPROVAL_RUNS,
  )
  await agent.close()

  // Activity queries over a large audit log (synthetic records written with the real AuditLog).
  const { benchAuditQuery, benchDir } = await import('./audit-query.ts')
  const auditDir = benchDir()
  const audit = await benchAuditQuery(auditDir, AUDIT_N)
  fs.rmSync(auditDir, { recursive: true, force: true })

  const f = (n, d = 0) => n.toFixed(d)
  const us = (ms) => `${f(ms * 1000)} µs`
  const rows = [
    ['', 'direct', 'via Airlock', 'ratio / overhead', 'target'],
    [
      'sequential calls/s',
      f(direct.seqRate),
      f(gateway.seqRate),
      `${f(gateway.seqRate / direct.seqRate, 2)}×`,
      '',
    ],
    [
      'p50 latency',
      us(direct.p50),
      us(gateway.p50),
      `+${us(gateway.p50 - direct.p50)}`,
      `≤ floor +60 µs (+${us(floor.p50 - direct.p50 + 0.06)})`,
    ],
    [
      'p99 latency',
      us(direct.p99),
      us(gateway.p99),
      `+${us(gateway.p99 - direct.p99)}`,
      '≤ +1.5 ms',
    ],
    [
      `calls/s, ${IN_FLIGHT} in flight`,
      f(direct.parRate),
      f(gateway.parRate),
      `${f(gateway.parRate / direct.parRate, 2)}×`,
      `≥ 0.9× floor (${f((0.9 * floor.parRate) / direct.parRate, 2)}×)`,
    ],
    [
      'gateway CPU per allowed, audited call',
      `${f(floorCpuPerCallUs, 1)} µs (floor's relay)`,
      `${f(cpuPerCallUs, 1)} µs`,
      `${f(cpuPerCallUs / floorCpuPerCallUs, 1)}× the floor's`,
      '≤ 25 µs',
    ],
    [
      'cold start (median)',
      `${f(median(bare), 1)} ms (node -e '')`,
      `${f(median(shim), 1)} ms (shim)`,
      `${f(median(shim) / median(bare), 2)}×`,
      '≤ 1.2×',
    ],
    [
      'gateway RSS',
      `idle ${f(idleRss, 1)} MB (${f(startedRss, 1)} MB just started)`,
      `${SESSIONS} sessions ${f(busyRss, 1)} MB`,
      `${f((busyRss - beforeSessionsRss) / SESSIONS, 2)} MB per extra session`,
      'idle ≤ 60 MB, ≤ 1.5 MB/session',
    ],
    [
      'approval visible (WS event)',
      `median ${f(median(approval.wsTimes), 1)} ms`,
      `max ${f(Math.max(...approval.wsTimes), 1)} ms`,
      '',
      '≤ 100 ms',
    ],
    [
      'approval visible (card in UI)',
      approval.uiTimes ? `median ${f(median(approval.uiTimes), 1)} ms` : '(no /usr/bin/chromium)',
      approval.uiTimes ? `max ${f(Math.max(...approval.uiTimes), 1)} ms` : '',
      '',
      '≤ 100 ms',
    ],
  ]
  if (httpError !== undefined)
    rows.push([
      'HTTP route (/mcp/<server>)',
      `failed: ${httpError}`,
      '',
      '',
      '(beside the shim route)',
    ])
  else if (http)
    rows.push([
      'HTTP route (/mcp/<server>)',
      `p50 ${us(http.p50)}, p99 ${us(http.p99)}`,
      `${f(http.parRate)} calls/s in flight`,
      `+${us(http.p50 - direct.p50)}, ${f(http.parRate / direct.parRate, 2)}×`,
      '(beside the shim route)',
    ])
  rows.push([
    'floor: same processes, byte relays',
    `p50 ${us(floor.p50)}`,
    `${f(floor.parRate)} calls/s in flight`,
    `+${us(floor.p50 - direct.p50)}, ${f(floor.parRate / direct.parRate, 2)}×`,
    '(diagnostic)',
  ])
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '))
  console.log(
    `\nActivity query over ${audit.records.toLocaleString('en')} audit records (${audit.callRows.toLocaleString('en')} calls, ${f(audit.fileBytes / 1048576)} MiB; index load ${f(audit.loadMs)} ms, ${f(audit.indexBytes / 1048576, 1)} MiB) — target ≤ 200 ms for a filtered page of 100`,
  )
  for (const q of audit.queries)
    console.log(
      `  ${q.name.padEnd(62)} median ${f(q.medianMs, 1).padStart(7)} ms   first ${f(q.firstMs, 1).padStart(7)} ms   ${q.rows} rows`,
    )
  const summary = {
    p50OverheadUs: (gateway.p50 - direct.p50) * 1000,
    throughputRatio: gateway.parRate / direct.parRate,
    coldStartRatio: median(shim) / median(bare),
    idleRssMb: idleRss,
    startedRssMb: startedRss,
    busyRssMb: busyRss,
    perSessionRssMb: (busyRss - beforeSessionsRss) / SESSIONS,
    gatewayCpuPerCallUs: cpuPerCallUs,
    floorCpuPerCallUs,
    http,
    approvalWsMedianMs: median(approval.wsTimes),
    approvalUiMedianMs: approval.uiTimes ? median(approval.uiTimes) : null,
    auditQueryWorstMedianMs: Math.max(...audit.queries.map((q) => q.medianMs)),
    direct,
    gateway,
    floor,
  }
  if (typeof globalThis.__airlockBenchExtras === 'function')
    await globalThis.__airlockBenchExtras(summary)
  console.log(`\n${JSON.stringify(summary)}`)
  cleanup()
  await sleep(500)
  fs.rmSync(home, { recursive: true, force: true })
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err)
    process.exit(1)
  },
)
