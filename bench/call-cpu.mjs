// `node bench/call-cpu.mjs [shim|http|floor]`: the gateway's CPU time per allowed, audited call, and
// nothing else — a quick figure to compare changes with while the machine is busy (CPU time is far
// less load-sensitive than wall clock). CALLS (default 4000) echo calls, 16 in flight, after 300
// warm-up calls. BENCH_GATEWAY_PROF=<dir> writes the gateway's CPU profile there.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { benchFetch, startGateway } from './gateway.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const CLI = path.join(ROOT, 'bin', 'airlock.js')
const route = process.argv[2] ?? 'shim'
const CALLS = Number(process.env.CALLS ?? 4000)
const IN_FLIGHT = Number(process.env.IN_FLIGHT ?? 16)

function cpuMs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100
}
const rssMb = (pid) =>
  Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-cpu-'))
const prof = process.env.BENCH_GATEWAY_PROF
// BENCH_GATEWAY_NODE_ARGS: more node options for the gateway (e.g. --perf-basic-prof for `perf`).
const nodeArgs = [
  ...(prof ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(prof)] : []),
  ...(process.env.BENCH_GATEWAY_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
]
let { gw, env, output } = await startGateway({ home, nodeArgs })
const relaySock = path.join(home, 'relay.sock')
if (route === 'floor') {
  // The same chain with pure byte relays (bench/relay-floor.mjs): the floor's CPU per call.
  gw.kill('SIGTERM')
  const server = createRequire(import.meta.url).resolve(
    '@modelcontextprotocol/server-everything/dist/index.js',
  )
  gw = spawn(
    process.execPath,
    [...nodeArgs, path.join(ROOT, 'bench', 'relay-floor.mjs'), 'gateway', relaySock, server],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  await new Promise((resolve) => gw.stdout.once('data', resolve))
}
await new Promise((r) => setTimeout(r, 300))
const idle = rssMb(gw.pid)
const client = new Client({ name: 'cpu', version: '1.0.0' })
if (route === 'http') {
  const base = /MCP over HTTP:\s+(\S+)<server>/.exec(output())[1]
  const token = fs.readFileSync(path.join(home, 'http-token'), 'utf8').trim()
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${base}everything`), {
      fetch: benchFetch,
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    }),
  )
} else if (route === 'floor') {
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [path.join(ROOT, 'bench', 'relay-floor.mjs'), 'shim', relaySock],
      env,
      stderr: 'ignore',
    }),
  )
} else {
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'connect', 'everything'],
      env,
      stderr: 'ignore',
    }),
  )
}
const call = () => client.callTool({ name: 'echo', arguments: { message: 'benchmark' } })
for (let i = 0; i < 300; i++) await call()
const lat = []
const c0 = cpuMs(gw.pid)
const t0 = performance.now()
let next = 0
await Promise.all(
  Array.from({ length: IN_FLIGHT }, async () => {
    while (next++ < CALLS) {
      const s = performance.now()
      await call()
      lat.push(performance.now() - s)
    }
  }),
)
const secs = (performance.now() - t0) / 1000
const cpu = cpuMs(gw.pid) - c0
lat.sort((a, b) => a - b)
console.log(
  `${route}: gateway CPU ${((cpu * 1000) / CALLS).toFixed(1)} µs/call; ${(CALLS / secs).toFixed(0)} calls/s with ${IN_FLIGHT} in flight; p50 ${(lat[lat.length >> 1] * 1000).toFixed(0)} µs; p99 ${(lat[Math.floor(lat.length * 0.99)] * 1000).toFixed(0)} µs; RSS idle ${idle.toFixed(1)} MB, after ${rssMb(gw.pid).toFixed(1)} MB`,
)
await client.close()
gw.kill('SIGTERM')
await new Promise((r) => gw.once('exit', r))
fs.rmSync(home, { recursive: true, force: true })
