/**
 * Crash consistency: `kill -9` the gateway at a random point of a stream of tool calls, start it
 * again, and check that every call the server ran has its `call` record (the decision is written
 * before the call is forwarded) and that the audit chain verifies (a torn last line is recovered
 * on start). 30 trials here; `npm run torture` runs 1 000 (AIRLOCK_TORTURE_TRIALS).
 */
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { verifyAudit } from '../../src/gateway/audit'
import { Env, ROOT, waitFor } from '../helpers/harness'

const NAIVE = path.join(ROOT, 'test', 'fixtures', 'servers', 'naive-server.mjs')
const TRIALS = Number(process.env.AIRLOCK_TORTURE_TRIALS ?? 30)
const CALLS_PER_TRIAL = 60

let env: Env
let execLog: string

beforeAll(() => {
  env = new Env()
  execLog = path.join(env.home, 'exec.jsonl')
  const policy = env.writePolicy('naive', { version: '1', default: 'allow' })
  env.writeConfig(
    [
      {
        name: 'naive',
        command: process.execPath,
        args: [NAIVE],
        env: { EXEC_LOG: execLog },
        policy,
      },
    ],
    { riskFloor: 'off' },
  )
})

afterAll(async () => {
  await env.cleanup()
})

/** `_fz` nonces of the calls the server ran. */
function ran(): string[] {
  if (!fs.existsSync(execLog)) return []
  return fs
    .readFileSync(execLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => {
      try {
        return [String((JSON.parse(l) as { args: { _fz?: unknown } }).args._fz)]
      } catch {
        return [] // the server may die mid-line with its gateway
      }
    })
}

/** `_fz` nonces of the `call` records that let a call through. */
function recorded(): Set<string> {
  const dir = path.join(env.home, 'audit')
  const out = new Set<string>()
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.jsonl'))) {
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      if (!line) continue
      const r = JSON.parse(line) as { kind: string; decision?: string; args?: { _fz?: unknown } }
      if (r.kind === 'call' && r.decision === 'allow' && typeof r.args?._fz === 'string')
        out.add(r.args._fz)
    }
  }
  return out
}

it(
  `kill -9 at random points (${TRIALS} trials): every executed call has its record, audit verify passes`,
  { timeout: 60_000 + TRIALS * 5_000 },
  async () => {
    let nonce = 0
    let killedMidStream = 0
    await env.startGateway()
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: CALLS_PER_TRIAL }), async (killAfter) => {
        const shim = env.shim('naive')
        await shim.initialize()
        const from = shim.messages.length
        const lines: string[] = []
        for (let i = 0; i < CALLS_PER_TRIAL; i++) {
          lines.push(
            JSON.stringify({
              jsonrpc: '2.0',
              id: i,
              method: 'tools/call',
              params: { name: 'echo', arguments: { _fz: `n${++nonce}` } },
            }),
          )
        }
        shim.proc.stdin!.write(lines.join('\n') + '\n')
        // The kill point: after `killAfter` answers (0: as soon as the stream is written).
        await waitFor(() => shim.messages.length - from >= killAfter, 10_000, 'answers')
        const gateway = env.gateway!
        gateway.kill('SIGKILL')
        await new Promise((r) =>
          gateway.exitCode !== null || gateway.signalCode !== null
            ? r(null)
            : gateway.once('exit', r),
        )
        if (shim.messages.length - from < CALLS_PER_TRIAL) killedMidStream++
        shim.proc.kill('SIGKILL')
        await shim.exited
        // A new gateway recovers a torn last line; then the log must be whole and complete.
        await env.startGateway()
        const verify = verifyAudit(path.join(env.home, 'audit'))
        expect(verify.problem).toBeUndefined()
        const have = recorded()
        const missing = ran().filter((n) => !have.has(n))
        expect(missing).toEqual([])
      }),
      { numRuns: TRIALS, seed: 11, endOnFailure: true },
    )
    expect(ran().length).toBeGreaterThan(0)
    // Some kills must land mid-stream, or the test proves little.
    expect(killedMidStream).toBeGreaterThan(0)
    const cli = await env.run(['audit', 'verify'])
    expect(cli.code, cli.stdout + cli.stderr).toBe(0)
  },
)
