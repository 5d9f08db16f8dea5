import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { inspectTools } from '../../../src/gateway/proxy/tool-inspector'
import type { ServerConfig } from '../../../src/shared/contract/config'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-inspect-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

/** A hand-rolled stdio server: `answer(msg)` returns the reply object (or undefined for none). */
function server(name: string, answer: string): ServerConfig {
  const file = path.join(dir, `${name}.cjs`)
  fs.writeFileSync(
    file,
    `const rl = require('node:readline').createInterface({ input: process.stdin })
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n')
rl.on('line', (line) => {
  const msg = JSON.parse(line)
  const reply = (${answer})(msg)
  if (reply) send({ jsonrpc: '2.0', id: msg.id, ...reply })
})
`,
  )
  return { name, command: process.execPath, args: [file], env: {}, secretEnv: [], enabled: true }
}

const run = (s: ServerConfig): ChildProcessWithoutNullStreams =>
  spawn(s.command ?? '', s.args, { stdio: 'pipe' })

const INIT = `{ result: { protocolVersion: msg.params && msg.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 's', version: '1' } } }`

describe('inspectTools (SDK Client over the child process)', () => {
  it('lists every page, drops malformed tools and ignores log lines on stdout', async () => {
    const s = server(
      'paged',
      `(msg) => {
        if (msg.method === 'initialize') { process.stdout.write('a log line\\n'); return ${INIT} }
        if (msg.method !== 'tools/list') return undefined
        if (!msg.params || !msg.params.cursor)
          return { result: { tools: [{ name: 'a', inputSchema: { type: 'object' } }, { nope: 1 }], nextCursor: 'p2' } }
        return { result: { tools: [{ name: 'b', description: 'second page', annotations: { readOnlyHint: true } }] } }
      }`,
    )
    const tools = await inspectTools(s, run, 10_000)
    expect(tools).toEqual([
      { name: 'a' },
      { name: 'b', description: 'second page', annotations: { readOnlyHint: true } },
    ])
  })

  it('says which request a server answered with an error', async () => {
    const s = server(
      'refuses',
      `(msg) => msg.method === 'initialize' ? { error: { code: -32000, message: 'no thanks' } } : undefined`,
    )
    await expect(inspectTools(s, run, 10_000)).rejects.toMatchObject({
      code: 'INSPECT_ERROR',
      message: expect.stringMatching(/"refuses" answered initialize with an error: no thanks/),
    })
  })

  it('reports a server that exits before listing', async () => {
    const s = server('quits', `(msg) => { process.stderr.write('bye\\n'); process.exit(3) }`)
    await expect(inspectTools(s, run, 10_000)).rejects.toMatchObject({
      code: 'INSPECT_EXIT',
      message: expect.stringMatching(
        /exited \(code 3\) before listing its tools\. Last stderr: bye/,
      ),
    })
  })
})
