/**
 * The `airlock` CLI as users run it: the real bundle (`node bin/airlock.js …`) as a child
 * process, with a fresh AIRLOCK_HOME per test. Covers servers, policy, audit and status.
 */
import { execFile, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { AuditLog } from '../../src/gateway/audit'
import { sharedFixture } from '../helpers/shared-fixtures'

const ROOT = path.resolve(import.meta.dirname, '..', '..')
const CLI = path.join(ROOT, 'bin', 'airlock.js')
const GITHUB_POLICY = sharedFixture(
  'intercept-policies/github.yaml',
  'test/integration/cli.test.ts',
)

interface Result {
  code: number
  stdout: string
  stderr: string
}

let home: string
let work: string

/** Runs the CLI with AIRLOCK_HOME = this test's home, in the test's work directory. */
function airlock(...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: work, env: { ...process.env, AIRLOCK_HOME: home }, timeout: 15_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

function configPath(): string {
  return path.join(home, 'config.json')
}

function readServers(): Record<string, unknown>[] {
  return (
    JSON.parse(fs.readFileSync(configPath(), 'utf8')) as { servers: Record<string, unknown>[] }
  ).servers
}

function write(name: string, text: string): string {
  const file = path.join(work, name)
  fs.writeFileSync(file, text)
  return file
}

const BROKEN_POLICY = `version: "1"
default: maybe
tools:
  send_email:
    rules:
      - name: limit
        rate_limit: "5 per minute"
`

const EVAL_POLICY = `version: "1"
default: allow
hide: [secret_tool]
tools:
  delete_repo:
    rules:
      - name: no deletes
        action: deny
        on_deny: Repository deletion is not permitted
  merge:
    rules:
      - name: ask first
        action: require_approval
  write_file:
    rules:
      - name: only tmp
        conditions:
          - path: args.path
            op: regex
            value: "^/tmp/"
`

beforeAll(() => {
  // vitest.config.ts's globalSetup (test/integration/setup.ts) builds out/ once per run from the
  // current sources. Rebuilding here would rewrite the bundle while other test files spawn it,
  // so only build when it is missing (e.g. a config without that setup).
  if (fs.existsSync(path.join(ROOT, 'out', 'cli', 'airlock.mjs'))) return
  return new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(ROOT, 'scripts', 'build-node.mjs')],
      { cwd: ROOT, timeout: 60_000 },
      (err, _out, stderr) => (err ? reject(new Error(`build failed: ${stderr}`)) : resolve()),
    )
  })
}, 60_000)

beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-cli-home-'))
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-cli-work-'))
})

afterEach(() => {
  fs.rmSync(home, { recursive: true, force: true })
  fs.rmSync(work, { recursive: true, force: true })
})

