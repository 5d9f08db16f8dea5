/**
 * The CLI on the control API: `airlock status`, `airlock pause` and `airlock resume` through the
 * real gateway (`airlock serve`) call the same methods as the UI, so they show the same figures
 * and save the same way; the agent-socket transport carries the contract's event shapes.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import type { CallRow, ResultOf } from '../../src/shared/contract/control-api'
import type { StatusReply } from '../../src/cli/status'
import { Env, everything, textOf, waitFor } from '../helpers/harness'

let env: Env

beforeEach(() => {
  env = new Env()
})

afterEach(async () => {
  await env.cleanup()
})

const echo = (client: Client, message: string) =>
  client.callTool({ name: 'echo', arguments: { message } })

/** Stops the running `airlock serve` (SIGTERM) and waits until it has exited. */
async function stopGateway(): Promise<void> {
  const gw = env.gateway!
  const exited = new Promise((r) => gw.once('exit', r))
  gw.kill('SIGTERM')
  await exited
}

async function statusJson(): Promise<StatusReply> {
  const r = await env.run(['status', '--json'])
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  return JSON.parse(r.stdout) as StatusReply
}

describe('airlock pause and resume', () => {
  it('pause is saved like pause.set: it holds after a gateway restart, until resume', async () => {
    env.writeConfig([everything()])
    await env.startGateway()
    const paused = await env.run(['pause'])
    expect(paused.code).toBe(0)
    expect(paused.stdout).toMatch(/^Paused: the running gateway denies every tool call/)
    expect((await statusJson()).paused).toBe(true)
    const config = JSON.parse(fs.readFileSync(path.join(env.home, 'config.json'), 'utf8')) as {
      settings: { paused?: boolean }
    }
    expect(config.settings.paused).toBe(true)

    await stopGateway()
    await env.startGateway()
    const control = await env.control()
    expect((await control.api.status.get()).paused).toBe(true)
    expect((await statusJson()).paused).toBe(true)
    const { client } = await env.connect('everything')
    expect(textOf(await echo(client, 'while paused'))).toMatch(/paused/)

    const resumed = await env.run(['resume'])
    expect(resumed.code).toBe(0)
    expect((await control.api.status.get()).paused).toBe(false)
    expect(textOf(await echo(client, 'resumed'))).toBe('Echo: resumed')
    await stopGateway()
    await env.startGateway()
    expect((await statusJson()).paused).toBe(false)
  })

  it('with no gateway running, pause is written for the next one', async () => {
    env.writeConfig([everything()])
    const r = await env.run(['pause'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/the next gateway to start/)
    await env.startGateway()
    expect((await statusJson()).paused).toBe(true)
  })
})

describe('airlock status shows what status.get shows', () => {
  it('pending approvals: the count of status.get, and the requests themselves', async () => {
    const policy = env.writePolicy('everything', {
      version: '1',
      default: 'allow',
      approval_timeout: 60,
      tools: { echo: { rules: [{ name: 'ask', action: 'require_approval' }] } },
    })
    env.writeConfig([everything('everything', { policy })])
    await env.startGateway()
    const approver = await env.approver() // answers later
    const { client } = await env.connect('everything', { name: 'status-agent' })
    const held = echo(client, 'may I?')
    await waitFor(() => approver.requested.length === 1, 10_000, 'the approval request')
    const req = approver.requested[0]!

    const fromApi: ResultOf<'status.get'> = await approver.control.api.status.get()
    const json = await statusJson()
    expect(fromApi.pending).toBe(1)
    const { approvals, ...status } = json
    expect(status).toEqual(fromApi)
    expect(approvals.map((a) => a.id)).toEqual([req.id])
    expect(approvals[0]).toMatchObject({
      server: 'everything',
      tool: 'echo',
      client: 'status-agent',
    })

    const text = await env.run(['status'])
    expect(text.stdout).toMatch(/pending approvals: 1\n {4}everything \/ echo {2}from status-agent/)

    await approver.control.api.approvals.decide({ id: req.id, answer: 'allow_once' })
    expect(textOf(await held)).toBe('Echo: may I?')
    expect((await statusJson()).pending).toBe(0)
  })
})

describe('events over the agent socket', () => {
  it('audit.appended carries the Activity row the UI gets (the call, then with its outcome)', async () => {
    env.writeConfig([everything()])
    await env.startGateway()
    const control = await env.control()
    const rows: CallRow[] = []
    control.api.on('audit.appended', (row) => rows.push(row))
    await control.subscribe('audit.appended')
    const { client } = await env.connect('everything')
    expect(textOf(await echo(client, 'row'))).toBe('Echo: row')
    await waitFor(
      () => rows.some((r) => r.tool === 'echo' && r.outcome === 'ok'),
      10_000,
      'the outcome row',
    )
    const done = rows.find((r) => r.tool === 'echo' && r.outcome === 'ok')!
    const page = await control.api.audit.query({ filter: { tool: 'echo' }, limit: 5 })
    expect(page.rows).toHaveLength(1)
    expect(done).toEqual(page.rows[0])
  })
})
