/**
 * The OAuth-protected remote MCP server (test/fixtures/servers/oauth-http-server.mjs) for tests:
 * started on 127.0.0.1 with its event log in the test's home; the caller ends `proc`.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { ROOT, waitFor } from './harness'

const OAUTH_SERVER = path.join(ROOT, 'test', 'fixtures', 'servers', 'oauth-http-server.mjs')

/** A running OAuth remote: its origin, MCP URL, and a count of its events (register, authorize, token, refresh, call). */
export interface OAuthRemote {
  proc: ChildProcess
  base: string
  url: string
  count: (event: string) => number
}

/** Starts the OAuth remote, its event log in `home`. */
export async function startOAuthRemote(home: string): Promise<OAuthRemote> {
  const eventLog = path.join(home, 'oauth-events.jsonl')
  const proc = spawn(process.execPath, [OAUTH_SERVER], {
    env: { ...process.env, EVENT_LOG: eventLog },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()))
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()))
  await waitFor(() => /listening \d+/.test(out) || proc.exitCode !== null, 15_000, 'the remote')
  const port = Number(/listening (\d+)/.exec(out)?.[1])
  if (!port) throw new Error(`the OAuth remote did not start: ${out}`)
  const count = (event: string): number =>
    fs.existsSync(eventLog)
      ? fs
          .readFileSync(eventLog, 'utf8')
          .split('\n')
          .filter(Boolean)
          .filter((l) => (JSON.parse(l) as { event: string }).event === event).length
      : 0
  const base = `http://127.0.0.1:${port}`
  return { proc, base, url: `${base}/mcp`, count }
}

/** Ends the remote and waits for it. */
export async function stopOAuthRemote(r: OAuthRemote): Promise<void> {
  if (r.proc.exitCode !== null || r.proc.signalCode !== null) return
  r.proc.kill('SIGTERM')
  await new Promise((resolve) => r.proc.once('exit', resolve))
}