describe('airlock servers', () => {
  it('adds a server with its command line verbatim, lists it, and refuses a duplicate name', async () => {
    const add = await airlock(
      'servers',
      'add',
      'fs',
      '--env',
      'ROOT=/data',
      '--',
      'npx',
      '-y',
      '@scope/server fs',
      '--flag',
      '--',
      'x',
    )
    expect(add.code).toBe(0)
    expect(add.stdout).toContain('added server "fs"')
    expect(readServers()).toEqual([
      {
        name: 'fs',
        command: 'npx',
        args: ['-y', '@scope/server fs', '--flag', '--', 'x'],
        env: { ROOT: '/data' },
        secretEnv: [],
        enabled: true,
      },
    ])

    const list = await airlock('servers', 'list')
    expect(list.code).toBe(0)
    expect(list.stdout).toMatch(/^NAME\s+ENABLED\s+COMMAND\s+POLICY\n/)
    expect(list.stdout).toMatch(
      /fs\s+yes\s+npx -y '@scope\/server fs' --flag -- x\s+\(none: default allow\)/,
    )

    const before = fs.readFileSync(configPath())
    const dup = await airlock('servers', 'add', 'fs', '--', 'other')
    expect(dup.code).toBe(1)
    expect(dup.stderr).toContain(
      'a server named "fs" already exists; run "airlock servers remove fs" first',
    )
    expect(fs.readFileSync(configPath())).toEqual(before)
  })

  it('refuses an invalid name, naming the field, and a missing command', async () => {
    const bad = await airlock('servers', 'add', 'bad name!', '--', 'node', 'x.js')
    expect(bad.code).toBe(3)
    expect(bad.stderr).toContain('cannot add server "bad name!"')
    expect(bad.stderr).toMatch(/name: expected a name of letters, digits/)
    expect(fs.existsSync(configPath())).toBe(false)

    const noCommand = await airlock('servers', 'add', 'ok')
    expect(noCommand.code).toBe(2)
    expect(noCommand.stderr).toContain('missing the command that starts the server after "--"')
  })

  it('disables, enables and removes; an unknown name says how to list servers', async () => {
    expect(
      (await airlock('servers', 'add', 'mem', '--disabled', '--', 'node', 'mem.js')).code,
    ).toBe(0)
    expect(readServers()[0]?.enabled).toBe(false)
    expect((await airlock('servers', 'enable', 'mem')).stdout).toContain('server "mem" enabled')
    expect(readServers()[0]?.enabled).toBe(true)
    const dis = await airlock('servers', 'disable', 'mem')
    expect(dis.stdout).toContain('server "mem" disabled')
    expect((await airlock('servers', 'list')).stdout).toMatch(/mem\s+no\s+node mem\.js/)

    const unknown = await airlock('servers', 'remove', 'nope')
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('no server named "nope" (configured: mem)')
    expect(unknown.stderr).toContain('airlock servers list')

    expect((await airlock('servers', 'remove', 'mem')).code).toBe(0)
    expect(readServers()).toEqual([])
    expect((await airlock('servers', 'list')).stdout).toContain('no servers yet')
  })

  it('list --json prints the servers array with secret values masked', async () => {
    await airlock(
      'servers',
      'add',
      'gh',
      '--secret-env',
      'GITHUB_TOKEN=ghp_secret',
      '--env',
      'A=1',
      '--',
      'gh-mcp',
    )
    const list = await airlock('servers', 'list', '--json')
    expect(list.code).toBe(0)
    const servers = JSON.parse(list.stdout) as {
      name: string
      env: Record<string, string>
      secretEnv: string[]
    }[]
    expect(servers).toHaveLength(1)
    expect(servers[0]?.env).toEqual({ A: '1', GITHUB_TOKEN: '********' })
    expect(servers[0]?.secretEnv).toEqual(['GITHUB_TOKEN'])
    expect(list.stdout).not.toContain('ghp_secret')
    // The value lives in secrets.json (0600), never in config.json.
    expect(fs.readFileSync(path.join(home, 'config.json'), 'utf8')).not.toContain('ghp_secret')
    const secrets = path.join(home, 'secrets.json')
    expect(JSON.parse(fs.readFileSync(secrets, 'utf8'))).toEqual({
      gh: { GITHUB_TOKEN: 'ghp_secret' },
    })
    expect(fs.statSync(secrets).mode & 0o777).toBe(0o600)
  })

  it('add --url: a remote server; secret-looking headers and --secret-header go to secrets.json', async () => {
    const add = await airlock(
      'servers',
      'add',
      'remote',
      '--url',
      'https://mcp.example.com/mcp',
      '--header',
      'Authorization: Bearer sk-live-1',
      '--header',
      'X-API-Key: k-2',
      '--header',
      'X-Tenant: acme',
      '--header',
      'X-Session: s-3',
      '--secret-header',
      'x-session',
    )
    expect(add.stderr).toBe('')
    expect(add.code).toBe(0)
    expect(add.stdout).toContain('added remote server "remote": https://mcp.example.com/mcp')
    expect(readServers()).toEqual([
      {
        name: 'remote',
        url: 'https://mcp.example.com/mcp',
        args: [],
        env: {},
        secretEnv: [],
        headers: { 'X-Tenant': 'acme' },
        secretHeaders: ['Authorization', 'X-API-Key', 'X-Session'],
        enabled: true,
      },
    ])
    const text = fs.readFileSync(configPath(), 'utf8')
    for (const secret of ['sk-live-1', 'k-2', 's-3']) expect(text).not.toContain(secret)
    const secrets = path.join(home, 'secrets.json')
    expect(JSON.parse(fs.readFileSync(secrets, 'utf8'))).toEqual({
      remote: {
        'header:Authorization': 'Bearer sk-live-1',
        'header:X-API-Key': 'k-2',
        'header:X-Session': 's-3',
      },
    })
    expect(fs.statSync(secrets).mode & 0o777).toBe(0o600)
    const list = await airlock('servers', 'list', '--json')
    expect(list.stdout).not.toContain('sk-live-1')
    expect((JSON.parse(list.stdout) as { headers: unknown }[])[0]?.headers).toEqual({
      'X-Tenant': 'acme',
      Authorization: '********',
      'X-API-Key': '********',
      'X-Session': '********',
    })
    expect((await airlock('servers', 'list')).stdout).toMatch(
      /remote\s+yes\s+https:\/\/mcp\.example\.com\/mcp/,
    )
  })

  it('add --url refuses what cannot work, naming it', async () => {
    const notHttp = await airlock('servers', 'add', 'r', '--url', 'ftp://x/mcp')
    expect(notHttp.code).toBe(3)
    expect(notHttp.stderr).toContain('expected an http:// or https:// URL')
    const both = await airlock(
      'servers',
      'add',
      'r',
      '--url',
      'http://127.0.0.1:1/mcp',
      '--',
      'node',
    )
    expect(both.code).toBe(2)
    expect(both.stderr).toContain('give either --url or a command')
    const headerOnly = await airlock('servers', 'add', 'r', '--header', 'A: b', '--', 'node')
    expect(headerOnly.code).toBe(2)
    expect(headerOnly.stderr).toContain('add --url')
    const badHeader = await airlock(
      'servers',
      'add',
      'r',
      '--url',
      'http://h/mcp',
      '--header',
      'nocolon',
    )
    expect(badHeader.code).toBe(3)
    expect(badHeader.stderr).toContain('expected "Name: value"')
    const unmarked = await airlock(
      'servers',
      'add',
      'r',
      '--url',
      'http://h/mcp',
      '--secret-header',
      'X-Session',
    )
    expect(unmarked.code).toBe(3)
    expect(unmarked.stderr).toContain('no --header "X-Session: …" gives its value')
    expect(fs.existsSync(configPath())).toBe(false)
    expect(fs.existsSync(path.join(home, 'secrets.json'))).toBe(false)
  })

  it('--policy stores the absolute path of a valid policy and refuses an invalid one', async () => {
    write('good.yaml', 'version: "1"\ndefault: deny\n')
    write('bad.yaml', BROKEN_POLICY)
    const bad = await airlock('servers', 'add', 'a', '--policy', 'bad.yaml', '--', 'node')
    expect(bad.code).toBe(3)
    expect(bad.stderr).toMatch(
      /bad\.yaml:2:1: default: expected one of "allow", "deny", "require_approval"/,
    )
    expect(fs.existsSync(configPath())).toBe(false)

    const good = await airlock('servers', 'add', 'a', '--policy', 'good.yaml', '--', 'node')
    expect(good.code).toBe(0)
    expect(readServers()[0]?.policy).toBe(path.join(fs.realpathSync(work), 'good.yaml'))
  })

  it('reports an invalid config.json with its path and field, and leaves it byte-identical', async () => {
    const text = '{"version":1,"servers":[{"name":"x","args":[]}]}'
    fs.writeFileSync(configPath(), text)
    const results = await Promise.all(
      [
        ['servers', 'add', 'y', '--', 'node'],
        ['servers', 'list'],
        ['servers', 'disable', 'x'],
      ].map((args) => airlock(...args)),
    )
    for (const r of results) {
      expect(r.code).toBe(3)
      expect(r.stderr).toContain(`${configPath()}: servers.0.command:`)
      expect(r.stderr).toContain('Nothing was written')
    }
    fs.writeFileSync(configPath(), '{ not json')
    const r = await airlock('servers', 'add', 'y', '--', 'node')
    expect(r.code).toBe(3)
    expect(r.stderr).toContain(`${configPath()}: (root): expected JSON`)
    expect(fs.readFileSync(configPath(), 'utf8')).toBe('{ not json')
    expect(fs.readdirSync(home)).toEqual(['config.json'])
  })
})

