// `npm run bench:peers`: Airlock beside other MCP proxies, in one run. Installs supergateway and
// @civic/passthrough-mcp-server into a temporary folder (BENCH_PEERS_DIR keeps and reuses one),
// then measures the SDK client calling `echo` on server-everything: direct over stdio; through
// @civic/passthrough-mcp-server (one process hop, stdio both sides, an in-process allow hook);
// through supergateway (stdio → SSE → stdio); through Airlock (shim → gateway, allow policy,
// audit on). Sides alternate twice and each keeps its better run, to damp machine noise.
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { benchFetch, startGateway } from './gateway.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const CLI = path.join(ROOT, 'bin', 'airlock.js')
const require = createRequire(import.meta.url)
const EVERYTHING = require.resolve('@modelcontextprotocol/server-everything/dist/index.js')
const SEQ = Number(process.env.BENCH_SEQ ?? 2000)
const PAR_TOTAL = Number(process.env.BENCH_PAR ?? 4000)
const IN_FLIGHT = 64
const WARMUP = 200

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const pct = (s, p) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]

async function measure(client) {
  const call = () => client.callTool({ name: 'echo', arguments: { message: 'benchmark' } })
  for (let i = 0; i < WARMUP; i++) await call()
  const lat = []
  for (let i = 0; i < SEQ; i++) {
    const s = performance.now()
    await call()
    lat.push(performance.now() - s)
  }
  lat.sort((a, b) => a - b)
  let next = 0
  const p0 = performance.now()
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next++ < PAR_TOTAL) await call()
    }),
  )
  return {
    p50: pct(lat, 50),
    p99: pct(lat, 99),
    parRate: PAR_TOTAL / ((performance.now() - p0) / 1000),
  }
}

async function connect(transport) {
  const client = new Client({ name: 'bench-peers', version: '1.0.0' })
  await client.connect(transport)
  return client
}

const stdio = (command, args, env) =>
  new StdioClientTransport({ command, args, env, stderr: 'ignore' })

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

const CIVIC_PROXY = `// One hop: the client's stdio to server-everything's stdio, with an in-process allow hook.
import { AbstractHook, PassthroughContext } from '@civic/passthrough-mcp-server'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
class Allow extends AbstractHook {
  get name() { return 'allow' }
  async processCallToolRequest(request, extra) {
    if (request.params.name === 'never') throw new Error('denied')
    return super.processCallToolRequest(request, extra)
  }
}
const context = new PassthroughContext([new Allow()])
await context.connect(
  new StdioServerTransport(),
  new StdioClientTransport({ command: process.execPath, args: [process.argv[2], 'stdio'], stderr: 'ignore' }),
)
`

async function main() {
  const dir =
    process.env.BENCH_PEERS_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-peers-'))
  const children = []
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-peers-home-'))
  process.on('exit', () => {
    for (const c of children) c.kill()
    fs.rmSync(home, { recursive: true, force: true })
    if (process.env.BENCH_PEERS_DIR === undefined) fs.rmSync(dir, { recursive: true, force: true })
  })
  if (!fs.existsSync(path.join(dir, 'node_modules', 'supergateway'))) {
    console.log(`Installing supergateway and @civic/passthrough-mcp-server into ${dir} …`)
    execFileSync(
      'npm',
      [
        'install',
        '--prefix',
        dir,
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        'supergateway',
        '@civic/passthrough-mcp-server',
      ],
      { stdio: 'inherit' },
    )
  }
  const peerVersion = (name) =>
    JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8'))
      .version
  const civicScript = path.join(dir, 'civic-proxy.mjs')
  fs.writeFileSync(civicScript, CIVIC_PROXY)

  const { gw, env } = await startGateway({ home })
  children.push(gw)

  const port = await freePort()
  const sg = spawn(
    process.execPath,
    [
      path.join(dir, 'node_modules', 'supergateway', 'dist', 'index.js'),
      '--stdio',
      `"${process.execPath}" "${EVERYTHING}" stdio`,
      '--port',
      String(port),
      '--logLevel',
      'none',
    ],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  )
  children.push(sg)
  const sse = async () => {
    for (let i = 0; ; i++) {
      try {
        return await connect(
          new SSEClientTransport(new URL(`http://127.0.0.1:${port}/sse`), { fetch: benchFetch }),
        )
      } catch (err) {
        if (i > 100) throw new Error(`supergateway did not answer on port ${port}: ${err.message}`)
        await sleep(100)
      }
    }
  }

  const sides = {
    direct: () => connect(stdio(process.execPath, [EVERYTHING, 'stdio'], env)),
    [`@civic/passthrough-mcp-server ${peerVersion('@civic/passthrough-mcp-server')}`]: () =>
      connect(stdio(process.execPath, [civicScript, EVERYTHING], env)),
    [`supergateway ${peerVersion('supergateway')} (SSE)`]: sse,
    Airlock: () => connect(stdio(process.execPath, [CLI, 'connect', 'everything'], env)),
  }
  const results = Object.fromEntries(Object.keys(sides).map((k) => [k, []]))
  console.log(
    `Peers — ${os.cpus().length} cores, Node ${process.version}, load ${os.loadavg()[0].toFixed(1)}; ${SEQ} sequential calls, ${PAR_TOTAL} with ${IN_FLIGHT} in flight (echo on server-everything)\n`,
  )
  for (let round = 0; round < 2; round++) {
    for (const [name, open] of Object.entries(sides)) {
      const c = await open()
      results[name].push(await measure(c))
      await c.close()
    }
  }
  const best = (rs) => ({
    p50: Math.min(...rs.map((r) => r.p50)),
    p99: Math.min(...rs.map((r) => r.p99)),
    parRate: Math.max(...rs.map((r) => r.parRate)),
  })
  const direct = best(results.direct)
  const us = (ms) => `${(ms * 1000).toFixed(0)} µs`
  const rows = [['', 'p50', 'p50 added', 'p99', `calls/s, ${IN_FLIGHT} in flight`, '× direct']]
  for (const name of Object.keys(sides)) {
    const r = best(results[name])
    rows.push([
      name,
      us(r.p50),
      name === 'direct' ? '' : `+${us(r.p50 - direct.p50)}`,
      us(r.p99),
      r.parRate.toFixed(0),
      `${(r.parRate / direct.parRate).toFixed(2)}×`,
    ])
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '))
  process.exit(0)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
