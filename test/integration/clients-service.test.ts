/**
 * The Clients screen's control methods against a real Gateway (in-process) and a temp home with
 * a Claude Desktop config whose server is server-everything: clients.list, clients.plan (the
 * diff, nothing written), clients.apply (exactly the plan; stale and expired plans refused),
 * drift reported by clients.changed and re-protected, restore byte for byte — and the wrapped
 * command, run as the client would, reaching the server through the gateway.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { afterEach, describe, expect, it } from 'vitest'
import {
  controlRequests,
  type ClientsStatus,
  type ControlMethod,
  type ParamsOf,
  type ResultOf,
} from '../../src/shared/contract/control-api'
import { clientEnvFromHost, resolveShim } from '../../src/clients/service'
import { ControlError, ControlService } from '../../src/gateway/control/control-service'
import { Gateway } from '../../src/gateway/gateway'
import { dataDir } from '../../src/node/paths'
import { waitFor } from '../helpers/harness'

const require = createRequire(import.meta.url)
const EVERYTHING = require.resolve('@modelcontextprotocol/server-everything/dist/index.js')
const ROOT = path.resolve(import.meta.dirname, '..', '..')

/** A Claude Desktop config as a user has it: server-everything, a remote server, other settings. */
const ORIGINAL = `{
  "mcpServers": {
    "everything": {
      "command": ${JSON.stringify(process.execPath)},
      "args": [${JSON.stringify(EVERYTHING)}, "stdio"]
    },
    "linear": { "url": "https://mcp.linear.app/sse" }
  },
  "globalShortcut": "Alt+Space"
}
`

interface Ctx {
  root: string
  home: string
  file: string
  gw: Gateway
  svc: ControlService
  changes: ClientsStatus[]
  now: { ms: number }
  call<M extends ControlMethod>(method: M, params?: ParamsOf<M>): Promise<ResultOf<M>>
}

const open: Ctx[] = []
afterEach(async () => {
  for (const c of open.splice(0)) {
    c.svc.close()
    await c.gw.close()
    fs.rmSync(c.root, { recursive: true, force: true })
  }
})

async function setup(): Promise<Ctx> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-cls-'))
  const home = path.join(root, 'airlock')
  const clientsHome = path.join(root, 'user')
  const file = path.join(clientsHome, '.config', 'Claude', 'claude_desktop_config.json')
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, ORIGINAL)
  const gw = new Gateway({ home, log: () => {} })
  await gw.listen()
  const now = { ms: Date.now() }
  const svc = new ControlService(gw, {
    clients: {
      env: { ...clientEnvFromHost({ AIRLOCK_CLIENTS_HOME: clientsHome }), platform: 'linux' },
      intervalMs: 50,
      now: () => now.ms,
    },
  })
  const changes: ClientsStatus[] = []
  svc.on('clients.changed', (s) => changes.push(s))
  svc.start()
  const ctx: Ctx = {
    root,
    home,
    file,
    gw,
    svc,
    changes,
    now,
    async call(method, params) {
      const result = await svc.call(method, params ?? {})
      return controlRequests[method].result.parse(result) as ResultOf<typeof method>
    },
  }
  open.push(ctx)
  return ctx
}

const configServers = (c: Ctx): string[] => {
  try {
    const config = JSON.parse(fs.readFileSync(path.join(c.home, 'config.json'), 'utf8')) as {
      servers: { name: string }[]
    }
    return config.servers.map((s) => s.name)
  } catch {
    return []
  }
}

async function wrap(c: Ctx, server?: string): Promise<ResultOf<'clients.apply'>> {
  const plan = await c.call('clients.plan', {
    client: 'claude-desktop',
    action: 'wrap',
    ...(server ? { server } : {}),
  })
  return c.call('clients.apply', { planId: plan.planId })
}

