/**
 * The control service against a real Gateway in a temp AIRLOCK_HOME (in-process: listen, serve
 * the control API, close): every method, params validation, config and policy persistence, and
 * the Activity index (join, filters, paging, events).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { afterEach, describe, expect, it } from 'vitest'
import type { AuditInput } from '../../src/shared/contract/audit-record'
import {
  controlRequests,
  type CallRow,
  type ControlMethod,
  type EventOf,
  type ParamsOf,
  type ResultOf,
} from '../../src/shared/contract/control-api'
import {
  ControlError,
  ControlService,
  type ControlServiceOptions,
} from '../../src/gateway/control/control-service'
import { Gateway } from '../../src/gateway/gateway'
import { parsePolicy } from '../../src/shared/policy/parse'

const require = createRequire(import.meta.url)
const MEMORY = require.resolve('@modelcontextprotocol/server-memory/dist/index.js')

interface Ctx {
  home: string
  gw: Gateway
  svc: ControlService
  call<M extends ControlMethod>(method: M, params?: ParamsOf<M>): Promise<ResultOf<M>>
  config(): { servers: Record<string, unknown>[]; settings: Record<string, unknown> }
}

const open: Ctx[] = []
afterEach(async () => {
  for (const c of open.splice(0)) {
    c.svc.close()
    await c.gw.close()
    fs.rmSync(c.home, { recursive: true, force: true })
  }
})

async function setup(
  config?: unknown,
  opts: {
    inspectTimeoutMs?: number
    start?: (gw: Gateway) => void
    service?: ControlServiceOptions
  } = {},
): Promise<Ctx> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-cs-'))
  if (config !== undefined)
    fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify(config, null, 2))
  const gw = new Gateway({ home, log: () => {} })
  await gw.listen()
  opts.start?.(gw)
  const svc = new ControlService(gw, { inspectTimeoutMs: opts.inspectTimeoutMs, ...opts.service })
  svc.start()
  const ctx: Ctx = {
    home,
    gw,
    svc,
    async call(method, params) {
      const result = await svc.call(method, params ?? {})
      // Every answer matches the contract's result schema.
      return controlRequests[method].result.parse(result) as ResultOf<typeof method>
    },
    config: () =>
      JSON.parse(fs.readFileSync(path.join(home, 'config.json'), 'utf8')) as ReturnType<
        Ctx['config']
      >,
  }
  open.push(ctx)
  return ctx
}

const memoryServer = (home: string, name = 'memory'): ParamsOf<'servers.add'>['server'] => ({
  name,
  command: process.execPath,
  args: [MEMORY],
  env: { MEMORY_FILE_PATH: path.join(home, `${name}.jsonl`) },
})

function events<E extends Parameters<ControlService['on']>[0]>(
  svc: ControlService,
  event: E,
): EventOf<E>[] {
  const seen: EventOf<E>[] = []
  svc.on(event, (d) => seen.push(d))
  return seen
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('requests and params', () => {
  it('refuses unknown methods and names the bad field', async () => {
    const c = await setup()
    await expect(c.svc.call('servers.explode', {})).rejects.toMatchObject({
      name: 'ControlError',
      code: 'UNKNOWN_METHOD',
    })
    await expect(c.svc.call('toString', {})).rejects.toThrow(/unknown control method/)
    const bad = c.svc.call('servers.add', { server: { name: 'bad name!', command: 'x' } })
    await expect(bad).rejects.toBeInstanceOf(ControlError)
    await expect(bad).rejects.toThrow(
      /servers\.add: invalid params: server\.name: expected a name of letters/,
    )
    await expect(c.svc.call('servers.add', { server: { name: 'ok' } })).rejects.toThrow(
      /server\.command/,
    )
    await expect(c.svc.call('servers.remove', { name: 'x', extra: 1 })).rejects.toThrow(
      /invalid params: .*extra/i,
    )
    await expect(c.svc.call('audit.query', { limit: 5000 })).rejects.toThrow(/limit/)
    await expect(c.svc.call('approvals.decide', { id: 'x', answer: 'maybe' })).rejects.toThrow(
      /answer/,
    )
    await expect(c.svc.call('audit.query', { filter: { since: 'yesterday-ish' } })).rejects.toThrow(
      /filter\.since: expected an ISO time/,
    )
  })

  it('start at login is unsupported without the desktop app', async () => {
    const c = await setup()
    expect(await c.call('app.getStartAtLogin')).toEqual({ supported: false, enabled: false })
    await expect(c.svc.call('app.setStartAtLogin', { enabled: true })).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: 'start at login is a desktop-app setting; run the Airlock app (npm start)',
    })
  })

  it('status.get', async () => {
    const c = await setup()
    const s = await c.call('status.get')
    expect(s).toMatchObject({
      pid: process.pid,
      home: c.home,
      paused: false,
      sessions: [],
      pending: 0,
      errors: [],
    })
  })
})

describe('servers', () => {
  it('adds, updates, enables and removes, persisting config.json; duplicates refused', async () => {
    const c = await setup()
    const changed = events(c.svc, 'servers.changed')
    const added = await c.call('servers.add', { server: memoryServer(c.home) })
    expect(added).toMatchObject({ config: { name: 'memory', enabled: true }, sessions: 0 })
    expect(c.config().servers.map((s) => s.name)).toEqual(['memory'])
    expect(changed.length).toBeGreaterThan(0)
    expect((await c.call('servers.list')).map((s) => s.config.name)).toEqual(['memory'])

    await expect(c.svc.call('servers.add', { server: memoryServer(c.home) })).rejects.toMatchObject(
      { code: 'CONFLICT' },
    )
    expect(c.config().servers).toHaveLength(1)

    await c.call('servers.add', { server: memoryServer(c.home, 'other') })
    await expect(
      c.svc.call('servers.update', { name: 'other', server: memoryServer(c.home, 'memory') }),
    ).rejects.toMatchObject({ code: 'CONFLICT' })
    const renamed = await c.call('servers.update', {
      name: 'other',
      server: { ...memoryServer(c.home, 'renamed'), args: [MEMORY, '--x'] },
    })
    expect(renamed.config).toMatchObject({ name: 'renamed', args: [MEMORY, '--x'] })
    expect(c.config().servers.map((s) => s.name)).toEqual(['memory', 'renamed'])
    await expect(
      c.svc.call('servers.update', { name: 'nope', server: memoryServer(c.home, 'nope') }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' })

    const disabled = await c.call('servers.setEnabled', { name: 'memory', enabled: false })
    expect(disabled.config.enabled).toBe(false)
    expect(c.config().servers[0]).toMatchObject({ name: 'memory', enabled: false })
    expect(c.gw.live.server('memory')?.enabled).toBe(false)

    expect(await c.call('servers.remove', { name: 'renamed' })).toBe(true)
    expect(await c.call('servers.remove', { name: 'renamed' })).toBe(false)
    expect(c.config().servers.map((s) => s.name)).toEqual(['memory'])
    expect(c.gw.live.server('renamed')).toBeUndefined()
  })

  it('keeps secret values out of config.json, masks them, and merges them at spawn time', async () => {
    const c = await setup()
    const server = {
      ...memoryServer(c.home),
      env: { PLAIN: 'p', TYPED: 'typed-secret' },
      secretEnv: ['TYPED'],
    }
    const view = await c.call('servers.add', { server, secretValues: { API_KEY: 'sk-123' } })
    expect(view.config.env).toEqual({ PLAIN: 'p', TYPED: '********', API_KEY: '********' })
    expect(view.config.secretEnv.sort()).toEqual(['API_KEY', 'TYPED'])
    const raw = fs.readFileSync(path.join(c.home, 'config.json'), 'utf8')
    expect(raw).not.toContain('sk-123')
    expect(raw).not.toContain('typed-secret')
    const secretsFile = path.join(c.home, 'secrets.json')
    expect(fs.statSync(secretsFile).mode & 0o777).toBe(0o600)
    const merged = c.gw.withSecrets(c.gw.live.server('memory')!)
    expect(merged.env).toMatchObject({ PLAIN: 'p', TYPED: 'typed-secret', API_KEY: 'sk-123' })

    // Sending the masked view back keeps the stored values; a rename carries them.
    await c.call('servers.update', { name: 'memory', server: { ...view.config, name: 'mem2' } })
    expect(c.gw.withSecrets(c.gw.live.server('mem2')!).env).toMatchObject({
      TYPED: 'typed-secret',
      API_KEY: 'sk-123',
    })
    expect(c.gw.secrets.get('memory', 'API_KEY')).toBeUndefined()
    // A new value replaces; a key no longer marked secret is dropped.
    await c.call('servers.update', {
      name: 'mem2',
      server: {
        ...view.config,
        name: 'mem2',
        env: { PLAIN: 'p', API_KEY: '********' },
        secretEnv: ['API_KEY'],
      },
      secretValues: { API_KEY: 'sk-456' },
    })
    expect(c.gw.secrets.get('mem2', 'API_KEY')).toBe('sk-456')
    expect(c.gw.secrets.get('mem2', 'TYPED')).toBeUndefined()
    await c.call('servers.remove', { name: 'mem2' })
    expect(c.gw.secrets.get('mem2', 'API_KEY')).toBeUndefined()
  })

  it('a remote server: its OAuth sign-in survives an edit and a rename, not a new URL', async () => {
    const c = await setup()
    const view = await c.call('servers.add', {
      server: { name: 'remote', url: 'https://mcp.example.com/mcp' },
    })
    expect(view.auth).toBe('none')
    expect(view.signIn).toBeUndefined()
    const tokens = JSON.stringify({ access_token: 'acc-1', token_type: 'bearer' })
    c.gw.secrets.set('remote', 'oauth:client', JSON.stringify({ client_id: 'c-1' }))
    c.gw.secrets.set('remote', 'oauth:tokens', tokens)
    const signedIn = (await c.call('servers.list')).find((s) => s.config.name === 'remote')!
    expect(signedIn).toMatchObject({ auth: 'oauth', signIn: 'signed-in' })
    expect(JSON.stringify(signedIn)).not.toContain('acc-1')
    await c.call('servers.update', {
      name: 'remote',
      server: { ...view.config, name: 'renamed', headers: { 'X-Team': 'a' } },
    })
    expect(c.gw.secrets.get('renamed', 'oauth:tokens')).toBe(tokens)
    expect(c.gw.secrets.get('remote', 'oauth:tokens')).toBeUndefined()
    const moved = await c.call('servers.update', {
      name: 'renamed',
      server: { ...view.config, name: 'renamed', url: 'https://other.example.com/mcp' },
    })
    expect(c.gw.secrets.get('renamed', 'oauth:tokens')).toBeUndefined()
    expect(c.gw.secrets.get('renamed', 'oauth:client')).toBeUndefined()
    expect(moved.auth).toBe('none')
    // Signing in needs a remote server.
    await expect(c.svc.call('servers.login', { name: 'nope' })).rejects.toThrow(/no server named/)
  })

  it('a remote server: secret headers go to the store, are masked, and survive an edit', async () => {
    const c = await setup()
    const server = {
      name: 'remote',
      url: 'https://mcp.example.com/mcp',
      headers: { Authorization: 'Bearer tok-1', 'X-Team': 'search', 'X-Session': 's-9' },
      secretHeaders: ['X-Session'],
    }
    const view = await c.call('servers.add', { server })
    expect(view.transport).toBeUndefined()
    expect(view.auth).toBe('headers')
    expect(view.config.headers).toEqual({
      'X-Team': 'search',
      Authorization: '********',
      'X-Session': '********',
    })
    const raw = fs.readFileSync(path.join(c.home, 'config.json'), 'utf8')
    expect(raw).not.toContain('tok-1')
    expect(raw).not.toContain('s-9')
    expect(c.config().servers[0]).toMatchObject({
      url: 'https://mcp.example.com/mcp',
      headers: { 'X-Team': 'search' },
    })
    expect(c.gw.remoteHeaders(c.gw.live.server('remote')!)).toEqual({
      Authorization: 'Bearer tok-1',
      'X-Team': 'search',
      'X-Session': 's-9',
    })
    // The masked view sent back keeps the stored values; a typed value replaces one.
    await c.call('servers.update', {
      name: 'remote',
      server: {
        ...view.config,
        headers: { ...view.config.headers, Authorization: 'Bearer tok-2' },
      },
    })
    expect(c.gw.remoteHeaders(c.gw.live.server('remote')!)).toEqual({
      Authorization: 'Bearer tok-2',
      'X-Team': 'search',
      'X-Session': 's-9',
    })
    // A server is either started or remote.
    await expect(
      c.svc.call('servers.add', { server: { name: 'both', url: 'http://h/mcp', command: 'x' } }),
    ).rejects.toThrow(/"command" or "url", not both/)
  })

  it('never overwrites an invalid config.json', async () => {
    const c = await setup()
    const file = path.join(c.home, 'config.json')
    fs.writeFileSync(file, '{ "servers": [ { "name": 1 } ] }')
    await expect(c.svc.call('servers.add', { server: memoryServer(c.home) })).rejects.toThrow(
      /config\.json.*servers\.0\.name[\s\S]*not changed/,
    )
    expect(fs.readFileSync(file, 'utf8')).toBe('{ "servers": [ { "name": 1 } ] }')
    await expect(
      c.svc.call('settings.set', { settings: { approvalTimeoutSeconds: 10 } }),
    ).rejects.toMatchObject({ code: 'INVALID' })
  })

  it('refuses a policy path that does not load', async () => {
    const c = await setup()
    await expect(
      c.svc.call('servers.add', { server: { ...memoryServer(c.home), policy: 'missing.yaml' } }),
    ).rejects.toThrow(/missing\.yaml: cannot read the policy/)
    expect(fs.existsSync(path.join(c.home, 'config.json'))).toBe(false)
  })

  it('reports why a server went away as lastError', async () => {
    const c = await setup()
    await c.call('servers.add', { server: memoryServer(c.home) })
    c.gw.emit('server-error', 'memory', 'exited (code 1)')
    expect((await c.call('servers.list'))[0]?.lastError).toBe('exited (code 1)')
  })
})

describe('tools and policies', () => {
  it('discovers tools with their class and the action of the policy', async () => {
    const c = await setup()
    await c.call('servers.add', { server: memoryServer(c.home) })
    const tools = await c.call('tools.list', { server: 'memory' })
    const by = Object.fromEntries(tools.map((t) => [t.name, t]))
    expect(by.read_graph).toMatchObject({ category: 'read', risk: 'low', action: 'allow' })
    expect(by.delete_entities).toMatchObject({
      category: 'destructive',
      risk: 'critical',
      // No policy decides it: the risk floor asks a person, and the view says so.
      action: 'require_approval',
      floor: 'destructive — "delete"',
      annotations: { destructiveHint: true },
    })
    expect(by.create_entities?.description).toMatch(/entities/)
    // Tools seen in a live session's tools/list count too (and the class follows their annotations).
    c.gw.emit('tools', 'memory', [{ name: 'wipe_all', annotations: { readOnlyHint: true } }])
    const again = await c.call('tools.list', { server: 'memory' })
    expect(again.find((t) => t.name === 'wipe_all')).toMatchObject({ risk: 'critical' })
    await expect(c.svc.call('tools.list', { server: 'nope' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    })
  })

  it('fails discovery clearly: a command that does not start, a server that never answers', async () => {
    const c = await setup(undefined, { inspectTimeoutMs: 800 })
    await c.call('servers.add', {
      server: { name: 'broken', command: path.join(c.home, 'no-such-binary') },
    })
    await expect(c.svc.call('tools.list', { server: 'broken' })).rejects.toThrow(
      /tool discovery failed: cannot start .*no-such-binary/,
    )
    expect((await c.call('servers.list'))[0]?.lastError).toMatch(/cannot start/)
    const silent = path.join(c.home, 'silent.js')
    fs.writeFileSync(silent, 'setInterval(() => {}, 1000)\n')
    await c.call('servers.add', {
      server: { name: 'silent', command: process.execPath, args: [silent] },
    })
    const t0 = Date.now()
    await expect(c.svc.call('tools.list', { server: 'silent' })).rejects.toThrow(
      /did not list its tools within 1 s/,
    )
    expect(Date.now() - t0).toBeLessThan(5000)
  })

  it('proposes a policy for a server without one; policy.set refuses invalid text and writes valid text', async () => {
    const c = await setup()
    await c.call('servers.add', { server: memoryServer(c.home) })
    const proposed = await c.call('policy.get', { server: 'memory' })
    expect(proposed.proposed).toBe(true)
    expect(proposed.text).toContain('# delete_entities: destructive, critical risk')
    const policy = parsePolicy(proposed.text, 'proposed')
    expect(policy.tools.find((t) => t.pattern === 'delete_entities')?.rules[0]?.action).toBe(
      'require_approval',
    )

    const bad = await c.call('policy.set', {
      server: 'memory',
      text: 'version: "1"\ndefault: maybe\ntools:\n  x:\n    rules:\n      - action: allow\n        rate_limit: "5 per minute"\n',
    })
    expect(bad.ok).toBe(false)
    expect(bad.errors.map((e) => e.path)).toEqual(
      expect.arrayContaining(['default', 'tools.x.rules[0].rate_limit']),
    )
    expect(bad.errors[0]?.line).toBeGreaterThan(0)
    expect(fs.existsSync(path.join(c.home, 'policies'))).toBe(false)
    expect(c.config().servers[0]?.policy).toBeUndefined()

    const text =
      'version: "1"\ndefault: allow\nhide: [read_graph]\ntools:\n  delete_entities:\n    rules:\n      - name: no-deletes\n        action: deny\n'
    expect(await c.call('policy.set', { server: 'memory', text })).toEqual({ ok: true, errors: [] })
    const file = path.join(c.home, 'policies', 'memory.yaml')
    expect(fs.readFileSync(file, 'utf8')).toBe(text)
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    expect(c.config().servers[0]?.policy).toBe(path.join('policies', 'memory.yaml'))
    // Applied at once.
    const tools = await c.call('tools.list', { server: 'memory' })
    expect(tools.find((t) => t.name === 'delete_entities')?.action).toBe('deny')
    expect(tools.find((t) => t.name === 'read_graph')?.action).toBe('hide')
    expect(await c.call('policy.get', { server: 'memory' })).toEqual({
      text,
      path: file,
      proposed: false,
      copiedOnSave: false,
    })

    // A second save goes to the same file; an invalid one leaves it as it was.
    const text2 = text.replace('action: deny', 'action: require_approval')
    await c.call('policy.set', { server: 'memory', text: text2 })
    expect(fs.readFileSync(file, 'utf8')).toBe(text2)
    expect(
      (await c.call('tools.list', { server: 'memory' })).find((t) => t.name === 'delete_entities')
        ?.action,
    ).toBe('require_approval')
    expect((await c.call('policy.set', { server: 'memory', text: 'version: 2' })).ok).toBe(false)
    expect(fs.readFileSync(file, 'utf8')).toBe(text2)
  })

  it('writes into the file a server already points to', async () => {
    const c = await setup()
    const own = path.join(c.home, 'mine.yaml')
    fs.writeFileSync(own, 'version: "1"\ndefault: deny\n')
    await c.call('servers.add', { server: { ...memoryServer(c.home), policy: own } })
    expect(await c.call('policy.get', { server: 'memory' })).toMatchObject({
      text: 'version: "1"\ndefault: deny\n',
      path: own,
      proposed: false,
    })
    await c.call('policy.set', { server: 'memory', text: 'version: "1"\ndefault: allow\n' })
    expect(fs.readFileSync(own, 'utf8')).toBe('version: "1"\ndefault: allow\n')
    expect(c.config().servers[0]?.policy).toBe(own)
    expect(fs.existsSync(path.join(c.home, 'policies', 'memory.yaml'))).toBe(false)
  })

  it('a policy file outside the data directory is copied in on the first save and never written; versions, diff and try', async () => {
    const c = await setup()
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-checkout-'))
    try {
      const theirs = path.join(outside, 'everything.yaml')
      const original = 'version: "1"\ndefault: deny\n'
      fs.writeFileSync(theirs, original)
      await c.call('servers.add', { server: { ...memoryServer(c.home), policy: theirs } })
      expect(await c.call('policy.get', { server: 'memory' })).toMatchObject({
        path: theirs,
        copiedOnSave: true,
      })
      const text =
        'version: "1"\ndefault: allow\ntools:\n  delete_entities:\n    rules:\n      - name: no deletes of people\n        action: deny\n        conditions:\n          - path: args.entityNames\n            op: contains\n            value: alice\n'
      expect((await c.call('policy.set', { server: 'memory', text })).ok).toBe(true)
      const copy = path.join(c.home, 'policies', 'memory.yaml')
      expect(fs.readFileSync(theirs, 'utf8')).toBe(original)
      expect(fs.readFileSync(copy, 'utf8')).toBe(text)
      expect(c.config().servers[0]?.policy).toBe(path.join('policies', 'memory.yaml'))
      expect(await c.call('policy.get', { server: 'memory' })).toMatchObject({
        path: copy,
        copiedOnSave: false,
      })

      // History: what was in force before, then the save; each with its diff to the saved text.
      const versions = await c.call('policy.history', { server: 'memory' })
      expect(versions).toHaveLength(2)
      const oldest = versions[1]!
      const v = await c.call('policy.version', { server: 'memory', id: oldest.id })
      expect(v.text).toBe(original)
      expect(v.diff).toContain('-default: deny')
      expect(v.diff).toContain('+default: allow')
      expect((await c.call('policy.version', { server: 'memory', id: versions[0]!.id })).diff).toBe(
        '',
      )
      await expect(c.call('policy.version', { server: 'memory', id: '../x' })).rejects.toThrow(
        /not a policy version id/,
      )

      // The conditional deny shows as conditional; try runs the engine.
      const tools = await c.call('tools.list', { server: 'memory' })
      // (With no arguments the rule does not apply, so the risk floor asks.)
      expect(tools.find((t) => t.name === 'delete_entities')).toMatchObject({
        action: 'require_approval',
        conditional: true,
      })
      expect(tools.find((t) => t.name === 'read_graph')?.conditional).toBeUndefined()
      const denied = await c.call('policy.try', {
        server: 'memory',
        tool: 'delete_entities',
        args: { entityNames: ['alice'] },
      })
      expect(denied).toMatchObject({ kind: 'deny', rule: 'no deletes of people' })
      expect(
        await c.call('policy.try', {
          server: 'memory',
          tool: 'delete_entities',
          args: { entityNames: ['bob'] },
        }),
      ).toMatchObject({ kind: 'needs_approval', floor: expect.stringContaining('destructive') })
      // Against unsaved text.
      expect(
        await c.call('policy.try', {
          server: 'memory',
          tool: 'read_graph',
          text: 'version: "1"\ndefault: allow\nhide: [read_graph]\n',
        }),
      ).toMatchObject({ kind: 'hidden' })

      // Undo: the old version saved again goes to the copy, never to the checkout's file.
      await c.call('policy.set', { server: 'memory', text: v.text })
      expect(fs.readFileSync(copy, 'utf8')).toBe(original)
      expect(await c.call('policy.history', { server: 'memory' })).toHaveLength(3)
    } finally {
      fs.rmSync(outside, { recursive: true, force: true })
    }
  })

  it('policy.validate returns located errors', async () => {
    const c = await setup()
    expect(
      await c.call('policy.validate', {
        text: '{"version":"1","default":"deny","hide":["logout"]}',
      }),
    ).toEqual({ ok: true, errors: [] })
    const r = await c.call('policy.validate', { text: 'version: "1"\ndefault: deny\nhide: 5\n' })
    expect(r.ok).toBe(false)
    expect(r.errors[0]).toMatchObject({ path: 'hide', line: 3 })
  })
})

describe('approvals, grants, pause, settings', () => {
  it('forwards approvals with their risk, decides once, lists and revokes grants', async () => {
    const c = await setup()
    const requested = events(c.svc, 'approval.requested')
    const resolved = events(c.svc, 'approval.resolved')
    const detach = c.gw.approvals.attachUi()
    const outcome = c.gw.approvals.request(
      {
        session: 's1',
        client: 'agent',
        server: 'bank',
        tool: 'transfer_funds',
        argsExcerpt: '{}',
        argsDigest: 'd',
      },
      10_000,
      new AbortController().signal,
    )
    expect(requested).toHaveLength(1)
    expect(requested[0]).toMatchObject({ tool: 'transfer_funds', risk: 'critical' })
    const list = await c.call('approvals.list')
    expect(list).toHaveLength(1)
    expect(list[0]?.risk).toBe('critical')
    expect(await c.call('approvals.decide', { id: list[0]!.id, answer: 'allow_once' })).toBe('ok')
    expect(await outcome).toEqual({ answer: 'allow_once', by: 'ui' })
    expect(resolved).toEqual([{ id: list[0]!.id, outcome: { answer: 'allow_once', by: 'ui' } }])
    expect(await c.call('approvals.decide', { id: list[0]!.id, answer: 'deny' })).toBe('unknown')
    detach()

    const g = c.gw.grants.add(
      { scope: 'tool', server: 'bank', tool: 'transfer_funds', until: Date.now() + 60_000 },
      Date.now(),
    )
    expect((await c.call('grants.list')).map((x) => x.id)).toEqual([g.id])
    expect(await c.call('grants.revoke', { id: g.id })).toBe(true)
    expect(await c.call('grants.revoke', { id: g.id })).toBe(false)
  })

  it('pause.set pauses, announces and persists', async () => {
    const c = await setup()
    const paused = events(c.svc, 'paused')
    expect(await c.call('pause.set', { paused: true })).toBe(true)
    expect(c.gw.paused).toBe(true)
    expect(paused).toEqual([{ paused: true }])
    expect(c.config().settings.paused).toBe(true)
    await c.call('pause.set', { paused: false })
    expect(c.gw.paused).toBe(false)
    expect(c.config().settings.paused).toBe(false)
  })

  it('settings.set merges a partial change, validates, writes config.json', async () => {
    const c = await setup({
      version: 1,
      settings: { audit: { retentionDays: 7, redactKeys: ['pin'] } },
    })
    const s = await c.call('settings.set', {
      settings: { approvalTimeoutSeconds: 20, audit: { durability: 'strict' } },
    })
    expect(s).toMatchObject({
      approvalTimeoutSeconds: 20,
      audit: { retentionDays: 7, redactKeys: ['pin'], durability: 'strict' },
    })
    expect(c.config().settings).toMatchObject({
      approvalTimeoutSeconds: 20,
      audit: { retentionDays: 7, durability: 'strict' },
    })
    expect(await c.call('settings.get')).toEqual(s)
    await expect(
      c.svc.call('settings.set', { settings: { approvalTimeoutSeconds: 0 } }),
    ).rejects.toThrow(/settings\.approvalTimeoutSeconds/)
    await expect(c.svc.call('settings.set', { settings: { audit: { bogus: 1 } } })).rejects.toThrow(
      /settings\.audit/,
    )
    expect(c.config().settings).toMatchObject({ approvalTimeoutSeconds: 20 })
  })
})

describe('audit', () => {
  /** What `work` resolves to, and how many turns the event loop took meanwhile. */
  const countingTurns = async <T>(work: Promise<T>): Promise<[T, number]> => {
    let turns = 0
    let ticking = true
    const tick = (): void => {
      turns++
      if (ticking) setImmediate(tick)
    }
    setImmediate(tick)
    try {
      return [await work, turns]
    } finally {
      ticking = false
    }
  }
  const call = (n: number, extra: Partial<AuditInput> = {}): AuditInput => ({
    kind: 'call',
    callId: `s1.${n}`,
    session: 's1',
    client: n % 2 ? 'cursor' : 'claude-code',
    server: n % 3 ? 'fs' : 'bank',
    tool: n % 3 ? 'read_file' : 'transfer_funds',
    args: { n, note: n === 7 ? 'The Needle' : 'hay' },
    decision: 'allow',
    decidedBy: 'policy',
    ...extra,
  })
  const outcome = (n: number, extra: Partial<AuditInput> = {}): AuditInput => ({
    kind: 'outcome',
    callId: `s1.${n}`,
    session: 's1',
    client: n % 2 ? 'cursor' : 'claude-code',
    server: n % 3 ? 'fs' : 'bank',
    tool: n % 3 ? 'read_file' : 'transfer_funds',
    outcome: 'ok',
    latencyMs: n,
    ...extra,
  })

  it('joins calls with outcomes, newest first, with filters, paging and risk', async () => {
    let early = 0
    const c = await setup(undefined, {
      // Records written before the service starts come from the files.
      start: (gw) => {
        gw.appendAudit(call(1))
        gw.appendAudit(outcome(1, { outcome: 'is_error', detail: 'file not found' }))
        early = 2
      },
    })
    expect(early).toBe(2)
    for (let n = 2; n <= 30; n++) {
      const denied = n % 5 === 0
      c.gw.appendAudit(
        call(n, denied ? { decision: 'deny', reason: 'policy says no', rule: 'r1' } : {}),
      )
      if (!denied) c.gw.appendAudit(outcome(n))
    }
    const all = await c.call('audit.query', {})
    expect(all.hasMore).toBe(false)
    expect(all.rows).toHaveLength(30)
    expect(all.rows[0]).toMatchObject({
      callId: 's1.30',
      decision: 'deny',
      reason: 'policy says no',
      rule: 'r1',
    })
    expect(all.rows[0]?.outcome).toBeUndefined()
    expect(all.rows.find((r) => r.callId === 's1.29')).toMatchObject({
      outcome: 'ok',
      latencyMs: 29,
      risk: 'low',
      args: { n: 29, note: 'hay' },
    })
    expect(all.rows.at(-1)).toMatchObject({
      callId: 's1.1',
      outcome: 'is_error',
      detail: 'file not found',
      client: 'cursor',
    })
    expect(all.rows.find((r) => r.tool === 'transfer_funds')?.risk).toBe('critical')
    expect(all.rows.map((r) => r.seq)).toEqual(
      [...all.rows.map((r) => r.seq)].sort((a, b) => b - a),
    )

    const bank = await c.call('audit.query', { filter: { server: 'bank' } })
    expect(bank.rows.map((r) => r.callId)).toEqual(
      [30, 27, 24, 21, 18, 15, 12, 9, 6, 3].map((n) => `s1.${n}`),
    )
    expect((await c.call('audit.query', { filter: { decision: 'deny' } })).rows).toHaveLength(6)
    expect(
      (
        await c.call('audit.query', {
          filter: { server: 'bank', decision: 'deny', client: 'claude-code' },
        })
      ).rows.map((r) => r.callId),
    ).toEqual(['s1.30'])
    expect((await c.call('audit.query', { filter: { tool: 'nope' } })).rows).toEqual([])
    expect(
      (await c.call('audit.query', { filter: { text: 'the needle' } })).rows.map((r) => r.callId),
    ).toEqual(['s1.7'])
    expect(
      (await c.call('audit.query', { filter: { text: 'NOT FOUND' } })).rows.map((r) => r.callId),
    ).toEqual(['s1.1'])
    expect((await c.call('audit.query', { filter: { text: 'cursor' } })).rows).toHaveLength(15)
    expect(
      (await c.call('audit.query', { filter: { until: Date.now() - 3_600_000 } })).rows,
    ).toEqual([])
    expect(
      (
        await c.call('audit.query', {
          filter: { since: new Date(Date.now() - 60_000).toISOString() },
        })
      ).rows,
    ).toHaveLength(30)

    // Paging: beforeSeq = the last seq of the previous page.
    const seen: string[] = []
    let beforeSeq: number | undefined
    for (;;) {
      const page: ResultOf<'audit.query'> = await c.call('audit.query', {
        filter: { server: 'fs' },
        limit: 7,
        beforeSeq,
      })
      seen.push(...page.rows.map((r) => r.callId))
      if (!page.hasMore) break
      expect(page.rows).toHaveLength(7)
      beforeSeq = page.rows.at(-1)!.seq
    }
    expect(seen).toHaveLength(20)
    expect(new Set(seen).size).toBe(20)
  })

  it('reads calls older than the index a slice at a time, with the event loop free in between, and pages alike', async () => {
    // 5 calls held, the rest on disk, read 4 records at a time.
    const c = await setup(undefined, { service: { index: { maxRows: 5 }, diskSliceRecords: 4 } })
    for (let n = 1; n <= 100; n++) {
      c.gw.appendAudit(call(n, n === 3 ? { reason: 'a rare marker' } : {}))
      c.gw.appendAudit(outcome(n, n === 2 ? { outcome: 'is_error', detail: 'Not Found' } : {}))
    }
    // Matches only the oldest calls: every record on disk is read, 4 at a time.
    const [needle, turnsTaken] = await countingTurns(
      c.call('audit.query', { filter: { text: 'rare marker' } }),
    )
    expect(needle.rows.map((r) => r.callId)).toEqual(['s1.3'])
    expect(needle.hasMore).toBe(false)
    // About 200 records on disk, 4 a slice: some 50 turns (read at once, about 10).
    expect(turnsTaken).toBeGreaterThan(40)
    const found = await c.call('audit.query', { filter: { text: 'not found' } })
    expect(found.rows).toMatchObject([{ callId: 's1.2', outcome: 'is_error', detail: 'Not Found' }])
    expect(await c.call('audit.call', { callId: 's1.1' })).toMatchObject({
      callId: 's1.1',
      outcome: 'ok',
    })
    // Pages across the window's edge and the slices: every call once, newest first.
    const seen: number[] = []
    let beforeSeq: number | undefined
    for (;;) {
      const page: ResultOf<'audit.query'> = await c.call('audit.query', { limit: 7, beforeSeq })
      seen.push(...page.rows.map((r) => Number(r.callId.slice(3))))
      // Every call has its outcome, across the slices' edges too.
      expect(page.rows.filter((r) => r.outcome === undefined)).toEqual([])
      if (!page.hasMore) break
      expect(page.rows).toHaveLength(7)
      beforeSeq = page.rows.at(-1)!.seq
    }
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => 100 - i))
  })

  it('matches the text of held rows outside the search corpus a slice at a time too', async () => {
    // 300 calls held, a corpus that covers only the newest few: the rest are matched on disk.
    const c = await setup(undefined, {
      service: { index: { maxRows: 1000, corpusBytes: 200 }, diskSliceRecords: 4 },
    })
    for (let n = 1; n <= 300; n++) {
      c.gw.appendAudit(call(n, n === 2 || n === 231 ? { reason: 'an old marker' } : {}))
      c.gw.appendAudit(
        outcome(n, n === 5 ? { outcome: 'is_error', detail: 'Old Marker here' } : {}),
      )
    }
    await c.call('audit.names', {}) // the index has loaded: the rows are held, not read from disk
    const [page, turnsTaken] = await countingTurns(
      c.call('audit.query', { filter: { text: 'old MARKER' } }),
    )
    expect(page.rows.map((r) => r.callId)).toEqual(['s1.231', 's1.5', 's1.2'])
    expect(page.rows[1]).toMatchObject({ outcome: 'is_error', detail: 'Old Marker here' })
    expect(page.hasMore).toBe(false)
    // Some 295 rows matched on disk, 4 a slice: some 74 turns (matched at once: none).
    expect(turnsTaken).toBeGreaterThan(50)
    // Pages of 2 across the slices: every match once, newest first.
    const first = await c.call('audit.query', { filter: { text: 'old marker' }, limit: 2 })
    expect(first.rows.map((r) => r.callId)).toEqual(['s1.231', 's1.5'])
    expect(first.hasMore).toBe(true)
    const second = await c.call('audit.query', {
      filter: { text: 'old marker' },
      limit: 2,
      beforeSeq: first.rows.at(-1)!.seq,
    })
    expect(second.rows.map((r) => r.callId)).toEqual(['s1.2'])
    expect(second.hasMore).toBe(false)
  })

  it('announces calls and their outcomes as rows', async () => {
    const c = await setup()
    const rows: CallRow[] = []
    c.svc.on('audit.appended', (r) => rows.push(r))
    c.gw.appendAudit(call(1))
    c.gw.appendAudit(call(3, { decision: 'deny', reason: 'no' }))
    c.gw.appendAudit(outcome(1, { latencyMs: 12 }))
    expect(rows.map((r) => [r.callId, r.decision, r.outcome])).toEqual([
      ['s1.1', 'allow', undefined],
      ['s1.3', 'deny', undefined],
      ['s1.1', 'allow', 'ok'],
    ])
    expect(rows[2]).toMatchObject({ latencyMs: 12, args: { n: 1 }, risk: 'low', seq: rows[0]!.seq })
  })

  it('indexes across rotated files (offsets tracked per file)', async () => {
    const c = await setup({ version: 1, settings: { audit: { maxFileBytes: 4096 } } })
    for (let n = 1; n <= 120; n++) {
      c.gw.appendAudit(
        call(n, { args: { n, pad: 'x'.repeat(n % 7 === 0 ? 900 : 50), unicode: 'é✓' } }),
      )
      c.gw.appendAudit(outcome(n))
    }
    expect(fs.readdirSync(path.join(c.home, 'audit')).length).toBeGreaterThan(5)
    const rows: CallRow[] = []
    let beforeSeq: number | undefined
    for (;;) {
      const page: ResultOf<'audit.query'> = await c.call('audit.query', { limit: 50, beforeSeq })
      rows.push(...page.rows)
      if (!page.hasMore) break
      beforeSeq = page.rows.at(-1)!.seq
    }
    expect(rows.map((r) => r.callId)).toEqual(
      Array.from({ length: 120 }, (_, i) => `s1.${120 - i}`),
    )
    expect(
      rows.every((r) => r.outcome === 'ok' && (r.args as { unicode: string }).unicode === 'é✓'),
    ).toBe(true)
  })

  it('exports CSV and JSONL with the same filter, and counts a histogram', async () => {
    const c = await setup()
    for (let n = 1; n <= 9; n++) {
      const decision = n % 3 === 0 ? 'approved' : n % 4 === 0 ? 'denied_by_user' : 'allow'
      c.gw.appendAudit(call(n, { decision }))
      if (decision !== 'denied_by_user') c.gw.appendAudit(outcome(n))
    }
    const csv = await c.call('audit.export', { filter: { server: 'bank' }, format: 'csv' })
    expect(csv.filename).toMatch(/^airlock-audit-\d{8}-\d{6}\.csv$/)
    const lines = csv.text.trim().split('\n')
    expect(lines.length).toBe(1 + 6) // header + 3 calls and 3 outcomes of "bank"
    const jsonl = await c.call('audit.export', {
      filter: { decision: 'approved' },
      format: 'jsonl',
    })
    expect(
      jsonl.text
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { callId: string }).callId),
    ).toEqual(['s1.3', 's1.6', 's1.9'])

    const now = Date.now()
    const h = await c.call('audit.histogram', {
      since: now - 60_000,
      until: now + 60_000,
      buckets: 4,
    })
    expect(h.bucketMs).toBe(30_000)
    const total = (s: { allowed: number[]; approved: number[]; denied: number[] }): number[] =>
      [s.allowed, s.approved, s.denied].map((a) => a.reduce((x, y) => x + y, 0))
    const by = Object.fromEntries(h.series.map((s) => [s.server, total(s)]))
    expect(by).toEqual({ bank: [0, 3, 0], fs: [4, 0, 2] })
    await expect(c.svc.call('audit.histogram', { since: now, until: now - 1 })).rejects.toThrow(
      /until/,
    )
  })
})

describe('events', () => {
  it('announces sessions and config reloads', async () => {
    const c = await setup()
    const changed = events(c.svc, 'servers.changed')
    const all: string[] = []
    c.svc.subscribe((e) => all.push(e))
    // The poller's first stat must see the file missing, or it never sees a change.
    await new Promise((r) => setTimeout(r, 500))
    const before = changed.length
    fs.writeFileSync(
      path.join(c.home, 'config.json'),
      JSON.stringify({ version: 1, servers: [memoryServer(c.home)] }),
    )
    await until(() => changed.length > before && c.gw.live.server('memory') !== undefined)
    expect(all).toContain('servers.changed')
    expect(c.gw.live.server('memory')).toBeDefined()
    const sessions = events(c.svc, 'sessions.changed')
    c.gw.emit('sessions', [
      { id: 's1', server: 'memory', client: 'agent', startedAt: 1, held: 0, transport: 'stdio' },
    ])
    expect(sessions).toEqual([
      [{ id: 's1', server: 'memory', client: 'agent', startedAt: 1, held: 0, transport: 'stdio' }],
    ])
  })
})
