/**
 * The proof that a wrap protects: a Claude Desktop config pointing at the real
 * `@modelcontextprotocol/server-everything` is wrapped by the CLI; the SDK Client then spawns
 * exactly the command, args and env of the rewritten entry (as Claude Desktop would), reaches
 * the server through the running gateway, and the call lands in the audit log.
 */
import fs from 'node:fs'
import path from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { Env, runCliAs, serverScript, textOf } from '../helpers/harness'

let env: Env
let home: string
let client: Client | undefined

beforeEach(() => {
  env = new Env()
  home = path.join(env.home, 'user-home')
})
afterEach(async () => {
  await client?.close().catch(() => undefined)
  await env.cleanup()
})

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCliAs(env.env, home, args, 15_000)
}

it('the rewritten entry, run as the client runs it, reaches the server only through Airlock', async () => {
  const file = path.join(home, '.config', 'Claude', 'claude_desktop_config.json')
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const original =
    JSON.stringify(
      {
        mcpServers: {
          everything: { command: process.execPath, args: [serverScript('everything'), 'stdio'] },
        },
      },
      null,
      2,
    ) + '\n'
  fs.writeFileSync(file, original)

  const wrap = await cli('clients', 'wrap', 'claude-desktop')
  expect(wrap.stderr).toBe('')
  expect(wrap.code).toBe(0)
  const entry = (
    JSON.parse(fs.readFileSync(file, 'utf8')) as {
      mcpServers: Record<string, { command: string; args: string[]; env?: Record<string, string> }>
    }
  ).mcpServers.everything
  if (!entry) throw new Error('the entry is gone')
  expect(entry.args.slice(1)).toEqual(['connect', 'everything'])

  await env.startGateway()
  // Exactly what the client would spawn: the entry's command, args and env over the SDK's default env.
  const transport = new StdioClientTransport({
    command: entry.command,
    args: entry.args,
    ...(entry.env ? { env: entry.env } : {}),
    stderr: 'pipe',
  })
  transport.stderr?.on('data', () => undefined)
  client = new Client({ name: 'claude-desktop-stand-in', version: '1.0.0' }, { capabilities: {} })
  await client.connect(transport)
  const { tools } = await client.listTools()
  expect(tools.map((t) => t.name)).toContain('echo')
  const result = await client.callTool({ name: 'echo', arguments: { message: 'through airlock' } })
  expect(textOf(result)).toContain('through airlock')

  const records = env.auditRecords()
  expect(records.some((r) => r.server === 'everything' && r.tool === 'echo')).toBe(true)

  await client.close()
  client = undefined
  const restore = await cli('clients', 'restore', 'claude-desktop')
  expect(restore.code).toBe(0)
  expect(fs.readFileSync(file, 'utf8')).toBe(original)
})
