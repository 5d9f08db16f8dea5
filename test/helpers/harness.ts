/**
 * Integration-test harness: a fresh AIRLOCK_HOME, real MCP servers from npm, the real
 * `airlock serve` gateway process and the real `airlock connect` shim, with the SDK Client as
 * the agent. Every process started here is ended by `cleanup()`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js'
import type { ServerConfig } from '../../src/shared/contract/config'
import { ControlClient } from '../../src/node/control-client'
import { socketDir } from '../../src/node/paths'
import type { ApprovalAnswer } from '../../src/gateway/approvals/approvals'
import type { EventOf, PendingApprovalView } from '../../src/shared/contract/control-api'

export const ROOT = path.resolve(import.meta.dirname, '..', '..')
export const CLI = path.join(ROOT, 'bin', 'airlock.js')
const require = createRequire(import.meta.url)

/** Absolute path of an npm MCP server's entry script. */
export function serverScript(pkg: 'everything' | 'filesystem' | 'memory'): string {
  return require.resolve(`@modelcontextprotocol/server-${pkg}/dist/index.js`)
}

/** Server configs for the three reference servers. */
export function everything(
  name = 'everything',
  extra: Partial<ServerConfig> = {},
): Partial<ServerConfig> {
  return { name, command: process.execPath, args: [serverScript('everything'), 'stdio'], ...extra }
}
export function memory(
  file: string,
  name = 'memory',
  extra: Partial<ServerConfig> = {},
): Partial<ServerConfig> {
  return {
    name,
    command: process.execPath,
    args: [serverScript('memory')],
    env: { MEMORY_FILE_PATH: file },
    ...extra,
  }
}
export function filesystem(
  dir: string,
  name = 'filesystem',
  extra: Partial<ServerConfig> = {},
): Partial<ServerConfig> {
  return { name, command: process.execPath, args: [serverScript('filesystem'), dir], ...extra }
}

/** A test environment with its own data directory. */
export class Env {
  readonly home: string
  private readonly procs = new Set<ChildProcess>()
  private readonly clients = new Set<Client>()
  private readonly controls = new Set<ControlClient>()
  /** Processes started outside the harness (an autostarted gateway) to end in cleanup. */
  private readonly adopted = new Set<number>()
  gatewayOutput = ''
  /** The `airlock serve` process started by startGateway. */
  gateway?: ChildProcess

