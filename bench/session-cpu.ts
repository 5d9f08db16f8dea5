// `node --import tsx bench/session-cpu.ts`: CPU per allowed, audited call of one Session in this
// process, with in-memory links (no sockets, no child process) and a real AuditLog in a temp
// dir: the gateway's own work per call, without the I/O the floor shares. CALLS (default 20000),
// IN_FLIGHT (default 16). Run with --cpu-prof to see where it goes.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { configSchema, type ServerConfig } from '../src/shared/contract/config'
import { CounterStore } from '../src/shared/policy/counters'
import { parsePolicy } from '../src/shared/policy/parse'
import { ApprovalCenter } from '../src/gateway/approvals/approvals'
import { Grants } from '../src/gateway/approvals/grants'
import type { LiveConfig } from '../src/gateway/config/live-config'
import { AuditLog } from '../src/gateway/audit'
import { Session, type ClientLink } from '../src/gateway/proxy/session'
import type { UpstreamHandlers, UpstreamLink } from '../src/gateway/proxy/upstream-link'

const CALLS = Number(process.env.CALLS ?? 20000)
const IN_FLIGHT = Number(process.env.IN_FLIGHT ?? 16)
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-session-cpu-'))
const log = AuditLog.open({ dir, groupCommitMs: 5 })

let handlers!: UpstreamHandlers
// The server answers every call on the next turn, as echo does.
const upstream: UpstreamLink = {
  start: (h) => void (handlers = h),
  send: (messages) => {
    const out: Buffer[] = []
    for (const m of messages) {
      const id = /"id":(\d+)/.exec(m.toString('latin1'))?.[1]
      out.push(
        Buffer.from(
          `{"result":{"content":[{"type":"text","text":"Echo: benchmark"}]},"jsonrpc":"2.0","id":${id}}`,
        ),
      )
    }
    setImmediate(() => {
      for (const line of out) handlers.onmessage(line)
    })
    return true
  },
  pause: () => undefined,
  resume: () => undefined,
  close: async () => undefined,
}
let answered = 0
let onAnswer: () => void = () => undefined
const client: ClientLink = {
  write: (chunks) => {
    for (const c of chunks) for (const b of c.toString()) if (b === '\n') answered++
    onAnswer()
    return true
  },
  onDrain: () => undefined,
  pause: () => undefined,
  resume: () => undefined,
  end: () => undefined,
}
const server: ServerConfig = {
  name: 'everything',
  command: 'none',
  args: [],
  env: {},
  secretEnv: [],
  enabled: true,
}
const policy = parsePolicy('version: "1"\ndefault: allow\n', 'allow.yaml')
const session = new Session(
  {
    id: 'bench',
    server,
    live: {
      config: configSchema.parse({}),
      policyFor: () => ({ policy }),
    } as unknown as LiveConfig,
    audit: { append: (i) => log.append(i), stage: (i) => log.stage(i), commit: () => log.commit() },
    approvals: new ApprovalCenter(),
    grants: new Grants(),
    counters: new CounterStore(),
    now: Date.now,
    log: () => undefined,
    isPaused: () => false,
    defaultApprovalTimeoutMs: () => 1000,
    upstream: () => upstream,
    onClose: () => undefined,
  },
  client,
)
session.start()

let sent = 0
const line = (id: number): Buffer =>
  Buffer.from(
    `{"method":"tools/call","params":{"name":"echo","arguments":{"message":"benchmark"}},"jsonrpc":"2.0","id":${id}}\n`,
  )
async function run(n: number): Promise<void> {
  const end = sent + n
  await new Promise<void>((resolve) => {
    onAnswer = () => {
      while (sent < end && sent - answered < IN_FLIGHT) session.clientData(line(++sent))
      if (answered >= end) resolve()
    }
    onAnswer()
  })
}
await run(2000) // warm-up
const c0 = process.cpuUsage()
const t0 = performance.now()
await run(CALLS)
const cpu = process.cpuUsage(c0)
const secs = (performance.now() - t0) / 1000
console.log(
  `session: ${((cpu.user + cpu.system) / CALLS).toFixed(1)} µs CPU per call (user ${(cpu.user / CALLS).toFixed(1)}, system ${(cpu.system / CALLS).toFixed(1)}); ${(CALLS / secs).toFixed(0)} calls/s, ${IN_FLIGHT} in flight`,
)
await session.close('done')
await log.close()
fs.rmSync(dir, { recursive: true, force: true })
