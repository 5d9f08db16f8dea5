/**
 * Remote servers: the gateway reaches an MCP server over Streamable HTTP (or the older
 * HTTP+SSE transport) on the agent's behalf. The agent is the SDK Client through the real shim
 * and gateway; the remotes are server-everything in its streamableHttp mode and a hand-rolled
 * SDK server that demands a bearer token, both on 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  CreateMessageRequestSchema,
  LoggingMessageNotificationSchema,
  type LoggingMessageNotification,
} from '@modelcontextprotocol/sdk/types.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { CLI, Env, ROOT, serverScript, textOf, waitFor } from '../helpers/harness'

const BEARER = path.join(ROOT, 'test', 'fixtures', 'servers', 'bearer-http-server.mjs')
const LOOPBACK = path.join(ROOT, 'test', 'fixtures', 'servers', 'loopback-only.mjs')
const TOKEN = 'tok-7f3a9c-remote-secret'

let env: Env
const remotes: ChildProcess[] = []

beforeEach(() => {
  env = new Env()
})

afterEach(async () => {
  await env.cleanup()
  for (const p of remotes.splice(0)) {
    if (p.exitCode !== null || p.signalCode !== null) continue
    p.kill('SIGTERM')
    await new Promise((r) => p.once('exit', r))
  }
})

/** Starts a remote server process and waits for the port it prints (`pattern` captures it). */
async function startRemote(
  args: string[],
  envExtra: NodeJS.ProcessEnv,
  pattern: RegExp,
): Promise<{ port: number; proc: ChildProcess }> {
  const proc = spawn(process.execPath, args, {
    env: { ...process.env, ...envExtra },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  remotes.push(proc)
  let out = ''
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()))
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()))
  await waitFor(() => pattern.test(out) || proc.exitCode !== null, 15_000, 'the remote to listen')
  const m = pattern.exec(out)
  if (!m) throw new Error(`remote did not start: ${out}`)
  return { port: Number(m[1]), proc }
}

/** The hand-rolled bearer-token server; its tools/call log is `calls.jsonl` in the home. */
async function startBearer(mode: 'streamable' | 'sse' = 'streamable') {
  const callLog = path.join(env.home, 'calls.jsonl')
  const r = await startRemote([BEARER], { TOKEN, MODE: mode, CALL_LOG: callLog }, /listening (\d+)/)
  const calls = (): Record<string, unknown>[] =>
    fs.existsSync(callLog)
      ? fs
          .readFileSync(callLog, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>)
      : []
  return { ...r, url: `http://127.0.0.1:${r.port}/mcp`, calls }
}

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>
}

describe('server-everything over Streamable HTTP', () => {
  it('tools, sampling and notifications come through the gateway', async () => {
    const { port } = await startRemote(
      ['--import', pathToFileURL(LOOPBACK).href, serverScript('everything'), 'streamableHttp'],
      { PORT: '0' },
      /airlock-test listening (\d+)/,
    )
    const url = `http://127.0.0.1:${port}/mcp`
    const add = await env.run(['servers', 'add', 'everything', '--url', url])
    expect(add.stderr).toBe('')
    expect(add.code).toBe(0)
    expect(add.stdout).toContain(`added remote server "everything": ${url}`)
    await env.startGateway()

    const logs: LoggingMessageNotification['params'][] = []
    const { client } = await env.connect('everything', {
      capabilities: { sampling: {} },
      setup: (c) => {
        c.setRequestHandler(CreateMessageRequestSchema, () => ({
          role: 'assistant',
          model: 'remote-test-model',
          content: { type: 'text', text: 'sampled over HTTP' },
        }))
        c.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
          logs.push(n.params)
        })
      },
    })
    expect(client.getServerVersion()?.name).toContain('everything')
    const tools = (await client.listTools()).tools.map((t) => t.name)
    expect(tools).toContain('echo')
    expect(tools).toContain('trigger-sampling-request')
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'hi' } }))).toBe(
      'Echo: hi',
    )
    const sum = await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 40 } })
    expect(textOf(sum)).toContain('42')
    // A server→client request during a call comes back over the upstream's stream.
    const sampled = await client.callTool({
      name: 'trigger-sampling-request',
      arguments: { prompt: 'over the wire', maxTokens: 5 },
    })
    expect(textOf(sampled)).toContain('sampled over HTTP')
    // …and passes the policy's server_requests like a stdio server's (default: allow, audited).
    expect(
      env
        .auditRecords()
        .filter((r) => r.kind === 'server_request' && r.tool === 'sampling/createMessage'),
    ).toEqual([expect.objectContaining({ decision: 'allow', server: 'everything' })])
    // Server notifications (logging) reach the client.
    await client.setLoggingLevel('debug')
    await client.callTool({ name: 'toggle-simulated-logging', arguments: {} })
    await waitFor(() => logs.length > 0, 10_000, 'a log notification from the remote')

    const decisions = env
      .auditRecords()
      .filter((r) => r.kind === 'call' && r.server === 'everything')
    expect(decisions.map((r) => r.tool)).toEqual(
      expect.arrayContaining(['echo', 'get-sum', 'trigger-sampling-request']),
    )
    const control = await env.control()
    const status = (await control.api.status.get()) as { sessions: { server: string }[] }
    expect(status.sessions.some((s) => s.server === 'everything')).toBe(true)
    const servers = (await control.api.servers.list()) as {
      config: { name: string }
      transport?: string
    }[]
    expect(servers.find((s) => s.config.name === 'everything')?.transport).toBe('streamable-http')
  })
})

