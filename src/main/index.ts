/**
 * The Electron main process: thin wiring of the tested modules next to it. Single instance,
 * tray, one window (hidden to the tray on close), the gateway in a utilityProcess, native
 * approval dialogs, the control API over IPC, start at login, and a clean quit.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  nativeImage,
  Notification,
  protocol,
  safeStorage,
  screen,
  session,
  shell,
  Tray,
  utilityProcess,
  type MenuItemConstructorOptions,
  type NativeImage,
  type WebContents,
} from 'electron'
import Store from 'electron-store'
import { recordDesktopApp } from '../node/desktop-app'
import { dataDir, dataPaths } from '../node/paths'
import type { EventOf } from '../shared/contract/control-api'
import { ApprovalDialogs } from './approval-dialogs'
import { serveAppFile } from './app-files'
import { ControlRouter } from './control-router'
import { GatewayHost, type GatewayProcess } from './gateway-host'
import { IpcBridge } from './ipc'
import { applyStartAtLogin, HIDDEN_ARG, loginItemNote } from './login-item'
import {
  attentionFor,
  launchExecutable,
  linuxPasswordStore,
  loginShellPath,
  startedAtLogin,
  trayClickOpensWindow,
  type RunCommand,
} from './platform'
import { KeychainSecretStore } from './secrets'
import { migrateSecrets } from './secret-migration'
import {
  APP_ENTRY,
  APP_SCHEME,
  contentSecurityPolicy,
  isAllowedNavigation,
  isAppUrl,
  isExternalSignInUrl,
  isPermissionGranted,
  secureWebPreferences,
  windowOpenDecision,
  withSecurityHeaders,
  type UiOrigins,
} from './security'
import { restoreBounds, SettingsStore, type KeyValueStore } from './settings-store'
import { trayIconPng } from './tray-icons'
import {
  screenOf,
  trayView,
  type TrayAction,
  type TrayIconVariant,
  type TrayState,
} from './tray-menu'
import { TrayModel } from './tray-model'

/** The screens the host may ask the window to show (the `ui.show` event). */
type UiScreen = EventOf<'ui.show'>['screen']

const here = import.meta.dirname
const RENDERER_ROOT = path.join(here, '..', 'renderer')
const PRELOAD = path.join(here, '..', 'preload', 'index.cjs')
const GATEWAY_ENTRY = path.join(here, 'gateway.js')
const log = (msg: string): void => console.error(`airlock: ${msg}`)

// Must precede `ready`: app:// behaves like https (secure origin, fetch, CORS for module scripts).
protocol.registerSchemesAsPrivileged([
  {
    scheme: APP_SCHEME,
    privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true },
  },
])

const home = dataDir()
fs.mkdirSync(home, { recursive: true, mode: 0o700 })
app.setName('Airlock')
app.setPath('userData', home)
// Chromium's caches and storage in their own folder, not beside config.json and the audit log.
app.setPath('sessionData', path.join(home, 'chromium'))
/** The same identity as the installers' appId: Windows groups toasts and the taskbar by it. */
const APP_ID = 'dev.airlock.desktop'

const runCommand: RunCommand = (file, args, timeoutMs) => {
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: timeoutMs, windowsHide: true })
  return r.status === 0 ? r.stdout : undefined
}
const passwordStore = linuxPasswordStore(process.platform, runCommand)
if (passwordStore) app.commandLine.appendSwitch('password-store', passwordStore)

if (!app.requestSingleInstanceLock()) {
  app.quit()
} else {
  void app.whenReady().then(start, (err: unknown) => {
    log(`cannot start: ${(err as Error).stack ?? String(err)}`)
    app.exit(1)
  })
}

/** The arguments that start this app: its folder when run from a checkout (`electron .`). */
function appArgs(): string[] {
  return process.defaultApp && process.argv[1] ? [path.resolve(process.argv[1])] : []
}

