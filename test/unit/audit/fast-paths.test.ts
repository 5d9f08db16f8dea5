import { describe, expect, it } from 'vitest'
import {
  AuditLog,
  CANONICAL_KEYS,
  canonicalLine,
  capArgs,
  secretKeyMatcher,
} from '../../../src/gateway/audit'
import { parseStoredLine } from '../../../src/gateway/audit/canonical'
import { capArgsWithJson } from '../../../src/gateway/audit/redact'
import { lines, tempDir } from './helpers'

// The writer's fast paths must give byte for byte what the general definitions give.

/** The canonical line by its definition: JSON.stringify of the members in CANONICAL_KEYS order. */
function byDefinition(r: Record<string, unknown>): string {
  const o: Record<string, unknown> = {}
  for (const k of CANONICAL_KEYS) o[k] = r[k]
  return JSON.stringify(o)
}

const awkward = [
  '',
  'plain',
  'quo"te',
  'back\\slash',
  'nl\n',
  '\u0000\u001f\u007f',
  '\u2028\u2029',
  'é€😀',
  '\ud800 lone',
  'lone \udfff',
  '</script>',
]

describe('canonicalLine', () => {
  it('equals JSON.stringify of the record in key order, for awkward strings and numbers', () => {
    for (const s of awkward) {
      for (const n of [0, -0, 1.5, 1e21, 1e-7, NaN, Infinity, 2 ** 53]) {
        const r = {
          seq: 3,
          ts: s,
          kind: 'call',
          callId: s,
          session: 'x',
          tool: s,
          latencyMs: n,
          detail: s,
          args: { [s]: s },
          prev: s,
        }
        expect(canonicalLine(r as never)).toBe(byDefinition(r))
        expect(canonicalLine(r as never, JSON.stringify(r.args))).toBe(byDefinition(r))
      }
    }
  })

  it('falls back for values that are not strings, numbers or booleans', () => {
    const r = {
      seq: 1,
      ts: 't',
      kind: 'call',
      callId: null,
      session: { toJSON: () => 'j' },
      client: () => 1,
      decision: true,
      rule: [1],
      prev: '',
    }
    expect(canonicalLine(r as never)).toBe(byDefinition(r))
  })
})

describe('capArgs on small plain arguments', () => {
  const isSecret = secretKeyMatcher(['extra', 'x-*'])
  it('copies them exactly and returns their JSON', () => {
    for (const args of [
      {},
      [],
      { a: 1, b: [true, null, 'x'], c: { d: { e: -0 } } },
      { [awkward.join('')]: awkward },
      Object.assign(Object.create(null), { k: 'v' }),
    ]) {
      const out = capArgsWithJson(args, isSecret)
      expect(out?.value).toEqual(args)
      expect(out?.value).not.toBe(args)
      expect(out?.json).toBe(JSON.stringify(args))
    }
  })

  it('still redacts secret-looking and configured keys at any depth', () => {
    const out = capArgs(
      { a: [{ b: { c: { github_token: 't', keep: 1 } } }], Extra: 'e', 'X-Thing': 'x' },
      isSecret,
    )
    expect(out).toEqual({
      a: [{ b: { c: { github_token: '[REDACTED]', keep: 1 } } }],
      Extra: '[REDACTED]',
      'X-Thing': '[REDACTED]',
    })
  })

  it('leaves non-JSON values to the general walk', () => {
    const cyc: Record<string, unknown> = { a: 1 }
    cyc['self'] = cyc
    expect(
      capArgs({ n: NaN, u: undefined, d: new Date(0), f: () => 1, big: 1n, cyc }, isSecret),
    ).toEqual({
      n: 'NaN',
      d: '1970-01-01T00:00:00.000Z',
      big: '1',
      cyc: { a: 1, self: '[circular]' },
    })
    expect(
      capArgs({ deep: [[[[[[[[[[[[[[[[[['x']]]]]]]]]]]]]]]]]] }, isSecret, { maxDepth: 4 }),
    ).toEqual({ deep: [[['[max depth]']]] })
    expect(capArgs({ long: 'x'.repeat(50) }, isSecret, { maxBytes: 64 })).toEqual({
      long: 'x'.repeat(50),
    })
  })
})

describe('AuditLog timestamps', () => {
  it('are new Date(now).toISOString() for any clock value, fractional ones and day changes too', async () => {
    const { dir, cleanup } = tempDir()
    try {
      const base = Date.parse('2026-11-21T23:59:58.000Z')
      const times = [
        base,
        base + 0.7,
        base + 1,
        base + 1,
        base + 999.999,
        base + 1999.5,
        base + 2000,
        base + 3_723_456.25,
        base + 86_400_000 * 3 + 7,
      ]
      let i = 0
      const log = AuditLog.open({ dir, now: () => times[Math.min(i, times.length - 1)] as number })
      const recs = []
      for (; i < times.length; i++)
        recs.push(
          log.append({
            kind: 'call',
            callId: `c${i}`,
            session: 's',
            server: 'sv',
            tool: 't',
            decision: 'allow',
            decidedBy: 'policy',
          }),
        )
      expect(recs.map((r) => r.ts)).toEqual(times.map((t) => new Date(t).toISOString()))
      expect(log.lastTsMs).toBe(Date.parse(recs.at(-1)?.ts as string))
      await log.close()
      const stored = (await import('node:fs'))
        .readdirSync(dir)
        .sort()
        .flatMap((f) => lines(`${dir}/${f}`))
      expect(stored.map((l) => parseStoredLine(l))).toEqual(recs)
    } finally {
      cleanup()
    }
  })
})