describe('a remote that demands a bearer token', () => {
  it('the token stays out of config.json; calls are gated, approved and audited', async () => {
    const remote = await startBearer()
    const policy = env.writePolicy('bearer', {
      version: '1',
      default: 'allow',
      tools: {
        wipe: { rules: [{ name: 'never wipe', action: 'deny', on_deny: 'wiping is not allowed' }] },
        notify: { rules: [{ name: 'ask first', action: 'require_approval' }] },
      },
    })
    const add = await env.run([
      'servers',
      'add',
      'bearer',
      '--url',
      remote.url,
      '--header',
      `Authorization: Bearer ${TOKEN}`,
      '--header',
      'X-Team: search',
      '--policy',
      policy,
    ])
    expect(add.stderr).toBe('')
    expect(add.code).toBe(0)
    expect(add.stdout).toContain('secret header Authorization')
    const configText = fs.readFileSync(path.join(env.home, 'config.json'), 'utf8')
    expect(configText).not.toContain(TOKEN)
    const server = (readJson(path.join(env.home, 'config.json')).servers as unknown[])[0]
    expect(server).toMatchObject({
      name: 'bearer',
      url: remote.url,
      headers: { 'X-Team': 'search' },
      secretHeaders: ['Authorization'],
    })
    const secretsFile = path.join(env.home, 'secrets.json')
    expect(fs.statSync(secretsFile).mode & 0o777).toBe(0o600)
    expect(readJson(secretsFile)).toEqual({
      bearer: { 'header:Authorization': `Bearer ${TOKEN}` },
    })
    const list = await env.run(['servers', 'list', '--json'])
    expect(list.stdout).not.toContain(TOKEN)

    await env.startGateway()
    // The Tools screen lists a remote's tools before any agent connected.
    const control = await env.control()
    const listed = (await control.api.tools.list({ server: 'bearer', discover: true })) as {
      name: string
    }[]
    expect(listed.map((t) => t.name).sort()).toEqual(['ask_model', 'echo', 'notify', 'wipe'])
    const approver = await env.approver(() => 'allow_once')
    const logs: LoggingMessageNotification['params'][] = []
    const { client } = await env.connect('bearer', {
      name: 'remote-agent',
      capabilities: { sampling: {} },
      setup: (c) => {
        c.setRequestHandler(CreateMessageRequestSchema, (req) => ({
          role: 'assistant',
          model: 'm',
          content: {
            type: 'text',
            text: `answer to ${JSON.stringify(req.params.messages[0]?.content)}`,
          },
        }))
        c.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
          logs.push(n.params)
        })
      },
    })
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'one' } }))).toBe(
      'remote echo: one',
    )

    // Denied by policy: an error result, and the remote never sees the call.
    const denied = await client.callTool({ name: 'wipe', arguments: { confirm: true } })
    expect(denied.isError).toBe(true)
    expect(textOf(denied)).toContain('wiping is not allowed')

    // Approval: the person is asked, the call goes through, its notification arrives first.
    const approved = await client.callTool({ name: 'notify', arguments: {} })
    expect(textOf(approved)).toBe('notified')
    expect(approver.requested.map((r) => [r.server, r.tool, r.client])).toEqual([
      ['bearer', 'notify', 'remote-agent'],
    ])
    expect(logs.map((l) => l.data)).toContain('hello from the remote')

    // Sampling: a server→client request during the call.
    const asked = await client.callTool({ name: 'ask_model', arguments: { question: 'why?' } })
    expect(textOf(asked)).toContain('model said: answer to')

    const calls = remote.calls()
    expect(calls.map((c) => c.tool)).toEqual(['echo', 'notify', 'ask_model'])
    // The SDK transport sends the session id and the negotiated protocol version on each call.
    for (const c of calls) {
      expect(c.protocolVersion).toMatch(/^\d{4}-\d{2}-\d{2}$/)
      expect(typeof c.sessionId).toBe('string')
    }
    expect(new Set(calls.map((c) => c.sessionId)).size).toBe(1)

    const audit = env.auditRecords().filter((r) => r.server === 'bearer')
    const wipe = audit.find((r) => r.tool === 'wipe' && r.kind === 'call')
    expect(wipe).toMatchObject({ decision: 'deny' })
    expect(audit.some((r) => r.tool === 'notify' && r.decision === 'approved')).toBe(true)
    expect(env.gatewayOutput).not.toContain(TOKEN)
  })

  it('without the token the agent gets an error naming the URL and HTTP 401', async () => {
    const remote = await startBearer()
    env.writeConfig([{ name: 'bearer', url: remote.url }])
    await env.startGateway()
    const { client } = await env
      .connect('bearer')
      .then((r) => ({ client: r.client, err: undefined }))
      .catch((err: Error) => ({ client: undefined, err }))
      .then((r) => {
        if (r.client) throw new Error('initialize should have failed')
        return { client: r.err }
      })
    expect(String(client)).toContain(remote.url)
    expect(String(client)).toContain('HTTP 401')
    expect(remote.calls()).toEqual([])
  })

  it('falls back to HTTP+SSE when the server refuses Streamable HTTP', async () => {
    const remote = await startBearer('sse')
    const add = await env.run([
      'servers',
      'add',
      'old',
      '--url',
      remote.url,
      '--header',
      `Authorization: Bearer ${TOKEN}`,
    ])
    expect(add.code).toBe(0)
    await env.startGateway()
    const { client } = await env.connect('old', { capabilities: { sampling: {} } })
    client.setRequestHandler(CreateMessageRequestSchema, () => ({
      role: 'assistant',
      model: 'm',
      content: { type: 'text', text: 'over sse' },
    }))
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'sse' } }))).toBe(
      'remote echo: sse',
    )
    expect(textOf(await client.callTool({ name: 'ask_model', arguments: { question: 'q' } }))).toBe(
      'model said: over sse',
    )
    const control = await env.control()
    const servers = (await control.api.servers.list()) as {
      config: { name: string }
      transport?: string
    }[]
    expect(servers.find((s) => s.config.name === 'old')?.transport).toBe('sse')
  })

  it('a remote that is down: the agent gets an error naming the URL', async () => {
    const remote = await startBearer()
    const add = await env.run([
      'servers',
      'add',
      'bearer',
      '--url',
      remote.url,
      '--header',
      `Authorization: Bearer ${TOKEN}`,
    ])
    expect(add.code).toBe(0)
    await env.startGateway()
    const { client } = await env.connect('bearer')
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'up' } }))).toBe(
      'remote echo: up',
    )
    remote.proc.kill('SIGTERM')
    await new Promise((r) => remote.proc.once('exit', r))
    const err = await client
      .callTool({ name: 'echo', arguments: { message: 'down' } })
      .then(() => undefined)
      .catch((e: Error) => e)
    expect(err?.message).toContain(`could not be reached at ${remote.url}`)
    const outcome = env
      .auditRecords()
      .filter((r) => r.kind === 'outcome' && r.tool === 'echo')
      .at(-1)
    expect(outcome?.outcome).toBe('server_exit')
  })
})