function start(): void {
  if (process.platform === 'win32') app.setAppUserModelId(APP_ID)
  // A shim that finds no gateway starts the app with this (in the tray), not a headless gateway.
  try {
    recordDesktopApp(home, {
      command: launchExecutable(process.platform, process.env, process.execPath),
      args: [...appArgs(), HIDDEN_ARG],
    })
  } catch (err) {
    log(`cannot record how to start the app in ${home}: ${(err as Error).message}`)
  }
  // Servers started from the Dock or at login need the user's PATH (npx, uvx, nvm's node).
  const shellPath = loginShellPath(process.platform, process.env, runCommand)
  if (shellPath) process.env.PATH = shellPath
  const origins: UiOrigins =
    !app.isPackaged && process.env.ELECTRON_RENDERER_URL
      ? { devServer: process.env.ELECTRON_RENDERER_URL }
      : {}
  const csp = contentSecurityPolicy(origins)
  hardenSessions(origins, csp)

  // Not config.json: that name is the gateway's.
  const store = new Store({ name: 'desktop-settings' }) as unknown as KeyValueStore
  const settings = new SettingsStore(store)
  const secrets = new KeychainSecretStore(store, safeStorage)
  migrateSecrets(
    { config: dataPaths(home).config, secretsFile: path.join(home, 'secrets.json') },
    secrets,
    log,
  )

  let win: BrowserWindow | undefined
  let quitting = false
  const icons = new Map<TrayIconVariant, NativeImage>()
  const icon = (v: TrayIconVariant): NativeImage => {
    let img = icons.get(v)
    if (!img) {
      // macOS menu bar icons are template images (tinted by the system for light and dark).
      const template = process.platform === 'darwin'
      img = nativeImage.createFromBuffer(trayIconPng(v, 16, template), { scaleFactor: 1 })
      img.addRepresentation({ scaleFactor: 2, buffer: trayIconPng(v, 32, template) })
      if (template) img.setTemplateImage(true)
      icons.set(v, img)
    }
    return img
  }
  const tray = new Tray(icon('idle'))

  let lastView = trayView({ pending: 0, paused: false, startAtLogin: settings.startAtLogin })
  const model = new TrayModel(settings.startAtLogin, (s) => renderTray(s))
  const dialogs = new ApprovalDialogs(
    // Looked up on every call so that a test can stub dialog.showMessageBox (app.evaluate).
    (options, signal) => {
      // On macOS a message box without a parent runs synchronously and ignores its signal:
      // attached to the window (as a sheet) it can be closed on timeout or a window answer.
      if (process.platform !== 'darwin') return dialog.showMessageBox({ ...options, signal })
      // A sheet on a window that is not shown yet can be lost: attach it once the window is up.
      showWindow()
      const w = win!
      return (
        w.isVisible() ? Promise.resolve() : new Promise<void>((r) => w.once('show', () => r()))
      ).then(() => dialog.showMessageBox(w, { ...options, signal }))
    },
    (title, body) => {
      if (Notification.isSupported()) new Notification({ title, body }).show()
      // A dialog can go unseen (focus rules): every new approval also draws the eye.
      if (attentionFor(process.platform) === 'dock-bounce') app.dock?.bounce('informational')
      else if (win && !win.isDestroyed()) win.flashFrame(true)
    },
  )

  const host = new GatewayHost({
    fork: () =>
      utilityProcess.fork(GATEWAY_ENTRY, [], {
        serviceName: 'Airlock gateway',
        env: { ...process.env, AIRLOCK_HOME: home },
        stdio: 'inherit',
      }) as unknown as GatewayProcess,
    approver: dialogs,
    onEvent: (event, data) => {
      model.event(event, data)
      if (event === 'approval.resolved') {
        const d = data as { id: string; outcome: { answer: string; by?: string } }
        dialogs.resolved(d.id, d.outcome)
      }
      ipc.broadcast(event, data)
    },
    onOpenExternal: (url) => {
      if (isExternalSignInUrl(url)) void shell.openExternal(url).catch(() => undefined)
      else log('refused to open a sign-in link that is not http(s)')
    },
    onSecret: (op) => {
      try {
        if (op.type === 'secret.set') secrets.set(op.server, op.key, op.value)
        else secrets.delete(op.server, op.key)
      } catch (err) {
        log((err as Error).message)
      }
    },
    onState: (s) => {
      model.gateway(s)
      if (s.state === 'running') void refresh()
    },
    log,
  })
  host.setSecrets(
    secrets.decryptAll((e) => log(e.message)),
    secrets.unavailableReason(),
  )
  const router = new ControlRouter(host, secrets, {
    get: () => settings.startAtLogin,
    set: (on) => setStartAtLogin(on),
    note: () => loginItemNote(process.platform, settings.startAtLogin, app.getLoginItemSettings()),
  })
  const ipc = new IpcBridge(
    ipcMain,
    {
      windowIds: () => (win && !win.isDestroyed() ? [win.webContents.id] : []),
      isAppUrl: (u) => isAppUrl(u, origins),
    },
    router,
    log,
  )

  async function refresh(): Promise<void> {
    try {
      const [status, pending] = await Promise.all([
        host.call('status.get', {}),
        host.call('approvals.list', {}),
      ])
      model.reset(
        (pending as { id: string }[]).map((p) => p.id),
        (status as { paused: boolean }).paused,
      )
      model.clients(await host.call('clients.status', {}))
    } catch (err) {
      log(`cannot read the gateway's status: ${(err as Error).message}`)
    }
  }

  function renderTray(s: TrayState): void {
    const view = trayView(s)
    const template: MenuItemConstructorOptions[] = view.items.map((item) => {
      switch (item.type) {
        case 'separator':
          return { type: 'separator' }
        case 'label':
          return { label: item.label, enabled: false }
        case 'checkbox':
          return {
            type: 'checkbox',
            id: item.id,
            label: item.label,
            checked: item.checked,
            click: () => void act(item.id),
          }
        case 'normal':
          return {
            id: item.id,
            label: item.label,
            enabled: item.enabled,
            click: () => void act(item.id),
          }
      }
    })
    tray.setContextMenu(Menu.buildFromTemplate(template))
    tray.setToolTip(view.tooltip)
    tray.setImage(icon(view.icon))
    if (process.platform === 'darwin') tray.setTitle(view.title)
    lastView = view
  }

  /**
   * Turns start at login on or off (from the tray or a window: the same path), saves it, and
   * shows it in the tray and the windows. Throws when the platform refuses.
   */
  function setStartAtLogin(on: boolean): void {
    applyStartAtLogin(on, {
      platform: process.platform,
      setLoginItemSettings: (s) => app.setLoginItemSettings(s),
      execPath: launchExecutable(process.platform, process.env, process.execPath),
      appArgs: appArgs(),
      autostartDir: path.join(
        process.env.XDG_CONFIG_HOME ?? path.join(app.getPath('home'), '.config'),
        'autostart',
      ),
      writeFile: (f, text) => {
        fs.mkdirSync(path.dirname(f), { recursive: true })
        fs.writeFileSync(f, text)
      },
      removeFile: (f) => fs.rmSync(f, { force: true }),
    })
    settings.startAtLogin = on
    model.setStartAtLogin(on)
    ipc.broadcast('app.startAtLogin', { supported: true, enabled: on })
  }

  async function act(action: TrayAction): Promise<void> {
    switch (action) {
      case 'open':
      case 'open-approvals':
      case 'open-clients':
        return showWindow(screenOf(action))
      case 'toggle-pause': {
        const paused = !model.state.paused
        try {
          await router.call('pause.set', { paused })
        } catch (err) {
          log(`cannot ${paused ? 'pause' : 'resume'}: ${(err as Error).message}`)
        }
        return renderTray(model.state)
      }
      case 'toggle-start-at-login': {
        const on = !model.state.startAtLogin
        try {
          setStartAtLogin(on)
        } catch (err) {
          log(`cannot change start at login: ${(err as Error).message}`)
          renderTray(model.state)
        }
        return
      }
      case 'quit':
        app.quit()
        return
    }
  }

  function createWindow(initial?: UiScreen): BrowserWindow {
    const saved = settings.windowState()
    const w = new BrowserWindow({
      ...restoreBounds(
        saved,
        screen.getAllDisplays().map((d) => d.workArea),
      ),
      minWidth: 720,
      minHeight: 480,
      show: false,
      title: 'Airlock',
      icon: icon('idle'),
      autoHideMenuBar: true,
      webPreferences: secureWebPreferences(PRELOAD),
    })
    if (saved.maximized) w.maximize()
    const removeTarget = ipc.addWindow({
      id: w.webContents.id,
      send: (ch, ...args) => w.webContents.send(ch, ...args),
    })
    const save = (): void => {
      if (w.isDestroyed() || w.isMinimized()) return
      settings.saveWindowState({
        ...(w.isMaximized() ? settings.windowState() : w.getBounds()),
        maximized: w.isMaximized(),
      })
    }
    w.on('resized', save)
    w.on('moved', save)
    w.on('close', (e) => {
      save()
      if (!quitting) {
        // Closing hides to the tray; Quit is in the tray menu.
        e.preventDefault()
        w.hide()
      }
    })
    w.on('closed', () => {
      removeTarget()
      if (win === w) win = undefined
    })
    // A new window opens on `initial` (the renderer reads `#screen=` once at start).
    void w.loadURL(`${origins.devServer ?? APP_ENTRY}${initial ? `#screen=${initial}` : ''}`)
    return w
  }

  /** Shows the window (creating it), on the screen `show` when given. */
  function showWindow(show?: UiScreen): void {
    if (!win || win.isDestroyed()) win = createWindow(show)
    else if (show) ipc.broadcast('ui.show', { screen: show })
    const w = win
    // show() does not bring back a minimized window.
    if (w.isMinimized()) w.restore()
    if (w.webContents.isLoading()) w.once('ready-to-show', () => w.show())
    else w.show()
    w.focus()
  }

  // The UI from the app's own files, with the CSP on every response.
  protocol.handle(APP_SCHEME, async (request) => {
    const r = await serveAppFile(RENDERER_ROOT, request.url, csp, {
      realpath: (p) => fs.promises.realpath(p),
      readFile: (p) => fs.promises.readFile(p),
    })
    const headers = new Headers()
    for (const [k, vs] of Object.entries(r.headers)) for (const v of vs) headers.append(k, v)
    return new Response(r.body as ConstructorParameters<typeof Response>[0], {
      status: r.status,
      headers,
    })
  })

  if (trayClickOpensWindow(process.platform)) tray.on('click', () => showWindow())
  renderTray(model.state)

  host.start()

  app.on('second-instance', () => showWindow())
  app.on('activate', () => showWindow())
  // Tray apps keep running with no window open.
  app.on('window-all-closed', () => undefined)
  let stopped = false
  app.on('before-quit', (e) => {
    quitting = true
    if (stopped) return
    e.preventDefault()
    dialogs.closeAll()
    void host.stop().finally(() => {
      stopped = true
      ipc.close()
      tray.destroy()
      app.quit()
    })
  })

  const atLogin = startedAtLogin(
    process.argv,
    HIDDEN_ARG,
    process.platform === 'darwin' ? app.getLoginItemSettings().wasOpenedAtLogin : undefined,
  )
  if (!atLogin) showWindow()

  if (process.env.AIRLOCK_E2E === '1') {
    // Test hooks for Playwright's app.evaluate: the tray has no API to read its menu back.
    ;(globalThis as Record<string, unknown>).__airlock = {
      trayView: () => lastView,
      clickTray: (action: TrayAction) => act(action),
      windowVisible: () => Boolean(win && !win.isDestroyed() && win.isVisible()),
      gatewayState: () => host.state,
    }
  }
}

/** CSP, permissions, navigation and window-open rules for every session and webContents. */
function hardenSessions(origins: UiOrigins, csp: string): void {
  const ses = session.defaultSession
  ses.setPermissionRequestHandler((_wc, permission, callback) =>
    callback(isPermissionGranted(permission)),
  )
  ses.setPermissionCheckHandler((_wc, permission) => isPermissionGranted(permission))
  // The dev server's pages get the same CSP (app:// responses carry it already).
  ses.webRequest.onHeadersReceived((details, callback) => {
    const headers = isAppUrl(details.url, origins)
      ? withSecurityHeaders(details.responseHeaders, csp)
      : details.responseHeaders
    callback({ responseHeaders: headers })
  })
  app.on('web-contents-created', (_e, contents: WebContents) => {
    contents.on('will-navigate', (e, url) => {
      if (!isAllowedNavigation(url, origins)) e.preventDefault()
    })
    contents.on('will-redirect', (e, url) => {
      if (!isAllowedNavigation(url, origins)) e.preventDefault()
    })
    contents.on('will-attach-webview', (e) => e.preventDefault())
    contents.setWindowOpenHandler(() => windowOpenDecision())
  })
}
