import * as fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { AuditLog, capArgs, secretKeyMatcher, verifyAudit } from '../../../src/gateway/audit'
import { redactExcerpt, redactSecretValues } from '../../../src/gateway/audit/redact'
import { canonicalJson } from '../../../src/shared/canonical-json'
import { excerpt } from '../../../src/shared/text'
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

describe('prototype keys', () => {
  // Arguments arrive as JSON text: JSON.parse makes "__proto__" an own key like any other.
  const hostile = JSON.parse(
    '{"__proto__":{"x":1},"constructor":"c","toString":"t","hasOwnProperty":1,"nested":{"__proto__":[1,"sk-abcdefghijklmnopqrstu"]}}',
  ) as unknown
  const expected =
    '{"__proto__":{"x":1},"constructor":"c","toString":"t","hasOwnProperty":1,"nested":{"__proto__":[1,"[REDACTED]"]}}'

  it('keeps __proto__, constructor and toString byte for byte, in both copy paths', () => {
    expect(JSON.stringify(cap(hostile))).toBe(expected)
    // The general walk (a secret-looking key forces it) keeps them too.
    const slow = JSON.parse(`{"token":"x",${expected.slice(1)}`) as unknown
    expect(JSON.stringify(cap(slow))).toBe(`{"token":"[REDACTED]",${expected.slice(1)}`)
    // And when the object is too wide for the fast path.
    const wide = JSON.parse(
      `{${Array.from({ length: 150 }, (_, i) => `"k${i}":${i}`).join(',')},"__proto__":"p"}`,
    ) as Record<string, unknown>
    expect(Object.keys(cap(wide) as object)).not.toContain('__proto__') // past the 100-key cap
    const narrow = JSON.parse('{"__proto__":"p","a":"b"}') as unknown
    expect(JSON.stringify(capArgs(narrow, isSecret, { maxBytes: 64, maxKeys: 1 }))).toBe(
      '{"__proto__":"p","…":"[1 more keys]"}',
    )
  })

  it('writes them to the audit record and the chain verifies', async () => {
    const { dir, cleanup } = tempDir()
    try {
      const log = AuditLog.open({ dir })
      const rec = log.append(input(1, { args: hostile }))
      await log.close()
      expect(JSON.stringify(rec.args)).toBe(expected)
      const line = fs.readFileSync(path.join(dir, fs.readdirSync(dir)[0]!), 'utf8')
      expect(line).toContain(`"args":${expected}`)
      expect((await verifyAudit(dir)).ok).toBe(true)
    } finally {
      cleanup()
    }
  })

  it('canonical JSON keeps them and sorts them', () => {
    expect(canonicalJson(JSON.parse('{"toString":1,"__proto__":2,"constructor":3}'))).toBe(
      '{"__proto__":2,"constructor":3,"toString":1}',
    )
    expect(canonicalJson(JSON.parse('{"__proto__":{"b":1,"a":2}}'))).toBe(
      '{"__proto__":{"a":2,"b":1}}',
    )
  })
})

