/**
 * The desktop app driven by Playwright's `_electron` (as mattermost/desktop does): the window,
 * the tray menu and the native approval dialog (stubbed through `app.evaluate`), each test with
 * a fresh data directory. They need the Electron runtime; where it is missing (it cannot be
 * downloaded everywhere) they are skipped with the reason printed.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { _electron, expect, test, type ElectronApplication, type Page } from '@playwright/test'
import { electronViteBin, findElectron } from '../../../scripts/electron-runtime.mjs'
import { Env, everything, textOf, waitFor } from '../../helpers/harness'
import type { TrayView } from '../../../src/main/tray-menu'
import type { GatewayState } from '../../../src/main/gateway-host'

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..')
const runtime = findElectron(ROOT)
const SKIP_REASON = runtime.ok
  ? ''
  : `Electron runtime not installed (cannot be downloaded here: ${runtime.reason}); these tests run where it exists`
if (!runtime.ok) console.warn(`Electron tests skipped: ${SKIP_REASON}.`)

/** The test hooks main exposes with AIRLOCK_E2E=1. */
interface Hooks {
  trayView(): TrayView
  clickTray(action: string): Promise<void>
  windowVisible(): boolean
  gatewayState(): GatewayState
}
type HookGlobal = typeof globalThis & {
  __airlock: Hooks
  __shown: {
    message: string
    detail: string
    buttons: string[]
    defaultId: number
    cancelId: number
    aborted: boolean
  }[]
}

/** What page code sees (the node tsconfig has no DOM types). */
interface Browser {
  airlock?: {
    status: { get(): Promise<{ home: string; paused: boolean }> }
    approvals: {
      list(): Promise<{ id: string }[]>
      decide(p: { id: string; answer: string }): Promise<unknown>
    }
  }
  require?: unknown
  location: { href: string }
  open(url: string): unknown
}

let env: Env
let app: ElectronApplication | undefined

// Every test here needs the runtime; each is reported as skipped with the reason.
test.skip(!runtime.ok, SKIP_REASON)

test.beforeAll(() => {
  test.setTimeout(180_000)
  // Build the app as npm start does (the node bundles come from the global setup).
  execFileSync(process.execPath, [electronViteBin(ROOT), 'build'], {
    cwd: ROOT,
    stdio: 'inherit',
  })
})

test.beforeEach(() => {
  env = new Env()
})

test.afterEach(async () => {
  if (app) {
    await app.evaluate(({ app: a }) => a.quit()).catch(() => undefined)
    await app.close().catch(() => undefined)
    app = undefined
  }
  await env.cleanup()
})

async function launch(): Promise<{ app: ElectronApplication; page: Page }> {
  if (!runtime.ok) throw new Error('unreachable')
  const args = [ROOT]
  // Containers often run as root, where Chromium's sandbox refuses to start.
  if (process.platform === 'linux' && process.getuid?.() === 0) args.unshift('--no-sandbox')
  app = await _electron.launch({
    executablePath: runtime.path,
    args,
    env: { ...(env.env as Record<string, string>), AIRLOCK_E2E: '1' },
    timeout: 30_000,
  })
  const page = await app.firstWindow()
  await waitFor(
    async () => (await hooks((h) => h.gatewayState().state)) === 'running',
    15_000,
    'the gateway to run',
  )
  return { app, page }
}

function hooks<R>(fn: (h: Hooks) => R): Promise<R> {
  return app!.evaluate((_electron, src) => {
    const f = new Function('h', `return (${src})(h)`) as (h: Hooks) => R
    return f((globalThis as HookGlobal).__airlock)
  }, fn.toString())
}

/** Replaces dialog.showMessageBox with a stub answering `response` (or never, until its signal aborts). */
async function stubDialog(response: number | null): Promise<void> {
  await app!.evaluate(({ dialog }, answer) => {
    const g = globalThis as HookGlobal
    g.__shown = []
    const stub = (...args: unknown[]) => {
      const o = (args.length > 1 ? args[1] : args[0]) as {
        message: string
        detail: string
        buttons: string[]
        defaultId: number
        cancelId: number
        signal?: AbortSignal
      }
      const entry = {
        message: o.message,
        detail: o.detail,
        buttons: o.buttons,
        defaultId: o.defaultId,
        cancelId: o.cancelId,
        aborted: false,
      }
      g.__shown.push(entry)
      return new Promise((resolve) => {
        o.signal?.addEventListener('abort', () => {
          entry.aborted = true
          resolve({ response: o.cancelId, checkboxChecked: false })
        })
        if (answer !== null)
          setTimeout(() => resolve({ response: answer, checkboxChecked: false }), 50)
      })
    }
    ;(dialog as unknown as { showMessageBox: unknown }).showMessageBox = stub
  }, response)
}

