/**
 * `airlock doctor` against real client config files under a temp HOME, wrapped by the real CLI
 * and pointing at the real `@modelcontextprotocol/server-everything`, with the real gateway:
 * a wrapped entry (stdio, and HTTP) is run as its client would and shows protected=yes with no
 * problem; a tool the policy hides is confirmed absent; an unwrapped entry shows protected=no;
 * with the gateway stopped every wrapped entry reports "gateway not running".
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import type { DoctorRow } from '../../src/cli/doctor'
import { Env, runCliAs, serverScript, waitFor } from '../helpers/harness'

let env: Env
let home: string

beforeEach(() => {
  env = new Env()
  home = path.join(env.home, 'user-home')
  fs.mkdirSync(home, { recursive: true })
})
afterEach(async () => {
  await env.cleanup()
})

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCliAs(env.env, home, args, 60_000)
}

async function doctor(): Promise<{ code: number; stdout: string; rows: DoctorRow[] }> {
  const [text, json] = await Promise.all([cli('doctor'), cli('doctor', '--json')])
  expect(json.code).toBe(text.code)
  return {
    code: text.code,
    stdout: text.stdout,
    rows: (JSON.parse(json.stdout) as { rows: DoctorRow[] }).rows,
  }
}

/** The table row of a server, as cells. */
function tableRow(stdout: string, client: string, server: string): string[] | undefined {
  return stdout
    .split('\n')
    .map((l) => l.trim().split(/\s{2,}/))
    .find((cells) => cells[0] === client && cells[1] === server)
}

function writeJson(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n')
}

const everythingEntry = () => ({
  command: process.execPath,
  args: [serverScript('everything'), 'stdio'],
})

/** A Cursor config with `everything`, wrapped by the CLI, and the gateway running. */
async function wrappedCursor(): Promise<string> {
  const cursorFile = path.join(home, '.cursor', 'mcp.json')
  writeJson(cursorFile, { mcpServers: { everything: everythingEntry() } })
  const wrap = await cli('clients', 'wrap', 'cursor')
  expect(wrap.stderr).toBe('')
  expect(wrap.code).toBe(0)
  await env.startGateway()
  return cursorFile
}

it(
  'a wrapped entry is protected and works; a tool the policy hides is confirmed invisible',
  { timeout: 60_000 },
  async () => {
    await wrappedCursor()
    let d = await doctor()
    expect(d.rows).toEqual([
      expect.objectContaining({
        client: 'cursor',
        server: 'everything',
        route: 'stdio',
        protected: true,
        airlockServer: 'everything',
      }),
    ])
    expect(d.rows[0]?.problem).toBeUndefined()
    expect(d.code).toBe(0)
    expect(tableRow(d.stdout, 'CLIENT', 'SERVER')).toEqual([
      'CLIENT',
      'SERVER',
      'ROUTE',
      'PROTECTED',
      'PROBLEM',
    ])
    expect(tableRow(d.stdout, 'cursor', 'everything')).toEqual([
      'cursor',
      'everything',
      'stdio',
      'yes',
      '-',
    ])
    // The doctor's initialize and tools/list went through the gateway as its own session.
    expect(d.rows[0]?.checked).toMatch(
      /^initialize and tools\/list went through the gateway \(session of "everything" as airlock-doctor-[0-9a-f]+\); \d+ tools listed; the policy hides no tool$/,
    )

    // The policy hides a tool: the doctor confirms it is absent from what the client sees.
    const policy = path.join(env.home, 'hide.json')
    fs.writeFileSync(policy, JSON.stringify({ version: '1', default: 'allow', hide: ['get-env'] }))
    expect((await cli('policy', 'set', 'everything', policy)).code).toBe(0)
    const control = await env.control()
    await waitFor(
      async () =>
        (
          await control.api.tools.list({
            server: 'everything',
          })
        ).some((t) => t.name === 'get-env' && t.action === 'hide'),
      15_000,
      'the gateway to load the new policy',
    )
    d = await doctor()
    expect(d.code).toBe(0)
    expect(d.rows[0]?.problem).toBeUndefined()
    expect(d.rows[0]?.checked).toContain('hidden by policy and absent: get-env')
    expect(d.stdout).toContain('hidden by policy and absent: get-env')
  },
)

