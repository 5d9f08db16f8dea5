/**
 * Everything but `tools/call` and `tools/list` passes through the gateway unchanged, both ways:
 * resources, prompts, completion, logging, progress, server→client requests (sampling,
 * elicitation, roots), tasks and notifications. The SDK Client talks to the real
 * server-everything through the real shim and gateway; every assertion depends on the server's
 * own answer reaching the client.
 */
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
  type CreateMessageRequest,
  type LoggingMessageNotification,
  type Progress,
} from '@modelcontextprotocol/sdk/types.js'
import { Env, everything, filesystem, textOf, waitFor } from '../helpers/harness'

// No reference server paginates, so a tiny paginating MCP server stands in for one.
const PAGER = `
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n')
const tool = (name) => ({ name, description: name, inputSchema: { type: 'object' } })
let buf = ''
process.stdin.on('data', (c) => {
  buf += c
  let nl
  while ((nl = buf.indexOf('\\n')) !== -1) {
    const msg = JSON.parse(buf.slice(0, nl))
    buf = buf.slice(nl + 1)
    if (msg.method === 'initialize') {
      send({ jsonrpc: '2.0', id: msg.id, result: { protocolVersion: msg.params.protocolVersion, capabilities: { tools: { listChanged: true } }, serverInfo: { name: 'pager', version: '1.0.0' } } })
    } else if (msg.method === 'tools/list') {
      const page = msg.params && msg.params.cursor === 'page-2' ? 2 : 1
      const result = page === 1
        ? { tools: [tool('alpha'), tool('secret-one'), tool('beta')], nextCursor: 'page-2', _meta: { 'test/page': 1 } }
        : { tools: [tool('secret-two'), tool('gamma')], _meta: { 'test/page': 2 } }
      send({ jsonrpc: '2.0', id: msg.id, result })
    } else if (msg.id !== undefined && msg.method) {
      send({ jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'Method not found' } })
    }
  }
})
`

let env: Env

beforeEach(async () => {
  env = new Env()
  const script = env.writeScript('pager.cjs', PAGER)
  const policy = env.writePolicy('pager', { version: '1', default: 'allow', hide: ['secret-*'] })
  const fsDir = path.join(env.home, 'fs-cli-dir')
  fs.mkdirSync(fsDir)
  env.writeConfig([
    everything(),
    { name: 'pager', command: process.execPath, args: [script], policy },
    filesystem(fsDir),
  ])
  await env.startGateway()
})

afterEach(async () => {
  await env.cleanup()
})

describe('resources', () => {
  it('lists, reads, lists templates and reads a templated resource', async () => {
    const { client } = await env.connect('everything')
    const { resources } = await client.listResources()
    const doc = resources.find((r) => r.uri === 'demo://resource/static/document/instructions.md')
    expect(doc, JSON.stringify(resources.map((r) => r.uri))).toBeDefined()

    const read = await client.readResource({ uri: doc!.uri })
    expect(read.contents[0]).toMatchObject({ uri: doc!.uri, mimeType: 'text/markdown' })
    expect((read.contents[0] as { text: string }).text.length).toBeGreaterThan(100)

    const { resourceTemplates } = await client.listResourceTemplates()
    expect(resourceTemplates.map((t) => t.uriTemplate)).toContain(
      'demo://resource/dynamic/text/{resourceId}',
    )
    const dyn = await client.readResource({ uri: 'demo://resource/dynamic/text/7' })
    expect(dyn.contents[0].uri).toBe('demo://resource/dynamic/text/7')
    expect((dyn.contents[0] as { text: string }).text).toContain('7')
  })

  it('subscribes and receives resources/updated from the server', async () => {
    const updated: string[] = []
    const { client } = await env.connect('everything', {
      setup: (c) =>
        c.setNotificationHandler(
          ResourceUpdatedNotificationSchema,
          (n) => void updated.push(n.params.uri),
        ),
    })
    const uri = 'demo://resource/dynamic/text/1'
    await client.subscribeResource({ uri })
    // The server sends updates for subscribed URIs once simulated updates are on (at once, then every 5 s).
    await client.callTool({ name: 'toggle-subscriber-updates', arguments: {} })
    await waitFor(() => updated.includes(uri), 5000, 'notifications/resources/updated')
    await client.unsubscribeResource({ uri })
  })
})

