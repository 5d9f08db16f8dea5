/**
 * Shared set-up of the client-adapter tests: a temp home laid out like a Linux user's, the
 * fixture files (byte-exact) and where each client keeps them, and a fixed shim command.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type {
  ClientAdapter,
  ClientEnv,
  ConfigLocation,
  ShimCommand,
} from '../../../src/clients/adapters/adapter'
import { nodeClientFs, type ClientFs } from '../../../src/clients/fs-port'
import type { ClientsContext } from '../../../src/clients/protect'
import { clientAdapters } from '../../../src/clients/adapters/registry'

export const FIXTURES = path.resolve(import.meta.dirname, '..', '..', 'fixtures', 'clients')

/** The shim every wrap in these tests writes. */
export const SHIM: ShimCommand = {
  node: '/opt/node/bin/node',
  script: '/opt/airlock/bin/airlock.js',
}

/**
 * The node file system, except that the shim's node and script exist (they are not on this
 * machine): entries wrapped with {@link SHIM} are protected, not broken.
 */
export function fsWithShim(): ClientFs {
  const real = nodeClientFs()
  const installed = new Set([SHIM.node, SHIM.script])
  return {
    ...real,
    stat: (file) => (installed.has(file) ? { mode: 0o755, uid: 0, gid: 0 } : real.stat(file)),
  }
}

/** A fixture file's bytes. */
export function fixture(name: string): Buffer {
  return fs.readFileSync(path.join(FIXTURES, name))
}

/** What each adapter's test uses: its fixture, where it goes, and what is in it. */
export interface AdapterCase {
  adapter: ClientAdapter
  fixture: string
  /** Path of the file under the temp root: `home/…` or `project/…`. */
  place: string
  stdio: string[]
  remote: string[]
  /** Remote entries a plain wrap leaves alone (a URL the client fills in from a placeholder). */
  urlSkipped?: string[]
  /** Headers Airlock keeps per remote entry a plain wrap takes over (secret ones go to the store). */
  urlHeaders?: Record<string, Record<string, string>>
  /** Entries listed but not wrappable. */
  unsupported?: string[]
  /** Text that must survive a wrap (comments, unknown keys, placeholders outside entries). */
  keeps: string[]
  /** A change outside the server entries, to test a restore after the user edited the file. */
  edit: [string, string]
}

function adapter(id: string): ClientAdapter {
  const a = clientAdapters.find((c) => c.id === id)
  if (!a) throw new Error(`no adapter ${id}`)
  return a
}

export const CASES: AdapterCase[] = [
  {
    adapter: adapter('claude-desktop'),
    fixture: 'claude_desktop_config.json',
    place: 'home/.config/Claude/claude_desktop_config.json',
    stdio: ['filesystem', 'github', 'sqlite'],
    remote: ['linear'],
    keeps: [
      '"globalShortcut": "Alt+Space"',
      '"quickEntryDictationShortcut": "capslock"',
      '"url": "https://mcp.linear.app/sse"',
    ],
    edit: ['"Alt+Space"', '"Ctrl+Space"'],
  },
  {
    adapter: adapter('claude-code'),
    fixture: 'claude.json',
    place: 'home/.claude.json',
    stdio: ['memory', 'postgres'],
    remote: ['sentry'],
    keeps: ['"numStartups": 42', '"hasTrustDialogAccepted": true', '"userID": "0123456789abcdef"'],
    edit: ['"numStartups": 42', '"numStartups": 43'],
  },
  {
    adapter: adapter('claude-code'),
    fixture: 'mcp.json',
    place: 'project/.mcp.json',
    stdio: ['playwright', 'local-tool'],
    remote: ['api-docs'],
    urlSkipped: ['api-docs'],
    keeps: ['"Authorization": "Bearer ${DOCS_TOKEN}"', '${DOCS_URL:-https://docs.example.com}/sse'],
    edit: ['"Bearer ${DOCS_TOKEN}"', '"Bearer ${OTHER_TOKEN}"'],
  },
  {
    adapter: adapter('cursor'),
    fixture: 'cursor-mcp.json',
    place: 'home/.cursor/mcp.json',
    stdio: ['brave-search', 'time'],
    remote: ['notion'],
    keeps: ['"url": "https://mcp.notion.com/mcp"', '"envFile": "${workspaceFolder}/.env"'],
    edit: ['"mcpServers": {', '"theme": "dark", "mcpServers": {'],
  },
  {
    adapter: adapter('vscode'),
    fixture: 'vscode-mcp.json',
    place: 'project/.vscode/mcp.json',
    stdio: ['github', 'fetch'],
    remote: ['copilot', 'legacy-events'],
    keeps: [
      '// MCP servers for this workspace.',
      '// The GitHub server, through Docker',
      '/* remote ones */',
      '"id": "github-token"',
      '"dev": { "watch": "src/**/*.py" }',
    ],
    edit: ['"description": "GitHub personal access token"', '"description": "A GitHub token"'],
  },
  {
    adapter: adapter('windsurf'),
    fixture: 'windsurf-mcp_config.json',
    place: 'home/.codeium/windsurf/mcp_config.json',
    stdio: ['git', 'puppeteer'],
    remote: ['github-remote'],
    keeps: [
      '"disabledTools": ["git_reset"]',
      '"serverUrl": "https://api.githubcopilot.com/mcp/"',
      '"disabled": true',
    ],
    urlHeaders: { 'github-remote': { Authorization: 'Bearer ${env:GITHUB_PAT}' } },
    edit: ['"mcpServers": {', '"theme": "dark", "mcpServers": {'],
  },
  {
    adapter: adapter('gemini-cli'),
    fixture: 'gemini-settings.json',
    place: 'home/.gemini/settings.json',
    stdio: ['pythonTools', 'nodeServer'],
    remote: ['httpServer', 'sseServer'],
    keeps: [
      '// Gemini CLI user settings',
      '/* remote servers */',
      '"includeTools": ["safe_tool", "file_reader"]',
      '"allowed": ["pythonTools", "nodeServer"]',
    ],
    edit: ['"Dracula"', '"GitHub"'],
  },
  {
    adapter: adapter('codex'),
    fixture: 'codex-config.toml',
    place: 'home/.codex/config.toml',
    stdio: ['docs', 'sqlite', 'shell'],
    remote: ['figma'],
    urlHeaders: {
      figma: {
        'X-Figma-Region': 'eu',
        'X-Figma-Api-Key': '${FIGMA_API_KEY}',
        Authorization: 'Bearer ${FIGMA_OAUTH_TOKEN}',
      },
    },
    keeps: [
      '# Codex configuration',
      '# Local documentation search',
      'startup_timeout_sec = 20',
      'bearer_token_env_var = "FIGMA_OAUTH_TOKEN"',
      'enabled = true',
      '[profiles.fast]',
    ],
    edit: ['model = "gpt-5-mini"', 'model = "gpt-5"'],
  },
  {
    adapter: adapter('cline'),
    fixture: 'cline_mcp_settings.json',
    place:
      'home/.config/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json',
    stdio: ['git', 'weather'],
    remote: ['remote-search'],
    keeps: ['"networkTimeout": 60000', '"get_forecast"', '"type": "streamableHttp"'],
    edit: ['"mcpServers": {', '"theme": "dark", "mcpServers": {'],
  },
  {
    adapter: adapter('continue'),
    fixture: 'continue-config.yaml',
    place: 'home/.continue/config.yaml',
    stdio: ['SQLite MCP', 'Browser search'],
    remote: ['Remote docs', 'Linear'],
    urlHeaders: {
      Linear: { Authorization: 'Bearer ${{ secrets.LINEAR_TOKEN }}', 'X-Team': 'platform' },
    },
    keeps: [
      '# MCP servers available in agent mode',
      'apiKey: ${{ secrets.ANTHROPIC_API_KEY }}',
      'type: streamable-http',
      '  - provider: docs',
    ],
    edit: ['model: claude-sonnet-4', 'model: claude-opus-4'],
  },
  {
    adapter: adapter('zed'),
    fixture: 'zed-settings.json',
    place: 'home/.config/zed/settings.json',
    stdio: ['fetch', 'sequential-thinking'],
    remote: ['remote-mcp-server'],
    urlHeaders: { 'remote-mcp-server': { Authorization: 'Bearer <token>' } },
    unsupported: ['postgres-context-server'],
    keeps: [
      '// The older form: command is an object',
      '"source": "custom"',
      '"database_url": "postgresql://localhost/db"',
      '"settings": {},',
    ],
    edit: ['"ui_font_size": 16', '"ui_font_size": 14'],
  },
]