  constructor() {
    this.home = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-it-'))
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, AIRLOCK_HOME: this.home, AIRLOCK_NO_AUTOSTART: '1' }
  }

  /** Writes config.json with these servers (and optional settings). */
  writeConfig(servers: Partial<ServerConfig>[], settings: Record<string, unknown> = {}): void {
    fs.writeFileSync(
      path.join(this.home, 'config.json'),
      JSON.stringify({ version: 1, servers, settings }, null, 2),
    )
  }

  /** Writes a policy file into the home and returns its path. */
  writePolicy(name: string, policy: unknown): string {
    const file = path.join(this.home, `${name}.policy.json`)
    const tmp = `${file}.tmp`
    fs.writeFileSync(tmp, typeof policy === 'string' ? policy : JSON.stringify(policy, null, 2))
    fs.renameSync(tmp, file)
    return file
  }

  /** The web UI's URL (token in the fragment) that the last startGateway printed, if any. */
  uiUrl?: string
  /** The MCP endpoint's base (`http://127.0.0.1:<port>/mcp/`) that the last startGateway printed, if any. */
  mcpBase?: string

  /** The MCP endpoint's bearer token (`<home>/http-token`, written by the gateway on start). */
  httpToken(): string {
    return fs.readFileSync(path.join(this.home, 'http-token'), 'utf8').trim()
  }

  /**
   * Starts `airlock serve --background` and waits until it listens. With `port` the web UI runs
   * on it (`--port`; 0: any free port) and its printed URL is kept in `uiUrl`; without, the
   * gateway runs with `--no-http` and binds nothing but its Unix socket.
   */
  async startGateway(opts: { port?: number } = {}): Promise<ChildProcess> {
    const args = [
      CLI,
      'serve',
      '--background',
      ...(opts.port === undefined ? ['--no-http'] : ['--port', String(opts.port)]),
    ]
    const proc = spawn(process.execPath, args, { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] })
    this.procs.add(proc)
    // This start's own output: gatewayOutput also holds what earlier gateways of this env said.
    let out = ''
    const take = (c: Buffer): void => {
      out += c.toString()
      this.gatewayOutput += c.toString()
    }
    proc.stdout!.on('data', take)
    proc.stderr!.on('data', take)
    await waitFor(
      () => out.includes('Airlock gateway running') || proc.exitCode !== null,
      // Generous: a loaded 2-core CI machine can take a while to start a Node process.
      30_000,
      'the gateway to start',
    )
    if (proc.exitCode !== null) throw new Error(`gateway exited: ${out}`)
    this.uiUrl = /web UI:\s+(\S+)/.exec(out)?.[1]
    this.mcpBase = /MCP over HTTP:\s+(\S+)<server>/.exec(out)?.[1]
    this.gateway = proc
    return proc
  }

  /**
   * The SDK Client through `airlock connect <server>`. `setup` runs before the connection
   * (request and notification handlers that must be in place when the server first speaks).
   */
  async connect(
    server: string,
    opts: {
      capabilities?: ClientCapabilities
      name?: string
      setup?: (client: Client) => void
      env?: NodeJS.ProcessEnv
      /** The shim's working directory (the client's project folder). */
      cwd?: string
    } = {},
  ): Promise<{ client: Client; transport: StdioClientTransport }> {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'connect', server],
      env: (opts.env ?? this.env) as Record<string, string>,
      cwd: opts.cwd,
      stderr: 'pipe',
    })
    // Drain the shim's stderr so that it can never block on a full pipe.
    transport.stderr?.on('data', () => undefined)
    const client = new Client(
      { name: opts.name ?? 'test-agent', version: '1.0.0' },
      { capabilities: opts.capabilities ?? {} },
    )
    opts.setup?.(client)
    this.clients.add(client)
    await client.connect(transport)
    return { client, transport }
  }

  /** A raw `airlock connect <server>` process, for writing lines the SDK would never send. */
  shim(server: string, env: NodeJS.ProcessEnv = this.env): RawShim {
    const proc = spawn(process.execPath, [CLI, 'connect', server], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.procs.add(proc)
    return new RawShim(proc)
  }

  /** A scripted approver: a control connection subscribed to approvals that answers with `answer`. */
  async approver(
    answer: (req: PendingApprovalView) => ApprovalAnswer | undefined = () => undefined,
  ): Promise<Approver> {
    const control = await this.control()
    const a: Approver = { control, requested: [], resolved: [] }
    control.api.on('approval.requested', (req) => {
      a.requested.push(req)
      const ans = answer(req)
      if (ans) void control.api.approvals.decide({ id: req.id, answer: ans }).catch(() => undefined)
    })
    control.api.on('approval.resolved', (res) => a.resolved.push(res))
    // In force before the caller starts the call that asks.
    await control.subscribe('approval.requested', 'approval.resolved')
    return a
  }

  /** Writes a script into the home (for tiny fixture MCP servers) and returns its path. */
  writeScript(name: string, source: string): string {
    const file = path.join(this.home, name)
    fs.writeFileSync(file, source)
    return file
  }

  /** Ends process `pid` (and waits for it) in cleanup: for processes the harness did not spawn. */
  adopt(pid: number): void {
    this.adopted.add(pid)
  }

  /** A control connection (scripted approver, pause…). */
  async control(): Promise<ControlClient> {
    const c = await ControlClient.connect(this.home)
    this.controls.add(c)
    return c
  }

  /** Runs the CLI to completion. */
  run(
    args: string[],
    input?: string,
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const p = spawn(process.execPath, [CLI, ...args], { env: this.env })
      this.procs.add(p)
      let stdout = ''
      let stderr = ''
      p.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
      p.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
      p.on('close', (code) => {
        this.procs.delete(p)
        resolve({ code, stdout, stderr })
      })
      if (input !== undefined) p.stdin.end(input)
      else p.stdin.end()
    })
  }

  /** Audit records (all files, oldest first). */
  auditRecords(): Record<string, unknown>[] {
    const dir = path.join(this.home, 'audit')
    if (!fs.existsSync(dir)) return []
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.jsonl'))
      .sort()
      .flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
  }

  /** Ends clients, control connections and processes; removes the home and its socket directory. */
  async cleanup(): Promise<void> {
    for (const c of this.controls) c.close()
    await Promise.all([...this.clients].map((c) => c.close().catch(() => undefined)))
    for (const p of this.procs) {
      if (p.exitCode === null && p.signalCode === null) {
        p.kill('SIGTERM')
        await Promise.race([new Promise((r) => p.once('exit', r)), sleep(5000)])
        if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL')
      }
    }
    for (const pid of this.adopted) {
      if (!alive(pid)) continue
      process.kill(pid, 'SIGTERM')
      await waitFor(() => !alive(pid), 5000).catch(() => process.kill(pid, 'SIGKILL'))
    }
    fs.rmSync(this.home, { recursive: true, force: true })
    // The gateway removes its socket, not the per-home socket directory.
    fs.rmSync(socketDir(this.home), { recursive: true, force: true })
  }
}