describe('clients.list', () => {
  it('lists the detected client, its file and entries with route and protection', async () => {
    const c = await setup()
    const list = await c.call('clients.list')
    expect(list).toHaveLength(1)
    expect(list[0]).toMatchObject({ id: 'claude-desktop', name: 'Claude Desktop' })
    expect(list[0]?.files).toEqual([
      {
        file: c.file,
        scope: 'user',
        entries: [
          expect.objectContaining({
            name: 'everything',
            route: 'stdio',
            protected: false,
            drifted: false,
            canProtect: true,
            canRestore: false,
            target: expect.stringContaining('server-everything'),
          }),
          expect.objectContaining({
            name: 'linear',
            route: 'sse',
            protected: false,
            // A URL entry can be protected by name: Airlock keeps the URL (issue 11, remote servers).
            canProtect: true,
            target: 'https://mcp.linear.app/sse',
            problem: expect.stringContaining('SSE endpoint'),
          }),
        ],
      },
    ])
    expect(await c.call('clients.status')).toEqual({ drifted: [], watched: 0 })
  })
})

describe('clients.plan and clients.apply', () => {
  it('plans a wrap as a diff and writes nothing; apply writes exactly that, once', async () => {
    const c = await setup()
    const plan = await c.call('clients.plan', { client: 'claude-desktop', action: 'wrap' })
    expect(plan).toMatchObject({
      client: 'claude-desktop',
      clientName: 'Claude Desktop',
      action: 'wrap',
      files: [{ file: c.file, servers: ['everything', 'linear'] }],
      errors: [],
    })
    expect(plan.diff).toContain(`--- ${c.file}`)
    expect(plan.diff).toMatch(/^-.*server-everything/m)
    expect(plan.diff).toMatch(/^\+.*bin\/airlock\.js/m)
    expect(plan.diff).toMatch(/^\+.*"connect"/m)
    expect(plan.notes.join('\n')).toContain('Adds "everything" to Airlock')
    // The URL entry becomes a remote server, and runs the shim like the other.
    expect(plan.notes.join('\n')).toContain(
      'Adds "linear" to Airlock\'s servers: https://mcp.linear.app/sse',
    )
    expect(plan.diff).toMatch(/^-.*"url": "https:\/\/mcp\.linear\.app\/sse"/m)
    // Nothing written: the file, Airlock's config and the backups are as they were.
    expect(fs.readFileSync(c.file, 'utf8')).toBe(ORIGINAL)
    expect(configServers(c)).toEqual([])
    expect(fs.existsSync(path.join(c.home, 'backups'))).toBe(false)

    const result = await c.call('clients.apply', { planId: plan.planId })
    expect(result).toMatchObject({ applied: true, written: [c.file], errors: [] })
    expect(result.backups).toHaveLength(1)
    expect(fs.readFileSync(result.backups[0] as string, 'utf8')).toBe(ORIGINAL)
    const after = fs.readFileSync(c.file, 'utf8')
    expect(after).toContain('"connect"')
    expect(after).toContain('"globalShortcut": "Alt+Space"')
    expect(configServers(c)).toEqual(['everything', 'linear'])
    // The gateway reloaded: the imported server is live.
    expect(c.gw.live.server('everything')).toBeDefined()
    const entry = (await c.call('clients.list'))[0]?.files[0]?.entries[0]
    expect(entry).toMatchObject({
      name: 'everything',
      protected: true,
      airlockServer: 'everything',
      canProtect: false,
      canRestore: true,
      drifted: false,
    })
    await waitFor(() => c.changes.at(-1)?.watched === 2, 2000, 'clients.changed after apply')
    expect(c.changes.at(-1)).toEqual({ drifted: [], watched: 2 })

    // A plan is applied once.
    await expect(c.svc.call('clients.apply', { planId: plan.planId })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('expired or was already applied'),
    })
  })

  it('refuses a plan whose file changed since it was shown, and returns a new plan', async () => {
    const c = await setup()
    const plan = await c.call('clients.plan', { client: 'claude-desktop', action: 'wrap' })
    const edited = ORIGINAL.replace('linear.app/sse', 'linear.app/v2/sse')
    fs.writeFileSync(c.file, edited)
    const result = await c.call('clients.apply', { planId: plan.planId })
    expect(result).toMatchObject({ applied: false, written: [], backups: [] })
    expect(result.notes[0]).toContain(`${c.file} changed since these changes were shown`)
    expect(fs.readFileSync(c.file, 'utf8')).toBe(edited)
    expect(configServers(c)).toEqual([])
    const fresh = result.plan!
    expect(fresh.planId).not.toBe(plan.planId)
    expect(fresh.diff).toContain('linear.app/v2/sse')
    expect((await c.call('clients.apply', { planId: fresh.planId })).written).toEqual([c.file])
  })

  it('refuses an expired plan', async () => {
    const c = await setup()
    const plan = await c.call('clients.plan', { client: 'claude-desktop', action: 'wrap' })
    c.now.ms += 10 * 60_000
    await expect(c.svc.call('clients.apply', { planId: plan.planId })).rejects.toBeInstanceOf(
      ControlError,
    )
    expect(fs.readFileSync(c.file, 'utf8')).toBe(ORIGINAL)
  })

  it('names unknown clients and servers; plans nothing for a server already protected', async () => {
    const c = await setup()
    await expect(
      c.svc.call('clients.plan', { client: 'nope', action: 'wrap' }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('known clients'),
    })
    await expect(
      c.svc.call('clients.plan', { client: 'claude-desktop', action: 'wrap', server: 'missing' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('"missing"') })
    await expect(
      c.svc.call('clients.plan', { client: 'claude-desktop', action: 'sideways' }),
    ).rejects.toMatchObject({ code: 'INVALID_PARAMS' })
    await wrap(c)
    const again = await c.call('clients.plan', {
      client: 'claude-desktop',
      action: 'wrap',
      server: 'everything',
    })
    expect(again.diff).toBe('')
    expect(again.notes.join('\n')).toContain('already protected')
  })

  it('restores the file byte for byte', async () => {
    const c = await setup()
    await wrap(c)
    const plan = await c.call('clients.plan', { client: 'claude-desktop', action: 'restore' })
    expect(plan.diff).toMatch(/^\+.*server-everything/m)
    expect(plan.notes[0]).toContain('byte for byte')
    expect(fs.readFileSync(c.file, 'utf8')).toContain('"connect"')
    const result = await c.call('clients.apply', { planId: plan.planId })
    expect(result).toMatchObject({ applied: true, written: [c.file] })
    expect(fs.readFileSync(c.file, 'utf8')).toBe(ORIGINAL)
    expect((await c.call('clients.list'))[0]?.files[0]?.entries[0]).toMatchObject({
      protected: false,
      canRestore: false,
    })
    expect(await c.call('clients.status')).toEqual({ drifted: [], watched: 0 })
  })
})

