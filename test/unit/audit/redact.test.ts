import { describe, expect, it } from 'vitest'
import { AuditLog, capArgs, secretKeyMatcher, verifyAudit } from '../../../src/gateway/audit'
import { input, tempDir } from './helpers'

const isSecret = secretKeyMatcher()
const cap = (v: unknown, maxBytes = 4096): unknown => capArgs(v, isSecret, { maxBytes })
const jsonBytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v))

describe('redaction', () => {
  it('redacts secret-looking keys at any depth, case-insensitively', () => {
    const out = cap({
      query: 'select 1',
      auth: 'a',
      nested: {
        list: [
          {
            password: 'p',
            Passwd: 'p',
            apiKey: 'k',
            api_key: 'k',
            'X-Api-Key': 'k',
            Authorization: 'Bearer t',
            github_token: 't',
            client_secret: 's',
            Cookie: 'c',
            credentials: { user: 'u', pass: 'p' },
            private_key: 'pk',
            sessionId: 's',
            authHeader: 'h',
            keep: 'visible',
          },
        ],
      },
    })
    expect(out).toEqual({
      query: 'select 1',
      auth: '[REDACTED]',
      nested: {
        list: [
          {
            password: '[REDACTED]',
            Passwd: '[REDACTED]',
            apiKey: '[REDACTED]',
            api_key: '[REDACTED]',
            'X-Api-Key': '[REDACTED]',
            Authorization: '[REDACTED]',
            github_token: '[REDACTED]',
            client_secret: '[REDACTED]',
            Cookie: '[REDACTED]',
            credentials: '[REDACTED]',
            private_key: '[REDACTED]',
            sessionId: '[REDACTED]',
            authHeader: '[REDACTED]',
            keep: 'visible',
          },
        ],
      },
    })
  })

  it('does not redact look-alikes: author, max_tokens', () => {
    expect(cap({ author: 'me', max_tokens: 100, maxTokens: 5, path: '/x' })).toEqual({
      author: 'me',
      max_tokens: 100,
      maxTokens: 5,
      path: '/x',
    })
  })

  it('redacts user-configured keys (exact, case-insensitive, * wildcard)', () => {
    const custom = secretKeyMatcher(['SSN', 'internal_*'])
    expect(capArgs({ ssn: '1', a: { internal_id: 2, internalx: 3 } }, custom)).toEqual({
      ssn: '[REDACTED]',
      a: { internal_id: '[REDACTED]', internalx: 3 },
    })
  })

  it('is applied by append, with redactKeys from the options', async () => {
    const { dir, cleanup } = tempDir()
    try {
      const log = AuditLog.open({ dir, redactKeys: ['customer'] })
      const rec = log.append(input(1, { args: { customer: 'ACME', deep: [{ token: 'abc' }] } }))
      await log.close()
      expect(rec.args).toEqual({ customer: '[REDACTED]', deep: [{ token: '[REDACTED]' }] })
    } finally {
      cleanup()
    }
  })
})

describe('size caps', () => {
  it('cuts a 5 MiB string argument to fit argsMaxBytes, quickly', async () => {
    const { dir, cleanup } = tempDir()
    try {
      const log = AuditLog.open({ dir })
      const big = 'x'.repeat(5 * 1024 * 1024)
      const t0 = performance.now()
      const rec = log.append(input(1, { args: { path: '/a', content: big } }))
      const ms = performance.now() - t0
      await log.close()
      const args = rec.args as { path: string; content: string }
      expect(jsonBytes(args)).toBeLessThanOrEqual(4096)
      expect(args.path).toBe('/a')
      expect(args.content).toMatch(/^x+…\[truncated \d+ chars\]$/)
      expect(ms).toBeLessThan(200)
      expect(verifyAudit(dir)).toMatchObject({ ok: true, records: 1 })
    } finally {
      cleanup()
    }
  })

  it('keeps arguments that fit unchanged', () => {
    const args = { text: 'y'.repeat(3000), n: 1 }
    expect(cap(args)).toEqual(args)
  })

  it('falls back to an excerpt when cutting strings is not enough', () => {
    const wide: Record<string, string> = {}
    for (let i = 0; i < 90; i++) wide[`field_${i}`] = 'v'.repeat(60_000)
    const out = cap(wide) as { _truncated: boolean; excerpt: string; bytes: number }
    expect(out._truncated).toBe(true)
    expect(out.excerpt.startsWith('{"field_0":"vvv')).toBe(true)
    expect(out.bytes).toBeGreaterThan(5 * 1024 * 1024)
    expect(jsonBytes(out)).toBeLessThanOrEqual(4096)
  })

  it('keeps the excerpt within the cap even when escaping inflates it', () => {
    const quotes = Array.from({ length: 200 }, () => '"\\"'.repeat(300))
    const out = cap({ quotes }, 512)
    expect(jsonBytes(out)).toBeLessThanOrEqual(512)
  })

  it('survives cycles, absurd depth, huge arrays and wide objects, fast', () => {
    const cyclic: Record<string, unknown> = { name: 'a' }
    cyclic['self'] = cyclic
    expect(cap(cyclic)).toEqual({ name: 'a', self: '[circular]' })

    let deep: unknown = 'bottom'
    for (let i = 0; i < 100_000; i++) deep = { d: deep }
    const huge = Array.from({ length: 1_000_000 }, (_, i) => i)
    const wide: Record<string, number> = {}
    for (let i = 0; i < 100_000; i++) wide[`k${i}`] = i

    const t0 = performance.now()
    const d = cap(deep)
    const h = cap(huge) as unknown[]
    const w = cap(wide) as Record<string, unknown>
    const ms = performance.now() - t0
    expect(JSON.stringify(d)).toContain('[max depth]')
    expect(h).toHaveLength(101)
    expect(h.at(-1)).toBe('…[999900 more items]')
    expect(w['…']).toBe('[99900 more keys]')
    for (const v of [d, h, w]) expect(jsonBytes(v)).toBeLessThanOrEqual(4096)
    expect(ms).toBeLessThan(500)
  })

  it('turns values JSON cannot hold into something readable', () => {
    expect(
      cap({ n: Number.NaN, big: 10n, when: new Date(0), buf: Buffer.from('abc'), f: () => 1 }),
    ).toEqual({
      n: 'NaN',
      big: '10',
      when: '1970-01-01T00:00:00.000Z',
      buf: '[binary 3 bytes]',
    })
  })
})