describe('clients wrap on a URL entry', () => {
  it('the entry runs the shim, Airlock keeps the URL and the token; restore gives it back', async () => {
    const remote = await startBearer()
    const userHome = path.join(env.home, 'user')
    const cursorFile = path.join(userHome, '.cursor', 'mcp.json')
    fs.mkdirSync(path.dirname(cursorFile), { recursive: true })
    const original =
      JSON.stringify(
        {
          mcpServers: {
            team: { url: remote.url, headers: { Authorization: `Bearer ${TOKEN}` } },
          },
        },
        null,
        2,
      ) + '\n'
    fs.writeFileSync(cursorFile, original)
    const cliEnv: NodeJS.ProcessEnv = { ...env.env, HOME: userHome }
    delete cliEnv.XDG_CONFIG_HOME
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, [CLI, ...args], { env: cliEnv, cwd: userHome })
        let stdout = ''
        let stderr = ''
        p.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
        p.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
        p.on('close', (code) => resolve({ code, stdout, stderr }))
      })

    // A plain wrap would protect it too.
    const plain = await run(['clients', 'wrap', 'cursor', '--dry-run'])
    expect(plain.stdout).toContain(`would add to Airlock: team (${remote.url}; Authorization kept`)
    expect(plain.stdout).toContain('would wrap in ~/.cursor/mcp.json: team')

    const wrap = await run(['clients', 'wrap', 'cursor', '--server', 'team'])
    expect(wrap.stderr).toBe('')
    expect(wrap.code).toBe(0)
    const wrapped = JSON.parse(fs.readFileSync(cursorFile, 'utf8')) as {
      mcpServers: { team: { command: string; args: string[]; env?: Record<string, string> } }
    }
    const entry = wrapped.mcpServers.team
    expect(entry).not.toHaveProperty('url')
    expect(entry).not.toHaveProperty('headers')
    expect(entry.args.slice(-2)).toEqual(['connect', 'team'])
    expect(fs.readFileSync(cursorFile, 'utf8')).not.toContain(TOKEN)
    const configText = fs.readFileSync(path.join(env.home, 'config.json'), 'utf8')
    expect(configText).not.toContain(TOKEN)
    const server = (readJson(path.join(env.home, 'config.json')).servers as unknown[])[0]
    expect(server).toMatchObject({
      name: 'team',
      url: remote.url,
      secretHeaders: ['Authorization'],
    })
    expect(readJson(path.join(env.home, 'secrets.json'))).toEqual({
      team: { 'header:Authorization': `Bearer ${TOKEN}` },
    })

    // The client's own command line now reaches the remote through Airlock.
    await env.startGateway()
    const transport = new StdioClientTransport({
      command: entry.command,
      args: entry.args,
      env: { ...(env.env as Record<string, string>), ...entry.env },
      stderr: 'pipe',
    })
    transport.stderr?.on('data', () => undefined)
    const client = new Client({ name: 'cursor-like', version: '1.0.0' })
    await client.connect(transport)
    try {
      expect(
        textOf(await client.callTool({ name: 'echo', arguments: { message: 'via wrap' } })),
      ).toBe('remote echo: via wrap')
    } finally {
      await client.close()
    }
    expect(remote.calls().map((c) => c.tool)).toEqual(['echo'])

    const restore = await run(['clients', 'restore', 'cursor'])
    expect(restore.code).toBe(0)
    expect(fs.readFileSync(cursorFile, 'utf8')).toBe(original)
  })

  it('a plain wrap turns each URL entry into a remote server (Claude Code JSON, Codex TOML): the client reaches server-everything through Airlock, audited; restore gives the files back byte for byte', async () => {
    const { port } = await startRemote(
      ['--import', pathToFileURL(LOOPBACK).href, serverScript('everything'), 'streamableHttp'],
      { PORT: '0' },
      /airlock-test listening (\d+)/,
    )
    const url = `http://127.0.0.1:${port}/mcp`
    const userHome = path.join(env.home, 'user')
    // Claude Code: a user-scope HTTP entry with a secret and a plain header, beside a setting.
    const claudeFile = path.join(userHome, '.claude.json')
    const claudeText = `{
  "numStartups": 7,
  "mcpServers": {
    "everything": {
      "type": "http",
      "url": ${JSON.stringify(url)},
      "headers": { "Authorization": "Bearer ${TOKEN}", "X-Team": "platform" }
    }
  }
}
`
    // Codex: a [mcp_servers.<name>] table with a url and http_headers, and a comment.
    const codexFile = path.join(userHome, '.codex', 'config.toml')
    const codexText = `model = "gpt-5-codex"

[mcp_servers.everything]
# the team's remote tools
url = "${url}"
http_headers = { "X-Api-Key" = "${TOKEN}" }
startup_timeout_sec = 20
`
    fs.mkdirSync(path.dirname(codexFile), { recursive: true })
    fs.writeFileSync(claudeFile, claudeText)
    fs.writeFileSync(codexFile, codexText)
    const cliEnv: NodeJS.ProcessEnv = { ...env.env, HOME: userHome }
    delete cliEnv.XDG_CONFIG_HOME
    delete cliEnv.CODEX_HOME
    delete cliEnv.CLAUDE_CONFIG_DIR
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, [CLI, ...args], { env: cliEnv, cwd: userHome })
        let stdout = ''
        let stderr = ''
        p.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
        p.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
        p.on('close', (code) => resolve({ code, stdout, stderr }))
      })

    const listed = JSON.parse((await run(['clients', '--json'])).stdout) as {
      client: string
      servers: { name: string; route: string; protected: boolean; problem?: string }[]
    }[]
    expect(
      listed
        .filter((f) => ['claude-code', 'codex'].includes(f.client))
        .map((f) => [f.client, f.servers.map((x) => [x.name, x.route, x.protected])]),
    ).toEqual([
      ['claude-code', [['everything', 'http', false]]],
      ['codex', [['everything', 'http', false]]],
    ])

    const w1 = await run(['clients', 'wrap', 'claude-code'])
    expect(w1.stderr).toBe('')
    expect(w1.code).toBe(0)
    expect(w1.stdout).toContain(
      `added to Airlock: everything (${url}; Authorization kept in the secret store, not config.json)`,
    )
    expect(w1.stdout).toContain('wrapped in ~/.claude.json: everything')
    // The same URL with other headers is another server: de-duplicated by name.
    const w2 = await run(['clients', 'wrap', 'codex'])
    expect(w2.stderr).toBe('')
    expect(w2.code).toBe(0)
    expect(w2.stdout).toContain('wrapped in ~/.codex/config.toml: everything → codex-everything')

    const config = readJson(path.join(env.home, 'config.json')).servers as Record<string, unknown>[]
    expect(config).toEqual([
      expect.objectContaining({
        name: 'everything',
        url,
        headers: { 'X-Team': 'platform' },
        secretHeaders: ['Authorization'],
      }),
      expect.objectContaining({ name: 'codex-everything', url, secretHeaders: ['X-Api-Key'] }),
    ])
    expect(fs.readFileSync(path.join(env.home, 'config.json'), 'utf8')).not.toContain(TOKEN)
    expect(readJson(path.join(env.home, 'secrets.json'))).toEqual({
      everything: { 'header:Authorization': `Bearer ${TOKEN}` },
      'codex-everything': { 'header:X-Api-Key': TOKEN },
    })
    for (const f of [claudeFile, codexFile]) {
      const text = fs.readFileSync(f, 'utf8')
      expect(text).not.toContain(TOKEN)
      expect(text).not.toContain(url)
    }
    expect(fs.readFileSync(codexFile, 'utf8')).toContain("# the team's remote tools")
    const after = JSON.parse((await run(['clients', '--json'])).stdout) as typeof listed
    expect(
      after
        .filter((f) => ['claude-code', 'codex'].includes(f.client))
        .flatMap((f) => f.servers.map((x) => [x.name, x.route, x.protected])),
    ).toEqual([
      ['everything', 'stdio', true],
      ['everything', 'stdio', true],
    ])

    // Each client's own command line reaches the remote through Airlock.
    await env.startGateway()
    const claudeEntry = (
      JSON.parse(fs.readFileSync(claudeFile, 'utf8')) as {
        mcpServers: {
          everything: { command: string; args: string[]; env?: Record<string, string> }
        }
      }
    ).mcpServers.everything
    expect(claudeEntry).toEqual({
      type: 'stdio',
      command: process.execPath,
      args: [CLI, 'connect', 'everything'],
      env: { AIRLOCK_HOME: env.home },
    })
    const codexArgs = /args = (\[.*\])/.exec(fs.readFileSync(codexFile, 'utf8'))?.[1]
    expect(JSON.parse(codexArgs ?? '[]')).toEqual([CLI, 'connect', 'codex-everything'])
    for (const [name, entry] of [
      ['claude-code', claudeEntry],
      ['codex', { command: process.execPath, args: [CLI, 'connect', 'codex-everything'] }],
    ] as const) {
      const transport = new StdioClientTransport({
        command: entry.command,
        args: [...entry.args],
        env: { ...(env.env as Record<string, string>), AIRLOCK_HOME: env.home },
        stderr: 'pipe',
      })
      transport.stderr?.on('data', () => undefined)
      const client = new Client({ name, version: '1.0.0' })
      await client.connect(transport)
      try {
        expect(client.getServerVersion()?.name).toContain('everything')
        expect(
          textOf(await client.callTool({ name: 'echo', arguments: { message: `via ${name}` } })),
        ).toBe(`Echo: via ${name}`)
      } finally {
        await client.close()
      }
    }
    const calls = env
      .auditRecords()
      .filter((r) => r.kind === 'call' && r.tool === 'echo')
      .map((r) => [r.server, r.client, r.decision])
    expect(calls).toEqual([
      ['everything', 'claude-code', 'allow'],
      ['codex-everything', 'codex', 'allow'],
    ])

    for (const [client, file, text] of [
      ['claude-code', claudeFile, claudeText],
      ['codex', codexFile, codexText],
    ] as const) {
      const r = await run(['clients', 'restore', client])
      expect(r.code).toBe(0)
      expect(r.stdout).toContain('byte for byte')
      expect(fs.readFileSync(file, 'utf8')).toBe(text)
    }
  })
})