/** A scripted approver: every request and resolution it saw, in order. */
export interface Approver {
  control: ControlClient
  requested: PendingApprovalView[]
  resolved: EventOf<'approval.resolved'>[]
}

/** A raw shim process: lines in, parsed lines out. */
export class RawShim {
  /** Every stdout line, parsed (or `{ unparsed: line }`). */
  readonly messages: Record<string, unknown>[] = []
  stderr = ''
  readonly exited: Promise<number | null>

  constructor(readonly proc: ChildProcess) {
    let buf = ''
    proc.stdout!.on('data', (c: Buffer) => {
      buf += c.toString('utf8')
      let nl: number
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        try {
          this.messages.push(JSON.parse(line) as Record<string, unknown>)
        } catch {
          this.messages.push({ unparsed: line })
        }
      }
    })
    proc.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString('utf8')))
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)))
  }

  /** Writes one line (a newline is added): a string as is, anything else as JSON. */
  send(line: unknown): void {
    this.proc.stdin!.write((typeof line === 'string' ? line : JSON.stringify(line)) + '\n')
  }

  /** Waits for the first message (from index `from`) that matches. */
  async next(
    match: (m: Record<string, unknown>) => boolean,
    timeoutMs = 5000,
    from = 0,
  ): Promise<Record<string, unknown>> {
    let found: Record<string, unknown> | undefined
    await waitFor(
      () => (found = this.messages.slice(from).find(match)) !== undefined,
      timeoutMs,
      'a matching message from the shim',
    )
    return found!
  }

  /** Waits for the response with this id. */
  response(id: string | number | null, timeoutMs = 5000): Promise<Record<string, unknown>> {
    return this.next((m) => 'id' in m && m.id === id && ('result' in m || 'error' in m), timeoutMs)
  }

  /** Sends `initialize` + `notifications/initialized` and waits for the answer. */
  async initialize(): Promise<Record<string, unknown>> {
    this.send({
      jsonrpc: '2.0',
      id: 'init',
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'raw-shim', version: '1' },
      },
    })
    const res = await this.response('init', 10_000)
    this.send({ jsonrpc: '2.0', method: 'notifications/initialized' })
    return res
  }
}

/** The text of a tool result's first text block. */
export function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? []
  return content.find((c) => c.type === 'text')?.text ?? ''
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/** Polls `cond` every 20 ms until true or `timeoutMs`; rejects on timeout. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (await cond()) return
    await sleep(20)
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

/** Whether a process id is alive (a zombie waiting to be reaped counts as gone). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return process.platform !== 'linux'
  }
}

/** Pids of all descendants of `pid` (Linux /proc). */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>()
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      const list = children.get(ppid) ?? []
      list.push(Number(d))
      children.set(ppid, list)
    } catch {
      // raced with an exit
    }
  }
  const out: number[] = []
  const walk = (p: number): void => {
    for (const c of children.get(p) ?? []) {
      out.push(c)
      walk(c)
    }
  }
  walk(pid)
  return out
}

/**
 * Runs the CLI as another user would: `env` with HOME set to `home` (and XDG_CONFIG_HOME unset),
 * in `home`, so that client config files are looked for under it.
 */
export function runCliAs(
  env: NodeJS.ProcessEnv,
  home: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const vars: NodeJS.ProcessEnv = { ...env, HOME: home }
  delete vars.XDG_CONFIG_HOME
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: vars, cwd: home, timeout: timeoutMs },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr })
      },
    )
  })
}
