import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { serveAppFile } from '../../../src/main/app-files'
import {
  contentSecurityPolicy,
  isAllowedNavigation,
  isAppUrl,
  isExternalSignInUrl,
  isPermissionGranted,
  resolveAppFile,
  secureWebPreferences,
  windowOpenDecision,
  withSecurityHeaders,
} from '../../../src/main/security'

const ROOT = path.resolve('/opt/airlock/out/renderer')
const dev = { devServer: 'http://localhost:5173' }

describe('sign-in links opened in the system browser', () => {
  it('opens http(s) only, without credentials in the URL', () => {
    expect(isExternalSignInUrl('https://auth.example/authorize?client_id=a&state=b')).toBe(true)
    expect(isExternalSignInUrl('http://127.0.0.1:8080/authorize')).toBe(true)
    for (const url of [
      'javascript:alert(1)',
      'file:///etc/passwd',
      'app://airlock/index.html',
      'smb://host/share',
      'https://user:pass@auth.example/',
      'not a url',
      `https://auth.example/${'a'.repeat(9000)}`,
    ])
      expect(isExternalSignInUrl(url), url).toBe(false)
  })
})

describe('navigation', () => {
  it('allows our own pages only', () => {
    expect(isAllowedNavigation('app://airlock/index.html')).toBe(true)
    expect(isAllowedNavigation('app://airlock/')).toBe(true)
    for (const url of [
      'https://evil.example/',
      'http://localhost:5173/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'app://other/index.html',
      'app://user:pw@airlock/index.html',
      'not a url',
    ]) {
      expect(isAllowedNavigation(url), url).toBe(false)
    }
  })

  it('allows the dev server only in development, and only on loopback', () => {
    expect(isAllowedNavigation('http://localhost:5173/#/x', dev)).toBe(true)
    expect(isAllowedNavigation('http://localhost:5174/', dev)).toBe(false)
    expect(isAppUrl('http://evil.example:5173/', { devServer: 'http://evil.example:5173' })).toBe(
      false,
    )
  })

  it('refuses new windows and permission requests', () => {
    expect(windowOpenDecision()).toEqual({ action: 'deny' })
    for (const p of [
      'media',
      'notifications',
      'geolocation',
      'clipboard-read',
      'openExternal',
      'fullscreen',
    ])
      expect(isPermissionGranted(p)).toBe(false)
  })
})

describe('app files', () => {
  it('maps app:// URLs inside the renderer build', () => {
    expect(resolveAppFile(ROOT, 'app://airlock/index.html')).toBe(path.join(ROOT, 'index.html'))
    expect(resolveAppFile(ROOT, 'app://airlock/assets/index-abc.js')).toBe(
      path.join(ROOT, 'assets', 'index-abc.js'),
    )
    expect(resolveAppFile(ROOT, 'app://airlock/')).toBe(path.join(ROOT, 'index.html'))
    expect(resolveAppFile(ROOT, 'app://airlock/approvals?x=1')).toBe(path.join(ROOT, 'index.html'))
  })

  it('refuses paths that leave the build, and other origins', () => {
    for (const url of [
      'app://airlock/../../etc/passwd',
      'app://airlock/%2e%2e/%2e%2e/etc/passwd',
      'app://airlock/assets/..%2f..%2f..%2fetc%2fpasswd',
      'app://airlock/..%5c..%5cwindows%5cwin.ini',
      'app://airlock/a%00.js',
      'app://airlock/C:/Windows/win.ini',
      'app://airlock/%E0%A4%A',
      'app://other/index.html',
      'file:///etc/passwd',
    ]) {
      const file = resolveAppFile(ROOT, url)
      if (file !== undefined)
        expect(file.startsWith(ROOT + path.sep), `${url} → ${file}`).toBe(true)
      expect(file === undefined || !file.includes('passwd'), url).toBe(true)
    }
    expect(resolveAppFile(ROOT, 'app://airlock/a%00.js')).toBeUndefined()
    expect(resolveAppFile(ROOT, 'app://other/index.html')).toBeUndefined()
    expect(resolveAppFile(ROOT, 'app://airlock/..%5c..%5cwindows%5cwin.ini')).toBeUndefined()
  })

  describe('serveAppFile', () => {
    let dir: string | undefined
    afterEach(() => {
      if (dir) fs.rmSync(dir, { recursive: true, force: true })
    })
    const io = {
      realpath: (p: string) => fs.promises.realpath(p),
      readFile: (p: string) => fs.promises.readFile(p),
    }

    it('serves files with their type and the CSP, and refuses symlinks out of the build', async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-ui-'))
      const root = path.join(dir, 'renderer')
      fs.mkdirSync(path.join(root, 'assets'), { recursive: true })
      fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html>')
      fs.writeFileSync(path.join(root, 'assets', 'app.js'), 'console.log(1)')
      fs.writeFileSync(path.join(dir, 'secret.txt'), 'secret')
      fs.symlinkSync(path.join(dir, 'secret.txt'), path.join(root, 'assets', 'leak.js'))
      const csp = contentSecurityPolicy()
      const js = await serveAppFile(root, 'app://airlock/assets/app.js', csp, io)
      expect(js.status).toBe(200)
      expect(js.headers['Content-Type']).toEqual(['text/javascript; charset=utf-8'])
      expect(js.headers['Content-Security-Policy']).toEqual([csp])
      expect(Buffer.from(js.body as Uint8Array).toString()).toBe('console.log(1)')
      expect((await serveAppFile(root, 'app://airlock/', csp, io)).headers['Content-Type']).toEqual(
        ['text/html; charset=utf-8'],
      )
      expect((await serveAppFile(root, 'app://airlock/assets/leak.js', csp, io)).status).toBe(404)
      expect((await serveAppFile(root, 'app://airlock/assets/missing.js', csp, io)).status).toBe(
        404,
      )
      expect((await serveAppFile(root, 'app://airlock/../secret.txt', csp, io)).status).toBe(404)
    })
  })
})

describe('content security policy', () => {
  it('allows only our own scripts: no inline script, no eval, no remote origins', () => {
    const csp = contentSecurityPolicy()
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("script-src 'self'")
    expect(csp).not.toContain('unsafe-eval')
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/)
    expect(csp).toContain("object-src 'none'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).toContain("connect-src 'self'")
    expect(csp).not.toMatch(/https?:|\*/)
  })

  it('lets the dev server connect its hot-reload socket, in development only', () => {
    expect(contentSecurityPolicy(dev)).toContain("connect-src 'self' ws://localhost:5173")
    expect(contentSecurityPolicy()).not.toContain('ws:')
  })

  it('replaces a CSP the response brought', () => {
    const h = withSecurityHeaders(
      { 'content-security-policy': ['default-src *'], 'Content-Type': 'text/html' },
      "default-src 'none'",
    )
    expect(h).toEqual({
      'Content-Type': ['text/html'],
      'Content-Security-Policy': ["default-src 'none'"],
      'X-Content-Type-Options': ['nosniff'],
    })
  })
})

describe('web preferences', () => {
  it('isolates and sandboxes the renderer', () => {
    const p = secureWebPreferences('/app/out/preload/index.cjs')
    expect(p).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      allowRunningInsecureContent: false,
    })
    expect(p.preload).toBe('/app/out/preload/index.cjs')
  })
})