describe('drift', () => {
  it('reports a wrapped entry rewritten back, and a re-protect clears it', async () => {
    const c = await setup()
    await wrap(c, 'everything')
    await waitFor(() => c.changes.at(-1)?.watched === 1, 2000, 'the wrap to be watched')
    // Different size and mtime, so the stat poll sees it.
    await new Promise((r) => setTimeout(r, 60))
    fs.writeFileSync(c.file, ORIGINAL) // the client puts its own entry back
    await waitFor(() => (c.changes.at(-1)?.drifted.length ?? 0) > 0, 5000, 'a drift event')
    const drift = {
      client: 'claude-desktop',
      clientName: 'Claude Desktop',
      file: c.file,
      server: 'everything',
      airlockServer: 'everything',
    }
    expect(c.changes.at(-1)).toEqual({ drifted: [drift], watched: 1 })
    expect(await c.call('clients.status')).toEqual({ drifted: [drift], watched: 1 })
    expect((await c.call('clients.list'))[0]?.files[0]?.entries[0]).toMatchObject({
      name: 'everything',
      protected: false,
      drifted: true,
      canProtect: true,
      canRestore: true,
      problem: expect.stringContaining('drift'),
    })

    // Re-protect: the same server, reused (no second import).
    const result = await wrap(c, 'everything')
    expect(result.written).toEqual([c.file])
    expect(configServers(c)).toEqual(['everything'])
    await waitFor(() => c.changes.at(-1)?.drifted.length === 0, 2000, 'the drift to clear')
    expect(await c.call('clients.status')).toEqual({ drifted: [], watched: 1 })
  })
})

