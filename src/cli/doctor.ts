/**
 * `airlock doctor`: proves, entry by entry, that the MCP clients on this machine reach their
 * servers only through Airlock. For each wrapped entry the client adapters find, it runs exactly
 * what the client would — the entry's command, args, env and cwd, or its URL and headers — with
 * the SDK Client, does initialize and tools/list, checks on the gateway's control connection that
 * a session for that server arrived under the doctor's own client name while it was connected,
 * and that no tool the server's policy hides was listed. Entries that are not wrapped are listed
 * as not protected. Prints a table (client, server, route, protected, problem); exits 1 when any
 * entry has a problem. Each check is capped at 10 s.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import {
  getDefaultEnvironment,
  StdioClientTransport,
} from '@modelcontextprotocol/sdk/client/stdio.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { Transport as McpTransport } from '@modelcontextprotocol/sdk/shared/transport.js'
import type { Config } from '../shared/contract/config'
import type { ClientServerEntry, Transport } from '../clients/adapters/adapter'
import { ClientConfigError } from '../clients/errors'
import { scanClients, type EntryStatus, type FileReport } from '../clients/protect'
import { resolveTokenRef } from '../clients/shim-command'
import { ConfigError, readConfig } from '../node/config-store'
import { dataDir, dataPaths } from '../node/paths'
import { terminalText } from '../shared/text'
import { noExtraPositionals, parseCommandArgs, positiveInt } from './args'
import { CliError } from './cli-error'
import { context, tilde } from './clients'
import { table } from './table'
import { withTimeout } from '../shared/with-timeout'
import { ControlClient } from '../node/control-client'

const USAGE = 'airlock doctor [--client ID] [--project DIR]... [--timeout SECONDS] [--json]'
const DEFAULT_TIMEOUT_S = 10

/** One line of the doctor's report. */
export interface DoctorRow {
  client: string
  file: string
  /** The client's name for the server. */
  server: string
  route: Transport
  /** The entry runs the shim, or reaches Airlock's HTTP endpoint. */
  protected: boolean
  /** A wrapped entry whose node or shim path is gone (it reaches nothing; a wrap repairs it). */
  broken?: boolean
  /** The Airlock server a wrapped entry names. */
  airlockServer?: string
  /** What is wrong; undefined when the check passed. */
  problem?: string
  /** What the check saw (tools listed, hidden tools confirmed absent). */
  checked?: string
}

/** What one live check found. */
interface ProbeResult {
  tools: string[]
  /** Whether the gateway had a session for the server from the doctor while it was connected. */
  reached: boolean
  /** Tools the policy hides, as the gateway reports them (undefined when it could not say). */
  hidden?: string[]
  /** Policy load errors the gateway reports for the server. */
  policyError?: string
}

/** Runs `airlock doctor`; returns 0 when every entry is protected and works, else 1. */
export async function doctorCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('doctor', argv, {
    client: { type: 'string' },
    project: { type: 'string', multiple: true },
    timeout: { type: 'string' },
    json: { type: 'boolean', default: false },
  })
  noExtraPositionals(positionals, 0, USAGE)
  const timeoutMs = (positiveInt('--timeout', values.timeout) ?? DEFAULT_TIMEOUT_S) * 1000
  const ctx = context(values.project ?? [])
  let reports: FileReport[]
  try {
    reports = scanClients(ctx, values.client, readConfigOrUndefined(ctx.home))
  } catch (err) {
    throw new CliError(
      (err as Error).message,
      err instanceof ClientConfigError && err.code === 'NOT_FOUND' ? 2 : 1,
      { cause: err },
    )
  }
  const doctor = new Doctor(ctx.home, timeoutMs)
  const rows: DoctorRow[] = []
  const unreadable: string[] = []
  try {
    for (const r of reports) {
      if (r.error) {
        unreadable.push(r.error.message)
        continue
      }
      for (const s of r.entries) rows.push(await doctor.check(r, s))
    }
  } finally {
    doctor.close()
  }
  if (values.json) {
    process.stdout.write(JSON.stringify({ rows, errors: unreadable }, null, 2) + '\n')
  } else if (rows.length === 0 && unreadable.length === 0) {
    process.stdout.write(
      'no MCP client servers found to check ("airlock clients" lists where Airlock looked; add --project DIR for a project\'s files)\n',
    )
  } else {
    process.stdout.write(formatRows(rows))
    for (const e of unreadable) process.stderr.write(`airlock: ${e}\n`)
  }
  return rows.some((r) => r.problem !== undefined) || unreadable.length ? 1 : 0
}