describe('prompts and completion', () => {
  it('lists prompts and gets one with arguments', async () => {
    const { client } = await env.connect('everything')
    const { prompts } = await client.listPrompts()
    expect(prompts.map((p) => p.name)).toEqual(
      expect.arrayContaining(['simple-prompt', 'args-prompt', 'completable-prompt']),
    )
    const got = await client.getPrompt({
      name: 'args-prompt',
      arguments: { city: 'Lyon', state: 'Rhône' },
    })
    expect(got.messages[0].content).toEqual({
      type: 'text',
      text: "What's weather in Lyon, Rhône?",
    })
  })

  it('completes an argument of the completable prompt, with context', async () => {
    const { client } = await env.connect('everything')
    const dept = await client.complete({
      ref: { type: 'ref/prompt', name: 'completable-prompt' },
      argument: { name: 'department', value: 'S' },
    })
    expect(dept.completion.values).toEqual(['Sales', 'Support'])
    const name = await client.complete({
      ref: { type: 'ref/prompt', name: 'completable-prompt' },
      argument: { name: 'name', value: '' },
      context: { arguments: { department: 'Engineering' } },
    })
    expect(name.completion.values).toEqual(['Alice', 'Bob', 'Charlie'])
  })
})

describe('logging and progress', () => {
  it('setLoggingLevel reaches the server and its notifications/message reach the client', async () => {
    const logs: LoggingMessageNotification['params'][] = []
    const { client } = await env.connect('everything', {
      setup: (c) =>
        c.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params)),
    })
    // At "emergency" only emergency messages pass the server's own level filter.
    await client.setLoggingLevel('emergency')
    await client.subscribeResource({ uri: 'demo://resource/dynamic/text/2' }) // logs at "info": filtered out by the server
    await client.setLoggingLevel('debug')
    await client.subscribeResource({ uri: 'demo://resource/dynamic/text/3' }) // logs at "info": passes
    await waitFor(
      () => logs.some((l) => String(l.data).includes('dynamic/text/3')),
      5000,
      'the subscribe log message',
    )
    expect(logs.some((l) => String(l.data).includes('dynamic/text/2'))).toBe(false)

    // Simulated logging sends its first message at once, then one every 5 s.
    const before = logs.length
    const res = await client.callTool({ name: 'toggle-simulated-logging', arguments: {} })
    expect(textOf(res)).toContain('Started simulated')
    await waitFor(() => logs.length > before, 3000, 'a simulated log message')
    expect(logs[logs.length - 1].data).toMatch(/-level message|level-message/)
  })

  it('progress notifications for a long-running call reach onprogress, then the result', async () => {
    const { client } = await env.connect('everything')
    const progress: Progress[] = []
    const res = await client.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } },
      undefined,
      {
        onprogress: (p) => void progress.push(p),
      },
    )
    expect(textOf(res)).toBe('Long running operation completed. Duration: 0.3 seconds, Steps: 3.')
    // The SDK client handles notifications a microtask later than responses, so the last one,
    // sent right before the result, can miss its handler (directly connected just the same).
    // The wire order is checked byte for byte below.
    expect(progress.map((p) => [p.progress, p.total]).slice(0, 2)).toEqual([
      [1, 3],
      [2, 3],
    ])
  })

  it('progress notifications arrive on the wire in order, before the result', async () => {
    const shim = env.shim('everything')
    await shim.initialize()
    const from = shim.messages.length
    shim.send({
      jsonrpc: '2.0',
      id: 'op',
      method: 'tools/call',
      params: {
        name: 'trigger-long-running-operation',
        arguments: { duration: 0.3, steps: 3 },
        _meta: { progressToken: 'tok-1' },
      },
    })
    await shim.response('op')
    const seen = shim.messages
      .slice(from)
      .filter((m) => m.method === 'notifications/progress' || m.id === 'op')
    expect(
      seen.map((m) => (m.id === 'op' ? 'result' : (m.params as { progress: number }).progress)),
    ).toEqual([1, 2, 3, 'result'])
    expect(seen[0].params).toEqual({ progress: 1, total: 3, progressToken: 'tok-1' })
  })
})