describe('a broken wrap', () => {
  it('reports a wrapped entry whose node disappears as not protected, without its file changing', async () => {
    const c = await setup()
    await wrap(c, 'everything')
    // The wrapped entry runs node through a link, as an install at a versioned path would.
    const node = path.join(c.root, 'node-22', 'bin', 'node')
    fs.mkdirSync(path.dirname(node), { recursive: true })
    fs.symlinkSync(process.execPath, node)
    const wrapped = JSON.parse(fs.readFileSync(c.file, 'utf8')) as {
      mcpServers: Record<string, { command: string }>
    }
    const entry = wrapped.mcpServers.everything
    if (!entry) throw new Error('no wrapped entry')
    entry.command = node
    fs.writeFileSync(c.file, JSON.stringify(wrapped, null, 2))
    await waitFor(
      async () => (await c.call('clients.list'))[0]?.files[0]?.entries[0]?.protected === true,
      5000,
      'the relinked entry to be protected',
    )
    await waitFor(() => c.changes.at(-1)?.drifted.length === 0, 5000, 'no drift')

    fs.rmSync(path.dirname(path.dirname(node)), { recursive: true }) // Node "upgraded" away
    await waitFor(() => (c.changes.at(-1)?.drifted.length ?? 0) > 0, 5000, 'a broken event')
    const broken = {
      client: 'claude-desktop',
      clientName: 'Claude Desktop',
      file: c.file,
      server: 'everything',
      airlockServer: 'everything',
      broken: `node not found at ${node} (was Node moved or upgraded?)`,
    }
    expect(c.changes.at(-1)).toEqual({ drifted: [broken], watched: 1 })
    expect(await c.call('clients.status')).toEqual({ drifted: [broken], watched: 1 })
    expect((await c.call('clients.list'))[0]?.files[0]?.entries[0]).toMatchObject({
      protected: false,
      broken: true,
    })
  })
})

describe('the wrapped command', () => {
  it('runs as the client would and reaches server-everything through the gateway', async () => {
    const c = await setup()
    await wrap(c)
    const config = JSON.parse(fs.readFileSync(c.file, 'utf8')) as {
      mcpServers: { everything: { command: string; args: string[]; env?: Record<string, string> } }
    }
    const entry = config.mcpServers.everything
    expect(entry.command).toBe(process.execPath)
    expect(entry.args).toEqual([path.join(ROOT, 'bin', 'airlock.js'), 'connect', 'everything'])
    expect(entry.env).toEqual({ AIRLOCK_HOME: c.home })
    // A client starts it with a minimal environment: only what the entry says.
    const transport = new StdioClientTransport({
      command: entry.command,
      args: entry.args,
      env: { ...entry.env, PATH: process.env.PATH ?? '' },
      stderr: 'pipe',
    })
    transport.stderr?.on('data', () => undefined)
    const client = new Client({ name: 'claude-desktop', version: '1' })
    await client.connect(transport)
    try {
      const result = await client.callTool({ name: 'echo', arguments: { message: 'wrapped' } })
      expect(result.content).toEqual([{ type: 'text', text: 'Echo: wrapped' }])
    } finally {
      await client.close()
    }
  })
})

