/**
 * Property-based fuzzing (fast-check) through the real shim and gateway, with a hand-rolled
 * server that runs whatever reaches it: well-formed and malformed requests, id-less calls,
 * duplicate ids, bad params, batches, random JSON and garbage lines — at least 10 000 frames per
 * run. After each batch of frames: the gateway is up, every request with a valid id was answered
 * exactly once, and every tools/call the server ran has its `allow` record in the audit log.
 */
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { Env, ROOT, waitFor, type RawShim } from '../helpers/harness'

const NAIVE = path.join(ROOT, 'test', 'fixtures', 'servers', 'naive-server.mjs')
const RUNS = 20
const FRAMES_PER_RUN = 520 // lines per run, so that a run of the test sends over 10 000

let env: Env
let execLog: string

beforeAll(async () => {
  env = new Env()
  execLog = path.join(env.home, 'exec.jsonl')
  const policy = env.writePolicy('naive', {
    version: '1',
    default: 'allow',
    hide: ['secret'],
    tools: { danger: { rules: [{ name: 'no danger', action: 'deny' }] } },
  })
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
  await env.startGateway()
})

afterAll(async () => {
  await env.cleanup()
})

type Spec =
  | { k: 'call'; tool: string; args: Record<string, unknown> }
  | { k: 'ping' | 'list' | 'unknown' | 'dup' | 'notif' }
  | { k: 'idless'; tool: string; args: Record<string, unknown> }
  | { k: 'badparams'; params: unknown }
  | { k: 'noname'; args: Record<string, unknown> }
  | { k: 'garbage'; text: string }
  | { k: 'json'; value: unknown }
  | { k: 'batch'; items: Spec[] }

const tool = fc.constantFrom('echo', 'add', 'danger', 'secret', 'print_env', 'nope')
const key = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'password', 'a', 'b'),
)
const args = fc.dictionary(key, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
const simple: fc.Arbitrary<Spec> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant('call' as const), tool, args }) },
  { weight: 2, arbitrary: fc.constantFrom<Spec>({ k: 'ping' }, { k: 'list' }, { k: 'unknown' }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('idless' as const), tool, args }) },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('badparams' as const),
      params: fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.array(fc.integer())),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('noname' as const), args }) },
  { weight: 1, arbitrary: fc.constantFrom<Spec>({ k: 'dup' }, { k: 'notif' }) },
)
const frame: fc.Arbitrary<Spec> = fc.oneof(
  { weight: 10, arbitrary: simple },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('garbage' as const),
      text: fc.string({ maxLength: 40 }).map((s) => s.replace(/[\n\r]/g, ' ')),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant('json' as const), value: fc.jsonValue({ maxDepth: 2 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('batch' as const),
      items: fc.array(simple, { minLength: 1, maxLength: 4 }),
    }),
  },
)

/** Turns specs into lines; `expect` counts the answers each id must get. */
function render(
  specs: Spec[],
  state: { seq: number; lastId?: string | number; expect: Map<string, number> },
): string[] {
  const nextId = (): string | number => {
    const n = ++state.seq
    const id = n % 3 === 0 ? n : `f${n}`
    state.lastId = id
    return id
  }
  const request = (id: string | number, method: string, params?: unknown): unknown => {
    const k = JSON.stringify(id)
    state.expect.set(k, (state.expect.get(k) ?? 0) + 1)
    return { jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }
  }
  const one = (s: Spec): unknown => {
    switch (s.k) {
      case 'call':
        return request(nextId(), 'tools/call', {
          name: s.tool,
          arguments: { ...s.args, _fz: `z${state.seq + 1}` },
        })
      case 'ping':
        return request(nextId(), 'ping')
      case 'list':
        return request(nextId(), 'tools/list')
      case 'unknown':
        return request(nextId(), 'fuzz/unknown', {})
      case 'dup':
        return request(state.lastId ?? nextId(), 'ping')
      case 'notif':
        return {
          jsonrpc: '2.0',
          method: 'notifications/progress',
          params: { progressToken: 1, progress: 1 },
        }
      case 'idless':
        return {
          jsonrpc: '2.0',
          method: 'tools/call',
          params: { name: s.tool, arguments: { ...s.args, _fz: `idless${++state.seq}` } },
        }
      case 'badparams':
        return request(nextId(), 'tools/call', s.params)
      case 'noname':
        return request(nextId(), 'tools/call', { arguments: s.args })
      case 'json':
        return s.value
      case 'garbage':
        return s.text
      case 'batch':
        return s.items.map(one)
    }
  }
  return specs.map((s) => {
    const v = one(s)
    return s.k === 'garbage' ? (v as string) : JSON.stringify(v)
  })
}