describe('server → client requests', () => {
  it('sampling: the server asks the client for a message during a tool call', async () => {
    const asked: CreateMessageRequest['params'][] = []
    const { client } = await env.connect('everything', {
      capabilities: { sampling: {} },
      setup: (c) =>
        c.setRequestHandler(CreateMessageRequestSchema, (req) => {
          asked.push(req.params)
          return {
            role: 'assistant',
            model: 'test-model-7',
            content: { type: 'text', text: 'sampled by the test client' },
          }
        }),
    })
    const res = await client.callTool({
      name: 'trigger-sampling-request',
      arguments: { prompt: 'hello gateway', maxTokens: 12 },
    })
    expect(asked).toHaveLength(1)
    expect(asked[0].maxTokens).toBe(12)
    expect(JSON.stringify(asked[0].messages)).toContain('hello gateway')
    expect(textOf(res)).toContain('sampled by the test client')
    expect(textOf(res)).toContain('test-model-7')
  })

  it('elicitation: the server asks the user for input and gets the answer', async () => {
    let message = ''
    const { client } = await env.connect('everything', {
      capabilities: { elicitation: {} },
      setup: (c) =>
        c.setRequestHandler(ElicitRequestSchema, (req) => {
          message = (req.params as { message: string }).message
          return { action: 'accept', content: { name: 'Ada Lovelace', check: true, integer: 7 } }
        }),
    })
    const res = await client.callTool({ name: 'trigger-elicitation-request', arguments: {} })
    expect(message).toContain('Please provide inputs')
    const all = (res.content as { text?: string }[]).map((c) => c.text ?? '').join('\n')
    expect(all).toContain('- Name: Ada Lovelace')
    expect(all).toContain('- Favorite Integer: 7')
  })

  it('roots: the server lists the client roots', async () => {
    let asked = 0
    const { client } = await env.connect('everything', {
      capabilities: { roots: { listChanged: true } },
      setup: (c) =>
        c.setRequestHandler(ListRootsRequestSchema, () => {
          asked++
          return { roots: [{ uri: 'file:///srv/airlock-root', name: 'Airlock test root' }] }
        }),
    })
    const res = await client.callTool({ name: 'get-roots-list', arguments: {} })
    expect(asked).toBeGreaterThanOrEqual(1)
    expect(textOf(res)).toContain('Airlock test root')
    expect(textOf(res)).toContain('file:///srv/airlock-root')
  })
})

describe('roots with server-filesystem', () => {
  it('the client roots replace the allowed directories; roots/list_changed makes the server ask again', async () => {
    const first = fs.realpathSync(fs.mkdtempSync(path.join(env.home, 'root-a-')))
    const second = fs.realpathSync(fs.mkdtempSync(path.join(env.home, 'root-b-')))
    const started = fs.realpathSync(path.join(env.home, 'fs-cli-dir')) // the directory in the server's command line
    let roots = [{ uri: pathToFileURL(first).href, name: 'first' }]
    let asked = 0
    const { client } = await env.connect('filesystem', {
      capabilities: { roots: { listChanged: true } },
      setup: (c) =>
        c.setRequestHandler(ListRootsRequestSchema, () => {
          asked++
          return { roots }
        }),
    })
    const allowed = async () =>
      textOf(await client.callTool({ name: 'list_allowed_directories', arguments: {} }))
    await waitFor(
      async () => (await allowed()).includes(first),
      5000,
      'the server to adopt the first root',
    )
    expect(await allowed()).not.toContain(started)

    roots = [{ uri: pathToFileURL(second).href, name: 'second' }]
    const before = asked
    await client.sendRootsListChanged()
    await waitFor(
      async () => (await allowed()).includes(second),
      5000,
      'the server to adopt the second root',
    )
    expect(asked).toBe(before + 1)
    expect(await allowed()).not.toContain(first)
  })
})