/** The report as a table, then what each passed check saw. Client-written names are escaped. */
export function formatRows(rows: readonly DoctorRow[]): string {
  const t = (s: string): string => terminalText(s, 200)
  const out = table(
    ['CLIENT', 'SERVER', 'ROUTE', 'PROTECTED', 'PROBLEM'],
    rows.map((r) => [
      r.client,
      t(
        r.airlockServer && r.airlockServer !== r.server
          ? `${r.server} (as ${r.airlockServer})`
          : r.server,
      ),
      r.route,
      r.protected ? 'yes' : r.broken ? 'broken' : 'no',
      r.problem !== undefined ? t(r.problem) : '-',
    ]),
  )
  const checked = rows.filter((r) => r.checked !== undefined && r.problem === undefined)
  const lines = checked.map(
    (r) => `  ${r.client}/${t(r.server)} (${tilde(r.file)}): ${t(r.checked ?? '')}`,
  )
  return out + (lines.length ? `\nchecked:\n${lines.join('\n')}\n` : '')
}

function readConfigOrUndefined(home: string): Config | undefined {
  try {
    return readConfig(dataPaths(home).config)
  } catch {
    return undefined // Reported per entry, against the home each entry reaches.
  }
}

/** Runs the checks; keeps one control connection per data directory. */
class Doctor {
  private readonly controls = new Map<string, Promise<ControlClient>>()
  private readonly connecting: Promise<ControlClient>[] = []
  readonly name = `airlock-doctor-${randomBytes(4).toString('hex')}`

  constructor(
    private readonly home: string,
    private readonly timeoutMs: number,
  ) {}

  close(): void {
    for (const c of this.connecting)
      void c.then(
        (x) => x.close(),
        () => undefined,
      )
  }

  async check(report: FileReport, status: EntryStatus): Promise<DoctorRow> {
    const e = status.entry
    const row: DoctorRow = {
      client: report.client.id,
      file: report.location.file,
      server: e.scope === 'local' && e.project ? `${e.name} (${tilde(e.project)})` : e.name,
      route: e.transport,
      protected: status.protected,
      ...(status.broken ? { broken: true } : {}),
      ...(e.wrappedServer !== undefined ? { airlockServer: e.wrappedServer } : {}),
    }
    if (!e.wrapped || e.wrappedServer === undefined || status.broken) {
      return { ...row, problem: status.problem ?? 'not wrapped' }
    }
    try {
      const found =
        e.transport === 'http'
          ? await this.checkHttp(e, e.wrappedServer)
          : await this.checkStdio(report, e, e.wrappedServer)
      return { ...row, ...found }
    } catch (err) {
      return { ...row, problem: (err as Error).message }
    }
  }

  private async checkStdio(
    report: FileReport,
    e: ClientServerEntry,
    server: string,
  ): Promise<{ problem?: string; checked?: string }> {
    // A missing node or shim path was reported from the entry's status (broken) before this.
    const command = e.command ?? ''
    // The data directory the shim will use: the one the client's environment names.
    const env = { ...getDefaultEnvironment(), ...e.env }
    const home = dataDir(env)
    const configured = this.serverProblem(home, server)
    if (configured) return { problem: configured }
    const control = await this.control(home)
    if (typeof control === 'string') return { problem: control }
    const cwd =
      e.cwd === undefined
        ? undefined
        : path.resolve(report.location.project ?? path.dirname(report.location.file), e.cwd)
    let stderr = ''
    const transport = new StdioClientTransport({
      command,
      args: e.args,
      env,
      ...(cwd ? { cwd } : {}),
      stderr: 'pipe',
    })
    transport.stderr?.on(
      'data',
      (c: Buffer) => void (stderr = (stderr + c.toString('utf8')).slice(-1000)),
    )
    return this.verdict(
      await this.probe(transport, control, server, () =>
        stderr.trim().split('\n').slice(-2).join(' | '),
      ),
      server,
    )
  }

  private async checkHttp(
    e: ClientServerEntry,
    server: string,
  ): Promise<{ problem?: string; checked?: string }> {
    const url = new URL(e.url ?? '')
    const home = this.home
    let token: string | undefined
    try {
      token = fs.readFileSync(dataPaths(home).httpToken, 'utf8').trim()
    } catch {
      token = undefined
    }
    // `${input:airlock-token}` (VS Code): the client sends what the user pasted, the token.
    const headers = token === undefined ? { ...e.headers } : resolveTokenRef(e.headers ?? {}, token)
    const sent = Object.entries(headers).find(([k]) => k.toLowerCase() === 'authorization')?.[1]
    if (token === undefined || sent !== `Bearer ${token}`) {
      return {
        problem: `its bearer token is not the one in ${dataPaths(home).httpToken}; wrap it again with --http`,
      }
    }
    const configured = this.serverProblem(home, server)
    if (configured) return { problem: configured }
    const control = await this.control(home)
    if (typeof control === 'string') return { problem: control }
    let port: string | undefined
    try {
      port = fs.readFileSync(dataPaths(home).httpPort, 'utf8').trim()
    } catch {
      return {
        problem: `the gateway serves no HTTP endpoint (started with --no-ui, or by the desktop app); run "airlock serve --port ${url.port}"`,
      }
    }
    if (port !== url.port) {
      return {
        problem: `the gateway serves HTTP on port ${port}, the entry uses port ${url.port}: run "airlock serve --port ${url.port}", or wrap it again with --http`,
      }
    }
    const transport = new StreamableHTTPClientTransport(url, {
      requestInit: { headers },
    })
    try {
      return this.verdict(await this.probe(transport, control, server, () => ''), server)
    } catch (err) {
      if (!/fetch failed|ECONNREFUSED/.test((err as Error).message)) throw err
      return {
        problem: `nothing answers at ${url.href}: the gateway's HTTP endpoint is not up on port ${url.port}; run "airlock serve --port ${url.port}"`,
      }
    }
  }