/** Every message the shim printed, batch responses flattened. */
function answers(shim: RawShim, from: number): Record<string, unknown>[] {
  return shim.messages
    .slice(from)
    .flatMap((m) => (Array.isArray(m) ? (m as Record<string, unknown>[]) : [m]))
    .filter((m) => 'id' in m && ('result' in m || 'error' in m))
}

it(
  `${RUNS * FRAMES_PER_RUN} fuzzed frames: the gateway stays up, every request is answered once, nothing runs unrecorded`,
  { timeout: 120_000 },
  async () => {
    const shim = env.shim('naive')
    await shim.initialize()
    // The gateway knows the server's tools from here on: no call waits for its own tools/list.
    shim.send({ jsonrpc: '2.0', id: 'list-0', method: 'tools/list' })
    await shim.response('list-0')
    const state = { seq: 0, expect: new Map<string, number>() }
    let sentinel = 0
    let frames = 0
    const count = (from: number, sentinelId: string): Map<string, number> => {
      const got = new Map<string, number>()
      for (const a of answers(shim, from)) {
        if (a.id === null || a.id === sentinelId) continue
        const k = JSON.stringify(a.id)
        got.set(k, (got.get(k) ?? 0) + 1)
      }
      return got
    }
    const same = (a: Map<string, number>, b: Map<string, number>): boolean =>
      a.size === b.size && [...a].every(([k, v]) => b.get(k) === v)
    const result = await fc.check(
      fc.asyncProperty(
        fc.array(frame, { minLength: FRAMES_PER_RUN, maxLength: FRAMES_PER_RUN }),
        async (specs) => {
          const from = shim.messages.length
          state.expect = new Map()
          const lines = render(specs, state)
          frames += lines.length
          shim.proc.stdin!.write(lines.join('\n') + '\n')
          const id = `sentinel-${++sentinel}`
          shim.send({ jsonrpc: '2.0', id, method: 'ping' })
          await shim.response(id, 30_000)
          // Answers the gateway decides later than the ping (none expected) get a bounded wait.
          await waitFor(() => same(count(from, id), state.expect), 5000).catch(() => undefined)
          const got = count(from, id)
          const missing = [...state.expect].filter(([k, v]) => got.get(k) !== v)
          const extra = [...got].filter(([k]) => !state.expect.has(k))
          if (missing.length || extra.length)
            throw new Error(
              `answers per id differ: expected/got ${missing
                .slice(0, 5)
                .map(([k, v]) => `${k}: ${v}/${got.get(k) ?? 0}`)
                .join(', ')}; unexpected ${extra
                .slice(0, 5)
                .map(([k]) => k)
                .join(', ')}`,
            )
        },
      ),
      { numRuns: RUNS, seed: 7, endOnFailure: true },
    )
    // Reported without the counterexample (hundreds of frames): the seed replays it.
    if (result.failed)
      throw new Error(
        `fuzzing failed (seed ${result.seed}, run ${result.numRuns}): ${String((result.errorInstance as Error | undefined)?.message ?? 'too many skips or interrupted')}`,
      )
    expect(frames).toBeGreaterThanOrEqual(10_000)

    // Nothing the server ran is without its allow record; hidden and denied tools never ran.
    const ran = fs
      .readFileSync(execLog, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { tool: unknown; args: Record<string, unknown> })
    expect(ran.length).toBeGreaterThan(100)
    const allowed = new Map<string, number>()
    for (const r of env.auditRecords()) {
      const a = r.args as Record<string, unknown> | undefined
      if (r.kind === 'call' && r.decision === 'allow' && typeof a?._fz === 'string')
        allowed.set(`${String(r.tool)}\u0000${a._fz}`, 1)
    }
    for (const r of ran) {
      expect(['danger', 'secret']).not.toContain(r.tool)
      expect(String(r.args._fz)).toMatch(/^z\d+$/) // never an id-less call
      expect(allowed.has(`${String(r.tool)}\u0000${String(r.args._fz)}`), JSON.stringify(r)).toBe(
        true,
      )
    }
    // The gateway is still up: a new session works.
    const again = env.shim('naive')
    await again.initialize()
    expect(env.gateway?.exitCode).toBeNull()
  },
)
