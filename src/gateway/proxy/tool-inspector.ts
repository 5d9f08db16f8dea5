/**
 * A short inspection session: starts a configured server, initializes it, lists its tools
 * (following `nextCursor`), then ends its process tree. Raw JSON-RPC over stdio, time-capped.
 * Used to show a server's tools (and propose a policy) before any agent has connected to it.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import type { ServerConfig } from '../../shared/contract/config'
import { excerpt } from '../../shared/text'
import { isObject } from '../../node/jsonrpc'
import { LineSplitter } from '../../node/framing/line-splitter'
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
const PROTOCOL_VERSION = '2025-06-18'

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

/**
 * Lists a server's tools through a fresh process started by `spawn`. Rejects with an
 * {@link InspectionError} naming what went wrong; the process tree is always ended.
 */
export function inspectTools(
  server: ServerConfig,
  spawn: (s: ServerConfig) => ChildProcessWithoutNullStreams,
  timeoutMs = INSPECT_TIMEOUT_MS,
): Promise<ListedTool[]> {
  return new Promise<ListedTool[]>((resolve, reject) => {
    let child: ChildProcessWithoutNullStreams
    try {
      child = spawn(server)
    } catch (err) {
      reject(
        new InspectionError(
          `cannot start "${server.command}" for "${server.name}": ${(err as Error).message}; check its command and args`,
          'INSPECT_START',
        ),
      )
      return
    }
    let stderr = ''
    let done = false
    const tools: ListedTool[] = []
    let pages = 0
    const tail = (): string => {
      const t = stderr.trim().split('\n').slice(-3).join(' | ')
      return t ? ` Last stderr: ${excerpt(t, 400)}` : ''
    }
    const finish = (err?: InspectionError): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      void killTree(child)
      if (err) reject(err)
      else resolve(tools)
    }
    const timer = setTimeout(
      () =>
        finish(
          new InspectionError(
            `"${server.name}" did not list its tools within ${Math.round(timeoutMs / 1000)} s; check that it starts (run its command in a terminal) and try again.${tail()}`,
            'INSPECT_TIMEOUT',
          ),
        ),
      timeoutMs,
    )
    const send = (msg: unknown): void => {
      if (!done && child.stdin.writable) child.stdin.write(JSON.stringify(msg) + '\n')
    }
    const listPage = (cursor?: string): void => {
      pages++
      send({
        jsonrpc: '2.0',
        id: `tools-${pages}`,
        method: 'tools/list',
        params: cursor === undefined ? {} : { cursor },
      })
    }
    const onMessage = (msg: Record<string, unknown>): void => {
      if (typeof msg.method === 'string') {
        // A server request (roots, sampling, elicitation): this session offers none of them.
        if ('id' in msg)
          send({
            jsonrpc: '2.0',
            id: msg.id,
            error: { code: -32601, message: 'Method not found: Airlock is only listing tools' },
          })
        return
      }
      if (isObject(msg.error)) {
        const m = typeof msg.error.message === 'string' ? msg.error.message : 'error'
        finish(
          new InspectionError(
            `"${server.name}" answered ${msg.id === 'init' ? 'initialize' : 'tools/list'} with an error: ${excerpt(m, 300)}`,
            'INSPECT_ERROR',
          ),
        )
        return
      }
      if (msg.id === 'init') {
        send({ jsonrpc: '2.0', method: 'notifications/initialized' })
        listPage()
        return
      }
      if (typeof msg.id === 'string' && msg.id.startsWith('tools-') && isObject(msg.result)) {
        const list = Array.isArray(msg.result.tools) ? msg.result.tools : []
        for (const t of list) {
          const tool = toListedTool(t)
          if (tool) tools.push(tool)
        }
        const next = msg.result.nextCursor
        if (typeof next === 'string' && next !== '' && pages < MAX_PAGES) listPage(next)
        else finish()
      }
    }
    const splitter = new LineSplitter((line) => {
      let msg: unknown
      try {
        msg = JSON.parse(line.toString('utf8'))
      } catch {
        return // not JSON-RPC (a log line on stdout): ignore
      }
      if (isObject(msg)) onMessage(msg)
    })
    child.stdout.on('data', (c: Buffer) => splitter.push(c))
    child.stderr.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString('utf8')).slice(-2048)
    })
    child.stdin.on('error', () => undefined)
    child.on('error', (err) =>
      finish(
        new InspectionError(
          `cannot start "${server.command}" for "${server.name}": ${err.message}; check its command and args`,
          'INSPECT_START',
        ),
      ),
    )
    child.on('exit', (code, signal) =>
      finish(
        new InspectionError(
          `"${server.name}" exited (${signal ?? `code ${code}`}) before listing its tools.${tail()}`,
          'INSPECT_EXIT',
        ),
      ),
    )
    send({
      jsonrpc: '2.0',
      id: 'init',
      method: 'initialize',
      params: {
        protocolVersion: PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: 'airlock-inspector', version: '1' },
      },
    })
  })
}
