/**
 * The stdio upstream: the MCP server as a child process speaking newline-delimited JSON-RPC on
 * stdin/stdout. Spawning, the exit (with a grace for output still in the pipe) and ending the
 * process tree live here.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import type { ServerConfig } from '../../shared/contract/config'
import { excerpt } from '../../shared/text'
import { LineSplitter } from '../../node/framing/line-splitter'
import { killTree } from './server-process'
import type { UpstreamHandlers, UpstreamLink } from './upstream-link'

/** How long after a server exits its output may still be drained before the session ends. */
const EXIT_DRAIN_GRACE_MS = 1000
const NL = Buffer.from('\n')

/** What a stdio upstream needs. */
export interface StdioUpstreamDeps {
  /** Starts the server's process (with its secrets in the environment). */
  spawn: (server: ServerConfig) => ChildProcessWithoutNullStreams
  log: (msg: string) => void
  /**
   * The process ended or could not start: `reason` in words ("exited (code 1)"), `expected`
   * when Airlock ended it (the session closed or was restarted).
   */
  onExit?: (info: { pid: number | undefined; reason: string; expected: boolean }) => void
}

/** An MCP server run as a child process, reached over its stdio. */
export class StdioUpstream implements UpstreamLink {
  private child: ChildProcessWithoutNullStreams | undefined
  private stderrTail = ''
  private closed = false
  private gone = false

  constructor(
    private readonly server: ServerConfig,
    private readonly deps: StdioUpstreamDeps,
  ) {}

  start(h: UpstreamHandlers): void {
    const child = this.deps.spawn(this.server)
    this.child = child
    const fromServer = new LineSplitter(
      (line) => {
        if (!this.closed) h.onmessage(line)
      },
      (bytes) => h.onoversize(bytes),
    )
    const serverGone = (what: string): void => {
      if (this.closed || this.gone) return
      this.gone = true
      h.onclose(what, this.stderrTail)
    }
    child.stdout.on('data', (chunk: Buffer) => fromServer.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-2048)
    })
    child.stdin.on('error', () => undefined) // EPIPE after a crash: handled by 'exit'.
    child.on('error', (err) => {
      this.deps.log(`${this.server.name}: cannot start "${this.server.command}": ${err.message}`)
      if (child.pid === undefined)
        this.deps.onExit?.({
          pid: undefined,
          reason: `could not be started (${err.message})`,
          expected: false,
        })
      serverGone(
        `could not be started (${err.message}); check that "${excerpt(this.server.command, 200)}" is installed and on the PATH of the gateway, or fix "command" with "airlock servers list"`,
      )
    })
    // 'exit' can come before the last bytes the server wrote are read: wait for its output to
    // close ('close'), so that an answer written just before exiting still reaches the client.
    // A grandchild that keeps the pipe open must not keep the session alive: give up after a grace.
    let exitGrace: NodeJS.Timeout | undefined
    const exited = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (exitGrace) clearTimeout(exitGrace)
      serverGone(`exited (${signal ?? `code ${code}`})`)
    }
    child.on('exit', (code, signal) => {
      this.deps.onExit?.({
        pid: child.pid,
        reason: `exited (${signal ?? `code ${code}`})`,
        expected: this.closed,
      })
      exitGrace = setTimeout(() => exited(code, signal), EXIT_DRAIN_GRACE_MS)
      exitGrace.unref()
    })
    child.on('close', exited)
    child.stdin.on('drain', () => h.ondrain())
  }

  send(messages: Buffer[]): boolean {
    const child = this.child
    if (this.closed || !child || child.stdin.destroyed || messages.length === 0) return true
    const parts: Buffer[] = []
    for (const m of messages) parts.push(m, NL)
    return child.stdin.write(Buffer.concat(parts))
  }

  pause(): void {
    this.child?.stdout.pause()
  }

  resume(): void {
    this.child?.stdout.resume()
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.child) await killTree(this.child)
  }
}