/** The entries a plain `clients wrap` takes over, in file order: stdio ones and URL ones. */
export function plainWrapped(c: AdapterCase, box: Sandbox): string[] {
  const file = path.join(box.root, c.place)
  const skip = [...(c.urlSkipped ?? []), ...(c.unsupported ?? [])]
  return c.adapter
    .read(fixture(c.fixture).toString('utf8'), locationOf(c.adapter, box.env, file))
    .map((e) => e.name)
    .filter((n) => !skip.includes(n))
}

/** A temp root with `home/`, `project/` and `airlock/` (the data directory). */
export interface Sandbox {
  root: string
  home: string
  project: string
  airlock: string
  /** What wraps put in the secret store, by `<server>\u0000<key>`. */
  secrets: Map<string, string>
  env: ClientEnv
  ctx: ClientsContext
  /** Writes a fixture at `place` (relative to the root) and returns its absolute path. */
  put(place: string, bytes: Buffer | string): string
  cleanup(): void
}

/** A fresh sandbox (Linux layout). */
export function sandbox(): Sandbox {
  const secrets = new Map<string, string>()
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-clients-'))
  const home = path.join(root, 'home')
  const project = path.join(root, 'project')
  const airlock = path.join(root, 'airlock')
  for (const d of [home, project]) fs.mkdirSync(d, { recursive: true })
  const env: ClientEnv = {
    home,
    platform: 'linux',
    appData: path.join(home, 'AppData', 'Roaming'),
    localAppData: path.join(home, 'AppData', 'Local'),
    xdgConfig: path.join(home, '.config'),
    cwd: project,
    projects: [project],
    vars: {},
  }
  return {
    root,
    home,
    project,
    airlock,
    secrets,
    env,
    ctx: {
      secrets: {
        set: (server, key, value) => void secrets.set(`${server}\u0000${key}`, value),
        get: (server, key) => secrets.get(`${server}\u0000${key}`),
      },
      adapters: clientAdapters,
      env,
      fs: fsWithShim(),
      home: airlock,
      now: () => new Date('2026-01-02T03:04:05.678Z'),
    },
    put(place, bytes) {
      const file = path.join(root, place)
      fs.mkdirSync(path.dirname(file), { recursive: true })
      fs.writeFileSync(file, bytes)
      return file
    },
    cleanup() {
      fs.chmodSync(root, 0o700)
      fs.rmSync(root, { recursive: true, force: true })
    },
  }
}

/** The location of `file` among the adapter's config files. */
export function locationOf(adapter: ClientAdapter, env: ClientEnv, file: string): ConfigLocation {
  const loc = adapter.configFiles(env, nodeClientFs()).find((l) => l.file === file)
  if (!loc) throw new Error(`${adapter.id} does not look at ${file}`)
  return loc
}
