/**
 * Integration-test harness: a fresh AIRLOCK_HOME, real MCP servers from npm, the real
 * `airlock serve` gateway process and the real `airlock connect` shim, with the SDK Client as
 * the agent. Every process started here is ended by `cleanup()`.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import type { ServerConfig } from '../../src/shared/config'
import { ControlClient } from '../../src/cli/control-client'

export const ROOT = path.resolve(import.meta.dirname, '..', '..')
export const CLI = path.join(ROOT, 'bin', 'airlock.js')
export const FIXTURES = path.resolve(ROOT, '..', 'shared', 'fixtures')
const require = createRequire(import.meta.url)

/** Absolute path of an npm MCP server's entry script. */
export function serverScript(pkg: 'everything' | 'filesystem' | 'memory'): string {
  return require.resolve(`@modelcontextprotocol/server-${pkg}/dist/index.js`)
}

/** Server configs for the three reference servers. */
export function everything(name = 'everything', extra: Partial<ServerConfig> = {}): Partial<ServerConfig> {
  return { name, command: process.execPath, args: [serverScript('everything'), 'stdio'], ...extra }
}
export function memory(file: string, name = 'memory', extra: Partial<ServerConfig> = {}): Partial<ServerConfig> {
  return { name, command: process.execPath, args: [serverScript('memory')], env: { MEMORY_FILE_PATH: file }, ...extra }
}
export function filesystem(dir: string, name = 'filesystem', extra: Partial<ServerConfig> = {}): Partial<ServerConfig> {
  return { name, command: process.execPath, args: [serverScript('filesystem'), dir], ...extra }
}

/** A test environment with its own data directory. */
export class Env {
  readonly home: string
  private readonly procs = new Set<ChildProcess>()
  private readonly clients = new Set<Client>()
  private readonly controls = new Set<ControlClient>()
  gatewayOutput = ''

  constructor() {
    this.home = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-it-'))
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, AIRLOCK_HOME: this.home, AIRLOCK_NO_AUTOSTART: '1' }
  }

  /** Writes config.json with these servers (and optional settings). */
  writeConfig(servers: Partial<ServerConfig>[], settings: Record<string, unknown> = {}): void {
    fs.writeFileSync(path.join(this.home, 'config.json'), JSON.stringify({ version: 1, servers, settings }, null, 2))
  }

  /** Writes a policy file into the home and returns its path. */
  writePolicy(name: string, policy: unknown): string {
    const file = path.join(this.home, `${name}.policy.json`)
    const tmp = `${file}.tmp`
    fs.writeFileSync(tmp, typeof policy === 'string' ? policy : JSON.stringify(policy, null, 2))
    fs.renameSync(tmp, file)
    return file
  }

  /** Starts `airlock serve --background` and waits until it listens. */
  async startGateway(): Promise<ChildProcess> {
    const proc = spawn(process.execPath, [CLI, 'serve', '--background'], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] })
    this.procs.add(proc)
    proc.stdout!.on('data', (c: Buffer) => (this.gatewayOutput += c.toString()))
    proc.stderr!.on('data', (c: Buffer) => (this.gatewayOutput += c.toString()))
    await waitFor(() => this.gatewayOutput.includes('Airlock gateway running') || proc.exitCode !== null, 10_000)
    if (proc.exitCode !== null) throw new Error(`gateway exited: ${this.gatewayOutput}`)
    return proc
  }

  /** The SDK Client through `airlock connect <server>`. */
  async connect(server: string, opts: { capabilities?: Record<string, unknown>; name?: string } = {}): Promise<{ client: Client; transport: StdioClientTransport }> {
    const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'connect', server], env: this.env as Record<string, string>, stderr: 'pipe' })
    const client = new Client({ name: opts.name ?? 'test-agent', version: '1.0.0' }, { capabilities: opts.capabilities ?? {} })
    await client.connect(transport)
    this.clients.add(client)
    return { client, transport }
  }

  /** A control connection (scripted approver, pause…). */
  async control(): Promise<ControlClient> {
    const c = await ControlClient.connect(this.home)
    this.controls.add(c)
    return c
  }

  /** Runs the CLI to completion. */
  run(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
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

  /** Ends clients, control connections and processes; removes the home. */
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
    fs.rmSync(this.home, { recursive: true, force: true })
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/** Polls `cond` every 20 ms until true or `timeoutMs`; rejects on timeout. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (await cond()) return
    await sleep(20)
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

/** Whether a process id is alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
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
