/**
 * Importing entries as Airlock servers (names, collisions, reuse, placeholders kept verbatim,
 * project directories) and where each client's files are on macOS, Windows (the MSIX package
 * of Claude Desktop included) and Linux.
 */
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ClientEnv, ClientServerEntry, DirLister } from '../../../src/clients/adapters/adapter'
import { airlockName, importServers } from '../../../src/clients/import'
import { clientAdapters } from '../../../src/clients/adapters/registry'
import { serverConfigSchema, type ServerConfig } from '../../../src/shared/contract/config'

function entry(name: string, over: Partial<ClientServerEntry> = {}): ClientServerEntry {
  return {
    key: ['mcpServers', name],
    path: ['mcpServers', name],
    name,
    scope: 'user',
    transport: 'stdio',
    command: 'npx',
    args: ['-y', name],
    env: {},
    range: { start: 0, end: 0 },
    wrapped: false,
    notes: [],
    value: {},
    ...over,
  }
}

describe('importServers', () => {
  it.each([
    ['github', 'github'],
    ['SQLite MCP', 'SQLite-MCP'],
    ['@scope/tool', 'scope-tool'],
    ['..hidden', 'hidden'],
    ['ünïcødé', 'n-c-d'],
    ['***', 'server'],
    ['x'.repeat(80), 'x'.repeat(64)],
  ])('names %j %j', (name, expected) => {
    expect(airlockName(name)).toBe(expected)
    expect(serverConfigSchema.shape.name.safeParse(airlockName(name)).success).toBe(true)
  })

  it('keeps placeholders verbatim and says what the client would have filled in', () => {
    const [imp] = importServers(
      [
        entry('gh', {
          command: 'docker',
          args: ['run', '-e', 'TOKEN'],
          env: { TOKEN: '${input:github-token}', HOME_DIR: '${HOME}' },
        }),
      ],
      'vscode',
      [],
    )
    expect(imp?.server).toEqual({
      name: 'gh',
      command: 'docker',
      args: ['run', '-e', 'TOKEN'],
      env: { TOKEN: '${input:github-token}', HOME_DIR: '${HOME}' },
      secretEnv: ['TOKEN'],
      enabled: true,
    })
    expect(imp?.warnings.join('\n')).toMatch(
      /\$\{input:github-token\}, \$\{HOME\} are filled in by the client/,
    )
  })

  it('reuses a server with the same command, prefixes the client on a clash', () => {
    const existing: ServerConfig[] = [
      {
        name: 'memory',
        command: 'npx',
        args: ['-y', 'memory'],
        env: {},
        secretEnv: [],
        enabled: true,
      },
      { name: 'fs', command: 'other', args: [], env: {}, secretEnv: [], enabled: true },
      { name: 'cursor-fs', command: 'other2', args: [], env: {}, secretEnv: [], enabled: true },
    ]
    const out = importServers(
      [entry('memory'), entry('fs'), entry('fs', { key: ['x', 'fs'], args: ['-y', 'fs2'] })],
      'cursor',
      existing,
    )
    expect(out.map((i) => [i.server.name, i.reuse])).toEqual([
      ['memory', true],
      ['cursor-fs-2', false],
      ['cursor-fs-3', false],
    ])
  })

  it('runs a project entry in its project directory', () => {
    const [a, b] = importServers(
      [
        entry('a', { project: '/work/app', scope: 'project' }),
        entry('b', { project: '/work/app', scope: 'project', cwd: 'tools' }),
      ],
      'claude-code',
      [],
    )
    expect(a?.server.cwd).toBe('/work/app')
    expect(b?.server.cwd).toBe(path.resolve('/work/app', 'tools'))
  })
})

