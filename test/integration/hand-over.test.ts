/**
 * One gateway per data directory, and the desktop app wins (issue 9): a headless gateway asked to
 * hand over stops cleanly, a call waiting for approval is answered with a retry hint, and the
 * agent's shim reconnects to the gateway that took over. A shim that finds no gateway starts the
 * desktop app when the app recorded how (desktop-app.json), else the headless gateway. The desktop
 * app itself cannot run here (no Electron runtime): the gateway that takes over is a second
 * `airlock serve`, and the "app" a shim starts is a script that runs one — the same calls the app
 * makes (`takeOver`, the recorded launch command).
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { takeOver } from '../../src/gateway/host/hand-over'
import { readDesktopApp, recordDesktopApp } from '../../src/node/desktop-app'
import { CLI, Env, everything, textOf, waitFor } from '../helpers/harness'

let env: Env

beforeEach(() => {
  env = new Env()
})

afterEach(async () => {
  await env.cleanup()
})

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('hand-over', () => {
  it('a headless gateway hands over: a pending approval gets the retry hint, the agent reconnects to the new gateway', async () => {
    const policy = env.writePolicy('everything', {
      version: '1',
      default: 'allow',
      tools: { echo: { rules: [{ name: 'ask before echo', action: 'require_approval' }] } },
    })
    env.writeConfig([everything('everything', { policy })], { approvalTimeoutSeconds: 60 })
    const old = await env.startGateway()
    const oldExit = new Promise<number | null>((r) => old.once('exit', r))
    const { client } = await env.connect('everything', { name: 'handed-over-agent' })
    expect(await client.ping()).toEqual({})

    // A call waits for a person (an approver that never answers) when the app asks for the data directory.
    const approver = await env.approver()
    // Its answer (a result or an error), taken as soon as it comes.
    const pending = client.callTool({ name: 'echo', arguments: { message: 'waiting' } }).then(
      (r) => `result: ${textOf(r)}`,
      (e: Error) => e.message,
    )
    await waitFor(() => approver.requested.length === 1, 10_000, 'the approval request')
    const oldPid = await takeOver(env.home, { to: 'the test desktop app', pid: process.pid })
    expect(oldPid).toBe(old.pid)
    expect(await oldExit).toBe(0)
    expect(env.gatewayOutput).toContain('the test desktop app (pid')
    expect(env.gatewayOutput).toContain('takes over')
    // Answered, not left hanging: why, and that a retry works (the shim reconnects on its own).
    const answered = await pending
    expect(answered).toContain('the gateway handed over to the test desktop app')
    expect(answered).toContain('Retry it')

    // The new owner of the data directory (the app's gateway; here a second airlock serve).
    fs.writeFileSync(
      path.join(env.home, 'config.json'),
      JSON.stringify({ version: 1, servers: [everything()], settings: {} }),
    )
    await env.startGateway()
    let res: string | undefined
    await waitFor(
      async () => {
        res = await client
          .callTool({ name: 'echo', arguments: { message: 'after' } })
          .then(textOf)
          .catch(() => undefined)
        return res !== undefined
      },
      20_000,
      'the agent to reach the new gateway',
    )
    expect(res).toBe('Echo: after')
    const records = env.auditRecords()
    expect(records.some((r) => r.tool === 'echo' && r.decision === 'allow')).toBe(true)
  })

  it('refuses a malformed hand-over request, naming what it expects', async () => {
    env.writeConfig([everything()])
    await env.startGateway()
    const control = await env.control()
    await expect(control.handOver({ to: 'x' } as { to: string; pid: number })).rejects.toThrow(
      'gateway.handOver expects {to: string, pid: positive integer}',
    )
    expect(alive(env.gateway!.pid!)).toBe(true)
  })

  it('says which gateway failed to hand over when none answers', async () => {
    await expect(takeOver(env.home, { to: 'app', pid: process.pid })).rejects.toThrow(
      /no Airlock gateway has run|not running/,
    )
  })
})

describe('a shim with no gateway starts the desktop app when it recorded how', () => {
  it('runs the recorded command (the app, in the tray), and the call goes through its gateway', async () => {
    env.writeConfig([everything()])
    const marker = path.join(env.home, 'app-started')
    // Stands in for the app binary: notes its arguments, then runs a gateway as the app would.
    const fakeApp = env.writeScript(
      'fake-app.mjs',
      `#!${process.execPath}
import fs from 'node:fs'
import { spawn } from 'node:child_process'
fs.writeFileSync(${JSON.stringify(marker)}, JSON.stringify({ args: process.argv.slice(2), runAsNode: process.env.ELECTRON_RUN_AS_NODE ?? null }))
spawn(process.execPath, [${JSON.stringify(CLI)}, 'serve', '--background', '--no-http'], { stdio: 'inherit', detached: true }).unref()
`,
    )
    fs.chmodSync(fakeApp, 0o755)
    recordDesktopApp(env.home, { command: fakeApp, args: ['--hidden'] })
    expect(readDesktopApp(env.home)).toEqual({ command: fakeApp, args: ['--hidden'] })
    const shimEnv: NodeJS.ProcessEnv = { ...env.env, ELECTRON_RUN_AS_NODE: '1' }
    delete shimEnv.AIRLOCK_NO_AUTOSTART
    const pidFile = path.join(env.home, 'gateway.pid')
    try {
      const { client } = await env.connect('everything', { env: shimEnv })
      expect(
        textOf(await client.callTool({ name: 'echo', arguments: { message: 'via app' } })),
      ).toBe('Echo: via app')
    } finally {
      await waitFor(() => fs.existsSync(pidFile), 5000, 'gateway.pid').catch(() => undefined)
      if (fs.existsSync(pidFile)) env.adopt(Number(fs.readFileSync(pidFile, 'utf8').trim()))
    }
    // Started in the tray, and not as Node: the shim's own ELECTRON_RUN_AS_NODE is not passed on.
    expect(JSON.parse(fs.readFileSync(marker, 'utf8'))).toEqual({
      args: ['--hidden'],
      runAsNode: null,
    })
  })

  it('ignores a record whose app is gone (uninstalled) or not absolute, and starts the headless gateway', async () => {
    env.writeConfig([everything()])
    recordDesktopApp(env.home, { command: path.join(env.home, 'Airlock.AppImage'), args: [] })
    expect(readDesktopApp(env.home)).toBeUndefined()
    fs.writeFileSync(
      path.join(env.home, 'desktop-app.json'),
      JSON.stringify({ command: 'airlock-app', args: [] }),
    )
    expect(readDesktopApp(env.home)).toBeUndefined()
    const shimEnv: NodeJS.ProcessEnv = { ...env.env }
    delete shimEnv.AIRLOCK_NO_AUTOSTART
    const pidFile = path.join(env.home, 'gateway.pid')
    try {
      const { client } = await env.connect('everything', { env: shimEnv })
      expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'hl' } }))).toBe(
        'Echo: hl',
      )
    } finally {
      await waitFor(() => fs.existsSync(pidFile), 5000, 'gateway.pid').catch(() => undefined)
      if (fs.existsSync(pidFile)) env.adopt(Number(fs.readFileSync(pidFile, 'utf8').trim()))
    }
    expect(fs.readFileSync(path.join(env.home, 'logs', 'gateway.log'), 'utf8')).toContain(
      'Airlock gateway running',
    )
  })
})