describe('secret values', () => {
  const jwt =
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'
  const pem =
    '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nabc\n-----END RSA PRIVATE KEY-----'
  const cases: [string, string][] = [
    [`Bearer ${jwt}`, 'Bearer [REDACTED]'],
    ['key sk-ant-api03-abcdefghijklmnopqrstuvwxyz here', 'key [REDACTED] here'],
    ['sk-proj-0123456789abcdef0123', '[REDACTED]'],
    ['ghp_0123456789abcdefghijABCDEFGHIJ0123', '[REDACTED]'],
    ['github_pat_11ABCDEFG0123456789_abcdefghijklmnop', '[REDACTED]'],
    ['xoxb-1234567890-abcdefghij', '[REDACTED]'],
    ['id AKIAIOSFODNN7EXAMPLE.', 'id [REDACTED].'],
    [`a\n${pem}\nb`, 'a\n[REDACTED]\nb'],
    ['-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA', '[REDACTED]'], // cut off
    [
      'HOME=/root\nGITHUB_TOKEN=abc123\nexport DB_PASSWORD="p w"\nPATH=/bin\napi_key: xyz',
      'HOME=/root\nGITHUB_TOKEN=[REDACTED]\nexport DB_PASSWORD=[REDACTED]\nPATH=/bin\napi_key: [REDACTED]',
    ],
  ]
  it.each(cases)('redacts %j', (text, want) => {
    expect(redactSecretValues(text, isSecret)).toBe(want)
  })

  it('leaves ordinary text alone', () => {
    for (const text of [
      'skip-this-one please',
      'max_tokens=100',
      'author: Jane',
      'https://example.com/a?b=c',
      'eyJust a word',
      'AKIA is not enough',
    ])
      expect(redactSecretValues(text, isSecret)).toBe(text)
  })

  it('redacts values in arguments, whatever their key', () => {
    expect(cap({ q: `use ${jwt}`, list: ['ghp_0123456789abcdefghijABCDEFGHIJ0123'] })).toEqual({
      q: 'use [REDACTED]',
      list: ['[REDACTED]'],
    })
  })

  it('redacts lines of an excerpt, whose line breaks are escaped', () => {
    const env = 'HOME=/root\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG\nSHELL=/bin/sh'
    expect(redactExcerpt(excerpt(env), isSecret)).toBe(
      'HOME=/root\\u000aAWS_SECRET_ACCESS_KEY=[REDACTED]\\u000aSHELL=/bin/sh',
    )
  })

  it('is linear on hostile input', () => {
    for (const s of [
      'eyJ'.repeat(300_000),
      'sk-'.repeat(300_000),
      '-----BEGIN '.repeat(90_000),
      'a'.repeat(1_000_000) + '=',
    ])
      expect(typeof redactSecretValues(s, isSecret)).toBe('string') // a backtracking pattern would not finish
  })

  it('redacts result excerpts in outcome records, or drops them when resultExcerpts is off', async () => {
    const { dir, cleanup } = tempDir()
    try {
      const outcome = (detail: string) =>
        input(1, { kind: 'outcome', args: undefined, decision: undefined, outcome: 'ok', detail })
      const on = AuditLog.open({ dir })
      const a = on.append(outcome(excerpt('TOKEN=s3cret\nUSER=me')))
      const b = on.append({ ...outcome(`bad key ${jwt}`), outcome: 'error' })
      await on.close()
      expect(a.detail).toBe('TOKEN=[REDACTED]\\u000aUSER=me')
      expect(b.detail).toBe('bad key [REDACTED]')
      const off = AuditLog.open({ dir, resultExcerpts: false })
      const c = off.append(outcome('some output'))
      const d = off.append({ ...outcome('server said no'), outcome: 'error' })
      await off.close()
      expect(c.detail).toBeUndefined()
      expect(d.detail).toBe('server said no') // errors are not result excerpts
      expect((await verifyAudit(dir)).ok).toBe(true)
    } finally {
      cleanup()
    }
  })
})

describe('size caps', () => {
  it('cuts a 5 MiB string argument to fit argsMaxBytes', async () => {
    const { dir, cleanup } = tempDir()
    try {
      const log = AuditLog.open({ dir })
      const big = 'x'.repeat(5 * 1024 * 1024)
      const rec = log.append(input(1, { args: { path: '/a', content: big } }))
      await log.close()
      const args = rec.args as { path: string; content: string }
      expect(jsonBytes(args)).toBeLessThanOrEqual(4096)
      expect(args.path).toBe('/a')
      expect(args.content).toMatch(/^x+…\[truncated \d+ chars\]$/)
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

  it('survives cycles, absurd depth, huge arrays and wide objects', () => {
    const cyclic: Record<string, unknown> = { name: 'a' }
    cyclic['self'] = cyclic
    expect(cap(cyclic)).toEqual({ name: 'a', self: '[circular]' })

    let deep: unknown = 'bottom'
    for (let i = 0; i < 100_000; i++) deep = { d: deep }
    const huge = Array.from({ length: 1_000_000 }, (_, i) => i)
    const wide: Record<string, number> = {}
    for (let i = 0; i < 100_000; i++) wide[`k${i}`] = i

    const d = cap(deep)
    const h = cap(huge) as unknown[]
    const w = cap(wide) as Record<string, unknown>
    expect(JSON.stringify(d)).toContain('[max depth]')
    expect(h).toHaveLength(101)
    expect(h.at(-1)).toBe('…[999900 more items]')
    expect(w['…']).toBe('[99900 more keys]')
    for (const v of [d, h, w]) expect(jsonBytes(v)).toBeLessThanOrEqual(4096)
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