it(
  'an unwrapped entry is not protected; with the gateway stopped a wrapped one reports it',
  { timeout: 60_000 },
  async () => {
    const cursorFile = await wrappedCursor()
    const wrapped = JSON.parse(fs.readFileSync(cursorFile, 'utf8')) as {
      mcpServers: Record<string, unknown>
    }
    writeJson(cursorFile, {
      mcpServers: {
        ...wrapped.mcpServers,
        direct: everythingEntry(),
        remote: { url: 'https://mcp.example.com/mcp' },
      },
    })
    let d = await doctor()
    expect(d.code).toBe(1)
    expect(tableRow(d.stdout, 'cursor', 'everything')).toEqual([
      'cursor',
      'everything',
      'stdio',
      'yes',
      '-',
    ])
    expect(tableRow(d.stdout, 'cursor', 'direct')).toEqual([
      'cursor',
      'direct',
      'stdio',
      'no',
      'not wrapped',
    ])
    expect(tableRow(d.stdout, 'cursor', 'remote')?.slice(0, 4)).toEqual([
      'cursor',
      'remote',
      'http',
      'no',
    ])

    // The gateway stopped: the wrapped entry reports it (and the doctor does not start one).
    env.gateway?.kill('SIGTERM')
    await waitFor(() => env.gateway?.exitCode !== null, 10_000, 'the gateway to stop')
    d = await doctor()
    expect(d.code).toBe(1)
    const row = d.rows.find((r) => r.server === 'everything')
    expect(row).toMatchObject({ protected: true })
    expect(row?.problem).toMatch(/^gateway not running for /)
    expect(tableRow(d.stdout, 'cursor', 'everything')?.[4]).toMatch(/^gateway not running/)
    expect(fs.existsSync(path.join(env.home, 'gateway.pid'))).toBe(false)
  },
)

it(
  'an entry wrapped onto the HTTP endpoint is checked over HTTP',
  { timeout: 60_000 },
  async () => {
    const file = path.join(home, '.claude.json')
    writeJson(file, { numStartups: 3, mcpServers: { everything: everythingEntry() } })
    fs.chmodSync(file, 0o644)
    await env.startGateway({ port: 0 })
    const token = env.httpToken()
    // The dry run and the diff never print the token: only its last four digits.
    const dry = await cli('clients', 'wrap', 'claude-code', '--http', '--dry-run')
    expect(dry.code).toBe(0)
    expect(dry.stdout).not.toContain(token)
    expect(dry.stdout).toContain(`"Authorization": "Bearer ••••${token.slice(-4)}"`)
    expect(dry.stdout).toMatch(/would make it readable by you only \(0600\)/)
    expect(fs.statSync(file).mode & 0o777).toBe(0o644)
    const wrap = await cli('clients', 'wrap', 'claude-code', '--http')
    expect(wrap.stderr).toBe('')
    expect(wrap.code).toBe(0)
    expect(wrap.stdout).not.toContain(token)
    expect(wrap.stdout).toMatch(
      /now holds the Airlock HTTP token .* made it readable by you only \(0600\)/,
    )
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    const entry = (
      JSON.parse(fs.readFileSync(file, 'utf8')) as {
        mcpServers: Record<string, { type: string; url: string; headers: Record<string, string> }>
      }
    ).mcpServers.everything
    expect(entry?.type).toBe('http')
    expect(entry?.url).toBe(`${env.mcpBase}everything`)
    expect(entry?.headers).toEqual({ Authorization: `Bearer ${env.httpToken()}` })
    // The server was imported by the wrap; the gateway picks it up from config.json.
    const control = await env.control()
    await waitFor(
      async () => (await control.api.servers.list()).some((s) => s.config.name === 'everything'),
      15_000,
      'the gateway to load the imported server',
    )

    const d = await doctor()
    expect(d.rows).toEqual([
      expect.objectContaining({
        client: 'claude-code',
        server: 'everything',
        route: 'http',
        protected: true,
      }),
    ])
    expect(tableRow(d.stdout, 'claude-code', 'everything')).toEqual([
      'claude-code',
      'everything',
      'http',
      'yes',
      '-',
    ])

    // A wrong token in the entry is a problem the doctor names.
    const text = fs.readFileSync(file, 'utf8')
    fs.writeFileSync(file, text.replace(env.httpToken(), 'f'.repeat(64)))
    const bad = await doctor()
    expect(bad.code).toBe(1)
    expect(bad.rows[0]?.problem).toMatch(/bearer token/)

    // --http for a client that cannot speak it is refused with what to do instead.
    writeJson(path.join(home, '.config', 'Claude', 'claude_desktop_config.json'), {
      mcpServers: { everything: everythingEntry() },
    })
    const refused = await cli('clients', 'wrap', 'claude-desktop', '--http')
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('without --http')
  },
)
