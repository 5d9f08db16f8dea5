import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Gateway } from './src/gateway/gateway.ts'
import { ControlService } from './src/gateway/control-service.ts'
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'gwb-'))
const gw = new Gateway({ home, log: () => {} })
await gw.listen()
if (process.env.SVC) { new ControlService(gw, {}).start(); await new Promise((r) => setTimeout(r, 300)) }
const N = 20000
const call = (i: number) => ({ kind: 'call' as const, callId: 's.' + i, session: 's', client: 'bench', server: 'everything', tool: 'echo', args: { message: 'benchmark' }, decision: 'allow' as const, decidedBy: 'policy' as const })
const out = (i: number) => ({ kind: 'outcome' as const, callId: 's.' + i, session: 's', client: 'bench', server: 'everything', tool: 'echo', outcome: 'ok' as const, detail: 'Echo: benchmark', latencyMs: 1 })
for (let i = 0; i < 2000; i++) { gw.appendAudit(call(i)); gw.appendAudit(out(i)) }
const t0 = performance.now()
for (let i = 2000; i < 2000 + N; i++) { gw.appendAudit(call(i)); gw.appendAudit(out(i)) }
console.log(process.env.SVC ? 'with service' : 'log only', 'µs per call (2 records):', ((performance.now() - t0) / N * 1000).toFixed(1))
await gw.close(); fs.rmSync(home, { recursive: true, force: true }); process.exit(0)