  /** Why the entry's Airlock server cannot serve it, from that data directory's config. */
  private serverProblem(home: string, server: string): string | undefined {
    let config: Config
    try {
      config = readConfig(dataPaths(home).config)
    } catch (err) {
      return err instanceof ConfigError
        ? err.message
        : `${dataPaths(home).config}: ${(err as Error).message}`
    }
    const s = config.servers.find((x) => x.name === server)
    if (!s)
      return `server "${server}" is not configured in Airlock (${tilde(home)}); add it ("airlock servers add") or wrap the client again`
    if (!s.enabled)
      return `server "${server}" is disabled in Airlock; enable it ("airlock servers enable ${server}")`
    return undefined
  }

  /** A control connection to the gateway of `home`, or why there is none. */
  private async control(home: string): Promise<ControlClient | string> {
    let c = this.controls.get(home)
    if (!c) {
      const connecting = ControlClient.connect(home)
      this.connecting.push(connecting)
      c = withTimeout(connecting, this.timeoutMs, () => new Error('the gateway did not answer'))
      this.controls.set(home, c)
    }
    try {
      return await c
    } catch (err) {
      const why = (err as Error).message
      const detail = /not running|has run|did not answer/.test(why) ? '' : ` (${why})`
      return `gateway not running for ${tilde(home)}${detail}; start it: "airlock serve", or open the Airlock app`
    }
  }

  /**
   * Connects the SDK Client through `transport`, lists every tool, and asks the gateway (while
   * still connected) whether the session arrived and which tools the policy hides.
   */
  private async probe(
    transport: McpTransport,
    control: ControlClient,
    server: string,
    tail: () => string,
  ): Promise<ProbeResult> {
    const client = new Client({ name: this.name, version: '1.0.0' }, { capabilities: {} })
    const deadline = Date.now() + this.timeoutMs
    const left = (): number => Math.max(1, deadline - Date.now())
    const run = async (): Promise<ProbeResult> => {
      await client.connect(transport, { timeout: left() })
      const tools: string[] = []
      let cursor: string | undefined
      for (let page = 0; page < 100; page++) {
        const res = await client.listTools(cursor ? { cursor } : {}, { timeout: left() })
        tools.push(...res.tools.map((t) => t.name))
        cursor = res.nextCursor
        if (!cursor) break
      }
      const status = await withTimeout(
        control.api.status.get(),
        left(),
        () => new Error('the gateway did not answer "status.get"'),
      )
      const reached = status.sessions.some((s) => s.server === server && s.client === this.name)
      const policyError = status.errors.find((x) => x.startsWith(`${server}: `))
      let hidden: string[] | undefined
      try {
        const views = await withTimeout(
          control.api.tools.list({ server }),
          left(),
          () => new Error('the gateway did not list the tools'),
        )
        hidden = views.filter((v) => v.action === 'hide').map((v) => v.name)
      } catch {
        hidden = undefined
      }
      return {
        tools,
        reached,
        ...(hidden ? { hidden } : {}),
        ...(policyError ? { policyError } : {}),
      }
    }
    try {
      return await withTimeout(
        run(),
        this.timeoutMs,
        () => new Error(`no answer within ${this.timeoutMs / 1000} s`),
      )
    } catch (err) {
      const why = tail()
      throw new Error(
        `${(err as Error).message.replace(/^MCP error -?\d+: /, '')}${why ? ` (stderr: ${why})` : ''}`,
        { cause: err },
      )
    } finally {
      if (transport instanceof StreamableHTTPClientTransport)
        await transport.terminateSession().catch(() => undefined)
      await client.close().catch(() => undefined)
    }
  }

  private verdict(p: ProbeResult, server: string): { problem?: string; checked: string } {
    const visibleHidden = (p.hidden ?? []).filter((h) => p.tools.includes(h))
    const hiddenNote =
      p.hidden === undefined
        ? 'hidden tools not checked (the gateway did not list them)'
        : p.hidden.length
          ? `hidden by policy and absent: ${p.hidden.join(', ')}`
          : 'the policy hides no tool'
    const checked = `initialize and tools/list went through the gateway (session of "${server}" as ${this.name}); ${p.tools.length} tool${p.tools.length === 1 ? '' : 's'} listed; ${hiddenNote}`
    if (!p.reached)
      return {
        problem: `the calls did not reach the gateway: it had no session of "${server}" from the doctor while connected`,
        checked,
      }
    if (visibleHidden.length)
      return { problem: `hidden tool visible: ${visibleHidden.join(', ')}`, checked }
    if (p.policyError)
      return {
        problem: `policy error (every call is denied): ${p.policyError.slice(server.length + 2)}`,
        checked,
      }
    return { checked }
  }
}
