import { capArgsWithJson, secretKeyMatcher } from '/work/main/src/gateway/audit/redact.ts'
import { canonicalLine, sha256Hex, storedLine } from '/work/main/src/gateway/audit/canonical.ts'
const isSecret = secretKeyMatcher([])
const t = (name: string, f: () => unknown) => { for (let i = 0; i < 20000; i++) f(); const t0 = performance.now(); for (let i = 0; i < 200000; i++) f(); console.log(name.padEnd(20), ((performance.now() - t0) / 200000 * 1e6).toFixed(0), 'ns') }
const a = { message: 'benchmark' }
t('capArgs', () => capArgsWithJson(a, isSecret, { maxBytes: 4096 }))
t('stringify', () => JSON.stringify(a))
t('iso', () => new Date(Date.now()).toISOString())
const r: any = { seq: 1, ts: new Date().toISOString(), kind: 'call', callId: 's.1', session: 's', client: 'bench', server: 'everything', tool: 'echo', decision: 'allow', decidedBy: 'policy', args: a, prev: 'a'.repeat(64) }
t('canonical', () => canonicalLine(r, '{"message":"benchmark"}'))
const c = canonicalLine(r)
t('sha', () => sha256Hex(c))
t('stored+buf', () => Buffer.from(storedLine(c, 'b'.repeat(64)), 'utf8'))
t('bytelen', () => Buffer.byteLength(storedLine(c, 'b'.repeat(64))))
t('dateparse', () => Date.parse(r.ts))
t('lower', () => ('s.1' + '\0' + '{"message":"benchmark"}' + '\0').toLowerCase())
import crypto from 'node:crypto'
const sc = Buffer.allocUnsafe(65536)
t('cryptohash', () => crypto.hash('sha256', c, 'hex'))
t('enc+hashbuf', () => { const n = sc.write(c, 0); return crypto.hash('sha256', sc.subarray(0, n), 'hex') })
t('enc+hashbuf2', () => { const n = sc.utf8Write(c, 0); return crypto.createHash('sha256').update(sc.subarray(0, n)).digest('hex') })
