/**
 * `airlock clients …` as users run it: the real CLI bundle as a child process, with HOME and
 * AIRLOCK_HOME in a temp directory: the table, --json, wrap --dry-run (a diff, nothing
 * written), wrap, restore, and the errors (unknown client, read-only and malformed files).
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fixture, sandbox, type Sandbox } from '../unit/clients/helpers'

const ROOT = path.resolve(import.meta.dirname, '..', '..')
const CLI = path.join(ROOT, 'bin', 'airlock.js')
const DESKTOP = 'home/.config/Claude/claude_desktop_config.json'

let box: Sandbox
beforeEach(() => {
  box = sandbox()
})
afterEach(() => box.cleanup())

function airlock(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return airlockWith(process.execPath, CLI, args)
}

/** The CLI run by `node` from `script` (another install of Airlock). */
function airlockWith(
  node: string,
  script: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: box.home, AIRLOCK_HOME: box.airlock }
  delete env.XDG_CONFIG_HOME
  delete env.CODEX_HOME
  delete env.CLAUDE_CONFIG_DIR
  return new Promise((resolve) => {
    execFile(
      node,
      [script, ...args],
      { cwd: box.project, env, timeout: 15_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr })
      },
    )
  })
}

describe('airlock clients', () => {
  it('lists clients, servers, routes and protection', async () => {
    box.put(DESKTOP, fixture('claude_desktop_config.json'))
    box.put('project/.vscode/mcp.json', fixture('vscode-mcp.json'))
    const r = await airlock('clients')
    expect(r.code).toBe(0)
    const lines = r.stdout.split('\n')
    expect(lines[0]).toMatch(/^CLIENT\s+CONFIG FILE\s+SERVER\s+ROUTE\s+PROTECTED\s+NOTE$/)
    expect(lines.find((l) => l.includes(' github ') && l.startsWith('claude-desktop'))).toMatch(
      /~\/\.config\/Claude\/claude_desktop_config\.json\s+github\s+stdio\s+no\s+not wrapped/,
    )
    expect(lines.find((l) => l.includes(' linear '))).toMatch(/linear\s+sse\s+no\s+SSE endpoint/)
    expect(lines.find((l) => l.startsWith('vscode') && l.includes(' copilot '))).toMatch(
      /copilot\s+http\s+no/,
    )
    expect(r.stdout).toContain(
      'protect them with: airlock clients wrap claude-desktop ; airlock clients wrap vscode',
    )

    const json = await airlock('clients', '--json')
    const parsed = JSON.parse(json.stdout) as {
      client: string
      servers: { name: string; route: string; protected: boolean }[]
    }[]
    expect(parsed.map((f) => f.client)).toEqual(['claude-desktop', 'vscode'])
    expect(parsed[0]?.servers.map((s) => [s.name, s.route, s.protected])).toEqual([
      ['filesystem', 'stdio', false],
      ['github', 'stdio', false],
      ['sqlite', 'stdio', false],
      ['linear', 'sse', false],
    ])
  })

  it('wrap --dry-run prints the diff and writes nothing', async () => {
    const file = box.put(DESKTOP, fixture('claude_desktop_config.json'))
    const r = await airlock('clients', 'wrap', 'claude-desktop', '--dry-run')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`--- ${file}\n+++ ${file} (wrapped)\n@@ `)
    expect(r.stdout).toContain('-      "command": "docker",')
    expect(r.stdout).toContain(`+      "command": ${JSON.stringify(process.execPath)},`)
    expect(r.stdout).toContain(
      'would add to Airlock: filesystem (npx -y @modelcontextprotocol/server-filesystem /Users/alex/Desktop /Users/alex/Downloads), github',
    )
    // The URL entry becomes a remote server too; the entry runs the shim.
    expect(r.stdout).toContain(', linear (https://mcp.linear.app/sse)')
    expect(r.stdout).toContain('-      "url": "https://mcp.linear.app/sse"')
    expect(r.stdout).not.toContain('left alone')
    expect(r.stdout).toContain('dry run: nothing was written')
    expect(fs.readFileSync(file)).toEqual(fixture('claude_desktop_config.json'))
    expect(fs.existsSync(box.airlock)).toBe(false)
  })

  it('wrap rewrites the entries and imports the servers; restore puts the file back byte for byte', async () => {
    const file = box.put(DESKTOP, fixture('claude_desktop_config.json'))
    const w = await airlock('clients', 'wrap', 'claude-desktop')
    expect(w.stderr).toBe('')
    expect(w.code).toBe(0)
    expect(w.stdout).toContain(
      'wrapped in ~/.config/Claude/claude_desktop_config.json: filesystem, github, sqlite, linear',
    )
    expect(w.stdout).toMatch(/note: github: \$\{GITHUB_TOKEN\} is filled in by the client/)
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      mcpServers: Record<
        string,
        { command?: string; args?: string[]; env?: Record<string, string> }
      >
    }
    expect(doc.mcpServers.github).toEqual({
      command: process.execPath,
      args: [CLI, 'connect', 'github'],
      env: { AIRLOCK_HOME: box.airlock },
    })
    const config = JSON.parse(fs.readFileSync(path.join(box.airlock, 'config.json'), 'utf8')) as {
      servers: { name: string; env: Record<string, string>; cwd?: string }[]
    }
    expect(config.servers.map((s) => s.name)).toEqual(['filesystem', 'github', 'sqlite', 'linear'])
    expect(config.servers[3]).toMatchObject({ url: 'https://mcp.linear.app/sse' })
    expect(config.servers[1]?.env).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: '${GITHUB_TOKEN}' })
    expect(config.servers[2]?.cwd).toBe('/Users/alex/projects/db')

    const list = await airlock('clients')
    expect(list.stdout.split('\n').filter((l) => /\sstdio\s+yes/.test(l))).toHaveLength(4)

    const r = await airlock('clients', 'restore', 'claude-desktop')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(
      'restored ~/.config/Claude/claude_desktop_config.json from the backup, byte for byte: filesystem, github, sqlite, linear',
    )
    expect(fs.readFileSync(file)).toEqual(fixture('claude_desktop_config.json'))
    const again = await airlock('clients', 'restore', 'claude-desktop')
    expect(again.stdout).toContain('nothing to restore')
  })

  it('wrap --server and --project choose the entries of one project file', async () => {
    const file = box.put('elsewhere/.vscode/mcp.json', fixture('vscode-mcp.json'))
    const r = await airlock(
      'clients',
      'wrap',
      'vscode',
      '--server',
      'fetch',
      '--project',
      path.join(box.root, 'elsewhere'),
    )
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('wrapped in')
    expect(r.stdout).toContain(': fetch\n')
    const config = JSON.parse(fs.readFileSync(path.join(box.airlock, 'config.json'), 'utf8')) as {
      servers: { name: string; cwd?: string }[]
    }
    // "${workspaceFolder}" is kept as written (VS Code fills it in; Airlock says so).
    expect(config.servers).toMatchObject([{ name: 'fetch', cwd: '${workspaceFolder}' }])
    expect(r.stdout).toMatch(/\$\{workspaceFolder\} is filled in by the client/)
    expect(fs.readFileSync(file, 'utf8')).toContain('"command": "docker"')
  })

  it.each([
    [['clients', 'wrap', 'notepad'], 2, /unknown client "notepad"; known clients: claude-desktop/],
    [['clients', 'wrap'], 2, /missing the client/],
    [['clients', 'frobnicate'], 2, /unknown subcommand "clients frobnicate"/],
    [
      ['clients', 'wrap', 'cursor'],
      1,
      /no Cursor config file found; looked in:\n\s+~\/\.cursor\/mcp\.json/,
    ],
    [['clients', 'wrap', 'claude-desktop', '--server', 'nope'], 1, /no server named "nope"/],
    [
      ['clients', 'wrap', 'claude-code', '--http'],
      1,
      /no running Airlock gateway serves MCP over HTTP .*start one \("airlock serve"/,
    ],
  ])('%j exits %i', async (args, code, message) => {
    box.put(DESKTOP, fixture('claude_desktop_config.json'))
    const r = await airlock(...args)
    expect(r.code).toBe(code)
    expect(r.stderr).toMatch(message)
  })

  it('a read-only file (exit 1) and a malformed file (exit 3) are reported and left alone', async () => {
    const file = box.put(DESKTOP, fixture('claude_desktop_config.json'))
    fs.chmodSync(file, 0o444)
    const ro = await airlock('clients', 'wrap', 'claude-desktop')
    expect(ro.code).toBe(1)
    expect(ro.stderr).toContain(
      `airlock: ${file}: read-only; Airlock leaves read-only files alone.`,
    )
    expect(fs.readFileSync(file)).toEqual(fixture('claude_desktop_config.json'))

    fs.chmodSync(file, 0o644)
    fs.writeFileSync(file, '{ "mcpServers": { "a": { "command": "x" }, } }')
    const bad = await airlock('clients', 'wrap', 'claude-desktop')
    expect(bad.code).toBe(3)
    expect(bad.stderr).toContain(
      `${file}:1:42: trailing comma before "}" (the client does not allow it). Claude Desktop cannot read the file like this either`,
    )
    expect(fs.readFileSync(file, 'utf8')).toBe('{ "mcpServers": { "a": { "command": "x" }, } }')
    const list = await airlock('clients')
    expect(list.code).toBe(1)
    expect(list.stdout).toMatch(
      /claude-desktop\s+~\/\.config\/Claude\/claude_desktop_config\.json\s+-\s+-\s+\?\s+unreadable/,
    )
  })

  it('repairs entries whose node or shim path broke; list and doctor mark them broken; restore gives back the original', async () => {
    const file = box.put(DESKTOP, fixture('claude_desktop_config.json'))
    // Another install of Airlock, with its own node, that goes away after wrapping (Node
    // upgraded, the app updated, an AppImage mounted elsewhere).
    const install = path.join(box.root, 'old-install')
    fs.mkdirSync(path.join(install, 'bin'), { recursive: true })
    const oldNode = path.join(install, 'node')
    try {
      fs.linkSync(process.execPath, oldNode)
    } catch {
      fs.copyFileSync(process.execPath, oldNode)
      fs.chmodSync(oldNode, 0o755)
    }
    const oldScript = path.join(install, 'bin', 'airlock.js')
    fs.copyFileSync(CLI, oldScript)
    fs.copyFileSync(
      path.join(ROOT, 'bin', 'package.json'),
      path.join(install, 'bin', 'package.json'),
    )
    fs.symlinkSync(path.join(ROOT, 'out'), path.join(install, 'out'))
    const w = await airlockWith(oldNode, oldScript, ['clients', 'wrap', 'claude-desktop'])
    expect(w.stderr).toBe('')
    expect(w.code).toBe(0)
    type Doc = {
      mcpServers: Record<
        string,
        { command?: string; args?: string[]; env?: Record<string, string> }
      >
    }
    const wrapped = JSON.parse(fs.readFileSync(file, 'utf8')) as Doc
    expect(wrapped.mcpServers.github).toEqual({
      command: oldNode,
      args: [oldScript, 'connect', 'github'],
      env: { AIRLOCK_HOME: box.airlock },
    })
    fs.rmSync(install, { recursive: true })

    const list = await airlock('clients')
    expect(list.code).toBe(0)
    const row = list.stdout.split('\n').find((l) => /\sgithub\s/.test(l))
    expect(row).toMatch(/github\s+stdio\s+broken\s+broken: node not found at /)
    expect(row).toContain(`node not found at ${oldNode}`)
    expect(list.stdout.split('\n').filter((l) => /\sstdio\s+yes/.test(l))).toHaveLength(0)
    expect(list.stdout).toContain(
      'repair them with: airlock clients wrap claude-desktop --server filesystem --server github --server sqlite --server linear',
    )
    const json = JSON.parse((await airlock('clients', '--json')).stdout) as {
      servers: { name: string; protected: boolean; broken?: boolean }[]
    }[]
    expect(json[0]?.servers.find((s) => s.name === 'github')).toMatchObject({
      protected: false,
      broken: true,
    })

    const doctor = await airlock('doctor', '--client', 'claude-desktop', '--timeout', '5')
    expect(doctor.code).toBe(1)
    const drow = doctor.stdout.split('\n').find((l) => /^claude-desktop\s+sqlite\s/.test(l))
    expect(drow).toMatch(/sqlite\s+stdio\s+broken\s+broken: node not found at /)
    // Its advice is a command that works: run it as printed.
    const advice = /"(airlock clients wrap [^"]+)" repairs it/.exec(drow ?? '')?.[1]
    expect(advice).toBe('airlock clients wrap claude-desktop --server sqlite')

    const repair = await airlock(...(advice ?? '').split(' ').slice(1))
    expect(repair.stderr).toBe('')
    expect(repair.code).toBe(0)
    expect(repair.stdout).not.toContain('already protected')
    expect(repair.stdout).toContain(
      `repaired in ~/.config/Claude/claude_desktop_config.json (now ${process.execPath} ${CLI}): sqlite (node not found at ${oldNode}`,
    )
    const rest = await airlock('clients', 'wrap', 'claude-desktop')
    expect(rest.code).toBe(0)
    expect(rest.stdout).toContain(': filesystem (node not found')
    expect(rest.stdout).not.toContain('added to Airlock')
    const repaired = JSON.parse(fs.readFileSync(file, 'utf8')) as Doc
    expect(repaired.mcpServers.github).toEqual({
      command: process.execPath,
      args: [CLI, 'connect', 'github'],
      env: { AIRLOCK_HOME: box.airlock },
    })
    // Everything else in the file is as the first wrap left it.
    expect({ ...repaired, mcpServers: {} }).toEqual({ ...wrapped, mcpServers: {} })
    expect(repaired.mcpServers.linear).toEqual({
      command: process.execPath,
      args: [CLI, 'connect', 'linear'],
      env: { AIRLOCK_HOME: box.airlock },
    })
    const after = await airlock('clients')
    expect(after.stdout.split('\n').filter((l) => /\sstdio\s+yes/.test(l))).toHaveLength(4)
    expect((await airlock('clients', 'wrap', 'claude-desktop')).stdout).toContain(
      'already protected',
    )

    // The manifest kept the user's original entries, not the broken wrapped ones.
    const r = await airlock('clients', 'restore', 'claude-desktop')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('from the backup, byte for byte: filesystem, github, sqlite, linear')
    expect(fs.readFileSync(file)).toEqual(fixture('claude_desktop_config.json'))
  })
})