describe('airlock policy', () => {
  it('set refuses an invalid policy with located errors and leaves config.json unchanged', async () => {
    await airlock('servers', 'add', 'mail', '--', 'node', 'mail.js')
    const before = fs.readFileSync(configPath())
    write('bad.yaml', BROKEN_POLICY)
    const r = await airlock('policy', 'set', 'mail', 'bad.yaml')
    expect(r.code).toBe(3)
    expect(r.stderr).toContain('bad.yaml is not a valid policy (2 problems); nothing was written')
    expect(r.stderr).toContain(
      'bad.yaml:7:9: tools.send_email.rules[0].rate_limit: expected "N/minute|hour|day" or {max, window}',
    )
    expect(fs.readFileSync(configPath())).toEqual(before)

    write('good.yaml', 'version: "1"\ndefault: allow\n')
    const unknown = await airlock('policy', 'set', 'nope', 'good.yaml')
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('no server named "nope"')
  })

  it('set stores the absolute path of a valid policy; show prints its text and path', async () => {
    await airlock('servers', 'add', 'mail', '--', 'node', 'mail.js')
    const shownDefault = await airlock('policy', 'show', 'mail')
    expect(JSON.parse(shownDefault.stdout)).toEqual({ version: '1', default: 'allow' })
    expect(shownDefault.stderr).toContain('no policy file for "mail"')

    const file = write('mail.yaml', 'version: "1"\ndefault: deny\nhide: [logout]\n')
    const set = await airlock('policy', 'set', 'mail', 'mail.yaml')
    expect(set.code).toBe(0)
    expect(readServers()[0]?.policy).toBe(path.join(fs.realpathSync(work), 'mail.yaml'))
    const shown = await airlock('policy', 'show', 'mail')
    expect(shown.code).toBe(0)
    expect(shown.stdout).toBe(fs.readFileSync(file, 'utf8'))
    expect(shown.stderr).toContain(path.join(fs.realpathSync(work), 'mail.yaml'))
  })

  it.skipIf(!GITHUB_POLICY)('check summarizes a valid Intercept policy', async () => {
    const file = GITHUB_POLICY as string
    const good = await airlock('policy', 'check', file)
    expect(good.code).toBe(0)
    expect(good.stdout).toContain(`ok: ${file} is a valid policy`)
    expect(good.stdout).toMatch(/default:\s+allow/)
    expect(good.stdout).toMatch(/hidden:\s+\(none\)/)
    expect(good.stdout).toMatch(/tools:\s+\d+ tool entries/)
    expect(good.stdout).toMatch(/rules:\s+\d+/)
  })

  it('check locates every error of a broken policy', async () => {
    write('bad.yaml', BROKEN_POLICY)
    const bad = await airlock('policy', 'check', 'bad.yaml')
    expect(bad.code).toBe(3)
    expect(bad.stdout.trim().split('\n')).toEqual([
      'bad.yaml:2:1: default: expected one of "allow", "deny", "require_approval" (got "maybe")',
      'bad.yaml:7:9: tools.send_email.rules[0].rate_limit: expected "N/minute|hour|day" or {max, window} (got "5 per minute")',
    ])
    expect(bad.stderr).toContain('bad.yaml: 2 problems')

    const missing = await airlock('policy', 'check', 'missing.yaml')
    expect(missing.code).toBe(3)
    expect(missing.stderr).toContain(
      'cannot read the policy file missing.yaml (ENOENT); check the path',
    )
  })

  it('eval exits 0 allow, 1 deny/hidden, 2 needs approval, 3 invalid input', async () => {
    write('p.yaml', EVAL_POLICY)
    const ev = (...args: string[]): Promise<Result> =>
      airlock('policy', 'eval', '--policy', 'p.yaml', ...args)

    write('bad.yaml', BROKEN_POLICY)
    // Read-only: all at once.
    const [allow, deny, cond, hidden, ask, badJson, notObject, noTool, badPolicy, noPolicy] =
      await Promise.all([
        ev('--tool', 'write_file', '--args', '{"path":"/tmp/x"}'),
        ev('--tool', 'delete_repo'),
        ev('--tool', 'write_file', '--args', '{"path":"/etc/passwd"}'),
        ev('--tool', 'secret_tool'),
        ev('--tool', 'merge'),
        ev('--tool', 'write_file', '--args', '{path:'),
        ev('--tool', 'write_file', '--args', '[1]'),
        ev(),
        airlock('policy', 'eval', '--policy', 'bad.yaml', '--tool', 'x'),
        airlock('policy', 'eval', '--policy', 'none.yaml', '--tool', 'x'),
      ])
    expect(allow.code).toBe(0)
    expect(allow.stdout).toMatch(/^allow\n/)

    expect(deny.code).toBe(1)
    expect(deny.stdout).toContain('deny (rule "no deletes"): Repository deletion is not permitted')

    expect(cond.code).toBe(1)
    expect(cond.stdout).toContain('deny (rule "only tmp")')

    expect(hidden.code).toBe(1)
    expect(hidden.stdout).toContain('hidden')

    expect(ask.code).toBe(2)
    expect(ask.stdout).toContain('needs_approval (rule "ask first")')

    expect(badJson.code).toBe(3)
    expect(badJson.stderr).toContain('--args is not valid JSON')
    expect(notObject.code).toBe(3)
    expect(notObject.stderr).toContain('--args must be a JSON object')
    expect(noTool.code).toBe(3)
    expect(noTool.stderr).toContain('missing --tool NAME')
    expect(badPolicy.code).toBe(3)
    expect(badPolicy.stderr).toContain('bad.yaml is not a valid policy')
    expect(noPolicy.code).toBe(3)
    expect(noPolicy.stderr).toContain('cannot read the policy file none.yaml')
  })
})

