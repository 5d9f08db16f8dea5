/**
 * A short inspection session: starts a configured server, initializes it, lists its tools
 * (following `nextCursor`), then ends its process tree. The SDK `Client` over the child's stdio, time-capped.
 * Used to show a server's tools (and propose a policy) before any agent has connected to it.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import type { ReadBuffer } from '@modelcontextprotocol/sdk/shared/stdio.js'
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js'
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import type { ServerConfig } from '../../shared/contract/config'
import { excerpt } from '../../shared/text'
import { withTimeout } from '../../shared/with-timeout'
import { isObject } from '../../node/jsonrpc'
import { killTree } from './server-process'

/** A tool as a server lists it (the fields Airlock reads). */
export interface ListedTool {
  name: string
  title?: string
  description?: string
  annotations?: Record<string, unknown>
}

/** Why an inspection failed: the server could not start, exited, answered an error, or was too slow. */
export class InspectionError extends Error {
  override name = 'InspectionError'
  constructor(
    message: string,
    readonly code: 'INSPECT_START' | 'INSPECT_EXIT' | 'INSPECT_ERROR' | 'INSPECT_TIMEOUT',
  ) {
    super(message)
  }
}

/** Default cap of an inspection. */
export const INSPECT_TIMEOUT_MS = 15_000
const MAX_PAGES = 100

/** Keeps the fields of a listed tool that Airlock shows, dropping anything malformed. */
export function toListedTool(t: unknown): ListedTool | undefined {
  if (!isObject(t) || typeof t.name !== 'string' || t.name === '') return undefined
  const out: ListedTool = { name: t.name.slice(0, 256) }
  if (typeof t.title === 'string') out.title = t.title.slice(0, 512)
  if (typeof t.description === 'string') out.description = t.description.slice(0, 4096)
  if (isObject(t.annotations)) {
    const a: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(t.annotations))
      if (typeof v === 'boolean' || typeof v === 'string' || typeof v === 'number') a[k] = v
    out.annotations = a
  }
  return out
}

/** A list page as the inspector reads it: tools checked one by one by `toListedTool`, not all-or-nothing. */
const LIST_PAGE = z.object({
  tools: z.array(z.unknown()).optional(),
  nextCursor: z.string().optional(),
})

/**
 * The SDK `Transport` over a child process the gateway started (spawnServer: its environment,
 * secrets, working directory and process group), framed by the SDK's own stdio framing.
 */
class ChildTransport implements Transport {
  onclose?: () => void
  onerror?: (error: Error) => void
  onmessage?: (message: JSONRPCMessage) => void
  constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly buffer: ReadBuffer,
    private readonly serialize: (message: JSONRPCMessage) => string,
  ) {}

  start(): Promise<void> {
    this.child.stdout.on('data', (chunk: Buffer) => {
      try {
        this.buffer.append(chunk)
      } catch (err) {
        // A line over the SDK's 10 MiB cap: dropped; the inspection's time cap ends it.
        this.onerror?.(err as Error)
        return
      }
      for (;;) {
        let msg: JSONRPCMessage | null
        try {
          msg = this.buffer.readMessage()
        } catch {
          continue // not JSON-RPC (a log line on stdout): ignore it
        }
        if (msg === null) break
        this.onmessage?.(msg)
      }
    })
    return Promise.resolve()
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (this.child.stdin.writable) this.child.stdin.write(this.serialize(message))
    return Promise.resolve()
  }

  close(): Promise<void> {
    this.onclose?.()
    return Promise.resolve()
  }
}

/**
 * Lists a server's tools through a fresh process started by `spawn`, with the SDK `Client`
 * (initialize, then tools/list following `nextCursor`). Rejects with an {@link InspectionError}
 * naming what went wrong; the process tree is always ended.
 */
export async function inspectTools(
  server: ServerConfig,
  spawn: (s: ServerConfig) => ChildProcessWithoutNullStreams,
  timeoutMs = INSPECT_TIMEOUT_MS,
): Promise<ListedTool[]> {
  // Loaded here, not at the gateway's start (idle memory).
  const [{ Client }, { ReadBuffer, serializeMessage }, { ErrorCode, McpError }] = await Promise.all(
    [
      import('@modelcontextprotocol/sdk/client/index.js'),
      import('@modelcontextprotocol/sdk/shared/stdio.js'),
      import('@modelcontextprotocol/sdk/types.js'),
    ],
  )
  let child: ChildProcessWithoutNullStreams
  try {
    child = spawn(server)
  } catch (err) {
    throw new InspectionError(
      `cannot start "${server.command}" for "${server.name}": ${(err as Error).message}; check its command and args`,
      'INSPECT_START',
    )
  }
  let stderr = ''
  const tail = (): string => {
    const t = stderr.trim().split('\n').slice(-3).join(' | ')
    return t ? ` Last stderr: ${excerpt(t, 400)}` : ''
  }
  child.stderr.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString('utf8')).slice(-2048)
  })
  child.stdin.on('error', () => undefined)
  // The child's own end (it could not start, or it exited) settles the inspection at once.
  const ended = new Promise<never>((_, reject) => {
    child.on('error', (err) =>
      reject(
        new InspectionError(
          `cannot start "${server.command}" for "${server.name}": ${err.message}; check its command and args`,
          'INSPECT_START',
        ),
      ),
    )
    child.on('exit', (code, signal) =>
      reject(
        new InspectionError(
          `"${server.name}" exited (${signal ?? `code ${code}`}) before listing its tools.${tail()}`,
          'INSPECT_EXIT',
        ),
      ),
    )
  })
  const client = new Client({ name: 'airlock-inspector', version: '1' })
  let step: 'initialize' | 'tools/list' = 'initialize'
  const run = async (): Promise<ListedTool[]> => {
    await client.connect(new ChildTransport(child, new ReadBuffer(), serializeMessage), {
      timeout: timeoutMs,
    })
    step = 'tools/list'
    const tools: ListedTool[] = []
    let cursor: string | undefined
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = await client.request(
        { method: 'tools/list', params: cursor === undefined ? {} : { cursor } },
        LIST_PAGE,
        { timeout: timeoutMs },
      )
      for (const t of res.tools ?? []) {
        const tool = toListedTool(t)
        if (tool) tools.push(tool)
      }
      cursor = res.nextCursor
      if (!cursor) break
    }
    return tools
  }
  const timeout = (): InspectionError =>
    new InspectionError(
      `"${server.name}" did not list its tools within ${Math.round(timeoutMs / 1000)} s; check that it starts (run its command in a terminal) and try again.${tail()}`,
      'INSPECT_TIMEOUT',
    )
  try {
    return await withTimeout(
      Promise.race([
        run().catch((err: unknown) => {
          if (err instanceof McpError && err.code === ErrorCode.RequestTimeout) throw timeout()
          const m =
            err instanceof McpError
              ? err.message.replace(/^MCP error -?\d+: /, '')
              : String((err as Error).message ?? err)
          throw new InspectionError(
            `"${server.name}" answered ${step} with an error: ${excerpt(m, 300)}`,
            'INSPECT_ERROR',
          )
        }),
        ended,
      ]),
      timeoutMs,
      timeout,
    )
  } finally {
    ended.catch(() => undefined)
    await client.close().catch(() => undefined)
    void killTree(child)
  }
}