describe('resolveShim', () => {
  const files =
    (...present: string[]) =>
    (f: string) =>
      present.includes(f)

  it('uses this node and finds bin/airlock.js above the module', () => {
    const shim = resolveShim({
      home: '/data/airlock',
      env: { HOME: '/home/u' },
      execPath: '/usr/bin/node20',
      electron: false,
      from: '/opt/airlock/out/main/chunks',
      platform: 'linux',
      isFile: files('/opt/airlock/bin/airlock.js'),
    })
    expect(shim).toEqual({
      node: '/usr/bin/node20',
      script: '/opt/airlock/bin/airlock.js',
      env: { AIRLOCK_HOME: '/data/airlock' },
    })
  })

  it('writes no AIRLOCK_HOME for the default data directory', () => {
    const env = { HOME: os.homedir() }
    const shim = resolveShim({
      home: dataDir(env),
      env,
      electron: false,
      execPath: '/n',
      from: '/a/out/cli',
      platform: 'linux',
      isFile: files('/a/bin/airlock.js'),
    })
    expect(shim.env).toBeUndefined()
  })

  it('in Electron picks node from AIRLOCK_NODE or PATH, never the Electron binary', () => {
    const base = {
      home: '/h',
      electron: true,
      execPath: '/opt/Airlock/airlock',
      from: '/a/out/main',
      platform: 'linux' as const,
    }
    expect(
      resolveShim({
        ...base,
        env: { PATH: '/usr/local/sbin:/usr/local/bin' },
        isFile: files('/a/bin/airlock.js', '/usr/local/bin/node'),
      }).node,
    ).toBe('/usr/local/bin/node')
    expect(
      resolveShim({
        ...base,
        env: { PATH: '/usr/local/bin', AIRLOCK_NODE: '/custom/node' },
        isFile: files('/a/bin/airlock.js', '/usr/local/bin/node', '/custom/node'),
      }).node,
    ).toBe('/custom/node')
    // No node anywhere: the app's own binary, run as Node.
    expect(
      resolveShim({ ...base, env: { PATH: '/bin' }, isFile: files('/a/bin/airlock.js') }),
    ).toMatchObject({
      node: '/opt/Airlock/airlock',
      env: { AIRLOCK_HOME: '/h', ELECTRON_RUN_AS_NODE: '1' },
    })
  })

  describe('in the packaged app of each system', () => {
    const layouts = [
      {
        system: 'macOS (dmg)',
        platform: 'darwin' as const,
        exe: '/Applications/Airlock.app/Contents/MacOS/Airlock',
        resources: '/Applications/Airlock.app/Contents/Resources',
        env: { PATH: '/usr/bin:/bin' },
        sep: '/',
      },
      {
        system: 'Windows (nsis)',
        platform: 'win32' as const,
        exe: 'C:\\Users\\u\\AppData\\Local\\Programs\\Airlock\\Airlock.exe',
        resources: 'C:\\Users\\u\\AppData\\Local\\Programs\\Airlock\\resources',
        env: { Path: 'C:\\Windows\\system32' },
        sep: '\\',
      },
      {
        system: 'Linux (deb)',
        platform: 'linux' as const,
        exe: '/opt/Airlock/airlock',
        resources: '/opt/Airlock/resources',
        env: { PATH: '/usr/bin:/bin' },
        sep: '/',
      },
    ]
    for (const l of layouts) {
      const j = (...parts: string[]): string => parts.join(l.sep)
      const asarMain = j(l.resources, 'app.asar', 'out', 'main')
      const unpacked = j(l.resources, 'app.asar.unpacked', 'bin', 'airlock.js')
      // Inside the archive Electron sees the file; the script written must be the unpacked copy.
      const inArchive = j(l.resources, 'app.asar', 'bin', 'airlock.js')

      it(`${l.system}: the unpacked shim, with a system node`, () => {
        const node =
          l.platform === 'win32' ? 'C:\\Program Files\\nodejs\\node.exe' : '/usr/bin/node'
        const shim = resolveShim({
          home: '/h',
          electron: true,
          execPath: l.exe,
          from: asarMain,
          platform: l.platform,
          env: l.env,
          isFile: files(inArchive, unpacked, node),
        })
        expect(shim.script).toBe(unpacked)
        expect(shim.node).toBe(node)
        expect(shim.env?.ELECTRON_RUN_AS_NODE).toBeUndefined()
      })

      it(`${l.system}: the app's own binary as Node when there is no node`, () => {
        const shim = resolveShim({
          home: '/h',
          electron: true,
          execPath: l.exe,
          from: asarMain,
          platform: l.platform,
          env: l.env,
          isFile: files(inArchive, unpacked),
        })
        expect(shim).toMatchObject({
          node: l.exe,
          script: unpacked,
          env: { ELECTRON_RUN_AS_NODE: '1' },
        })
      })
    }

    it('Linux (AppImage): the image itself, not its temporary mount', () => {
      const mount = '/tmp/.mount_AirlocAbc123'
      const shim = resolveShim({
        home: '/h',
        electron: true,
        execPath: `${mount}/airlock`,
        from: `${mount}/resources/app.asar/out/main`,
        platform: 'linux',
        env: { PATH: '/usr/bin', APPIMAGE: '/home/u/Apps/Airlock.AppImage' },
        isFile: files(`${mount}/resources/app.asar/bin/airlock.js`),
      })
      expect(shim.node).toBe('/home/u/Apps/Airlock.AppImage')
      expect(shim.env?.ELECTRON_RUN_AS_NODE).toBe('1')
    })
  })
})