describe('airlock audit', () => {
  it('ends quietly (exit 0, nothing on stderr) when its reader closes the pipe early', async () => {
    const log = AuditLog.open({ dir: path.join(home, 'audit') })
    for (let i = 0; i < 3000; i++)
      log.append({
        kind: 'call',
        callId: `c${i}`,
        session: 's1',
        client: 'claude',
        server: 'fs',
        tool: 'read_file',
        args: { path: `/tmp/${i}`.padEnd(200, 'x') },
        decision: 'allow',
        decidedBy: 'policy',
      })
    await log.close()
    const child = spawn(process.execPath, [CLI, 'audit', 'query', '--limit', '5000'], {
      cwd: work,
      env: { ...process.env, AIRLOCK_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    // Like `| head -1`: read the first chunk, then close our end of the pipe.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()))
    child.stdout.destroy()
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(stderr).toBe('')
    expect(code).toBe(0)
  })

  /** Four records: two an hour and a half ago, two a minute ago. */
  async function seed(): Promise<string> {
    const dir = path.join(home, 'audit')
    const start = Date.now()
    const times = [start - 90 * 60_000, start - 90 * 60_000 + 1000, start - 60_000, start - 59_000]
    let t = times[0] as number
    const log = AuditLog.open({ dir, now: () => t })
    const at = (i: number): void => {
      t = times[i] as number
    }
    at(0)
    log.append({
      kind: 'call',
      callId: 'c1',
      session: 's1',
      client: 'claude',
      server: 'fs',
      tool: 'read_file',
      args: { path: '/tmp/a' },
      decision: 'allow',
      decidedBy: 'policy',
    })
    at(1)
    log.append({
      kind: 'outcome',
      callId: 'c1',
      session: 's1',
      client: 'claude',
      server: 'fs',
      tool: 'read_file',
      outcome: 'ok',
      latencyMs: 12,
    })
    at(2)
    log.append({
      kind: 'call',
      callId: 'c2',
      session: 's2',
      client: 'cursor',
      server: 'gh',
      tool: 'delete_repo',
      args: { repo: 'octo/hello' },
      decision: 'deny',
      decidedBy: 'policy',
      rule: 'no deletes',
      reason: 'Repository deletion is not permitted',
    })
    at(3)
    log.append({
      kind: 'call',
      callId: 'c3',
      session: 's2',
      client: 'cursor',
      server: 'gh',
      tool: 'merge',
      decision: 'timeout',
      decidedBy: 'timeout',
      rule: '@evil',
      reason: 'nobody answered',
    })
    await log.close()
    return dir
  }

  it('query filters (server, decision, text, relative since) newest first, as rows or JSONL', async () => {
    await seed()
    const all = await airlock('audit', 'query', '--json')
    expect(all.code).toBe(0)
    const seqs = all.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { seq: number }).seq)
    expect(seqs).toEqual([4, 3, 2, 1])

    const gh = await airlock('audit', 'query', '--server', 'gh', '--decision', 'deny')
    expect(gh.code).toBe(0)
    const rows = gh.stdout.trim().split('\n')
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ deny\s+gh\s+delete_repo\s+cursor\s+Repository deletion is not permitted$/,
    )

    const recent = await airlock('audit', 'query', '--since', '10m', '--json')
    expect(
      recent.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { callId: string }).callId),
    ).toEqual(['c3', 'c2'])
    const text = await airlock('audit', 'query', '--text', 'TMP/A', '--json')
    expect(text.stdout.trim().split('\n')).toHaveLength(1)

    const badSince = await airlock('audit', 'query', '--since', 'yesterday-ish')
    expect(badSince.code).toBe(3)
    expect(badSince.stderr).toContain('expected an ISO time')
    const badDecision = await airlock('audit', 'query', '--decision', 'maybe')
    expect(badDecision.code).toBe(3)
    expect(badDecision.stderr).toContain('expected one of allow, deny')
  })

  it('tail -n prints the last records oldest first', async () => {
    await seed()
    const r = await airlock('audit', 'tail', '-n', '2')
    expect(r.code).toBe(0)
    const rows = r.stdout.trim().split('\n')
    expect(rows).toHaveLength(2)
    expect(rows[0]).toContain('delete_repo')
    expect(rows[1]).toMatch(/timeout \(timeout\)\s+gh\s+merge\s+cursor\s+nobody answered/)
  })

  it('tail -f prints new records as they are appended and stops cleanly on SIGINT', async () => {
    const dir = await seed()
    const follower = spawn(process.execPath, [CLI, 'audit', 'tail', '-n', '1', '-f'], {
      cwd: work,
      env: { ...process.env, AIRLOCK_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const exited = new Promise<number | null>((resolve) =>
      follower.once('exit', (code) => resolve(code)),
    )
    let out = ''
    const seen = (text: string): Promise<void> =>
      new Promise((resolve) => {
        const check = (): void => {
          if (out.includes(text)) {
            follower.stdout.off('data', check)
            resolve()
          }
        }
        follower.stdout.on('data', check)
        check()
      })
    follower.stdout.on('data', (c: Buffer) => (out += c.toString()))
    try {
      await seen('merge')
      const log = AuditLog.open({ dir })
      log.append({
        kind: 'call',
        callId: 'c4',
        session: 's3',
        client: 'claude',
        server: 'fs',
        tool: 'list_dir',
        decision: 'allow',
        decidedBy: 'policy',
      })
      await log.close()
      await seen('list_dir')
      follower.kill('SIGINT')
      expect(await exited).toBe(0)
      expect(out.trim().split('\n')).toHaveLength(2)
    } finally {
      follower.kill('SIGKILL')
    }
  })

  it('export writes CSV (formula-guarded) to stdout and JSONL byte for byte to --out', async () => {
    const dir = await seed()
    const csv = await airlock('audit', 'export', '--format', 'csv', '--server', 'gh')
    expect(csv.code).toBe(0)
    const lines = csv.stdout.split('\r\n')
    expect(lines[0]).toMatch(/^seq,ts,kind,callId,/)
    expect(lines).toHaveLength(4) // header, two records, trailing ''
    // A spreadsheet must not run agent-written text: a cell starting with "@" gets an apostrophe.
    expect(lines[2]).toContain(",'@evil,")

    const out = path.join(work, 'audit.jsonl')
    const jsonl = await airlock('audit', 'export', '--format', 'jsonl', '--out', out)
    expect(jsonl.code).toBe(0)
    expect(jsonl.stderr).toContain(`exported 4 records to ${out}`)
    const stored = fs
      .readdirSync(dir)
      .sort()
      .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
      .join('')
    expect(fs.readFileSync(out, 'utf8')).toBe(stored)

    const noFormat = await airlock('audit', 'export')
    expect(noFormat.code).toBe(2)
    expect(noFormat.stderr).toContain('missing --format csv|jsonl')
  })

  it('verify reports an intact chain, and the first problem after tampering (exit 1)', async () => {
    const dir = await seed()
    const ok = await airlock('audit', 'verify')
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(/^ok: 4 records in [12] files?, chain intact\n/)

    const newest = fs.readdirSync(dir).sort().at(-1) as string
    const file = path.join(dir, newest)
    fs.writeFileSync(
      file,
      fs.readFileSync(file, 'utf8').replace('nobody answered', 'someone answered'),
    )
    const bad = await airlock('audit', 'verify')
    expect(bad.code).toBe(1)
    expect(bad.stdout).toContain('FAILED')
    expect(bad.stdout).toContain('hash mismatch for seq 4')
  })
})

describe('airlock status and usage', () => {
  it('status without a gateway exits 1 and says how to start one', async () => {
    const r = await airlock('status')
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('airlock serve')
  })

  it('status reports a running gateway: pid, data dir, paused, sessions, approvals', async () => {
    const gateway = spawn(process.execPath, [CLI, 'serve', '--background', '--port', '0'], {
      cwd: work,
      env: { ...process.env, AIRLOCK_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const exited = new Promise<void>((resolve) => gateway.once('exit', () => resolve()))
    try {
      await new Promise<void>((resolve, reject) => {
        let out = ''
        gateway.stdout.on('data', (c: Buffer) => {
          out += c.toString()
          if (out.includes('Airlock gateway running')) resolve()
        })
        gateway.once('exit', (code) =>
          reject(new Error(`airlock serve exited (${String(code)}) before it ran`)),
        )
      })
      const r = await airlock('status')
      expect(r.code).toBe(0)
      expect(r.stdout).toContain(`Airlock gateway running (pid ${String(gateway.pid)})`)
      expect(r.stdout).toContain(`data:     ${home}`)
      expect(r.stdout).toMatch(/paused:\s+no/)
      expect(r.stdout).toMatch(/sessions: 0/)
      expect(r.stdout).toMatch(/pending approvals: 0/)
    } finally {
      gateway.kill('SIGTERM')
      await exited
    }
  })

  it('unknown subcommands and options are usage errors (exit 2)', async () => {
    const results = await Promise.all(
      [['servers', 'frobnicate'], ['policy'], ['audit', 'query', '--bogus']].map((args) =>
        airlock(...args),
      ),
    )
    for (const r of results) {
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(/usage|airlock help/)
    }
  })
})