describe('tasks', () => {
  it('a task-required tool runs as a task: tools/call with task, tasks/get, tasks/result', async () => {
    const { client } = await env.connect('everything', { capabilities: { elicitation: {} } })
    const { tools } = await client.listTools()
    expect(tools.find((t) => t.name === 'simulate-research-query')?.execution?.taskSupport).toBe(
      'required',
    )

    const seen: string[] = []
    let taskId = ''
    let result: unknown
    for await (const msg of client.experimental.tasks.callToolStream({
      name: 'simulate-research-query',
      arguments: { topic: 'airlock gateways' },
    })) {
      seen.push(msg.type)
      if (msg.type === 'taskCreated') taskId = msg.task.taskId
      if (msg.type === 'result') result = msg.result
      if (msg.type === 'error') throw msg.error
    }
    expect(seen[0]).toBe('taskCreated')
    expect(seen).toContain('taskStatus')
    expect(seen[seen.length - 1]).toBe('result')
    expect(textOf(result)).toContain('# Research Report: airlock gateways')

    const task = await client.experimental.tasks.getTask(taskId)
    expect(task).toMatchObject({ taskId, status: 'completed' })
  }, 20_000)
})

describe('notifications and unknown methods', () => {
  it('server list_changed notifications reach the client', async () => {
    const toolsChanged: number[] = []
    const resourcesChanged: number[] = []
    const { client } = await env.connect('everything', {
      setup: (c) => {
        c.setNotificationHandler(
          ToolListChangedNotificationSchema,
          () => void toolsChanged.push(Date.now()),
        )
        c.setNotificationHandler(
          ResourceListChangedNotificationSchema,
          () => void resourcesChanged.push(Date.now()),
        )
      },
    })
    // server-everything registers its capability-dependent tools after `initialized` and says so.
    await waitFor(() => toolsChanged.length > 0, 5000, 'notifications/tools/list_changed')
    // A gzipped file registered as a session resource changes the resource list.
    const res = await client.callTool({
      name: 'gzip-file-as-resource',
      arguments: {
        name: 'hello.txt.gz',
        data: 'data:text/plain;base64,aGVsbG8gYWlybG9jaw==',
        outputType: 'resourceLink',
      },
    })
    expect(res.isError).toBeFalsy()
    await waitFor(() => resourcesChanged.length > 0, 5000, 'notifications/resources/list_changed')
    const { resources } = await client.listResources()
    expect(resources.some((r) => r.name === 'hello.txt.gz')).toBe(true)
  })

  it('an unknown method reaches the server, which answers it', async () => {
    const { client } = await env.connect('everything')
    const err = await client
      .request({ method: 'airlock-test/unknown', params: { x: 1 } }, z.object({}))
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ code: -32601 })
    expect(String((err as Error).message)).toMatch(/method not found/i)
  })
})

describe('tools/list pagination', () => {
  it('keeps nextCursor and _meta and hides tools on every page', async () => {
    const { client } = await env.connect('pager')
    const first = await client.listTools()
    expect(first.tools.map((t) => t.name)).toEqual(['alpha', 'beta'])
    expect(first.nextCursor).toBe('page-2')
    expect(first._meta).toEqual({ 'test/page': 1 })
    const second = await client.listTools({ cursor: first.nextCursor })
    expect(second.tools.map((t) => t.name)).toEqual(['gamma'])
    expect(second.nextCursor).toBeUndefined()
    expect(second._meta).toEqual({ 'test/page': 2 })
  })

  it('an unpaginated list from server-everything arrives whole', async () => {
    const { client } = await env.connect('everything')
    const { tools, nextCursor } = await client.listTools()
    expect(nextCursor).toBeUndefined()
    expect(tools.map((t) => t.name)).toEqual(
      expect.arrayContaining(['echo', 'get-env', 'get-sum', 'trigger-long-running-operation']),
    )
  })
})