describe('config file locations', () => {
  const dirs = (listing: Record<string, string[]>): DirLister => ({
    list: (dir) => listing[dir] ?? [],
  })
  const files = (env: ClientEnv, d: DirLister = dirs({})): Record<string, string[]> =>
    Object.fromEntries(clientAdapters.map((a) => [a.id, a.configFiles(env, d).map((l) => l.file)]))

  it('macOS', () => {
    const env: ClientEnv = {
      home: '/Users/al',
      platform: 'darwin',
      appData: '',
      localAppData: '',
      xdgConfig: '/Users/al/.config',
      cwd: '/p',
      projects: ['/p'],
      vars: {},
    }
    const f = files(env)
    expect(f['claude-desktop']).toEqual([
      '/Users/al/Library/Application Support/Claude/claude_desktop_config.json',
    ])
    expect(f['claude-code']).toEqual(['/Users/al/.claude.json', '/p/.mcp.json'])
    expect(f.vscode?.[0]).toBe('/Users/al/Library/Application Support/Code/User/mcp.json')
    expect(f.vscode).toContain('/p/.vscode/mcp.json')
    expect(f.cline?.[0]).toBe(
      '/Users/al/Library/Application Support/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json',
    )
    expect(f.zed).toEqual(['/Users/al/.config/zed/settings.json', '/p/.zed/settings.json'])
  })

  it('Windows, with the MSIX package of Claude Desktop found by glob', () => {
    const env: ClientEnv = {
      home: 'C:\\Users\\al',
      platform: 'win32',
      appData: 'C:\\Users\\al\\AppData\\Roaming',
      localAppData: 'C:\\Users\\al\\AppData\\Local',
      xdgConfig: '',
      cwd: 'C:\\p',
      projects: [],
      vars: { CODEX_HOME: 'D:\\codex' },
    }
    const f = files(
      env,
      dirs({
        'C:\\Users\\al\\AppData\\Local\\Packages': [
          'Microsoft.Paint_8wekyb',
          'Claude_pzs8sxrjxfjjc',
        ],
        'C:\\Users\\al\\AppData\\Roaming\\Code\\User\\profiles': ['-4a1b'],
      }),
    )
    expect(f['claude-desktop']).toEqual([
      'C:\\Users\\al\\AppData\\Local\\Packages\\Claude_pzs8sxrjxfjjc\\LocalCache\\Roaming\\Claude\\claude_desktop_config.json',
      'C:\\Users\\al\\AppData\\Roaming\\Claude\\claude_desktop_config.json',
    ])
    expect(f.vscode?.slice(0, 2)).toEqual([
      'C:\\Users\\al\\AppData\\Roaming\\Code\\User\\mcp.json',
      'C:\\Users\\al\\AppData\\Roaming\\Code\\User\\profiles\\-4a1b\\mcp.json',
    ])
    expect(f.windsurf).toEqual(['C:\\Users\\al\\.codeium\\windsurf\\mcp_config.json'])
    expect(f.codex).toEqual(['D:\\codex\\config.toml'])
    expect(f.zed).toEqual(['C:\\Users\\al\\AppData\\Roaming\\Zed\\settings.json'])
    expect(f.continue).toEqual(['C:\\Users\\al\\.continue\\config.yaml'])
  })

  it('Linux, with Continue block files', () => {
    const env: ClientEnv = {
      home: '/home/al',
      platform: 'linux',
      appData: '',
      localAppData: '',
      xdgConfig: '/home/al/.config',
      cwd: '/p',
      projects: ['/p'],
      vars: {},
    }
    const f = files(
      env,
      dirs({
        '/home/al/.continue/mcpServers': ['b.yaml', 'notes.md', 'a.yml'],
        '/p/.continue/mcpServers': ['pw.yaml'],
      }),
    )
    expect(f['claude-desktop']).toEqual(['/home/al/.config/Claude/claude_desktop_config.json'])
    expect(f.cursor).toEqual(['/home/al/.cursor/mcp.json', '/p/.cursor/mcp.json'])
    expect(f['gemini-cli']).toEqual(['/home/al/.gemini/settings.json', '/p/.gemini/settings.json'])
    expect(f.codex).toEqual(['/home/al/.codex/config.toml', '/p/.codex/config.toml'])
    expect(f.continue).toEqual([
      '/home/al/.continue/config.yaml',
      '/home/al/.continue/mcpServers/a.yml',
      '/home/al/.continue/mcpServers/b.yaml',
      '/p/.continue/mcpServers/pw.yaml',
    ])
  })
})