const shown = () => app!.evaluate(() => (globalThis as HookGlobal).__shown)

function askForEcho(settings: Record<string, unknown> = {}): void {
  const policy = env.writePolicy('everything', {
    version: '1',
    default: 'allow',
    tools: { echo: { rules: [{ name: 'ask before echo', action: 'require_approval' }] } },
  })
  env.writeConfig([everything('everything', { policy })], settings)
}

test.describe('window', () => {
  test('shows the UI from app:// with the control API and nothing else of Node or Electron', async () => {
    const { page } = await launch()
    expect(page.url()).toMatch(/^app:\/\/airlock\//)
    const shape = await page.evaluate(() => ({
      api: typeof (globalThis as unknown as Browser).airlock?.status?.get,
      require: typeof (globalThis as unknown as Browser).require,
      process: typeof (globalThis as { process?: unknown }).process,
      ipc: JSON.stringify(Object.keys((globalThis as unknown as Browser).airlock ?? {})),
    }))
    expect(shape).toMatchObject({ api: 'function', require: 'undefined', process: 'undefined' })
    expect(shape.ipc).not.toMatch(/ipc|invoke|airlock:/)
    const status = await page.evaluate(() =>
      (globalThis as unknown as Browser).airlock!.status.get(),
    )
    expect(fs.realpathSync(status.home)).toBe(fs.realpathSync(env.home))
  })

  test('refuses navigation, new windows and eval (CSP)', async () => {
    const { app, page } = await launch()
    const url = page.url()
    // Record the main process's navigation event: the app's own handler ran first and decided.
    await app.evaluate(({ webContents }) => {
      for (const wc of webContents.getAllWebContents())
        wc.once('will-navigate', (e, target) => {
          ;(globalThis as { __navigation?: unknown }).__navigation = {
            url: target,
            prevented: e.defaultPrevented,
          }
        })
    })
    await page.evaluate(() => {
      ;(globalThis as unknown as Browser).location.href = 'https://example.com/'
    })
    const navigation = () =>
      app.evaluate(() => (globalThis as { __navigation?: unknown }).__navigation)
    await waitFor(async () => (await navigation()) !== undefined, 5000, 'the navigation event')
    expect(await navigation()).toEqual({ url: 'https://example.com/', prevented: true })
    expect(page.url()).toBe(url)
    expect(
      await page.evaluate(
        () => (globalThis as unknown as Browser).open('https://example.com/') === null,
      ),
    ).toBe(true)
    expect(
      await page.evaluate(() => {
        try {
          return String(eval('1 + 1'))
        } catch {
          return 'blocked'
        }
      }),
    ).toBe('blocked')
    expect(app!.windows()).toHaveLength(1)
  })

  test('hides to the tray on close and comes back from the tray menu', async () => {
    await launch()
    await app!.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]?.close())
    await waitFor(async () => !(await hooks((h) => h.windowVisible())), 5000, 'the window to hide')
    expect(app!.windows()).toHaveLength(1)
    await hooks((h) => h.clickTray('open'))
    await waitFor(() => hooks((h) => h.windowVisible()), 5000, 'the window to show')
  })
})

test.describe('tray', () => {
  test('has every action, and "Pause all tool calls" pauses the gateway', async () => {
    const { page } = await launch()
    const view = await hooks((h) => h.trayView())
    expect(view.items.flatMap((i) => ('label' in i ? [i.label] : []))).toEqual([
      'Open Airlock',
      'Pending approvals (0)',
      'Pause all tool calls',
      'Start at login',
      'Quit',
    ])
    expect(view.icon).toBe('idle')
    await hooks((h) => h.clickTray('toggle-pause'))
    await waitFor(
      async () => (await hooks((h) => h.trayView())).icon === 'paused',
      5000,
      'the paused icon',
    )
    expect((await hooks((h) => h.trayView())).tooltip).toContain('paused')
    const status = await page.evaluate(() =>
      (globalThis as unknown as Browser).airlock!.status.get(),
    )
    expect(status.paused).toBe(true)
  })
})

