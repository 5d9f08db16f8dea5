import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  contentSecurityPolicy,
  ensureUiToken,
  isAllowedHost,
  isAllowedOrigin,
  resolveStatic,
  tokenMatches,
} from '../../src/gateway/http/ui-server'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-ui-'))
  dirs.push(d)
  return d
}

describe('ui-server security predicates', () => {
  it('accepts only our loopback Host and Origin', () => {
    expect(isAllowedHost('127.0.0.1:4310', 4310)).toBe(true)
    expect(isAllowedHost('localhost:4310', 4310)).toBe(true)
    for (const h of [
      undefined,
      '127.0.0.1',
      '127.0.0.1:4311',
      'evil.example:4310',
      'localhost.evil.example:4310',
      '[::1]:4310',
    ])
      expect(isAllowedHost(h, 4310)).toBe(false)
    expect(isAllowedOrigin(undefined, 4310)).toBe(true)
    expect(isAllowedOrigin('http://127.0.0.1:4310', 4310)).toBe(true)
    expect(isAllowedOrigin('http://localhost:4310', 4310)).toBe(true)
    for (const o of [
      'null',
      'http://evil.example',
      'http://127.0.0.1:4311',
      'https://127.0.0.1:4310',
      'file://',
    ])
      expect(isAllowedOrigin(o, 4310)).toBe(false)
  })

  it('compares tokens exactly', () => {
    const t = 'a'.repeat(64)
    expect(tokenMatches(t, t)).toBe(true)
    expect(tokenMatches(t, 'a'.repeat(63))).toBe(false)
    expect(tokenMatches(t, 'b'.repeat(64))).toBe(false)
    expect(tokenMatches(t, undefined)).toBe(false)
    expect(tokenMatches(t, 42)).toBe(false)
  })

  it('creates the token file 0600 once and reuses it', () => {
    const file = path.join(tmp(), 'ui-token')
    const a = ensureUiToken(file)
    expect(a).toMatch(/^[0-9a-f]{64}$/)
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    expect(ensureUiToken(file)).toBe(a)
    fs.chmodSync(file, 0o644)
    expect(ensureUiToken(file)).toBe(a)
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    fs.writeFileSync(file, 'garbage')
    expect(ensureUiToken(file)).not.toBe(a)
  })

  it('builds the CSP for the port', () => {
    expect(contentSecurityPolicy(1234)).toContain(
      "connect-src 'self' ws://127.0.0.1:1234 ws://localhost:1234",
    )
    expect(contentSecurityPolicy(1234)).toContain("frame-ancestors 'none'")
  })

  it('resolves static paths inside the renderer directory only', () => {
    const base = tmp()
    const root = path.join(base, 'renderer')
    fs.mkdirSync(path.join(root, 'assets'), { recursive: true })
    fs.writeFileSync(path.join(root, 'index.html'), '<html>')
    fs.writeFileSync(path.join(root, 'assets', 'app.js'), '1')
    fs.writeFileSync(path.join(base, 'secret.txt'), 'no')
    fs.symlinkSync(path.join(base, 'secret.txt'), path.join(root, 'assets', 'link.txt'))
    const real = fs.realpathSync(root)
    expect(resolveStatic(root, '/')).toBe(path.join(real, 'index.html'))
    expect(resolveStatic(root, '/settings')).toBe(path.join(real, 'index.html'))
    expect(resolveStatic(root, '/assets/app.js')).toBe(path.join(real, 'assets', 'app.js'))
    expect(resolveStatic(root, '/assets/%61pp.js')).toBe(path.join(real, 'assets', 'app.js'))
    for (const p of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/assets/link.txt',
      '/assets/',
      '/x%00.js',
      '/%E0%A4%A',
      '/..\\secret.txt',
      '/assets/missing.js',
    ]) {
      const r = resolveStatic(root, p)
      expect(r === null || r === path.join(real, 'index.html'), p).toBe(true)
      expect(r).not.toBe(path.join(base, 'secret.txt'))
    }
    expect(resolveStatic(root, '/assets/link.txt')).toBeNull()
    expect(resolveStatic(root, '/assets/missing.js')).toBeNull()
  })
})