test.describe('approval dialog', () => {
  test('asks with a native dialog; "Allow once" lets the call through', async () => {
    askForEcho()
    await launch()
    await stubDialog(1)
    const { client } = await env.connect('everything', { name: 'dialog-agent' })
    const res = await client.callTool({
      name: 'echo',
      arguments: { message: 'hi <img src=x onerror=alert(1)>' },
    })
    expect(textOf(res)).toBe('Echo: hi <img src=x onerror=alert(1)>')
    const [d] = await shown()
    expect(d?.message).toBe('dialog-agent wants to run echo on everything')
    expect(d?.detail).toContain('Rule: ask before echo')
    expect(d?.detail).toContain('hi <img src=x onerror=alert(1)>')
    expect(d?.buttons).toEqual([
      'Deny',
      'Allow once',
      'Allow for session',
      'Allow for 1 hour',
      'Always',
    ])
    expect(d?.defaultId).toBe(0)
    expect(d?.cancelId).toBe(0)
  })

  test('"Deny" denies the call', async () => {
    askForEcho()
    await launch()
    await stubDialog(0)
    const { client } = await env.connect('everything')
    const res = await client.callTool({ name: 'echo', arguments: { message: 'no' } })
    expect(res.isError).toBe(true)
  })

  test('closes the dialog when the window answers first, and on timeout', async () => {
    askForEcho({ approvalTimeoutSeconds: 2 })
    const { page } = await launch()
    await stubDialog(null)
    const { client } = await env.connect('everything')
    // The window answers: the dialog closes.
    const first = client.callTool({ name: 'echo', arguments: { message: 'window' } })
    await waitFor(async () => (await shown()).length === 1, 5000, 'the dialog')
    await page.evaluate(async () => {
      const api = (globalThis as unknown as Browser).airlock!
      const [req] = await api.approvals.list()
      await api.approvals.decide({ id: req!.id, answer: 'allow_once' })
    })
    expect(textOf(await first)).toBe('Echo: window')
    await waitFor(async () => (await shown())[0]?.aborted === true, 5000, 'the dialog to close')
    // Nobody answers: denied at the timeout, the dialog closes.
    const second = await client.callTool({ name: 'echo', arguments: { message: 'late' } })
    expect(second.isError).toBe(true)
    await waitFor(
      async () => (await shown())[1]?.aborted === true,
      5000,
      'the second dialog to close',
    )
    expect((await hooks((h) => h.trayView())).items).toContainEqual(
      expect.objectContaining({ label: 'Pending approvals (0)' }),
    )
  })
})

test.describe('one gateway per data directory', () => {
  test('takes over from a running headless gateway; agents reconnect to the app', async () => {
    env.writeConfig([everything()])
    const old = await env.startGateway()
    const exited = new Promise<number | null>((r) => old.once('exit', r))
    const { client } = await env.connect('everything', { name: 'before-app' })
    await launch()
    expect(await exited).toBe(0)
    expect(env.gatewayOutput).toContain('the Airlock desktop app (pid')
    await waitFor(
      async () =>
        client
          .callTool({ name: 'echo', arguments: { message: 'app' } })
          .then((r) => textOf(r) === 'Echo: app')
          .catch(() => false),
      20_000,
      'the agent to reach the app’s gateway',
    )
    // The app recorded how a shim starts it.
    const launchFile = JSON.parse(fs.readFileSync(path.join(env.home, 'desktop-app.json'), 'utf8'))
    expect(launchFile.args).toContain('--hidden')
  })

  test('a second instance hands its work to the first and exits', async () => {
    await launch()
    const second = await _electron
      .launch({
        executablePath: runtime.ok ? runtime.path : '',
        args:
          process.platform === 'linux' && process.getuid?.() === 0
            ? ['--no-sandbox', ROOT]
            : [ROOT],
        env: { ...(env.env as Record<string, string>), AIRLOCK_E2E: '1' },
        timeout: 30_000,
      })
      .catch(() => undefined)
    if (second) {
      await waitFor(() => second.process().exitCode !== null, 15_000, 'the second instance to exit')
    }
    expect(app!.windows().length).toBeGreaterThan(0)
    expect((await hooks((h) => h.gatewayState())).state).toBe('running')
  })
})
